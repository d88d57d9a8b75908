// A small HTTP proxy for the tests: CONNECT tunnels (https targets, WebSocket over TLS) and
// absolute-URI forwarding (plain http targets). Every target host is mapped to a loopback
// port by the test, so a name like api.bfly.test never needs DNS; it records what it saw and
// can demand Basic credentials (407 otherwise).
import {connect} from 'node:net'
import {createServer, request, type Server} from 'node:http'

export interface ProxySeen {
  method: string
  target: string
  proxyAuthorization?: string
}

export interface TestProxy {
  url: string
  seen: ProxySeen[]
  close(): Promise<void>
}

export async function startConnectProxy(options: {routes: Record<string, number>; auth?: {user: string; password: string}}): Promise<TestProxy> {
  const seen: ProxySeen[] = []
  const expected = options.auth ? `Basic ${Buffer.from(`${options.auth.user}:${options.auth.password}`).toString('base64')}` : undefined
  const route = (hostPort: string) => options.routes[hostPort.toLowerCase()]
  const server: Server = createServer((req, res) => {
    seen.push({method: req.method!, target: req.url!, proxyAuthorization: req.headers['proxy-authorization']})
    if (expected && req.headers['proxy-authorization'] !== expected) {
      res.writeHead(407, {'proxy-authenticate': 'Basic realm="test"', 'content-length': '0'})
      return res.end()
    }
    const target = new URL(req.url!)
    const port = route(`${target.hostname}:${target.port || 80}`)
    if (!port) {
      res.writeHead(502, {'content-length': '0'})
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
    seen.push({method: 'CONNECT', target: req.url!, proxyAuthorization: req.headers['proxy-authorization']})
    if (expected && req.headers['proxy-authorization'] !== expected) {
      socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n')
      return
    }
    const port = route(req.url!)
    if (!port) {
      socket.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n')
      return
    }
    const upstream = connect(port, '127.0.0.1', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length > 0) upstream.write(head)
      upstream.pipe(socket)
      socket.pipe(upstream)
    })
    upstream.on('error', () => socket.destroy())
    socket.on('error', () => upstream.destroy())
  })
  const sockets = new Set<import('node:net').Socket>()
  server.on('connection', (s) => (sockets.add(s), s.on('close', () => sockets.delete(s))))
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const {port} = server.address() as {port: number}
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise((done) => {
      for (const s of sockets) s.destroy()
      server.close(() => done())
    }),
  }
}
