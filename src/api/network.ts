// Facts about URLs and network failures shared by every HTTP path (got, undici, WebSocket).
import {X509Certificate} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {ApiError, BadResponseError, type BflyError, NetworkError, UsageError} from '../errors.js'

/**
 * The certificate authorities to trust with a ca-file: the usual ones (Node's bundled roots
 * plus NODE_EXTRA_CA_CERTS) and the file's, never the file's alone (a `ca` option replaces the
 * defaults, which would break every other host, e.g. an issuer with a public certificate).
 */
export function withDefaultCas(extra: Buffer | string): string[] {
  // Loaded here, not at the top: node:tls costs ~5 ms and ~4 MB to load, and only a ca-file needs it here.
  const tls = createRequire(import.meta.url)('node:tls') as typeof import('node:tls')
  const defaults = (tls as unknown as {getCACertificates?: (kind: string) => string[]}).getCACertificates?.('default') ?? [...tls.rootCertificates]
  return [...defaults, extra.toString()]
}

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase()
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host) || host.endsWith('.localhost')
}

/** Credentials go over https, or plain http to loopback only. */
export function credentialsAllowed(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))
}

/**
 * The proxy for `url` according to HTTPS_PROXY / HTTP_PROXY / NO_PROXY (either case), or
 * undefined. Loopback is never proxied (a proxy cannot reach this machine's loopback). NO_PROXY
 * entries: `*`, a host, a domain suffix (`example.com`, `.example.com`, `*.example.com`), an IP,
 * each optionally with `:port`. A proxy URL without a scheme means http://.
 */
export function proxyFor(url: URL, env: NodeJS.ProcessEnv): string | undefined {
  if (isLoopbackHost(url.hostname)) return undefined
  const noProxy = env.NO_PROXY || env.no_proxy || ''
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase()
  const port = url.port || (url.protocol === 'https:' || url.protocol === 'wss:' ? '443' : '80')
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase()
    if (!entry) continue
    if (entry === '*') return undefined
    const [entryHost, entryPort] = entry.startsWith('[') ? [entry.slice(1, entry.indexOf(']')), entry.split(']:')[1]] : entry.split(':')
    if (entryPort && entryPort !== port) continue
    const bare = entryHost.replace(/^\*?\./, '')
    if (host === bare || host.endsWith('.' + bare)) return undefined
  }
  const secure = url.protocol === 'https:' || url.protocol === 'wss:'
  const variable = (secure ? ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'] : ['HTTP_PROXY', 'http_proxy']).find((name) => env[name]?.trim())
  if (!variable) return undefined
  const value = env[variable]!.trim()
  const proxy = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`
  let parsed: URL
  try {
    parsed = new URL(proxy)
  } catch {
    // The value may hold a password: it is not repeated.
    throw new UsageError(`${variable} is not a URL`, {hint: `set it to http://host:port (or http://user:password@host:port)`})
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`${variable} names a ${parsed.protocol.replace(/:$/, '')} proxy; only http:// and https:// proxies are supported`, {hint: `set ${variable} to an http(s) proxy, or bypass it with NO_PROXY`})
  }
  return proxy
}

/** What to trust for a ca-file setting: undefined (Node's defaults) without one. */
export function trustedCas(caFile: string | undefined): string[] | undefined {
  return caFile ? withDefaultCas(readCaFile(caFile)) : undefined
}

/** One line that names a proxy URL without its credentials. */
export function redactProxy(proxy: string): string {
  try {
    const url = new URL(proxy)
    if (url.username || url.password) {
      url.username = url.username ? '***' : ''
      url.password = url.password ? '***' : ''
    }
    return url.href.replace(/\/$/, '')
  } catch {
    return '(an unparsable proxy URL)'
  }
}

/**
 * A failure reaching the proxy or opening a tunnel through it, named after the proxy (without
 * its credentials) rather than the API: the API was never reached. hpagent says `Bad response:
 * 407`, undici `Proxy response (407) !== 200 when HTTP Tunneling`.
 */
