// The judgement of each doctor check, apart from the I/O that gathers its facts: pure
// functions of what was measured and the time, so every threshold is testable on a fake clock.
import {redactProxy} from '../../api/network.js'

export {redactProxy}

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip'

export interface Check {
  name: string
  status: CheckStatus
  detail: string
  remedy?: string
}

/** A check's verdict before it is named. */
export type Verdict = Omit<Check, 'name'>

export const CLOCK_SKEW_WARN_MS = 30_000
export const CERT_EXPIRY_WARN_DAYS = 14
export const RATE_HEADROOM_WARN = 0.1
export const TOKEN_EXPIRY_WARN_MS = 5 * 60_000
/** A median answer slower than this makes every command feel broken. */
export const HTTP_SLOW_MS = 2000
export const NODE_MIN_MAJOR = 22

const DAY = 86_400_000

export type Origin = 'flag' | 'env' | 'profile' | 'default' | 'discovered'

export const ORIGIN: Record<Origin, string> = {
  flag: 'from the flag',
  env: 'from the environment',
  profile: 'from the profile',
  default: 'the default',
  discovered: 'discovered from the API',
}

export function humanDuration(ms: number): string {
  const abs = Math.abs(ms)
  if (abs < 1000) return `${Math.round(abs)} ms`
  if (abs < 90_000) return `${Math.round(abs / 1000)} s`
  if (abs < 2 * 3_600_000) return `${Math.round(abs / 60_000)} min`
  if (abs < 2 * DAY) return `${Math.round(abs / 3_600_000)} h`
  return `${Math.round(abs / DAY)} days`
}

/** A URL as it may be shown: a user name or password in it becomes ***. */
export function shownUrl(url: string): string {
  try {
    const parsed = new URL(url)
    return parsed.username || parsed.password ? redactProxy(url) : url
  } catch {
    return '(an unparsable URL)'
  }
}

export function nodeVerdict(version: string, platform: string): Verdict {
  const major = Number(version.replace(/^v/, '').split('.')[0])
  if (!(major >= NODE_MIN_MAJOR)) return {status: 'fail', detail: `${version} (${platform})`, remedy: `install Node.js ${NODE_MIN_MAJOR} or newer`}
  return {status: 'pass', detail: `${version} (${platform})`}
}

export function profileVerdict(profile: string, origin: Origin, known: string[]): Verdict {
  const detail = `${profile} (${ORIGIN[origin]})`
  // A profile named on purpose that the config file does not know is most often a typo.
  if (origin !== 'default' && !known.includes(profile)) {
    return {
      status: 'warn',
      detail: `${detail}: nothing is configured or stored for it`,
      remedy: known.length > 0 ? `known profiles: ${known.join(', ')}; or configure this one with \`bfly config set api-url … --profile ${profile}\`` : `configure it with \`bfly config set api-url … --profile ${profile}\``,
    }
  }
  return {status: 'pass', detail}
}

export function apiUrlVerdict(apiUrl: string | undefined, origin: Origin, loopback: boolean): Verdict {
  if (!apiUrl) return {status: 'fail', detail: 'no API URL configured', remedy: 'pass --api-url, set BFLY_API_URL, or run `bfly config set api-url https://…`'}
  const detail = `${shownUrl(apiUrl)} (${ORIGIN[origin]})`
  if (apiUrl.startsWith('http:') && !loopback) {
    return {status: 'warn', detail: `${detail}: plain http, so no credentials are ever sent to it`, remedy: 'use the https:// URL of the API'}
  }
  return {status: 'pass', detail}
}

/** The certificate authorities in force. `files` are the extra PEM files with what reading them gave. */
export interface CaFacts {
  caFile?: {path: string; origin: Origin; certificates?: number; error?: string}
  nodeExtra?: {path: string; certificates?: number; error?: string}
}

const certificates = (n: number | undefined) => (n === undefined ? '' : `, ${n} certificate${n === 1 ? '' : 's'}`)

/** The CAs a connection trusts, leaving out files that cannot be used. */
export function trustedLabel(facts: CaFacts): string {
  const parts = ["Node's bundled roots"]
  const usable = (f?: {error?: string; certificates?: number}) => f && !f.error && f.certificates !== 0
  if (usable(facts.nodeExtra)) parts.push(`NODE_EXTRA_CA_CERTS ${facts.nodeExtra!.path}${certificates(facts.nodeExtra!.certificates)}`)
  if (usable(facts.caFile)) parts.push(`ca-file ${facts.caFile!.path} (${ORIGIN[facts.caFile!.origin]}${certificates(facts.caFile!.certificates)})`)
  return parts.join(' + ')
}

