import assert from 'node:assert/strict'
import {test} from 'node:test'
import {evaluateAssertions, parseAssertion} from '../../../dist/probe/assertions.js'

test('parses metrics, operators and units into the report units (ms, ratio, req/s)', () => {
  const cases: Array<[string, string, string, number]> = [
    ['p99<300ms', 'p99', '<', 300],
    ['p99 < 0.3s', 'p99', '<', 300],
    ['p50<=750us', 'p50', '<=', 0.75],
    ['p50<=750µs', 'p50', '<=', 0.75],
    ['p90<20', 'p90', '<', 20],
    ['p99.9<1s', 'p999', '<', 1000],
    ['p999 < 1s', 'p999', '<', 1000],
    ['max<2s', 'max', '<', 2000],
    ['mean<=12.5ms', 'mean', '<=', 12.5],
    ['avg<10ms', 'mean', '<', 10],
    ['stdev<5ms', 'stdev', '<', 5],
    ['errorRate<0.01', 'errorRate', '<', 0.01],
    ['errorRate<1%', 'errorRate', '<', 0.01],
    ['throughput>=200', 'throughput', '>=', 200],
    ['throughput>200/s', 'throughput', '>', 200],
    ['rps>=50', 'throughput', '>=', 50],
    ['errors<=0', 'errors', '<=', 0],
    ['requests>=1000', 'requests', '>=', 1000],
    ['rateLimited<1', 'rateLimited', '<', 1],
  ]
  for (const [input, metric, op, threshold] of cases) {
    const parsed = parseAssertion(input)
    assert.equal(parsed.metric, metric, input)
    assert.equal(parsed.op, op, input)
    assert.ok(Math.abs(parsed.threshold - threshold) < 1e-9, `${input}: ${parsed.threshold}`)
    assert.equal(parsed.expr, input.trim())
  }
})

test('rejects malformed expressions with a usage error (exit 2)', () => {
  const bad = ['p99', 'p99<', '<300ms', 'p99=300ms', 'p99==300', 'p98<300ms', 'p99<300m', 'p99<300%', 'errorRate<2', 'errorRate<1ms',
    'throughput>=200ms', 'errors<1ms', 'p99<-5ms', 'p99<abc', '', 'p99<300ms; rm -rf']
  for (const input of bad) {
    assert.throws(() => parseAssertion(input), (error: {exitCode?: number; message: string}) => {
      assert.equal(error.exitCode, 2, input)
      assert.match(error.message, /--assert/)
      return true
    }, input)
  }
})

test('evaluates each assertion with its actual value and pass/fail', () => {
  const subject = {
    latencyMs: {min: 1, mean: 10, stdev: 2, p50: 9, p75: 11, p90: 15, p95: 20, p99: 299.9, p999: 400, max: 500},
    errorRate: 0.01,
    errors: 10,
    throughput: 200,
    requests: 1000,
    rateLimited: 3,
  }
  const results = evaluateAssertions(['p99<300ms', 'p999<300ms', 'errorRate<0.01', 'errorRate<=0.01', 'throughput>=200', 'throughput>200', 'rateLimited<1', 'max<=0.5s'].map(parseAssertion), subject)
  assert.deepEqual(results, [
    {expr: 'p99<300ms', actual: 299.9, pass: true},
    {expr: 'p999<300ms', actual: 400, pass: false},
    {expr: 'errorRate<0.01', actual: 0.01, pass: false},
    {expr: 'errorRate<=0.01', actual: 0.01, pass: true},
    {expr: 'throughput>=200', actual: 200, pass: true},
    {expr: 'throughput>200', actual: 200, pass: false},
    {expr: 'rateLimited<1', actual: 3, pass: false},
    {expr: 'max<=0.5s', actual: 500, pass: true},
  ])
})

test('a latency bound without any response fails with actual null', () => {
  const none = {min: null, mean: null, stdev: null, p50: null, p75: null, p90: null, p95: null, p99: null, p999: null, max: null}
  const [result] = evaluateAssertions([parseAssertion('p99<300ms')], {latencyMs: none, errorRate: 1, errors: 5, throughput: 0, requests: 5, rateLimited: 0})
  assert.deepEqual(result, {expr: 'p99<300ms', actual: null, pass: false})
})
