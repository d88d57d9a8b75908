// A small HTTP proxy for the tests: CONNECT tunnels (https targets, WebSocket over TLS) and
// absolute-URI forwarding (plain http targets). Target hosts are mapped to loopback ports by
// the test (`routes`), or else names under .bfly.test go to 127.0.0.1 on the port asked for,
// so a name like api.bfly.test never needs DNS and nothing but loopback is ever reached. It
// records what it saw and what it answered, can demand Basic credentials (407 otherwise) or
// refuse every tunnel with a status of the test's choice.
import {connect} from 'node:net'
import {createServer, request, type Server} from 'node:http'

export interface ProxySeen {
  method: string
  target: string
  proxyAuthorization?: string
  /** What the proxy answered (200: tunnel open or request forwarded). */
  status: number
}

export interface TestProxy {
  url: string
  port: number
  seen: ProxySeen[]
  close(): Promise<void>
}

export interface ProxyOptions {
  /** host:port → loopback port; default: *.bfly.test:port → 127.0.0.1:port. */
  routes?: Record<string, number>
  auth?: {user: string; password: string}
  /** Answer every request with this status (403, 502, …) instead of serving it. */
  refuse?: number
}

const REASONS: Record<number, string> = {403: 'Forbidden', 407: 'Proxy Authentication Required', 502: 'Bad Gateway'}

export async function startConnectProxy(options: ProxyOptions = {}): Promise<TestProxy> {
  const seen: ProxySeen[] = []
  const expected = options.auth ? `Basic ${Buffer.from(`${options.auth.user}:${options.auth.password}`).toString('base64')}` : undefined
  const route = (hostPort: string): number | undefined => {
    const key = hostPort.toLowerCase()
    if (options.routes) return options.routes[key]
    const m = /^([^:]+\.bfly\.test):(\d+)$/.exec(key)
    return m ? Number(m[2]) : undefined
  }
  const verdict = (authorization: string | undefined, port: number | undefined): number =>
    options.refuse ?? (expected && authorization !== expected ? 407 : port ? 200 : 502)

  const server: Server = createServer((req, res) => {
    const target = new URL(req.url!)
    const port = route(`${target.hostname}:${target.port || 80}`)
    const status = verdict(req.headers['proxy-authorization'], port)
    seen.push({method: req.method!, target: req.url!, proxyAuthorization: req.headers['proxy-authorization'], status})
    if (status !== 200) {
      res.writeHead(status, {...(status === 407 ? {'proxy-authenticate': 'Basic realm="test"'} : {}), 'content-length': '0'})
      return res.end()
    }
    const headers = {...req.headers}
    delete headers['proxy-authorization']
    const upstream = request({host: '127.0.0.1', port, method: req.method, path: target.pathname + target.search, headers}, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers)
      answer.pipe(res)
    })
    upstream.on('error', () => res.destroy())
    req.pipe(upstream)
  })
  server.on('connect', (req, socket, head) => {
    const port = route(req.url!)
    const status = verdict(req.headers['proxy-authorization'], port)
    seen.push({method: 'CONNECT', target: req.url!, proxyAuthorization: req.headers['proxy-authorization'], status})
    if (status !== 200) {
      const challenge = status === 407 ? 'Proxy-Authenticate: Basic realm="test"\r\n' : ''
      socket.end(`HTTP/1.1 ${status} ${REASONS[status] ?? 'Refused'}\r\n${challenge}Content-Length: 0\r\n\r\n`)
      return
    }
    splice(socket, port!, head, () => socket.write('HTTP/1.1 200 Connection Established\r\n\r\n'))
  })
  const sockets = new Set<import('node:net').Socket>()
  server.on('connection', (s) => (sockets.add(s), s.on('close', () => sockets.delete(s))))
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const {port} = server.address() as {port: number}
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    close: () => new Promise((done) => {
      for (const s of sockets) s.destroy()
      server.close(() => done())
    }),
  }
}

/** Joins a client socket to a new connection to a loopback port: `opened` runs first, then the head bytes go up and both directions are piped. */
export function splice(client: import('node:stream').Duplex, port: number, head: Buffer, opened: (upstream: import('node:net').Socket) => void): void {
  const upstream = connect(port, '127.0.0.1', () => {
    opened(upstream)
    if (head.length > 0) upstream.write(head)
    upstream.pipe(client)
    client.pipe(upstream)
  })
  upstream.on('error', () => client.destroy())
  client.on('error', () => upstream.destroy())
}
