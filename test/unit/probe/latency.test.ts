// Percentile maths on known samples: HDR at 3 significant digits is within 0.1%; mean,
// stdev, min and max are exact; the JSON histogram puts every sample in one bucket.
import assert from 'node:assert/strict'
import {createRequire} from 'node:module'
import {test} from 'node:test'
import {bucketBoundsUs, createHistogram, histogramBuckets, LatencyStats} from '../../../dist/probe/latency.js'

const hdr = createRequire(import.meta.url)('hdr-histogram-js')
const stats = () => new LatencyStats(createHistogram(hdr))
const within = (actual: number, expected: number, relative: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= expected * relative, `${what}: ${actual}, expected ${expected} ± ${relative * 100}%`)

test('uniform 1..10000 µs: percentiles within 0.1%, moments exact', () => {
  const s = stats()
  for (let us = 1; us <= 10_000; us++) s.record(us)
  const summary = s.summaryMs()!
  within(summary.p50, 5, 0.001, 'p50')
  within(summary.p75, 7.5, 0.001, 'p75')
  within(summary.p90, 9, 0.001, 'p90')
  within(summary.p99, 9.9, 0.001, 'p99')
  within(summary.p999, 9.99, 0.001, 'p99.9')
  assert.equal(summary.min, 0.001)
  assert.equal(summary.max, 10)
  assert.equal(summary.mean, 5.001) // 5000.5 µs, rounded to the microsecond
  assert.equal(summary.stdev, 2.887) // sqrt((n² − 1) / 12) = 2886.75 µs
})

test('bimodal 98% at 1 ms and 2% at 100 ms: p50 is the fast mode, p99 the slow one', () => {
  const s = stats()
  for (let i = 0; i < 9800; i++) s.record(1000)
  for (let i = 0; i < 200; i++) s.record(100_000)
  const summary = s.summaryMs()!
  assert.equal(summary.p50, 1)
  assert.equal(summary.p95, 1)
  within(summary.p99, 100, 0.001, 'p99')
  assert.equal(summary.max, 100)
  assert.equal(summary.mean, 2.98)
})

test('percentiles never exceed the exact max or undercut the exact min', () => {
  const s = stats()
  s.record(12_345)
  const summary = s.summaryMs()!
  for (const key of ['min', 'p50', 'p75', 'p90', 'p95', 'p99', 'p999', 'max'] as const) assert.equal(summary[key], 12.345, key)
  assert.equal(summary.stdev, 0)
})

test('values beyond the initial range are kept (a 2-minute stall is not an error)', () => {
  const s = stats()
  s.record(500)
  s.record(120_000_000)
  assert.equal(s.summaryMs()!.max, 120_000)
})

test('no samples: no summary, no buckets', () => {
  const s = stats()
  assert.equal(s.summaryMs(), undefined)
  assert.deepEqual(histogramBuckets(s), [])
})

test('histogram buckets: 1-1.5-2-3-5-7 per decade, per-bucket counts summing to the total, bounds inclusive', () => {
  assert.deepEqual(bucketBoundsUs(1000).slice(0, 8), [10, 15, 20, 30, 50, 70, 100, 150])
  const s = stats()
  for (let i = 0; i < 90; i++) s.record(1000) // exactly 1 ms: in "≤ 1 ms"
  for (let i = 0; i < 9; i++) s.record(1001) // just above: in "≤ 1.5 ms"
  s.record(100_000)
  const buckets = histogramBuckets(s)
  assert.equal(buckets.reduce((n, b) => n + b.count, 0), 100)
  assert.deepEqual(buckets[0], {le: 1, count: 90})
  assert.deepEqual(buckets[1], {le: 1.5, count: 9})
  assert.deepEqual(buckets.at(-1), {le: 100, count: 1})
  assert.ok(buckets.slice(2, -1).every((b) => b.count === 0), 'nothing in between')
})

test('reset() forgets everything (the per-second histogram is reused)', () => {
  const s = stats()
  s.record(5)
  s.reset()
  s.record(7000)
  assert.deepEqual([s.count, s.min, s.max], [1, 7000, 7000])
  assert.equal(s.summaryMs()!.p50, 7)
})