export function caVerdict(facts: CaFacts): Verdict {
  const detail = trustedLabel(facts)
  const file = facts.caFile
  if (file?.error || file?.certificates === 0) {
    return {
      status: 'fail',
      detail: `cannot use the ca-file ${file.path}: ${file.error ?? 'no PEM certificate in it'}`,
      remedy: file.origin === 'profile' ? 'fix it with `bfly config set ca-file /path/ca.pem`, or `bfly config unset ca-file`' : 'pass --ca-file with a readable PEM file',
    }
  }
  const extra = facts.nodeExtra
  if (extra?.error || extra?.certificates === 0) {
    // Node reads it once at start-up and only warns when it cannot: the CA is silently not trusted.
    return {status: 'warn', detail: `NODE_EXTRA_CA_CERTS ${extra.path} is not used: ${extra.error ?? 'no PEM certificate in it'}`, remedy: 'point NODE_EXTRA_CA_CERTS at a readable PEM file, or use --ca-file'}
  }
  return {status: 'pass', detail}
}

/** The server's Date header against the local clock at the moment the answer arrived. */
export function clockVerdict(serverDate: string | undefined, localMs: number): Verdict {
  const server = serverDate ? Date.parse(serverDate) : Number.NaN
  if (Number.isNaN(server)) return {status: 'skip', detail: 'the server sent no Date header'}
  // Date has one-second resolution: less than a second either way is no skew.
  const skew = localMs - server
  const detail = Math.abs(skew) < 1000 ? 'in step with the server' : `${humanDuration(skew)} ${skew > 0 ? 'ahead of' : 'behind'} the server`
  if (Math.abs(skew) > CLOCK_SKEW_WARN_MS) {
    return {status: 'warn', detail, remedy: 'synchronise the clock (NTP): token expiry and webhook signature checks break beyond 30 s of skew'}
  }
  return {status: 'pass', detail}
}

export function certificateVerdict(cert: {validTo: string; subject?: string; issuer?: string}, ca: string, nowMs: number): Verdict {
  const expires = Date.parse(cert.validTo)
  const left = expires - nowMs
  const who = `${cert.subject ? `${cert.subject}, ` : ''}issued by ${cert.issuer ?? 'an unknown CA'}; trusted via ${ca}`
  if (Number.isNaN(expires)) return {status: 'warn', detail: `certificate without a readable expiry; ${who}`}
  if (left <= 0) return {status: 'fail', detail: `certificate expired ${humanDuration(left)} ago (${new Date(expires).toISOString()}); ${who}`, remedy: 'the server must renew its certificate'}
  if (left < CERT_EXPIRY_WARN_DAYS * DAY) {
    return {status: 'warn', detail: `certificate expires in ${humanDuration(left)} (${new Date(expires).toISOString()}); ${who}`, remedy: 'tell the API operators: the certificate is due for renewal'}
  }
  return {status: 'pass', detail: `certificate valid for ${humanDuration(left)}; ${who}`}
}

/** What a TLS handshake showed, verified against the CAs in force. */
export interface TlsFacts {
  host: string
  authorized: boolean
  authorizationError?: string
  /** checkServerIdentity's complaint, when the certificate does not name the host. */
  identityError?: string
  validTo?: string
  subject?: string
  issuer?: string
  protocol?: string
  /** Set when the handshake went through a proxy's tunnel. */
  viaProxy?: string
}

export function tlsVerdict(facts: TlsFacts, ca: string, nowMs: number): Verdict {
  const via = facts.viaProxy ? ` (through the proxy ${facts.viaProxy})` : ''
  const by = facts.issuer ? ` (issued by ${facts.issuer})` : ''
  const reason = facts.authorizationError ?? ''
  if (!facts.authorized && !/CERT_HAS_EXPIRED/.test(reason)) {
    return {
      status: 'fail',
      detail: `the certificate of ${facts.host}${via} is not trusted: ${reason || 'unknown reason'}${by}; trusted: ${ca}`,
      remedy: /SELF_SIGNED|UNABLE_TO_GET_ISSUER|UNABLE_TO_VERIFY/.test(reason)
        ? `a private CA${facts.viaProxy ? ' or a TLS-inspecting proxy' : ''}? pass --ca-file /path/ca.pem (or \`bfly config set ca-file\`, or NODE_EXTRA_CA_CERTS)`
        : 'check that the API URL names the host the certificate was issued for',
    }
  }
  if (facts.authorized && facts.identityError) {
    return {status: 'fail', detail: `the certificate${by} does not name ${facts.host}: ${facts.identityError}`, remedy: 'check the host name in the API URL'}
  }
  const verdict = certificateVerdict({validTo: facts.validTo ?? '', subject: facts.subject, issuer: facts.issuer}, ca, nowMs)
  return {...verdict, detail: `${facts.protocol ? `${facts.protocol}, ` : ''}${verdict.detail}${via}`}
}

