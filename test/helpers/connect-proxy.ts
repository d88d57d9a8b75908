// A small forward proxy on loopback for the network tests: CONNECT tunnels (https, wss) and
// absolute-URI requests (plain http), the way corporate proxies work. It records every target
// and the Proxy-Authorization it saw, can demand credentials (407) or refuse tunnels, and
// reaches only loopback: names under .bfly.test are routed to 127.0.0.1, keeping their port,
// so a test can use a host name that does not look like loopback (loopback bypasses proxies).
import {createServer, request, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {connect, type AddressInfo, type Socket} from 'node:net'

export interface ProxySeen {
  /** CONNECT: host:port; absolute URI: the URL. */
  target: string
  method: string
  proxyAuthorization?: string
  /** What the proxy answered. */
  status: number
}

export interface ProxyOptions {
  /** `user:password` the proxy demands (Basic); anything else gets 407. */
  credentials?: string
  /** Refuse every request with this status (403, 502, …). */
  refuse?: number
}

export interface ConnectProxy {
  /** http://127.0.0.1:port */
  url: string
  port: number
  /** The proxy URL with credentials in it, percent-encoded. */
  urlWith(user: string, password: string): string
  seen: ProxySeen[]
  options: ProxyOptions
  close(): Promise<void>
}

/** Where the proxy really connects: only loopback, whatever name was asked for. */
function route(host: string): string | undefined {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase()
  if (bare === '127.0.0.1' || bare === 'localhost' || bare === '::1') return '127.0.0.1'
  if (bare.endsWith('.bfly.test')) return '127.0.0.1'
  return undefined
}

const REASONS: Record<number, string> = {200: 'Connection Established', 403: 'Forbidden', 407: 'Proxy Authentication Required', 502: 'Bad Gateway'}

export async function startConnectProxy(options: ProxyOptions = {}): Promise<ConnectProxy> {
  const seen: ProxySeen[] = []
  const sockets = new Set<Socket>()
  const verdict = (req: IncomingMessage): number => {
    if (state.options.refuse) return state.options.refuse
    if (state.options.credentials !== undefined) {
      const expected = `Basic ${Buffer.from(state.options.credentials).toString('base64')}`
      if (req.headers['proxy-authorization'] !== expected) return 407
    }
    return 200
  }
  const record = (req: IncomingMessage, target: string, status: number) => {
    seen.push({target, method: req.method ?? '', proxyAuthorization: req.headers['proxy-authorization'], status})
  }

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // An absolute-URI request: plain http through the proxy.
    let url: URL
    try {
      url = new URL(req.url ?? '')
    } catch {
      res.writeHead(400).end()
      return
    }
    let status = verdict(req)
    const host = route(url.hostname)
    if (status === 200 && !host) status = 502
    record(req, url.href, status)
    if (status !== 200) {
      res.writeHead(status, status === 407 ? {'proxy-authenticate': 'Basic realm="test"'} : {}).end()
      return
    }
    const headers = {...req.headers}
    delete headers['proxy-authorization']
    delete headers['proxy-connection']
    const upstream = request({host, port: Number(url.port || 80), method: req.method, path: url.pathname + url.search, headers}, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    upstream.on('error', () => res.writeHead(502).end())
    req.pipe(upstream)
  })

  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    sockets.add(client)
    client.on('close', () => sockets.delete(client))
    client.on('error', () => client.destroy())
    const target = req.url ?? ''
    const colon = target.lastIndexOf(':')
    const host = route(target.slice(0, colon))
    const port = Number(target.slice(colon + 1))
    let status = verdict(req)
    if (status === 200 && (!host || !port)) status = 502
    const refuse = (code: number) => {
      const extra = code === 407 ? 'Proxy-Authenticate: Basic realm="test"\r\n' : ''
      client.end(`HTTP/1.1 ${code} ${REASONS[code] ?? 'Refused'}\r\n${extra}Content-Length: 0\r\nConnection: close\r\n\r\n`)
    }
    if (status !== 200) {
      record(req, target, status)
      refuse(status)
      return
    }
    const upstream = connect(port, host!)
    sockets.add(upstream)
    upstream.on('close', () => sockets.delete(upstream))
    upstream.once('connect', () => {
      record(req, target, 200)
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length > 0) upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    upstream.on('error', () => {
      if (upstream.connecting) {
        record(req, target, 502)
        refuse(502)
      } else client.destroy()
    })
  })
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  const state: ConnectProxy = {
    url: `http://127.0.0.1:${port}`,
    port,
    urlWith: (user, password) => `http://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    seen,
    options,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  return state
}
