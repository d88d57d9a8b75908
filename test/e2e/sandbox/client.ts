// Small HTTP helpers for the sandbox's own contract tests (not a test file itself).
export interface Got {
  status: number
  headers: Headers
  text: string
  json: any
}

export async function call(base: string, path: string, init: {method?: string; token?: string; headers?: Record<string, string>; body?: unknown; raw?: string} = {}): Promise<Got> {
  const headers: Record<string, string> = {accept: 'application/json', ...(init.headers ?? {})}
  if (init.token) headers.authorization = `Bearer ${init.token}`
  let body: string | undefined = init.raw
  if (init.body !== undefined) {
    body = JSON.stringify(init.body)
    headers['content-type'] = 'application/json'
  }
  const res = await fetch(base + path, {method: init.method ?? 'GET', headers, body, redirect: 'manual'})
  const text = await res.text()
  let json: any
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = undefined
  }
  return {status: res.status, headers: res.headers, text, json}
}

export const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

/** The contract's error shape, with meta. */
export function assertError(got: Got, status: number, code: string): void {
  if (got.status !== status) throw new Error(`expected ${status} ${code}, got ${got.status}: ${got.text}`)
  const e = got.json?.error
  if (!e || e.code !== code || typeof e.message !== 'string' || e.message === '') throw new Error(`expected error code ${code}: ${got.text}`)
  if (!got.json.meta || typeof got.json.meta.requestId !== 'string' || !RFC3339.test(got.json.meta.timestamp)) throw new Error(`error without meta: ${got.text}`)
  if (got.headers.get('x-request-id') !== got.json.meta.requestId) throw new Error('X-Request-ID header differs from meta.requestId')
}
