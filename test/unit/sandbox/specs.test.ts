// The --latency, --chaos and --rate-limit languages: strict parsing with clear errors.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {createRandom} from '../../../dist/sandbox/prng.js'
import {drawChaos, parseChaosSpec, parseLatencySpec, parseRateLimitSpec, sampleLatency} from '../../../dist/sandbox/specs.js'

describe('latency spec', () => {
  const good: [string, unknown][] = [
    ['fixed:20ms', {kind: 'fixed', ms: 20}],
    ['fixed:1.5s', {kind: 'fixed', ms: 1500}],
    ['normal:50ms,10ms', {kind: 'normal', meanMs: 50, stddevMs: 10}],
    ['bimodal:2ms,200ms,0.02', {kind: 'bimodal', fastMs: 2, slowMs: 200, slowProbability: 0.02}],
    ['uniform:5ms,50ms', {kind: 'uniform', minMs: 5, maxMs: 50}],
  ]
  for (const [input, expected] of good) test(`parses ${input}`, () => assert.deepEqual(parseLatencySpec(input), expected))

  const bad: [string, RegExp][] = [
    ['fixed:20', /"20" is not a duration/],
    ['fixed', /missing the distribution name/],
    ['gauss:20ms', /unknown distribution "gauss"/],
    ['normal:50ms', /normal takes 2 values/],
    ['bimodal:2ms,200ms,1.5', /not a probability/],
    ['bimodal:200ms,2ms,0.1', /slow delay is shorter/],
    ['fixed:-5ms', /not a duration/],
    ['uniform:50ms,5ms', /maximum is below the minimum/],
    ['fixed:20ms,', /fixed takes 1 value/],
  ]
  for (const [input, message] of bad) {
    test(`rejects ${input}`, () => assert.throws(() => parseLatencySpec(input), (e: Error & {exitCode?: number}) => message.test(e.message) && e.exitCode === 2))
  }

  test('samples stay in range and bimodal hits the slow mode at about its probability', () => {
    const random = createRandom(7)
    const spec = parseLatencySpec('bimodal:2ms,200ms,0.1')
    let slow = 0
    for (let i = 0; i < 10_000; i++) if (sampleLatency(spec, random) === 200) slow++
    assert.ok(slow > 800 && slow < 1200, `slow=${slow}`)
    const normal = parseLatencySpec('normal:5ms,50ms')
    for (let i = 0; i < 1000; i++) assert.ok(sampleLatency(normal, random) >= 0)
  })
})

describe('chaos spec', () => {
  test('parses statuses and named kinds', () => {
    assert.deepEqual(parseChaosSpec('503:0.1,429:0.05,reset:0.01,hang:0.01'), [
      {kind: 'status', status: 503, probability: 0.1},
      {kind: 'status', status: 429, probability: 0.05},
      {kind: 'reset', probability: 0.01},
      {kind: 'hang', probability: 0.01},
    ])
    assert.deepEqual(parseChaosSpec('html:1'), [{kind: 'html', probability: 1}])
  })

  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['503', /not kind:probability/],
    ['503:2', /not a probability/],
    ['503:0.6,429:0.6', /add up to 1.2/],
    ['200:0.1', /not an error status/],
    ['boom:0.1', /unknown kind "boom"/],
    ['503:0.1,503:0.2', /appears twice/],
    ['503:abc', /not a probability/],
  ]
  for (const [input, message] of bad) {
    test(`rejects "${input}"`, () => assert.throws(() => parseChaosSpec(input), message))
  }

  test('one draw per request gives each outcome its probability', () => {
    const entries = parseChaosSpec('503:0.2,reset:0.1')
    const random = createRandom(3)
    const counts = {status: 0, reset: 0, none: 0}
    for (let i = 0; i < 20_000; i++) {
      const outcome = drawChaos(entries, random)
      counts[outcome ? (outcome.kind as 'status' | 'reset') : 'none']++
    }
    assert.ok(Math.abs(counts.status / 20_000 - 0.2) < 0.02, JSON.stringify(counts))
    assert.ok(Math.abs(counts.reset / 20_000 - 0.1) < 0.02, JSON.stringify(counts))
  })

  test('the same seed gives the same sequence', () => {
    const entries = parseChaosSpec('503:0.5')
    const a = createRandom(42)
    const b = createRandom(42)
    for (let i = 0; i < 100; i++) assert.equal(drawChaos(entries, a)?.kind, drawChaos(entries, b)?.kind)
  })
})

describe('rate limit spec', () => {
  test('off, one budget, or per class', () => {
    assert.equal(parseRateLimitSpec('off'), false)
    assert.deepEqual(parseRateLimitSpec('50'), {query: 50, write: 50, admin: 50})
    assert.deepEqual(parseRateLimitSpec('query=5,admin=2'), {query: 5, write: 100, admin: 2})
  })
  test('rejects nonsense', () => {
    assert.throws(() => parseRateLimitSpec('fast'), /not query=N/)
    assert.throws(() => parseRateLimitSpec('query=0'), /whole number/)
    assert.throws(() => parseRateLimitSpec('reads=5'), /not query=N/)
  })
})
