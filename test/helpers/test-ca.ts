// https servers signed by the test CA in test/fixtures/tls (scripts/make-test-certs.sh) that the
// test scripts. Certificates: `server` (127.0.0.1, localhost, api.bfly.test), `expired` (the
// same names, expired in 2021), `other-host` (other.bfly.test only). For a plain-http server
// behind TLS (the sandbox), see tls-front.ts.
import {readFileSync} from 'node:fs'
import {createServer as createHttps} from 'node:https'
import type {IncomingMessage, Server, ServerResponse} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'
import {join, resolve} from 'node:path'
import {pathToFileURL} from 'node:url'

export const TLS_DIR = resolve(import.meta.dirname, '..', 'fixtures', 'tls')
export const CA_FILE = join(TLS_DIR, 'ca.pem')
/** Host name the test certificates are issued for; the test proxy routes it to 127.0.0.1. */
export const TEST_HOST = 'api.bfly.test'

/** NODE_OPTIONS for a spawned CLI in which names under .bfly.test resolve to 127.0.0.1 (test-hosts.ts). */
export const TEST_HOSTS_OPTION = `--import=${pathToFileURL(join(import.meta.dirname, 'test-hosts.ts')).href}`

export type CertName = 'server' | 'expired' | 'other-host'

export function certificate(name: CertName): {cert: Buffer; key: Buffer} {
  return {cert: readFileSync(join(TLS_DIR, `${name}.pem`)), key: readFileSync(join(TLS_DIR, `${name}.key`))}
}

export interface RunningServer {
  port: number
  /** https://api.bfly.test:port */
  url: string
  close(): Promise<void>
}

function track(server: import('node:net').Server): Set<Socket> {
  const sockets = new Set<Socket>()
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  return sockets
}

async function listening(server: import('node:net').Server, sockets: Set<Socket>): Promise<RunningServer> {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const {port} = server.address() as AddressInfo
  return {
    port,
    url: `https://${TEST_HOST}:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((done) => server.close(() => done()))
    },
  }
}

export async function startHttpsServer(handler: (req: IncomingMessage, res: ServerResponse) => void, cert: CertName = 'server'): Promise<RunningServer & {server: Server}> {
  const server = createHttps(certificate(cert), handler)
  // A failed handshake (the client refused our certificate) is the point of some tests.
  server.on('tlsClientError', () => {})
  const running = await listening(server, track(server))
  return {...running, server}
}
