// What a probe run will do, fully resolved: target, request, load model, limits. Built and
// checked before anything is sent, so a bad combination costs nothing.
import {UsageError} from '../errors.js'
import type {Assertion} from './assertions.js'

export type LoadModel = 'open' | 'closed'

export interface ProbePlan {
  /** Absolute URL of the endpoint under test. */
  url: string
  method: string
  /** Headers sent on every request (credentials included), lower-case names. */
  headers: Record<string, string>
  body?: Buffer
  model: LoadModel
  /** Open model: requests per second on a fixed schedule. */
  rate?: number
  /** Closed model: requests in flight, each worker sending the next when the last ends. */
  concurrency?: number
  /** Most connections the HTTP pool opens. */
  connections: number
  /** Measured duration (after warmup); exclusive with `requests`. */
  durationMs?: number
  /** Measured requests (after warmup); exclusive with `durationMs`. */
  requests?: number
  /** Sent but excluded from every statistic. */
  warmupMs: number
  /** Per request, from the moment it is written until its response has arrived. */
  timeoutMs: number
  /** When set, every request carries `X-Request-ID: <prefix>-<n>`. */
  requestIdPrefix?: string
  /** When set, every request carries a W3C traceparent in this trace with its own span id. */
  traceId?: string
  /** HTTP(S) proxy to tunnel through (HTTPS_PROXY / HTTP_PROXY unless NO_PROXY says otherwise). */
  proxy?: string
  /** Extra certificate authorities, PEM (the ca-file setting). */
  ca?: Buffer | string
  assertions: Assertion[]
}

export const DEFAULT_CONCURRENCY = 10
export const DEFAULT_OPEN_CONNECTIONS = 100
export const DEFAULT_DURATION_MS = 10_000
export const DEFAULT_TIMEOUT_MS = 10_000
/** Beyond this an in-flight count is a typo, not a plan (and would exhaust file descriptors). */
export const MAX_CONNECTIONS = 10_000
const MAX_RATE = 1_000_000

export interface LoadInput {
  rate?: number
  concurrency?: number
  connections?: number
  durationMs?: number
  requests?: number
  warmupMs?: number
}

/** Load model and limits from the flags; exclusive pairs are rejected here, before any load. */
export function resolveLoad(input: LoadInput): Pick<ProbePlan, 'model' | 'rate' | 'concurrency' | 'connections' | 'durationMs' | 'requests' | 'warmupMs'> {
  if (input.rate !== undefined && input.concurrency !== undefined) {
    throw new UsageError('--rate and --concurrency are exclusive: --rate is the open model (fixed schedule), --concurrency the closed one')
  }
  if (input.durationMs !== undefined && input.requests !== undefined) {
    throw new UsageError('--duration and --requests are exclusive: the run ends after one or the other')
  }
  if (input.rate !== undefined && (!(input.rate > 0) || input.rate > MAX_RATE)) {
    throw new UsageError(`invalid --rate ${input.rate}: from a fraction of a request per second up to ${MAX_RATE}`)
  }
  if (input.durationMs !== undefined && input.durationMs <= 0) throw new UsageError('invalid --duration: must be longer than 0')
  if (input.requests !== undefined && (!Number.isInteger(input.requests) || input.requests < 1)) {
    throw new UsageError('invalid --requests: a whole number of at least 1')
  }
  const open = input.rate !== undefined
  const concurrency = open ? undefined : input.concurrency ?? DEFAULT_CONCURRENCY
  const connections = input.connections ?? (open ? DEFAULT_OPEN_CONNECTIONS : concurrency!)
  if (!Number.isInteger(connections) || connections < 1 || connections > MAX_CONNECTIONS) {
    throw new UsageError(`invalid --connections ${connections}: a whole number from 1 to ${MAX_CONNECTIONS}`)
  }
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONNECTIONS)) {
    throw new UsageError(`invalid --concurrency ${concurrency}: a whole number from 1 to ${MAX_CONNECTIONS}`)
  }
  return {
    model: open ? 'open' : 'closed',
    rate: input.rate,
    concurrency,
    connections,
    durationMs: input.requests === undefined ? input.durationMs ?? DEFAULT_DURATION_MS : undefined,
    requests: input.requests,
    warmupMs: input.warmupMs ?? 0,
  }
}

/** Requests the plan will send in all (warmup included); Infinity when only time bounds it. */
export function plannedRequests(plan: Pick<ProbePlan, 'model' | 'rate' | 'durationMs' | 'requests' | 'warmupMs'>): number {
  if (plan.model === 'open') {
    const warmup = Math.ceil((plan.warmupMs * plan.rate!) / 1000)
    return plan.requests !== undefined ? warmup + plan.requests : Math.ceil(((plan.warmupMs + plan.durationMs!) * plan.rate!) / 1000)
  }
  return plan.requests !== undefined && plan.warmupMs === 0 ? plan.requests : Number.POSITIVE_INFINITY
}
