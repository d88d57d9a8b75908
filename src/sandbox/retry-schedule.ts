// The server-side webhook retry schedule of the contract: a failed delivery is tried again
// after 1m, 5m, 30m, 2h and 8h; when the last of those fails it goes to the dead-letter
// queue. The first attempt happens at once, so a delivery gets at most six attempts.
import {iso} from './clock.js'
import type {Delivery} from './records.js'

export const RETRY_DELAYS_MS: readonly number[] = [60_000, 300_000, 1_800_000, 7_200_000, 28_800_000]
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1

export interface AttemptOutcome {
  ok: boolean
  statusCode: number | null
  durationMs: number
  error: string | null
}

/**
 * The delivery after one attempt at wall time `now`. Retry delays are simulated time, so
 * they pass `timeScale` times faster on the wall clock.
 */
export function afterAttempt(delivery: Delivery, outcome: AttemptOutcome, now: number, timeScale: number): Delivery {
  const attempts = delivery.attempts + 1
  const base = {
    ...delivery,
    attempts,
    last_attempt_at: iso(now),
    response_status_code: outcome.statusCode,
    duration_ms: Math.round(outcome.durationMs),
  }
  if (outcome.ok) return {...base, status: 'delivered', next_attempt_at: null, error: null}
  if (attempts < delivery.max_attempts) {
    const delay = RETRY_DELAYS_MS[Math.min(attempts, RETRY_DELAYS_MS.length) - 1]
    return {...base, status: 'failed', next_attempt_at: iso(now + delay / timeScale), next_attempt_ms: now + delay / timeScale, error: outcome.error}
  }
  return {...base, status: 'dead_lettered', next_attempt_at: null, next_attempt_ms: undefined, error: outcome.error}
}

/** Retrying by hand is allowed for failed and dead-lettered deliveries only. */
export function retryConflict(delivery: Delivery): string | undefined {
  if (delivery.status === 'delivered') return `delivery ${delivery.id} was already delivered`
  if (delivery.status === 'pending') return `delivery ${delivery.id} is already pending`
  return undefined
}
