import assert from 'node:assert/strict'
import {test} from 'node:test'
import {parseAssertion} from '../../../dist/probe/assertions.js'
import {toArtillery, toK6} from '../../../dist/probe/export.js'
import {plannedRequests, resolveLoad} from '../../../dist/probe/plan.js'
import {assessSelfCheck} from '../../../dist/probe/self-check.js'

test('load flags: exclusive pairs and defaults', () => {
  assert.deepEqual(resolveLoad({}), {model: 'closed', rate: undefined, concurrency: 10, connections: 10, durationMs: 10_000, requests: undefined, warmupMs: 0})
  const open = resolveLoad({rate: 50, durationMs: 30_000, warmupMs: 2000})
  assert.equal(open.model, 'open')
  assert.equal(open.connections, 100)
  assert.equal(plannedRequests(open), 1600)
  assert.equal(plannedRequests(resolveLoad({rate: 50, requests: 10, warmupMs: 2000})), 110)
  assert.equal(plannedRequests(resolveLoad({concurrency: 5, durationMs: 1000})), Number.POSITIVE_INFINITY)
  assert.equal(plannedRequests(resolveLoad({concurrency: 5, requests: 300})), 300)
  for (const bad of [{rate: 5, concurrency: 2}, {durationMs: 1000, requests: 5}, {requests: 0}, {connections: 0}, {concurrency: 0}]) {
    assert.throws(() => resolveLoad(bad), (e: {exitCode: number}) => e.exitCode === 2, JSON.stringify(bad))
  }
})

const base = {
  url: 'https://api.example.com/api/v1/capsules?size=5',
  method: 'GET',
  headers: {accept: 'application/json', 'x-tenant': 'blue'},
  timeoutMs: 10_000,
  connections: 20,
  warmupMs: 2000,
  auth: 'bearer' as const,
  commandLine: 'bfly probe /api/v1/capsules',
  assertions: ['p99<300ms', 'errorRate<0.01', 'throughput>=40', 'stdev<5ms'].map(parseAssertion),
}

test('k6 export: open model as constant-arrival-rate with a warmup scenario and thresholds on the measured one', () => {
  const script = toK6({...base, model: 'open', rate: 50, durationMs: 30_000} as any)
  assert.match(script, /import http from 'k6\/http'/)
  assert.match(script, /"executor": "constant-arrival-rate"/)
  assert.match(script, /"rate": 50/)
  assert.match(script, /"startTime": "2s"/)
  assert.match(script, /"http_req_duration\{scenario:probe\}": \[\s*"p\(99\)<300"/)
  assert.match(script, /"http_req_failed\{scenario:probe\}": \[\s*"rate<0.01"/)
  assert.match(script, /"http_reqs\{scenario:probe\}": \[\s*"rate>=40"/)
  assert.match(script, /not expressible as a k6 threshold: stdev<5ms/)
  assert.match(script, /__ENV\.BFLY_TOKEN/)
  assert.match(script, /const URL = "https:\/\/api.example.com\/api\/v1\/capsules\?size=5"/)
  const closed = toK6({...base, warmupMs: 0, model: 'closed', concurrency: 8, requests: 500} as any)
  assert.match(closed, /"executor": "shared-iterations"/)
  assert.match(closed, /"iterations": 500/)
  const fractional = toK6({...base, model: 'open', rate: 2.5, durationMs: 10_000} as any)
  assert.match(fractional, /"rate": 2500,\s*"timeUnit": "1000s"/)
})

test('artillery export: phases, pool, conditions; no closed model for a fixed duration', () => {
  const script = toArtillery({...base, model: 'open', rate: 50, durationMs: 30_000, body: Buffer.from('{"a":1}'), method: 'POST', auth: 'api-key'} as any)
  assert.match(script, /target: "https:\/\/api.example.com"/)
  assert.match(script, /- name: warmup\n\s+duration: 2\n\s+arrivalRate: 50/)
  assert.match(script, /- name: probe\n\s+duration: 30\n\s+arrivalRate: 50/)
  assert.match(script, /pool: 20/)
  assert.match(script, /expression: "http.response_time.p99 < 300"/)
  assert.match(script, /- post:\n\s+url: "\/api\/v1\/capsules\?size=5"/)
  assert.match(script, /"x-api-key": "\{\{ \$processEnvironment.BUTTERFLY_API_KEY \}\}"/)
  assert.match(script, /body: "\{\\"a\\":1\}"/)
  assert.throws(() => toArtillery({...base, model: 'closed', concurrency: 4, durationMs: 1000} as any), (e: {exitCode: number}) => e.exitCode === 2)
  assert.match(toArtillery({...base, model: 'closed', concurrency: 4, requests: 100} as any), /- loop:[\s\S]*count: 25/)
})

const quiet = {eventLoopDelayMs: {p99: 1, max: 4}, cpuPercent: 20}

test('self-check: quiet process, on-time schedule → ok', () => {
  const check = assessSelfCheck({model: 'open', process: quiet, spinMs: 0, wallMs: 10_000, scheduleLagMs: {p99: 0.3, max: 1}, lagPerSecondMs: [0.1, 0.1, 0.2, 0.1], late: 0, measured: 1000, waitedForConnection: 0, connections: 10, unsent: 0})
  assert.equal(check.ok, true)
  assert.deepEqual(check.warnings, [])
})

test('self-check: event-loop lag, saturated CPU (polling excluded) and growing lag each blame the probe', () => {
  const lagging = assessSelfCheck({model: 'closed', process: {eventLoopDelayMs: {p99: 120, max: 300}, cpuPercent: 40}, spinMs: 0, wallMs: 10_000, measured: 10, connections: 1})
  assert.equal(lagging.ok, false)
  assert.match(lagging.verdict, /event loop lagged/)
  const cpu = assessSelfCheck({model: 'closed', process: {...quiet, cpuPercent: 97}, spinMs: 0, wallMs: 10_000, measured: 10, connections: 1})
  assert.match(cpu.verdict, /97% of a CPU core/)
  const short = assessSelfCheck({model: 'closed', process: {eventLoopDelayMs: {p99: 80, max: 90}, cpuPercent: 99}, spinMs: 0, wallMs: 40, measured: 5, connections: 1})
  assert.equal(short.ok, true, 'a 40 ms run measures start-up, not the probe')
  const polling = assessSelfCheck({model: 'open', process: {...quiet, cpuPercent: 97}, spinMs: 6000, wallMs: 10_000, measured: 10, connections: 1, late: 0})
  assert.equal(polling.ok, true, 'time spent polling for due times is not work')
  const growing = assessSelfCheck({model: 'open', process: quiet, spinMs: 0, wallMs: 9000, lagPerSecondMs: [0.1, 0.2, 0.2, 3, 8, 15, 30, 60, 90], measured: 100, connections: 10, late: 0})
  assert.equal(growing.ok, false)
  assert.match(growing.verdict, /lag grew/)
})

test('self-check: a rate not kept because connections were busy is a warning, not the probe\'s fault', () => {
  const check = assessSelfCheck({model: 'open', process: quiet, spinMs: 0, wallMs: 10_000, measured: 1000, late: 300, waitedForConnection: 280, connections: 5, unsent: 12})
  assert.equal(check.ok, true)
  assert.match(check.warnings[0], /rate was not kept: 30% of requests went out more than 10 ms late; all 5 connections were busy/)
  assert.match(check.warnings[1], /12 planned requests were never sent/)
})
