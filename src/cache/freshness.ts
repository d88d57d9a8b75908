// RFC 9111 (formerly 7234) freshness and age, as pure functions of the stored response and
// an explicit clock. No heuristic freshness (RFC 9111 §4.2.2): an operations tool that
// guesses how long data stays true is exactly the "silently stale" the cache must not be.

export type Headers = Record<string, string | string[] | undefined>

export type Directives = Record<string, string | true>

export function header(headers: Headers, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

/** `Cache-Control: private, max-age=60, no-cache="set-cookie"` → {private: true, 'max-age': '60', 'no-cache': 'set-cookie'}. */
export function parseCacheControl(value: string | undefined): Directives {
  const out: Directives = {}
  if (!value) return out
  for (const match of value.matchAll(/([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*)))?/g)) {
    const name = match[1].toLowerCase()
    // RFC 9111 §4.2.1: when a directive repeats, the first one wins.
    if (name in out) continue
    out[name] = match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : match[3] !== undefined ? match[3] : true
  }
  return out
}

function seconds(value: string | true | undefined): number | undefined {
  if (typeof value !== 'string' || !/^\d+$/.test(value)) return undefined
  return Number(value)
}

function httpDate(value: string | undefined): number | undefined {
  if (!value) return undefined
  const t = Date.parse(value)
  return Number.isNaN(t) ? undefined : t
}

/** What the cache keeps about when an answer was obtained. */
export interface Timing {
  /** When the request that produced (or last revalidated) the stored answer was sent. */
  requestTime: number
  /** When its response arrived. */
  responseTime: number
}

/** RFC 9111 §4.2.1: max-age, else Expires − Date; nothing stated means 0 (always revalidate). */
export function freshnessLifetimeMs(headers: Headers): number {
  const cc = parseCacheControl(header(headers, 'cache-control'))
  const maxAge = seconds(cc['max-age'])
  if (maxAge !== undefined) return maxAge * 1000
  const expiresHeader = header(headers, 'expires')
  if (expiresHeader !== undefined) {
    const expires = httpDate(expiresHeader)
    // An invalid Expires (e.g. "0") means already expired.
    if (expires === undefined) return 0
    const date = httpDate(header(headers, 'date'))
    return Math.max(0, expires - (date ?? expires))
  }
  return 0
}

/** RFC 9111 §4.2.3: the age of the stored answer at `now`, in ms. */
export function currentAgeMs(headers: Headers, timing: Timing, now: number): number {
  const ageValue = (seconds(header(headers, 'age')) ?? 0) * 1000
  const date = httpDate(header(headers, 'date'))
  const apparentAge = date === undefined ? 0 : Math.max(0, timing.responseTime - date)
  const responseDelay = Math.max(0, timing.responseTime - timing.requestTime)
  const correctedInitialAge = Math.max(apparentAge, ageValue + responseDelay)
  const residentTime = Math.max(0, now - timing.responseTime)
  return correctedInitialAge + residentTime
}

export interface StoredAnswer extends Timing {
  headers: Headers
}

/** Why a stored answer may be used without contacting the server, if it may. */
export type Reuse = 'fresh' | 'max-age'

/**
 * May the stored answer be used without a request? `fresh`: within the lifetime the server
 * gave. `max-age`: the user's `--max-age` accepts an answer this young even past that lifetime
 * (like a request `Cache-Control: max-age=N, max-stale`). `no-cache` always needs the server;
 * `must-revalidate` forbids using it once stale.
 */
export function reuseWithoutRequest(answer: StoredAnswer, now: number, maxAgeMs?: number): Reuse | undefined {
  const cc = parseCacheControl(header(answer.headers, 'cache-control'))
  if (cc['no-cache'] === true) return undefined
  const age = currentAgeMs(answer.headers, answer, now)
  const fresh = age < freshnessLifetimeMs(answer.headers)
  if (maxAgeMs === undefined) return fresh ? 'fresh' : undefined
  if (age > maxAgeMs) return undefined
  if (fresh) return 'fresh'
  return cc['must-revalidate'] === true ? undefined : 'max-age'
}

/**
 * May a stale answer stand in when the server cannot be reached (RFC 5861 stale-if-error)?
 * Only within the window the user allowed, and never when the server forbade serving it
 * stale (RFC 9111 §4.2.4: no-cache, must-revalidate).
 */
export function staleIfErrorAllows(answer: StoredAnswer, now: number, windowMs: number): boolean {
  const cc = parseCacheControl(header(answer.headers, 'cache-control'))
  if (cc['no-cache'] === true) return false
  const age = currentAgeMs(answer.headers, answer, now)
  if (age > windowMs) return false
  return cc['must-revalidate'] !== true || age < freshnessLifetimeMs(answer.headers)
}
