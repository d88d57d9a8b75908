// Facts about URLs and network failures shared by every HTTP path (got, undici, WebSocket).
import * as tls from 'node:tls'
import {X509Certificate} from 'node:crypto'
import {readFileSync} from 'node:fs'
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

/** Turn a low-level socket/DNS/TLS error into a NetworkError with a next step. */
export function networkErrorFrom(error: {code?: string; message: string}, target: string, timeoutMs?: number): NetworkError {
  const code = error.code ?? ''
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
    throw new UsageError(`cannot read the ca-file ${path}: ${(error as Error).message}`, {code: 'CA_FILE', hint: 'fix --ca-file, or `bfly config unset ca-file`'})
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
    throw new UsageError(`the ca-file ${path} holds no certificate`, {code: 'CA_FILE', hint: 'it must be the PEM (or DER) certificate of the CA, e.g. ca.pem'})
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
