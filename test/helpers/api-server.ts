// A tiny scripted loopback HTTP server for tests of the HTTP core: each test queues the
// answers it wants and reads back the requests that arrived.
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

export interface Recorded {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

export type Handler = (req: Recorded, res: ServerResponse) => void

export interface TestServer {
  url: string
  requests: Recorded[]
  /** Answer the next requests with these handlers, in order; then fall back to `fallback`. */
  queue(...handlers: Handler[]): void
  fallback: Handler
  close(): Promise<void>
}

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): Handler => (_req, res) => {
  res.writeHead(status, {'content-type': 'application/json', ...headers})
  res.end(JSON.stringify(body))
}

export const raw = (status: number, body: string, headers: Record<string, string> = {}): Handler => (_req, res) => {
  res.writeHead(status, headers)
  res.end(body)
}

export const envelope = (data: unknown, extra: Record<string, unknown> = {}) => ({data, meta: {requestId: 'req-server', timestamp: '2025-12-03T10:00:00Z', ...extra}})

export const errorBody = (code: string, message: string) => ({error: {code, message}, meta: {requestId: 'req-server', timestamp: '2025-12-03T10:00:00Z'}})

export async function startServer(): Promise<TestServer> {
  const handlers: Handler[] = []
  const requests: Recorded[] = []
  const sockets = new Set<import('node:net').Socket>()
  const state: TestServer = {
    url: '',
    requests,
    queue: (...h) => void handlers.push(...h),
    fallback: json(404, errorBody('NOT_FOUND', 'no handler queued')),
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const recorded = {method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8')}
      requests.push(recorded)
      ;(handlers.shift() ?? state.fallback)(recorded, res)
    })
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return state
}
