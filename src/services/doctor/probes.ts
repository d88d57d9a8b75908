// The network facts behind doctor's checks, one layer at a time: name resolution, a TCP
// connection, a TLS handshake (directly or through a proxy's CONNECT tunnel) and timed HTTP
// GETs through the same got stack and proxy agents the commands use. Each takes a signal and
// stops when it aborts; the verdicts are elsewhere.
import type {Socket} from 'node:net'
import {performance} from 'node:perf_hooks'
import type {TlsFacts} from './verdicts.js'

export class ProbeError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message)
  }
}

const aborted = () => new ProbeError('stopped', 'ABORTED')

export async function resolveHost(host: string, signal: AbortSignal): Promise<{addresses: string[]; ms: number}> {
  const dns = await import('node:dns/promises')
  const started = performance.now()
  // getaddrinfo cannot be cancelled; the caller's bound stops waiting for it.
  const found = await Promise.race([
    dns.lookup(host, {all: true}),
    new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(aborted()), {once: true})),
  ])
  return {addresses: found.map((a) => a.address), ms: performance.now() - started}
}

/** Open a TCP connection and close it again; resolves with how long connecting took. */
export async function connectTcp(host: string, port: number, signal: AbortSignal): Promise<number> {
  const net = await import('node:net')
  const started = performance.now()
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect({host, port})
    const stop = () => socket.destroy(aborted())
    signal.addEventListener('abort', stop, {once: true})
    socket.once('connect', () => {
      signal.removeEventListener('abort', stop)
      socket.destroy()
      resolve()
    })
    socket.once('error', (error: NodeJS.ErrnoException) => {
      signal.removeEventListener('abort', stop)
      socket.destroy()
      reject(new ProbeError(error.code === 'ECONNREFUSED' ? 'connection refused' : error.message, error.code))
    })
  })
  return performance.now() - started
}

/** A CONNECT tunnel to host:port through an http:// proxy, with its Basic credentials if the URL has them. */
export async function tunnel(proxy: URL, target: string, signal: AbortSignal): Promise<Socket> {
  const http = await import('node:http')
  const headers: Record<string, string> = {host: target}
  if (proxy.username || proxy.password) {
    headers['proxy-authorization'] = `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}`
  }
  return new Promise((resolve, reject) => {
    const request = http.request({host: proxy.hostname.replace(/^\[|\]$/g, ''), port: Number(proxy.port || 80), method: 'CONNECT', path: target, headers, signal})
    request.once('connect', (response, socket) => {
      if (response.statusCode === 200) return resolve(socket)
      socket.destroy()
      reject(new ProbeError(`the proxy refused the tunnel to ${target}: HTTP ${response.statusCode}${response.statusCode === 407 ? ' Proxy Authentication Required' : ''}`, 'PROXY_REFUSED'))
    })
    request.once('error', (error: NodeJS.ErrnoException) => reject(new ProbeError(error.name === 'AbortError' ? 'stopped' : error.message, error.code)))
    request.end()
  })
}

/**
 * A TLS handshake that looks at the certificate whatever it is (so an untrusted or expired one
 * can be described), then verifies it against `ca` (undefined: Node's defaults) the way the
 * commands will.
 */
export async function inspectTls(options: {host: string; port: number; ca?: string[]; socket?: Socket}, signal: AbortSignal): Promise<TlsFacts> {
  const [tls, net] = await Promise.all([import('node:tls'), import('node:net')])
  const host = options.host.replace(/^\[|\]$/g, '')
  const socket = tls.connect({
    host,
    port: options.port,
    servername: net.isIP(host) ? undefined : host,
    rejectUnauthorized: false,
    ...(options.socket ? {socket: options.socket} : {}),
    ...(options.ca ? {ca: options.ca} : {}),
  })
  const stop = () => socket.destroy(aborted())
  signal.addEventListener('abort', stop, {once: true})
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve)
      socket.once('error', (error: NodeJS.ErrnoException) => reject(new ProbeError(`TLS handshake with ${host}: ${error.message}`, error.code)))
    })
    const cert = socket.getPeerCertificate()
    const name = (field: Record<string, unknown> | undefined) =>
      typeof field?.CN === 'string' ? `CN=${field.CN}` : typeof field?.O === 'string' ? field.O : undefined
    const identity = cert && Object.keys(cert).length > 0 ? tls.checkServerIdentity(host, cert) : undefined
    return {
      host,
      authorized: socket.authorized,
      authorizationError: socket.authorizationError ? String(socket.authorizationError) : undefined,
      identityError: identity?.message,
      validTo: cert?.valid_to,
      subject: name(cert?.subject as unknown as Record<string, unknown>),
      issuer: name(cert?.issuer as unknown as Record<string, unknown>),
      protocol: socket.getProtocol() ?? undefined,
    }
  } finally {
    signal.removeEventListener('abort', stop)
    socket.destroy()
  }
}

export interface HttpAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  /** Local time when the answer arrived (for the clock check). */
  at: number
  ms: number
}

export interface HttpGetter {
  get(url: URL, headers: Record<string, string>, signal: AbortSignal): Promise<HttpAnswer>
}

/**
 * GETs through got with the commands' proxy agent and CAs, but none of the client's
 * machinery: no retries, no breaker, no rate budget, no cache, no redirects (a diagnosis must
 * see what the wire says, and credentials never follow a redirect).
 */
export async function httpGetter(options: {timeoutMs: number; userAgent: string; proxy?: string; ca?: string[]; now: () => number}): Promise<HttpGetter> {
  const [{default: got}, {proxyAgent}] = await Promise.all([import('../../vendor/got.js'), import('../../api/client.js')])
  const agents = new Map<string, Awaited<ReturnType<typeof proxyAgent>>>()
  return {
    async get(url, headers, signal) {
      let agent = agents.get(url.protocol)
      if (options.proxy && !agent) {
        agent = await proxyAgent(url, options.proxy, options.ca)
        agents.set(url.protocol, agent)
      }
      const started = performance.now()
      const response = await got(url, {
        method: 'GET',
        throwHttpErrors: false,
        retry: {limit: 0},
        followRedirect: false,
        timeout: {request: options.timeoutMs},
        headers: {'user-agent': options.userAgent, accept: 'application/json', ...headers},
        signal,
        ...(agent ? {agent} : {}),
        ...(options.ca ? {https: {certificateAuthority: options.ca}} : {}),
      })
      return {status: response.statusCode, headers: response.headers, at: options.now(), ms: performance.now() - started}
    },
  }
}

/** A few GETs one after the other; stops early once half the bound is spent, keeping what was measured. */
export async function sample(getter: HttpGetter, url: URL, options: {count: number; budgetMs: number; clock?: () => number}, signal: AbortSignal): Promise<HttpAnswer[]> {
  const clock = options.clock ?? (() => performance.now())
  const answers: HttpAnswer[] = []
  const started = clock()
  while (answers.length < options.count) {
    answers.push(await getter.get(url, {}, signal))
    if (clock() - started > options.budgetMs / 2) break
  }
  return answers
}