/** The unauthenticated GETs: reachability and latency. */
export function httpVerdict(facts: {statuses: number[]; latenciesMs: number[]; through?: string}): Verdict {
  const last = facts.statuses.at(-1)!
  const p50 = median(facts.latenciesMs)
  const max = Math.max(...facts.latenciesMs)
  const n = facts.latenciesMs.length
  const timing = `p50 ${p50.toFixed(1)} ms, max ${max.toFixed(1)} ms over ${n} request${n === 1 ? '' : 's'}`
  const through = facts.through ? ` through ${facts.through}` : ''
  if (last >= 500) {
    return {status: 'fail', detail: `HTTP ${last}${through} (${timing})`, remedy: 'the service answers with errors: check its status page, or `bfly integrations status`'}
  }
  if (last >= 300 && last < 400) {
    return {status: 'warn', detail: `HTTP ${last} (a redirect)${through}, ${timing}`, remedy: 'the API URL may be out of date: use the URL it redirects to'}
  }
  if (p50 > HTTP_SLOW_MS) return {status: 'warn', detail: `HTTP ${last}${through}, slow: ${timing}`, remedy: 'something between you and the API is slow (VPN, proxy, the service itself)'}
  return {status: 'pass', detail: `HTTP ${last}${through}, ${timing}`}
}

export type CredentialSource = 'env' | 'api-key' | 'client-credentials' | 'keychain' | 'file'

export const CREDENTIAL_LABEL: Record<CredentialSource, string> = {
  env: 'BFLY_TOKEN (used as is)',
  'api-key': 'BUTTERFLY_API_KEY',
  'client-credentials': 'BFLY_CLIENT_ID + BFLY_CLIENT_SECRET (client credentials)',
  keychain: 'the stored login, in the OS keychain',
  file: 'the stored login, in a 0600 file',
}

const stored = (source: CredentialSource) => source === 'keychain' || source === 'file'

/** The authenticated GET's answer. */
export function credentialVerdict(source: CredentialSource, status: number, wwwAuthenticate?: string): Verdict {
  const label = CREDENTIAL_LABEL[source]
  if (status === 401) {
    const why = /error="([^"]+)"/.exec(wwwAuthenticate ?? '')?.[1]
    return {
      status: 'fail',
      detail: `${label}: rejected by the API (401${why ? ` ${why}` : ''})`,
      remedy: stored(source) ? 'run `bfly login` again' : source === 'client-credentials' ? 'check BFLY_CLIENT_ID / BFLY_CLIENT_SECRET' : 'the token or key is wrong or expired: get a new one',
    }
  }
  if (status === 403) return {status: 'warn', detail: `${label}: accepted, but not allowed to read capsules (403)`, remedy: 'ask for the capsules:read scope, or log in with --scopes'}
  if (status >= 500) return {status: 'fail', detail: `${label}: the test request answered HTTP ${status}`, remedy: 'the service fails: try again later, or check its status page'}
  if (status >= 400) return {status: 'warn', detail: `${label}: the test request answered HTTP ${status}`}
  return {status: 'pass', detail: `${label}: accepted`}
}

/** Facts of the stored login (the profile keeps its expiry) or the expiry inside a JWT in BFLY_TOKEN. */
export function tokenVerdict(expiresAt: string | undefined, nowMs: number, options: {refreshable?: boolean; label?: string} = {}): Verdict {
  const what = options.label ?? 'access token'
  const refreshable = options.refreshable ?? true
  if (!expiresAt) return {status: 'pass', detail: `${what}: no expiry given by the issuer`}
  const left = Date.parse(expiresAt) - nowMs
  if (Number.isNaN(left)) return {status: 'warn', detail: `${what}: unreadable expiry "${expiresAt}"`}
  if (left <= 0) {
    return refreshable
      ? {status: 'warn', detail: `${what} expired ${humanDuration(left)} ago; the next request that reaches the issuer refreshes it`, remedy: 'if commands fail with exit 3, run `bfly login`'}
      : {status: 'fail', detail: `${what} expired ${humanDuration(left)} ago (${new Date(Date.parse(expiresAt)).toISOString()})`, remedy: 'get a new token: it cannot be refreshed'}
  }
  if (left < TOKEN_EXPIRY_WARN_MS) {
    return refreshable
      ? {status: 'pass', detail: `${what} expires in ${humanDuration(left)}; it is refreshed automatically`}
      : {status: 'warn', detail: `${what} expires in ${humanDuration(left)}`, remedy: 'get a new token soon: it cannot be refreshed'}
  }
  return {status: 'pass', detail: `${what} valid for ${humanDuration(left)}`}
}

