// Client-side budgets per API class (contract: query 1000/min, write 100/min, admin 100/min).
// The bucket starts full, refills continuously, and lets tokens go negative: a negative
// balance is a FIFO queue of reservations, so concurrent processes sharing the state file
// wait their turn instead of stampeding. It shrinks when the server reports less headroom.
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
}

export interface ServerBudget {
  limit?: number
  remaining?: number
  /** Unix ms when the server's window resets. */
  resetAt?: number
}

function refill(state: BucketState | undefined, config: BucketConfig, now: number): BucketState {
  if (state === undefined) return {tokens: config.capacity, updatedAt: now}
  if (state.blockedUntil !== undefined) {
    if (now < state.blockedUntil) return {...state, updatedAt: now}
    return {tokens: Math.min(config.capacity, config.capacity + Math.min(0, state.tokens)), updatedAt: now}
  }
  const rate = config.capacity / config.windowMs
  const elapsed = Math.max(0, now - state.updatedAt)
  return {tokens: Math.min(config.capacity, state.tokens + elapsed * rate), updatedAt: now}
}

/** Reserve one token; `waitMs` is how long the caller must wait before sending. */
export function reserve(state: BucketState | undefined, config: BucketConfig, now: number): {state: BucketState; waitMs: number} {
  const next = refill(state, config, now)
  next.tokens -= 1
  const rate = config.capacity / config.windowMs
  let waitMs = next.tokens >= 0 ? 0 : Math.ceil(-next.tokens / rate)
  if (next.blockedUntil !== undefined) waitMs = Math.max(waitMs, next.blockedUntil - now)
  return {state: next, waitMs}
}

/** Adopt what the server reports when it allows less than we think we have. */
export function observe(state: BucketState | undefined, config: BucketConfig, budget: ServerBudget, now: number): BucketState {
  const next = refill(state, config, now)
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
    return withLock(this.lockFile, async () => {
      const data = await readJsonFile<BucketFile>(this.file, {buckets: {}})
      data.buckets ??= {}
      const {state, waitMs} = reserve(data.buckets[key], config, this.now())
      if (waitMs > maxWaitMs) {
        throw new RateLimitError(`local ${apiClass} budget for ${host} is spent: the next request may go in ${formatDuration(waitMs)}`, {
          retryAfterMs: waitMs,
          hint: `retry after ${Math.ceil(waitMs / 1000)} s, or raise --timeout`,
        })
      }
      data.buckets[key] = state
      await writeFileAtomic(this.file, JSON.stringify(data))
      return waitMs
    })
  }

  async observe(host: string, apiClass: ApiClass, budget: ServerBudget): Promise<void> {
    if (budget.remaining === undefined) return
    const key = `${host}|${apiClass}`
    const config = this.budgets[apiClass]
    await withLock(this.lockFile, async () => {
      const data = await readJsonFile<BucketFile>(this.file, {buckets: {}})
      data.buckets ??= {}
      const before = data.buckets[key]
      const after = observe(before, config, budget, this.now())
      if (before !== undefined && after.tokens === refill(before, config, this.now()).tokens && after.blockedUntil === undefined) return
      data.buckets[key] = after
      await writeFileAtomic(this.file, JSON.stringify(data))
    })
  }
}
