// A TLS front for a plain-http loopback server (the sandbox): terminates TLS with a test-CA
// certificate and passes requests and WebSocket upgrades through, so an https/wss API can be
// tested behind a proxy without teaching the server TLS.
import {readFileSync} from 'node:fs'
import {request} from 'node:http'
import {createServer, type Server} from 'node:https'
import {splice} from './connect-proxy.ts'
import {join, resolve} from 'node:path'

const TLS = resolve(import.meta.dirname, '..', 'fixtures', 'tls')

export async function startTlsFront(target: number | (() => number)): Promise<{port: number; close(): Promise<void>}> {
  const targetPort = () => (typeof target === 'number' ? target : target())
  const server: Server = createServer({cert: readFileSync(join(TLS, 'server.pem')), key: readFileSync(join(TLS, 'server.key'))}, (req, res) => {
    const headers = {...req.headers, 'x-forwarded-proto': 'https', 'x-forwarded-host': req.headers.host ?? ''}
    const upstream = request({host: '127.0.0.1', port: targetPort(), method: req.method, path: req.url, headers}, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers)
      answer.pipe(res)
    })
    upstream.on('error', () => res.destroy())
    req.pipe(upstream)
  })
  server.on('upgrade', (req, socket, head) => {
    splice(socket, targetPort(), head, (upstream) => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`]
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`)
      upstream.write(lines.join('\r\n') + '\r\n\r\n')
    })
  })
  const sockets = new Set<import('node:net').Socket>()
  server.on('connection', (s) => (sockets.add(s), s.on('close', () => sockets.delete(s))))
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  return {
    port: (server.address() as {port: number}).port,
    close: () => new Promise((done) => {
      for (const s of sockets) s.destroy()
      server.close(() => done())
    }),
  }
}
