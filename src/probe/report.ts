// The report of a run: the documented `probe --json` shape (cli-spec), plus the per-second
// series, the errors by kind and the self-check.
import type {AssertionResult} from './assertions.js'
import type {HistogramBucket, LatencySummaryMs} from './latency.js'
import type {LoadModel} from './plan.js'
import type {SelfCheck} from './self-check.js'
import type {TransportErrorKind} from './error-kind.js'

export type Nullable<T> = {[K in keyof T]: T[K] | null}

export interface SeriesPoint {
  /** Seconds since measurement started, at the end of this interval. */
  t: number
  requests: number
  rps: number
  p50: number | null
  p99: number | null
  errors: number
}

/** Failed requests: HTTP statuses of 400 and up (429 apart), and transport failures. */
export type ErrorsByKind = {http: number; rateLimited: number} & Record<TransportErrorKind, number>

export interface ProbeReport {
  model: LoadModel
  rate: number | null
  concurrency: number | null
  /** Measured requests that ended (a response or an error); warmup excluded. */
  requests: number
  durationMs: number
  /** Measured requests per second. */
  throughput: number
  errors: number
  errorRate: number
  statusCodes: Record<string, number>
  /** Requests that got a response, measured from their intended start; transport failures have no latency. */
  latencyMs: Nullable<LatencySummaryMs>
  histogram: HistogramBucket[]
  assertions: AssertionResult[]
  errorsByKind: ErrorsByKind
  series: SeriesPoint[]
  selfCheck: SelfCheck
}

export function emptyErrorsByKind(): ErrorsByKind {
  return {http: 0, rateLimited: 0, timeout: 0, reset: 0, refused: 0, tls: 0, other: 0}
}
