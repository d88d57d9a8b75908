// Facts about URLs and network failures shared by every HTTP path (got, undici, WebSocket).
import {readFileSync} from 'node:fs'
import * as tls from 'node:tls'
import {ApiError, BadResponseError, type BflyError, NetworkError, UsageError} from '../errors.js'

/**
 * The certificate authorities to trust with a ca-file: the usual ones (Node's bundled roots
 * plus NODE_EXTRA_CA_CERTS) and the file's, never the file's alone (a `ca` option replaces the
 * defaults, which would break every other host, e.g. an issuer with a public certificate).
 */
export function withDefaultCas(extra: Buffer | string): string[] {
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

/** The proxy for `url` according to HTTPS_PROXY / HTTP_PROXY / NO_PROXY (either case), or undefined. */
export function proxyFor(url: URL, env: NodeJS.ProcessEnv): string | undefined {
  const noProxy = env.NO_PROXY ?? env.no_proxy ?? ''
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase()
  const port = url.port || (url.protocol === 'https:' ? '443' : '80')
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase()
    if (!entry) continue
    if (entry === '*') return undefined
    const [entryHost, entryPort] = entry.startsWith('[') ? [entry.slice(1, entry.indexOf(']')), entry.split(']:')[1]] : entry.split(':')
    if (entryPort && entryPort !== port) continue
    const bare = entryHost.replace(/^\*?\./, '')
    if (host === bare || host.endsWith('.' + bare)) return undefined
  }
  const proxy = url.protocol === 'https:' ? env.HTTPS_PROXY ?? env.https_proxy ?? env.HTTP_PROXY ?? env.http_proxy : env.HTTP_PROXY ?? env.http_proxy
  return proxy && proxy.trim() !== '' ? proxy.trim() : undefined
}

const TLS_CODES = /^(CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_TLS|ERR_SSL|HOSTNAME_MISMATCH|ERR_CERT)/

/** The ca-file's certificates; an unreadable file is a usage error naming it (exit 2). */
export function readCaFile(path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    throw new UsageError(`cannot read --ca-file ${path}: ${(error as Error).message}`, {hint: 'fix --ca-file, or `bfly config unset ca-file`'})
  }
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

/** Turn a low-level socket/DNS/TLS error into a NetworkError with a next step. */
export function networkErrorFrom(error: {code?: string; message: string}, target: string, timeoutMs?: number, proxy?: string): NetworkError {
  const code = error.code ?? ''
  // hpagent: "Bad response: 407"; undici's ProxyAgent: "Proxy response (407) !== 200 when HTTP Tunneling".
  const refused = /^Bad response: (\d{3})$|Proxy response \((\d{3})\)/.exec(error.message)
  if (refused) {
    const status = Number(refused[1] ?? refused[2])
    const via = proxy ? `the proxy ${redactProxy(proxy)}` : 'the proxy'
    return new NetworkError(`${via} refused the tunnel to ${target}: HTTP ${status}${status === 407 ? ' Proxy Authentication Required' : ''}`, {
      code: 'PROXY_ERROR',
      hint: status === 407 ? 'check the user and password in HTTPS_PROXY / HTTP_PROXY' : 'check HTTPS_PROXY / HTTP_PROXY, or exempt this host with NO_PROXY',
      cause: error,
    })
  }
  if (proxy && code === 'ECONNREFUSED') {
    return new NetworkError(`connection refused by the proxy ${redactProxy(proxy)} (on the way to ${target})`, {code: 'CONNECTION_REFUSED', hint: 'is the proxy up? check HTTPS_PROXY / HTTP_PROXY, or exempt this host with NO_PROXY', cause: error})
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
  if (TLS_CODES.test(code)) {
    return new NetworkError(`TLS error talking to ${target}: ${error.message}`, {code: 'TLS_ERROR', hint: 'for a private CA use --ca-file or NODE_EXTRA_CA_CERTS', cause: error})
  }
  return new NetworkError(`network error talking to ${target}: ${error.message}`, {cause: error})
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
