// nock replies with an explicit Content-Length. Without one, got 16 can take the socket that
// nock's interceptor closes right after a POST response for a premature abort (ECONNRESET).
export function reply(status: number, body: unknown, headers: Record<string, string> = {}): [number, string, Record<string, string>] {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  return [status, text, {'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers}]
}