export function proxyErrorFrom(error: {code?: string; message: string}, proxy: string, target: string): NetworkError {
  const via = `the proxy ${redactProxy(proxy)}`
  const status = Number(/^Bad response: (\d{3})|Proxy response \((\d{3})\)/.exec(error.message)?.slice(1).find(Boolean) ?? NaN)
  const bypass = 'or exempt this host with NO_PROXY'
  if (status === 407) {
    const hasCredentials = /^[a-z][a-z0-9+.-]*:\/\/[^/@]*@/i.test(proxy)
    return new NetworkError(`${via} refused the tunnel to ${target}: HTTP 407 Proxy Authentication Required`, {
      code: 'PROXY_AUTH_REQUIRED',
      hint: hasCredentials ? 'check the user and password in HTTPS_PROXY / HTTP_PROXY' : 'the proxy wants credentials: put them in its URL, HTTPS_PROXY=http://user:password@host:port',
      cause: error,
    })
  }
  if (status >= 500) {
    return new NetworkError(`${via} could not open a tunnel to ${target}: HTTP ${status}`, {code: 'PROXY_ERROR', hint: `the proxy could not reach the host: check the URL, ${bypass}`, cause: error})
  }
  if (!Number.isNaN(status)) {
    return new NetworkError(`${via} refused the tunnel to ${target}: HTTP ${status}`, {code: 'PROXY_ERROR', hint: `the proxy does not allow this host or port: check HTTPS_PROXY / HTTP_PROXY, ${bypass}`, cause: error})
  }
  const code = error.code ?? ''
  const options = {code: 'PROXY_UNREACHABLE', hint: `is the proxy up? check HTTPS_PROXY / HTTP_PROXY, ${bypass}`, cause: error}
  const way = `(on the way to ${target})`
  if (code === 'ECONNREFUSED') return new NetworkError(`connection refused by ${via} ${way}`, options)
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new NetworkError(`could not resolve ${via} ${way}`, options)
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET') return new NetworkError(`connection to ${via} was reset ${way}`, options)
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || /timeout/i.test(error.message)) return new NetworkError(`${via} did not answer in time ${way}`, options)
  return new NetworkError(`cannot use ${via} ${way}: ${error.message}`, options)
}

type ConnectionCallback = (error: Error | null, socket?: unknown) => void

/**
 * An agent that reaches `url` through a CONNECT tunnel of `proxy` (hpagent), for got, ws and
 * node:http alike. Whatever fails before the tunnel is up is the proxy's failure and says so
 * (proxyErrorFrom), instead of blaming the API host. `ca` (the ca-file with the default
 * roots) also verifies an https:// proxy; the target's certificate is checked by the caller's
 * own TLS options, which the agent passes on.
 */
export async function tunnelAgent(url: URL, proxy: string, ca?: string[], keepAlive = false): Promise<import('node:http').Agent> {
  const {HttpProxyAgent, HttpsProxyAgent} = await import('hpagent')
  const options = {proxy, keepAlive, ...(ca ? {proxyRequestOptions: {ca}} : {})}
  const agent = url.protocol === 'https:' || url.protocol === 'wss:' ? new HttpsProxyAgent(options) : new HttpProxyAgent(options)
  const open = agent.createConnection.bind(agent) as unknown as (options: {host?: string; port?: number | string}, callback: ConnectionCallback) => unknown
  const wrapped = (options: {host?: string; port?: number | string}, callback: ConnectionCallback) =>
    open(options, (error, socket) => callback(error ? proxyErrorFrom(error as Error & {code?: string}, proxy, `${options.host}:${options.port}`) : null, socket))
  ;(agent as unknown as {createConnection: typeof wrapped}).createConnection = wrapped
  return agent
}

