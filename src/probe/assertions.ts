// `--assert "p99<300ms"`: parsed before any load is sent (a typo must not cost a full run),
// evaluated against the finished report. Latency thresholds are kept in milliseconds, the
// unit the report uses, so `actual` and the threshold compare without conversion.
import {UsageError} from '../errors.js'

export type Operator = '<' | '<=' | '>' | '>='

export type Metric =
  | 'min' | 'mean' | 'stdev' | 'p50' | 'p75' | 'p90' | 'p95' | 'p99' | 'p999' | 'max'
  | 'errorRate' | 'errors' | 'throughput' | 'requests' | 'rateLimited'

export interface Assertion {
  expr: string
  metric: Metric
  op: Operator
  /** Milliseconds for latency metrics, a ratio for errorRate, req/s for throughput, a count otherwise. */
  threshold: number
}

export interface AssertionResult {
  expr: string
  actual: number | null
  pass: boolean
}

const LATENCY: ReadonlySet<string> = new Set(['min', 'mean', 'stdev', 'p50', 'p75', 'p90', 'p95', 'p99', 'p999', 'max'])
const COUNTS: ReadonlySet<string> = new Set(['errors', 'requests', 'rateLimited'])

/** Spellings people type for the same metric. */
const ALIASES: Record<string, Metric> = {
  'p99.9': 'p999', median: 'p50', avg: 'mean', average: 'mean', 'error_rate': 'errorRate', errorrate: 'errorRate',
  rps: 'throughput', 'req/s': 'throughput', ratelimited: 'rateLimited',
}

const TIME_UNITS: Record<string, number> = {us: 0.001, 'µs': 0.001, ms: 1, s: 1000}

const SYNTAX = /^\s*([A-Za-z][\w.]*)\s*(<=|>=|<|>)\s*(\d+(?:\.\d+)?|\.\d+)\s*(us|µs|ms|s|%|\/s)?\s*$/

function metricOf(name: string): Metric | undefined {
  if (LATENCY.has(name) || COUNTS.has(name) || name === 'errorRate' || name === 'throughput') return name as Metric
  return ALIASES[name] ?? ALIASES[name.toLowerCase()]
}

const KNOWN = 'p50, p75, p90, p95, p99, p999, min, max, mean, stdev, errorRate, errors, throughput, requests, rateLimited'

export function parseAssertion(input: string): Assertion {
  const expr = String(input).trim()
  const match = SYNTAX.exec(expr)
  if (!match) {
    throw new UsageError(`invalid --assert "${input}": use METRIC OP VALUE, e.g. "p99<300ms", "errorRate<0.01", "throughput>=200"`)
  }
  const [, name, op, number, unit] = match
  const metric = metricOf(name)
  if (!metric) throw new UsageError(`invalid --assert "${input}": unknown metric "${name}" (known: ${KNOWN})`)
  let threshold = Number(number)
  if (LATENCY.has(metric)) {
    if (unit === '%' || unit === '/s') throw new UsageError(`invalid --assert "${input}": ${metric} is a time; use us, ms or s`)
    threshold *= TIME_UNITS[unit ?? 'ms']
  } else if (metric === 'errorRate') {
    if (unit !== undefined && unit !== '%') throw new UsageError(`invalid --assert "${input}": errorRate is a ratio (0.01) or a percentage (1%)`)
    if (unit === '%') threshold /= 100
    if (threshold > 1) throw new UsageError(`invalid --assert "${input}": errorRate is a ratio from 0 to 1 (or a percentage with %)`)
  } else if (metric === 'throughput') {
    if (unit !== undefined && unit !== '/s') throw new UsageError(`invalid --assert "${input}": throughput is requests per second, e.g. throughput>=200`)
  } else if (unit !== undefined) {
    throw new UsageError(`invalid --assert "${input}": ${metric} is a count and takes no unit`)
  }
  return {expr, metric, op: op as Operator, threshold}
}

export function parseAssertions(inputs: readonly string[]): Assertion[] {
  return inputs.map(parseAssertion)
}

/** The values assertions are checked against, in the report's units. */
export interface AssertionSubject {
  latencyMs: Record<'min' | 'mean' | 'stdev' | 'p50' | 'p75' | 'p90' | 'p95' | 'p99' | 'p999' | 'max', number | null>
  errorRate: number
  errors: number
  throughput: number
  requests: number
  rateLimited: number
}

function compare(actual: number, op: Operator, threshold: number): boolean {
  switch (op) {
    case '<':
      return actual < threshold
    case '<=':
      return actual <= threshold
    case '>':
      return actual > threshold
    case '>=':
      return actual >= threshold
  }
}

export function evaluateAssertions(assertions: readonly Assertion[], subject: AssertionSubject): AssertionResult[] {
  return assertions.map(({expr, metric, op, threshold}) => {
    const actual = LATENCY.has(metric) ? subject.latencyMs[metric as keyof AssertionSubject['latencyMs']] : subject[metric as Exclude<Metric, keyof AssertionSubject['latencyMs']>]
    // No responses means no latency: a latency bound cannot be said to hold.
    if (actual === null || !Number.isFinite(actual)) return {expr, actual: null, pass: false}
    return {expr, actual, pass: compare(actual, op, threshold)}
  })
}