/** The `exp` of a JWT (RFC 7519), read without verifying it: only to say when it ends. */
export function jwtExpiry(token: string): string | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as {exp?: unknown}
    return typeof claims.exp === 'number' && Number.isFinite(claims.exp) ? new Date(claims.exp * 1000).toISOString() : undefined
  } catch {
    return undefined
  }
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v[0] : v
}

export function rateLimitVerdict(headers: Record<string, string | string[] | undefined>, nowMs: number, anonymous = false): Verdict {
  const limit = Number(header(headers, 'x-ratelimit-limit'))
  const remaining = Number(header(headers, 'x-ratelimit-remaining'))
  if (!Number.isFinite(limit) || !Number.isFinite(remaining) || limit <= 0) {
    return {status: 'skip', detail: 'the server sent no X-RateLimit headers'}
  }
  const reset = Number(header(headers, 'x-ratelimit-reset'))
  const resetIn = Number.isFinite(reset) ? `, resets in ${humanDuration(Math.max(0, reset * 1000 - nowMs))}` : ''
  const detail = `${remaining} of ${limit} requests left in this window${resetIn}${anonymous ? ' (unauthenticated budget)' : ''}`
  if (remaining / limit < RATE_HEADROOM_WARN) {
    return {status: 'warn', detail, remedy: 'something is using most of the budget: slow down scripts or probes using these credentials'}
  }
  return {status: 'pass', detail}
}

export interface CircuitFacts {
  host: string
  state: 'closed' | 'open' | 'half-open'
  failures: number
  lastError: string | null
  halfOpensAt: string | null
}

/**
 * Open for the API host is a failure: every command to it fails fast (exit 6) without trying,
 * even once the service is back, until the cooldown passes or the circuit is reset. An open
 * circuit whose cooldown has passed lets the next request through as a probe, as half-open
 * does; those, and circuits of other hosts, are warnings.
 */
export function circuitVerdict(rows: CircuitFacts[], apiHost: string | undefined, nowMs: number): Verdict {
  const notClosed = rows.filter((r) => r.state !== 'closed')
  if (notClosed.length === 0) return {status: 'pass', detail: rows.length === 0 ? 'no host has failed yet' : `all closed (${rows.length} host${rows.length === 1 ? '' : 's'})`}
  const cooling = (r: CircuitFacts) => r.state === 'open' && (r.halfOpensAt === null || Date.parse(r.halfOpensAt) > nowMs)
  const describe = (r: CircuitFacts) => {
    const why = r.lastError ? ` (${r.lastError})` : ''
    if (r.state !== 'open') return `${r.host} ${r.state}${why}`
    return cooling(r) ? `${r.host} open${why}, probes again in ${humanDuration(Date.parse(r.halfOpensAt ?? '') - nowMs)}` : `${r.host} open${why}, the next request probes it`
  }
  const blocking = notClosed.some((r) => r.host === apiHost && cooling(r))
  return {
    status: blocking ? 'fail' : 'warn',
    detail: notClosed.map(describe).join('; '),
    remedy: blocking ? 'commands to this API fail fast until the circuit half-opens; once the service is back, `bfly circuit reset`' : 'see `bfly circuit status`; `bfly circuit reset` once the service is back',
  }
}

export function keychainVerdict(outcome: {ok: true; ms: number} | {ok: false; reason: string}): Verdict {
  if (outcome.ok) return {status: 'pass', detail: `the OS keychain answered in ${Math.round(outcome.ms)} ms`}
  return {status: 'warn', detail: `${outcome.reason}; logins fall back to a file readable only by you`, remedy: 'on Linux, a Secret Service (gnome-keyring, KeePassXC) must run and be unlocked; or set BFLY_KEYCHAIN=off'}
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** Every occurrence of a secret in what doctor prints becomes ***: the last line of defence. */
export function scrub(checks: Check[], secrets: string[]): Check[] {
  const known = [...new Set(secrets.filter((s) => s.length >= 4))].sort((a, b) => b.length - a.length)
  if (known.length === 0) return checks
  const clean = (text: string) => known.reduce((out, secret) => out.split(secret).join('***'), text)
  return checks.map((c) => ({...c, detail: clean(c.detail), ...(c.remedy === undefined ? {} : {remedy: clean(c.remedy)})}))
}
