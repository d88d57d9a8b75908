// The judgement of each doctor check, apart from the I/O that gathers its facts: pure
// functions of what was measured and the time, so every threshold is testable on a fake clock.
export {redactProxy} from '../../api/network.js'

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip'

export interface Check {
  name: string
  status: CheckStatus
  detail: string
  remedy?: string
}

export const CLOCK_SKEW_WARN_MS = 30_000
export const CERT_EXPIRY_WARN_DAYS = 14
export const RATE_HEADROOM_WARN = 0.1
export const TOKEN_EXPIRY_WARN_MS = 5 * 60_000

const DAY = 86_400_000

export function humanDuration(ms: number): string {
  const abs = Math.abs(ms)
  if (abs < 1000) return `${Math.round(abs)} ms`
  if (abs < 90_000) return `${Math.round(abs / 1000)} s`
  if (abs < 2 * 3_600_000) return `${Math.round(abs / 60_000)} min`
  if (abs < 2 * DAY) return `${Math.round(abs / 3_600_000)} h`
  return `${Math.round(abs / DAY)} days`
}

export function nodeVerdict(version: string, platform: string): Check {
  const major = Number(version.replace(/^v/, '').split('.')[0])
  if (major < 22) return {name: 'node', status: 'fail', detail: `${version} (${platform})`, remedy: 'install Node.js 22 or newer'}
  return {name: 'node', status: 'pass', detail: `${version} (${platform})`}
}

/** The server's Date header against the local clock at the moment the answer arrived. */
export function clockVerdict(serverDate: string | undefined, localMs: number): Check {
  const server = serverDate ? Date.parse(serverDate) : Number.NaN
  if (Number.isNaN(server)) return {name: 'clock', status: 'skip', detail: 'the server sent no Date header'}
  // Date has one-second resolution: half a second either way is no skew.
  const skew = localMs - server
  const detail = Math.abs(skew) < 1000 ? 'in step with the server' : `${humanDuration(skew)} ${skew > 0 ? 'ahead of' : 'behind'} the server`
  if (Math.abs(skew) > CLOCK_SKEW_WARN_MS) {
    return {name: 'clock', status: 'warn', detail, remedy: 'synchronise the clock (NTP): token expiry and webhook signature checks break beyond 30 s of skew'}
  }
  return {name: 'clock', status: 'pass', detail}
}

export function certificateVerdict(cert: {validTo: string; subject?: string; issuer?: string}, ca: string, nowMs: number): Check {
  const expires = Date.parse(cert.validTo)
  const left = expires - nowMs
  const who = `${cert.subject ? `${cert.subject}, ` : ''}issued by ${cert.issuer ?? 'an unknown CA'}; trusted via ${ca}`
  if (Number.isNaN(expires)) return {name: 'tls', status: 'warn', detail: `certificate without a readable expiry; ${who}`}
  if (left <= 0) return {name: 'tls', status: 'fail', detail: `certificate expired ${humanDuration(left)} ago (${new Date(expires).toISOString()}); ${who}`, remedy: 'the server must renew its certificate'}
  if (left < CERT_EXPIRY_WARN_DAYS * DAY) {
    return {name: 'tls', status: 'warn', detail: `certificate expires in ${humanDuration(left)} (${new Date(expires).toISOString()}); ${who}`, remedy: 'tell the API operators: the certificate is due for renewal'}
  }
  return {name: 'tls', status: 'pass', detail: `certificate valid for ${humanDuration(left)}; ${who}`}
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v[0] : v
}

export function rateLimitVerdict(headers: Record<string, string | string[] | undefined>, nowMs: number): Check {
  const limit = Number(header(headers, 'x-ratelimit-limit'))
  const remaining = Number(header(headers, 'x-ratelimit-remaining'))
  if (!Number.isFinite(limit) || !Number.isFinite(remaining) || limit <= 0) {
    return {name: 'rate-limit', status: 'skip', detail: 'the server sent no X-RateLimit headers'}
  }
  const reset = Number(header(headers, 'x-ratelimit-reset'))
  const resetIn = Number.isFinite(reset) ? `, resets in ${humanDuration(Math.max(0, reset * 1000 - nowMs))}` : ''
  const detail = `${remaining} of ${limit} requests left in this window${resetIn}`
  if (remaining / limit < RATE_HEADROOM_WARN) {
    return {name: 'rate-limit', status: 'warn', detail, remedy: 'something is using most of the budget: slow down scripts or probes using these credentials'}
  }
  return {name: 'rate-limit', status: 'pass', detail}
}

export function tokenVerdict(expiresAt: string | undefined, nowMs: number): Check {
  if (!expiresAt) return {name: 'token', status: 'pass', detail: 'no expiry given by the issuer'}
  const left = Date.parse(expiresAt) - nowMs
  if (left <= 0) return {name: 'token', status: 'warn', detail: `access token expired ${humanDuration(left)} ago; the next command refreshes it`, remedy: 'if commands fail with exit 3, run `bfly login`'}
  if (left < TOKEN_EXPIRY_WARN_MS) return {name: 'token', status: 'pass', detail: `access token expires in ${humanDuration(left)}; it is refreshed automatically`}
  return {name: 'token', status: 'pass', detail: `access token valid for ${humanDuration(left)}`}
}

export interface CircuitFacts {
  host: string
  state: 'closed' | 'open' | 'half-open'
  failures: number
  lastError: string | null
  halfOpensAt: string | null
}

/** Open for the API host: commands fail fast now (exit 6), so that is a failure; elsewhere a warning. */
export function circuitVerdict(rows: CircuitFacts[], apiHost: string | undefined): Check {
  const notClosed = rows.filter((r) => r.state !== 'closed')
  if (notClosed.length === 0) return {name: 'circuits', status: 'pass', detail: rows.length === 0 ? 'no host has failed yet' : `all closed (${rows.length} host${rows.length === 1 ? '' : 's'})`}
  const describe = (r: CircuitFacts) => `${r.host} ${r.state}${r.lastError ? ` (${r.lastError})` : ''}${r.halfOpensAt ? `, probes again at ${r.halfOpensAt}` : ''}`
  const blocking = notClosed.some((r) => r.host === apiHost && r.state === 'open')
  return {
    name: 'circuits',
    status: blocking ? 'fail' : 'warn',
    detail: notClosed.map(describe).join('; '),
    remedy: blocking ? 'commands to this API fail fast until the circuit half-opens; once the service is back, `bfly circuit reset`' : 'see `bfly circuit status`; `bfly circuit reset` once the service is back',
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