/** Whether an error (or what it wraps) is a failure of the proxy rather than of the target. */
export function proxyFailure(error: unknown): NetworkError | undefined {
  for (let e = error as {cause?: unknown} | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (e instanceof NetworkError && e.code.startsWith('PROXY_')) return e
  }
  return undefined
}

const TLS_CODES = /^(CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_TLS|ERR_SSL|HOSTNAME_MISMATCH|ERR_CERT)/
const UNTRUSTED = /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_UNTRUSTED|CERT_SIGNATURE_FAILURE)$/
const PRIVATE_CA_HINT = 'for a private CA pass --ca-file /path/ca.pem (or `bfly config set ca-file /path/ca.pem`, or NODE_EXTRA_CA_CERTS=/path/ca.pem)'

/** A certificate problem, said in words, with the remedy that fits it. */
function tlsErrorFrom(error: {code?: string; message: string}, target: string): NetworkError {
  const code = error.code ?? ''
  const options = (hint: string) => ({code: 'TLS_ERROR', hint, cause: error})
  if (UNTRUSTED.test(code)) {
    return new NetworkError(`the certificate of ${target} is not signed by a trusted certificate authority (${code})`, options(PRIVATE_CA_HINT))
  }
  if (code === 'CERT_HAS_EXPIRED') {
    return new NetworkError(`the certificate of ${target} has expired (${code})`, options("the server must renew it; if it should still be valid, check this machine's clock"))
  }
  if (code === 'CERT_NOT_YET_VALID') {
    return new NetworkError(`the certificate of ${target} is not valid yet (${code})`, options("check this machine's clock"))
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') {
    const names = /cert's altnames: (.+)$/.exec(error.message)?.[1]
    return new NetworkError(`the certificate of ${target} is not for that host name${names ? ` (it names ${names})` : ''}`, options('check the host in the URL: it must be a name the certificate was issued for'))
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    return new NetworkError(`${target} does not speak TLS on that port (${code})`, options('check the URL: http:// instead of https://, or the port'))
  }
  return new NetworkError(`TLS error talking to ${target}: ${error.message}`, options(`check the URL; ${PRIVATE_CA_HINT}`))
}

/**
 * Turn a low-level socket/DNS/TLS error into a NetworkError with a next step. With `proxy`
 * (the one in use), a refused tunnel or a connection that failed before any TLS is the proxy's:
 * through a proxy every connection is to the proxy.
 */
export function networkErrorFrom(error: {code?: string; message: string}, target: string, timeoutMs?: number, proxy?: string): NetworkError {
  const code = error.code ?? ''
  if (proxy && (/^Bad response: \d{3}|Proxy response \(\d{3}\)/.test(error.message) || ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'].includes(code))) {
    return proxyErrorFrom(error, proxy, target)
  }
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new NetworkError(`request to ${target} timed out${timeoutMs ? ` after ${timeoutMs} ms` : ''}`, {code: 'TIMEOUT', hint: 'check the service, or raise --timeout', cause: error})
  }
  if (code === 'ECONNREFUSED') return new NetworkError(`connection refused by ${target}`, {code: 'CONNECTION_REFUSED', hint: 'is the API URL right and the service up? (`bfly doctor`)', cause: error})
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new NetworkError(`could not resolve ${target}`, {code: 'DNS_ERROR', hint: 'check the API URL and your DNS (`bfly doctor`)', cause: error})
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET' || code === 'ERR_STREAM_PREMATURE_CLOSE') {
    return new NetworkError(`connection to ${target} was reset`, {code: 'CONNECTION_RESET', hint: 'try again; if it persists, check proxies between you and the API', cause: error})
  }
  if (code === 'ENETUNREACH' || code === 'EHOSTUNREACH') return new NetworkError(`network unreachable for ${target}`, {code: 'NETWORK_UNREACHABLE', cause: error})
  if (TLS_CODES.test(code)) return tlsErrorFrom(error, target)
  return new NetworkError(`network error talking to ${target}: ${error.message}`, {cause: error})
}

