// Per-client budgets per API class (contract §2): query 1000/min, write 100/min,
// admin 100/min by default, as fixed one-minute windows.
import type {RateLimits} from './specs.js'

export type ApiClass = keyof RateLimits

export interface RateDecision {
  allowed: boolean
  limit: number
  remaining: number
  /** Unix seconds when the window resets. */
  reset: number
  /** Whole seconds until then (at least 1), for Retry-After. */
  retryAfter: number
}

const WINDOW_MS = 60_000

export class RateLimiter {
  private readonly limits: RateLimits
  private readonly now: () => number
  private readonly windows = new Map<string, {start: number; count: number}>()
  private lastSweep = 0

  constructor(limits: RateLimits, now: () => number) {
    this.limits = limits
    this.now = now
  }

  take(clientKey: string, apiClass: ApiClass): RateDecision {
    const now = this.now()
    this.sweep(now)
    const key = `${apiClass}\u0000${clientKey}`
    let window = this.windows.get(key)
    if (!window || now - window.start >= WINDOW_MS) {
      window = {start: now, count: 0}
      this.windows.set(key, window)
    }
    const limit = this.limits[apiClass]
    const allowed = window.count < limit
    if (allowed) window.count++
    const resetMs = window.start + WINDOW_MS
    return {
      allowed,
      limit,
      remaining: Math.max(0, limit - window.count),
      reset: Math.ceil(resetMs / 1000),
      retryAfter: Math.max(1, Math.ceil((resetMs - now) / 1000)),
    }
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < WINDOW_MS) return
    this.lastSweep = now
    for (const [key, window] of this.windows) if (now - window.start >= WINDOW_MS) this.windows.delete(key)
  }
}

export function rateHeaders(d: RateDecision): Record<string, string> {
  return {'x-ratelimit-limit': String(d.limit), 'x-ratelimit-remaining': String(d.remaining), 'x-ratelimit-reset': String(d.reset)}
}
