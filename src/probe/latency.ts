// Latency statistics: an HDR histogram at microsecond resolution and 3 significant digits
// for percentiles (whole milliseconds would distort sub-millisecond latencies by up to
// ~30%), plus exact count, min, max, sum and sum of squares so mean, stdev and the extremes
// are not bucket approximations.
import type {Histogram} from 'hdr-histogram-js'

export type HdrModule = typeof import('hdr-histogram-js')

export interface LatencySummaryMs {
  min: number
  mean: number
  stdev: number
  p50: number
  p75: number
  p90: number
  p95: number
  p99: number
  p999: number
  max: number
}

export const EMPTY_LATENCY = {
  min: null, mean: null, stdev: null, p50: null, p75: null, p90: null, p95: null, p99: null, p999: null, max: null,
} as const

export interface HistogramBucket {
  /** Upper bound in milliseconds; the bucket holds samples above the previous bound up to this one. */
  le: number
  count: number
}

/** One histogram: 1 µs to 60 s tracked up front, larger values resize rather than fail. */
export function createHistogram(hdr: HdrModule): Histogram {
  return hdr.build({
    bitBucketSize: 32,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  })
}

/** Microseconds to milliseconds with microsecond precision (3 decimals). */
export const usToMs = (us: number): number => Math.round(us) / 1000

export class LatencyStats {
  count = 0
  sum = 0
  sumSquares = 0
  min = Number.POSITIVE_INFINITY
  max = 0

  constructor(readonly histogram: Histogram) {}

  /** One sample in whole microseconds. */
  record(us: number): void {
    this.count++
    this.sum += us
    this.sumSquares += us * us
    if (us < this.min) this.min = us
    if (us > this.max) this.max = us
    this.histogram.recordValue(us)
  }

  reset(): void {
    this.count = 0
    this.sum = 0
    this.sumSquares = 0
    this.min = Number.POSITIVE_INFINITY
    this.max = 0
    this.histogram.reset()
  }

  /** Percentile in µs, clamped to the exact extremes (a bucket's upper edge can overshoot the true max). */
  percentileUs(p: number): number {
    if (this.count === 0) return Number.NaN
    const value = this.histogram.getValueAtPercentile(p)
    return Math.min(this.max, Math.max(this.min, value))
  }

  summaryMs(): LatencySummaryMs | undefined {
    if (this.count === 0) return undefined
    const mean = this.sum / this.count
    const variance = Math.max(0, this.sumSquares / this.count - mean * mean)
    return {
      min: usToMs(this.min),
      mean: usToMs(mean),
      stdev: usToMs(Math.sqrt(variance)),
      p50: usToMs(this.percentileUs(50)),
      p75: usToMs(this.percentileUs(75)),
      p90: usToMs(this.percentileUs(90)),
      p95: usToMs(this.percentileUs(95)),
      p99: usToMs(this.percentileUs(99)),
      p999: usToMs(this.percentileUs(99.9)),
      max: usToMs(this.max),
    }
  }
}

/** What the HDR library's JS histograms expose for walking recorded values (not in its public typings). */
interface RecordedValues {
  lowestEquivalentValue(value: number): number
  recordedValuesIterator: {reset(): void; hasNext(): boolean; next(): {valueIteratedTo: number; countAtValueIteratedTo: number}}
}

/** Bounds of 1, 1.5, 2, 3, 5 and 7 per decade, in µs, from 10 µs up. */
export function bucketBoundsUs(maxUs: number): number[] {
  const steps = [1, 1.5, 2, 3, 5, 7]
  const bounds: number[] = []
  for (let decade = 10; ; decade *= 10) {
    for (const step of steps) {
      const bound = step * decade
      bounds.push(bound)
      if (bound >= maxUs) return bounds
    }
  }
}

/**
 * Per-bucket counts (not cumulative), leading and trailing empty buckets trimmed. Samples
 * are placed by the HDR bucket they fell in, so a bound is exact to 3 significant digits.
 */
export function histogramBuckets(stats: LatencyStats): HistogramBucket[] {
  if (stats.count === 0) return []
  const bounds = bucketBoundsUs(stats.max)
  const counts = new Array<number>(bounds.length).fill(0)
  const hdr = stats.histogram as unknown as RecordedValues
  const walk = hdr.recordedValuesIterator
  walk.reset()
  let index = 0
  while (walk.hasNext()) {
    const step = walk.next()
    // The low edge of the HDR bucket: a sample of exactly 10 ms belongs in "≤ 10 ms".
    const value = hdr.lowestEquivalentValue(step.valueIteratedTo)
    while (index < bounds.length - 1 && value > bounds[index]) index++
    counts[index] += step.countAtValueIteratedTo
  }
  let first = counts.findIndex((c) => c > 0)
  let last = counts.length - 1
  while (last > first && counts[last] === 0) last--
  if (first < 0) first = 0
  const out: HistogramBucket[] = []
  for (let i = first; i <= last; i++) out.push({le: bounds[i] / 1000, count: counts[i]})
  return out
}