/**
 * The certificates of a ca-file as PEM text. PEM or DER; a file that cannot be read or holds
 * no certificate is a usage error now, not a puzzling "unable to verify" later (Node ignores
 * what it cannot parse in `ca`).
 */
export function readCaFile(path: string): string {
  let bytes: Buffer
  try {
    bytes = readFileSync(path)
  } catch (error) {
    throw new UsageError(`cannot read --ca-file ${path}: ${(error as Error).message}`, {code: 'CA_FILE', hint: 'fix --ca-file, or `bfly config unset ca-file`'})
  }
  const blocks = bytes.toString('latin1').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
  const pems: string[] = []
  for (const block of blocks) {
    try {
      pems.push(new X509Certificate(block).toString())
    } catch {
      // a damaged block among good ones is skipped; none at all is reported below
    }
  }
  if (pems.length === 0 && blocks.length === 0) {
    try {
      pems.push(new X509Certificate(bytes).toString())
    } catch {
      // neither PEM nor DER
    }
  }
  if (pems.length === 0) {
    throw new UsageError(`--ca-file ${path} holds no certificate`, {code: 'CA_FILE', hint: 'it must be the PEM (or DER) certificate of the CA, e.g. ca.pem'})
  }
  return pems.join('')
}

export interface DecodedBody {
  json?: unknown
  problem?: string
}

/** Parse a body that should be JSON; describe what it was when it is not. */
export function decodeJson(body: string, contentType: string | undefined): DecodedBody {
  if (body.trim() === '') return {problem: 'an empty body'}
  try {
    return {json: JSON.parse(body)}
  } catch (error) {
    const type = (contentType ?? '').split(';')[0].trim()
    if (/html/i.test(type) || /^\s*</.test(body)) return {problem: `an HTML page${type ? ` (${type})` : ''}`}
    const position = /position (\d+)/.exec((error as Error).message)?.[1]
    if (/^\s*[[{]/.test(body)) return {problem: `truncated or malformed JSON${position ? ` (at byte ${position})` : ''}`}
    return {problem: `a non-JSON body${type ? ` (${type})` : ''}`}
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'bad request', 401: 'unauthorized', 403: 'forbidden', 404: 'not found', 408: 'request timeout', 409: 'conflict',
  429: 'too many requests', 500: 'internal server error', 502: 'bad gateway', 503: 'service unavailable', 504: 'gateway timeout',
}

/** The API error envelope, or a clear error for whatever a proxy sent instead. */
export function apiErrorFrom(status: number, body: string, headers: Record<string, string | string[] | undefined>, target: string): BflyError {
  const header = (name: string) => {
    const v = headers[name]
    return Array.isArray(v) ? v[0] : v
  }
  const decoded = decodeJson(body, header('content-type'))
  const requestId = header('x-request-id')
  const envelope = decoded.json as {error?: {code?: unknown; message?: unknown; details?: unknown; retryAfter?: unknown}; meta?: {requestId?: unknown}} | undefined
  if (envelope && typeof envelope === 'object' && envelope.error && typeof envelope.error === 'object') {
    const e = envelope.error
    const details = Array.isArray(e.details)
      ? e.details.map((d: {field?: unknown; message?: unknown}) => ({field: typeof d?.field === 'string' ? d.field : undefined, message: String(d?.message ?? d)}))
      : undefined
    return new ApiError(typeof e.message === 'string' ? e.message : `HTTP ${status}`, {
      code: typeof e.code === 'string' ? e.code : `HTTP_${status}`,
      status,
      requestId: typeof envelope.meta?.requestId === 'string' ? envelope.meta.requestId : requestId,
      details,
    })
  }
  const what = decoded.problem ?? 'a body without the error envelope'
  const message = `HTTP ${status} ${STATUS_TEXT[status] ?? ''}`.trim() + ` from ${target} (${what})`
  if (status >= 200 && status < 300) return new BadResponseError(message, {status, requestId})
  return new ApiError(message, {code: `HTTP_${status}`, status, requestId})
}
