// Client-side budgets per API class (contract: query 1000/min, write 100/min, admin 100/min).
// The bucket starts full, refills continuously, and lets tokens go negative: a negative
// balance is a FIFO queue of reservations, so concurrent processes sharing the state file
// wait their turn instead of stampeding. It shrinks when the server reports less headroom,
// and grows to a budget the server announces above ours (X-RateLimit-Limit): the contract's
// 1000/min is a floor, and a server that grants more should not be throttled by the client
// (a 100,000-item walk is 1000 pages).
import {join} from 'node:path'
import {RateLimitError} from '../errors.js'
import {formatDuration} from '../values.js'
import {readJsonFile, writeFileAtomic} from './atomic-file.js'
import {withLock} from './lock.js'

export type ApiClass = 'query' | 'write' | 'admin'

export interface BucketConfig {
  /** Tokens per window, also the burst size. */
  capacity: number
  windowMs: number
}

export const DEFAULT_BUDGETS: Record<ApiClass, BucketConfig> = {
  query: {capacity: 1000, windowMs: 60_000},
  write: {capacity: 100, windowMs: 60_000},
  admin: {capacity: 100, windowMs: 60_000},
}

export interface BucketState {
  tokens: number
  updatedAt: number
  /** The server said the window is spent until then (X-RateLimit-Remaining: 0). */
  blockedUntil?: number
  /** The budget per window the server last announced (X-RateLimit-Limit); used when above ours. */
  limit?: number
}

export interface ServerBudget {
  limit?: number
  remaining?: number
  /** Unix ms when the server's window resets. */
  resetAt?: number
}

/** Our budget, or the server's announced one when that is larger. */
function effective(state: BucketState | undefined, config: BucketConfig): BucketConfig {
  const limit = state?.limit
  return limit !== undefined && limit > config.capacity ? {...config, capacity: limit} : config
}

function refill(state: BucketState | undefined, base: BucketConfig, now: number): BucketState {
  if (state === undefined) return {tokens: base.capacity, updatedAt: now}
  const config = effective(state, base)
  const limit = state.limit === undefined ? {} : {limit: state.limit}
  if (state.blockedUntil !== undefined) {
    if (now < state.blockedUntil) return {...state, updatedAt: now}
    return {tokens: Math.min(config.capacity, config.capacity + Math.min(0, state.tokens)), updatedAt: now, ...limit}
  }
  const rate = config.capacity / config.windowMs
  const elapsed = Math.max(0, now - state.updatedAt)
  return {tokens: Math.min(config.capacity, state.tokens + elapsed * rate), updatedAt: now, ...limit}
}

/** Reserve one token; `waitMs` is how long the caller must wait before sending. */
export function reserve(state: BucketState | undefined, base: BucketConfig, now: number): {state: BucketState; waitMs: number} {
  const next = refill(state, base, now)
  next.tokens -= 1
  const config = effective(next, base)
  const rate = config.capacity / config.windowMs
  let waitMs = next.tokens >= 0 ? 0 : Math.ceil(-next.tokens / rate)
  if (next.blockedUntil !== undefined) waitMs = Math.max(waitMs, next.blockedUntil - now)
  return {state: next, waitMs}
}

/**
 * Like reserve, but when the bucket is well stocked it reserves a lease of 1% of the capacity
 * at once, for the caller to spend without taking the lock again: a 1000-page walk then locks
 * the state file ten times, not a thousand. Small or scarce buckets grant one token at a time,
 * so the FIFO order of waits between processes is unchanged where it matters.
 */
export function reserveLease(state: BucketState | undefined, base: BucketConfig, now: number): {state: BucketState; waitMs: number; granted: number} {
  const refilled = refill(state, base, now)
  const chunk = Math.floor(effective(refilled, base).capacity / 100)
  if (chunk >= 2 && refilled.tokens >= 2 * chunk && refilled.blockedUntil === undefined) {
    return {state: {...refilled, tokens: refilled.tokens - chunk}, waitMs: 0, granted: chunk}
  }
  return {...reserve(state, base, now), granted: 1}
}

/**
 * Adopt what the server reports: less headroom than we think we have, and a budget above ours
 * (the extra capacity is added to the balance, so queued reservations keep their turn).
 */
