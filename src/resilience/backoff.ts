// Retry delays: exponential with full jitter (AWS architecture blog, "Exponential Backoff
// And Jitter"), seeded defaults from the BUTTERFLY integrations guide: 3 retries, 1 s × 2.

export interface BackoffPolicy {
  baseMs: number
  factor: number
  capMs: number
}

export const DEFAULT_BACKOFF: BackoffPolicy = {baseMs: 1000, factor: 2, capMs: 30_000}

/**
 * Delay before retry number `attempt` (1-based). Never 0: got treats a computed delay of 0
 * as "do not retry", so the floor is 1 ms.
 */
export function fullJitterDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * policy.factor ** Math.max(0, attempt - 1))
  return Math.max(1, Math.floor(random() * ceiling))
}

/** `Retry-After` as seconds or an HTTP date; milliseconds from now, or undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value
  if (text === undefined || text.trim() === '') return undefined
  const trimmed = text.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000)
  const date = Date.parse(trimmed)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - now)
}
