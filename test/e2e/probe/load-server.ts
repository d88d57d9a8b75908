// A loopback server for probe runs: each request is answered by `behave(n, req)` — a delay,
// a status, a reset, or never — and tallied so tests compare the report with what happened.
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'

export type Behaviour = {delayMs?: number; status?: number} | 'reset' | 'hang'

export interface LoadServer {
  url: string
  received: number
  statuses: Map<number, number>
  resets: number
  headers: IncomingMessage['headers'][]
  behave: (n: number, req: IncomingMessage) => Behaviour
  close(): Promise<void>
}

export async function startLoadServer(behave: LoadServer['behave'] = () => ({})): Promise<LoadServer> {
  const sockets = new Set<Socket>()
  const state: LoadServer = {
    url: '',
    received: 0,
    statuses: new Map(),
    resets: 0,
    headers: [],
    behave,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  const answer = (res: ServerResponse, status: number) => {
    state.statuses.set(status, (state.statuses.get(status) ?? 0) + 1)
    res.writeHead(status, {'content-type': 'application/json', 'content-length': '2'})
    res.end('{}')
  }
  const server: Server = createServer((req, res) => {
    const n = state.received++
    if (state.headers.length < 1000) state.headers.push(req.headers)
    req.resume()
    const behaviour = state.behave(n, req)
    if (behaviour === 'hang') return
    if (behaviour === 'reset') {
      state.resets++
      req.socket.destroy()
      return
    }
    const status = behaviour.status ?? 200
    if (behaviour.delayMs) setTimeout(() => answer(res, status), behaviour.delayMs)
    else answer(res, status)
  })
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return state
}