export function observe(state: BucketState | undefined, config: BucketConfig, budget: ServerBudget, now: number): BucketState {
  const next = refill(state, config, now)
  if (budget.limit !== undefined && Number.isFinite(budget.limit) && budget.limit > 0 && budget.limit !== next.limit) {
    const before = effective(next, config).capacity
    next.limit = Math.floor(budget.limit)
    const after = effective(next, config).capacity
    next.tokens = Math.min(after, next.tokens + Math.max(0, after - before))
    if (next.limit <= config.capacity) delete next.limit
  }
  if (budget.remaining === undefined || !Number.isFinite(budget.remaining)) return next
  if (budget.remaining < next.tokens) next.tokens = Math.max(0, budget.remaining)
  if (budget.remaining <= 0 && budget.resetAt !== undefined && budget.resetAt > now) next.blockedUntil = budget.resetAt
  return next
}

export function parseServerBudget(headers: Record<string, string | string[] | undefined>): ServerBudget {
  const num = (name: string) => {
    const raw = headers[name]
    const text = Array.isArray(raw) ? raw[0] : raw
    if (text === undefined || text.trim() === '') return undefined
    const n = Number(text)
    return Number.isFinite(n) ? n : undefined
  }
  const reset = num('x-ratelimit-reset')
  return {limit: num('x-ratelimit-limit'), remaining: num('x-ratelimit-remaining'), resetAt: reset === undefined ? undefined : reset * 1000}
}

interface BucketFile {
  buckets: Record<string, BucketState>
}

/** Buckets of one profile shared by every bfly process through the state directory. */
export class TokenBucketStore {
  private readonly file: string
  private readonly lockFile: string
  /** Tokens this process reserved ahead (reserveLease) and has not spent yet, per host|class. */
  private readonly leases = new Map<string, number>()
  /** The X-RateLimit-Limit last adopted per host|class, to skip reports that change nothing. */
  private readonly announced = new Map<string, number | undefined>()

  constructor(
    stateDir: string,
    private readonly budgets: Record<ApiClass, BucketConfig> = DEFAULT_BUDGETS,
    private readonly now: () => number = Date.now,
  ) {
    this.file = join(stateDir, 'buckets.json')
    this.lockFile = join(stateDir, 'buckets.lock')
  }

  /**
   * Reserve a token for `host`/`apiClass`; resolves to the wait (ms) the caller must sleep.
   * A wait longer than `maxWaitMs` fails fast (exit 5) without reserving anything.
   */
  async take(host: string, apiClass: ApiClass, maxWaitMs: number): Promise<number> {
    const key = `${host}|${apiClass}`
    const config = this.budgets[apiClass]
    const leased = this.leases.get(key) ?? 0
    if (leased > 0) {
      this.leases.set(key, leased - 1)
      return 0
    }
    return withLock(this.lockFile, async () => {
      const data = await readJsonFile<BucketFile>(this.file, {buckets: {}})
      data.buckets ??= {}
      const {state, waitMs, granted} = reserveLease(data.buckets[key], config, this.now())
      if (granted > 1) this.leases.set(key, granted - 1)
      if (waitMs > maxWaitMs) {
        throw new RateLimitError(`local ${apiClass} budget for ${host} is spent: the next request may go in ${formatDuration(waitMs)}`, {
          retryAfterMs: waitMs,
          hint: `retry after ${Math.ceil(waitMs / 1000)} s, or raise --timeout`,
        })
      }
      data.buckets[key] = state
      await writeFileAtomic(this.file, JSON.stringify(data), 0o600, {durable: false})
      return waitMs
    })
  }

  /**
   * Adopt the server's report. Taking the lock on every response would cost as much as the
   * request, so a report is skipped when it announces the limit already adopted and leaves
   * more than a tenth of the budget: only a scarce budget needs the local bucket in step.
   */
  async observe(host: string, apiClass: ApiClass, budget: ServerBudget): Promise<void> {
    if (budget.remaining === undefined && budget.limit === undefined) return
    const key = `${host}|${apiClass}`
    const config = this.budgets[apiClass]
    const capacity = Math.max(config.capacity, budget.limit ?? 0)
    const plenty = budget.remaining === undefined || budget.remaining > capacity / 10
    if (this.announced.has(key) && this.announced.get(key) === budget.limit && plenty) return
    this.announced.set(key, budget.limit)
    // Tokens leased ahead are no longer safe to spend once the server says the budget is scarce.
    if (!plenty) this.leases.delete(key)
    await withLock(this.lockFile, async () => {
      const data = await readJsonFile<BucketFile>(this.file, {buckets: {}})
      data.buckets ??= {}
      const before = data.buckets[key]
      const after = observe(before, config, budget, this.now())
      if (before !== undefined && after.tokens === refill(before, config, this.now()).tokens && after.blockedUntil === undefined && after.limit === before.limit) return
      data.buckets[key] = after
      await writeFileAtomic(this.file, JSON.stringify(data), 0o600, {durable: false})
    })
  }
}
