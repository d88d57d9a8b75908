// The engine against a simulated server on a fake clock: exact counts, latency from the
// intended start (a stall shows in the tail, no sample invented or dropped), warmup
// excluded, errors by kind, Ctrl-C and the bounded drain.
import assert from 'node:assert/strict'
import {createRequire} from 'node:module'
import {test} from 'node:test'
import {runProbe} from '../../../dist/probe/engine.js'
import {parseAssertion} from '../../../dist/probe/assertions.js'
import {FakeTime} from './fake-time.ts'

const hdr = createRequire(import.meta.url)('hdr-histogram-js')

type Answer = {latencyMs: number; status?: number} | {latencyMs: number; error: string} | {hang: true}

/** A server simulated on the fake clock: `answer(n, sentAt)` decides what request n gets. */
function simulatedServer(time: FakeTime, answer: (n: number, sentAt: number) => Answer) {
  const state = {received: 0, inFlight: 0, maxInFlight: 0, destroyed: false, headers: [] as unknown[]}
  const dispatcher = {
    dispatch(options: {headers: unknown}, handler: any): boolean {
      const n = state.received++
      state.headers.push(options.headers)
      state.inFlight++
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight)
      handler.onConnect(() => {})
      const a = answer(n, time.now)
      if ('hang' in a) return true
      time.setTimeout(() => {
        if (state.destroyed) return
        state.inFlight--
        if ('error' in a) {
          handler.onError(Object.assign(new Error(a.error), {code: a.error}))
        } else {
          handler.onHeaders(a.status ?? 200, [], () => {}, 'OK')
          handler.onData(Buffer.from('{}'))
          handler.onComplete([])
        }
      }, a.latencyMs)
      return true
    },
    close: async () => {},
    destroy: async () => {
      state.destroyed = true
    },
  }
  return {dispatcher, state}
}

const monitor = {finish: () => ({eventLoopDelayMs: {p99: 0, max: 0}, cpuPercent: 5})}

function plan(extra: Record<string, unknown>) {
  return {url: 'http://127.0.0.1:1/x', method: 'GET', headers: {accept: 'application/json'}, timeoutMs: 5000, warmupMs: 0, assertions: [], connections: 10, ...extra} as any
}

async function run(time: FakeTime, p: any, dispatcher: any, options: Record<string, unknown> = {}, advanceMs = 60_000) {
  const promise = runProbe(p, {now: time.clock, wallClock: () => 1_700_000_000_000 + time.now, timers: time, dispatcher, hdr, monitor, ...options})
  time.advance(advanceMs)
  return promise
}

test('open model: a 1 s stall shows in the tail, measured from intended starts; no sample invented or lost', async () => {
  const time = new FakeTime()
  // 1 ms answers, except that everything arriving in [2000, 3000) is held until 3000.
  const server = simulatedServer(time, (_n, at) => ({latencyMs: at >= 2000 && at < 3000 ? 3000 - at + 1 : 1}))
  const report = await run(time, plan({model: 'open', rate: 100, durationMs: 5000, connections: 200}), server.dispatcher)
  assert.equal(report.requests, 500)
  assert.equal(server.state.received, 500)
  // The fake event loop's polling turn costs 0.01 ms: sent that late, and measured so.
  assert.ok(report.latencyMs.p50 >= 1 && report.latencyMs.p50 <= 1.02, `p50 ${report.latencyMs.p50}`)
  // 100 of 500 requests fell in the stall, waiting 1000, 990, … 10 ms.
  assert.ok(report.latencyMs.p90 > 400 && report.latencyMs.p90 < 600, `p90 ${report.latencyMs.p90}`)
  assert.ok(report.latencyMs.p99 > 940 && report.latencyMs.p99 < 1001, `p99 ${report.latencyMs.p99}`)
  assert.ok(report.latencyMs.max >= 1000, `max ${report.latencyMs.max}`)
  assert.equal(report.durationMs, 5000)
  assert.equal(report.throughput, 100)
  assert.equal(report.selfCheck.ok, true)
})

test('open model with too few connections: the wait for a connection counts as latency and is reported', async () => {
  const time = new FakeTime()
  const server = simulatedServer(time, () => ({latencyMs: 50}))
  // 200/s × 50 ms needs 10 connections; with 5 the schedule cannot be kept.
  const report = await run(time, plan({model: 'open', rate: 200, durationMs: 2000, connections: 5}), server.dispatcher)
  assert.equal(server.state.maxInFlight, 5, 'never more in flight than connections')
  assert.equal(report.requests + (report.selfCheck.unsent ?? 0), 400, 'every planned request is either measured or reported unsent')
  assert.ok(report.latencyMs.p99 > 500, `latency includes the backlog: p99 ${report.latencyMs.p99}`)
  assert.ok(report.latencyMs.min >= 50)
  assert.ok(report.selfCheck.waitedForConnection! > 100)
  assert.ok(report.selfCheck.warnings.some((w: string) => /rate was not kept.*connections were busy/.test(w)), report.selfCheck.warnings.join('\n'))
})

test('warmup requests are sent but excluded from every statistic', async () => {
  const time = new FakeTime()
  const server = simulatedServer(time, (_n, at) => ({latencyMs: at < 1000 ? 80 : 2, status: at < 1000 ? 503 : 200}))
  const report = await run(time, plan({model: 'open', rate: 100, warmupMs: 1000, durationMs: 2000}), server.dispatcher)
  assert.equal(server.state.received, 300)
  assert.equal(report.requests, 200)
  assert.deepEqual(report.statusCodes, {200: 200})
  assert.equal(report.errors, 0)
  assert.ok(report.latencyMs.max < 2.1, `max ${report.latencyMs.max}`)
  assert.equal(report.durationMs, 2000)
})

test('closed model: each worker sends the next request when the last ends', async () => {
  const time = new FakeTime()
  const server = simulatedServer(time, () => ({latencyMs: 10}))
  const report = await run(time, plan({model: 'closed', concurrency: 4, connections: 4, durationMs: 1000}), server.dispatcher)
  assert.equal(server.state.maxInFlight, 4)
  assert.ok(report.requests >= 400 && report.requests <= 404, `requests ${report.requests}`)
  assert.equal(report.latencyMs.p50, 10)
  assert.ok(Math.abs(report.throughput - 400) < 8, `throughput ${report.throughput}`)
  assert.equal(report.rate, null)
  assert.equal(report.concurrency, 4)
  assert.ok(report.series.length >= 1 && report.series[0].rps > 350, JSON.stringify(report.series))
})

test('closed model with --requests sends exactly that many', async () => {
  const time = new FakeTime()
  const server = simulatedServer(time, () => ({latencyMs: 3}))
  const report = await run(time, plan({model: 'closed', concurrency: 7, connections: 7, requests: 100}), server.dispatcher)
  assert.equal(server.state.received, 100)
  assert.equal(report.requests, 100)
})

test('errors by kind: HTTP statuses, 429 apart, and transport failures; latency only for responses', async () => {
  const time = new FakeTime()
  const server = simulatedServer(time, (n) => {
    switch (n % 10) {
      case 0: return {latencyMs: 1, status: 503}
      case 1: return {latencyMs: 1, status: 429}
      case 2: return {latencyMs: 1, error: 'ECONNRESET'}
      case 3: return {latencyMs: 1, error: 'UND_ERR_HEADERS_TIMEOUT'}
      case 4: return {latencyMs: 1, error: 'ECONNREFUSED'}
      case 5: return {latencyMs: 1, error: 'ERR_TLS_CERT_ALTNAME_INVALID'}
      case 6: return {latencyMs: 1, error: 'EWHATEVER'}
      default: return {latencyMs: 1, status: 200}
    }
  })
  const assertions = ['errorRate<0.5', 'errorRate<=0.7', 'rateLimited<1'].map(parseAssertion)
  const report = await run(time, plan({model: 'closed', concurrency: 1, connections: 1, requests: 100, assertions}), server.dispatcher)
  assert.equal(report.requests, 100)
  assert.deepEqual(report.statusCodes, {200: 30, 429: 10, 503: 10})
  assert.deepEqual(report.errorsByKind, {http: 10, rateLimited: 10, timeout: 10, reset: 10, refused: 10, tls: 10, other: 10})
  assert.equal(report.errors, 70)
  assert.equal(report.errorRate, 0.7)
  assert.deepEqual(report.assertions.map((a: {pass: boolean}) => a.pass), [false, true, false])
  assert.equal(report.histogram.reduce((n: number, b: {count: number}) => n + b.count, 0), 50, 'latency only for the 50 responses')
})

test('a failure reported synchronously inside dispatch does not recurse', async () => {
  const time = new FakeTime()
  let received = 0
  const dispatcher = {
    dispatch(_o: unknown, handler: any) {
      received++
      handler.onError(Object.assign(new Error('refused'), {code: 'ECONNREFUSED'}))
      return false
    },
    close: async () => {},
    destroy: async () => {},
  }
  const report = await run(time, plan({model: 'closed', concurrency: 2, connections: 2, requests: 5000}), dispatcher)
  assert.equal(received, 5000)
  assert.equal(report.errorsByKind.refused, 5000)
})

test('Ctrl-C stops sending and reports what finished, without waiting for what is in flight', async () => {
  const time = new FakeTime()
  const server = simulatedServer(time, (n) => (n < 40 ? {latencyMs: 5} : {hang: true}))
  const controller = new AbortController()
  const promise = runProbe(plan({model: 'open', rate: 100, durationMs: 10_000}), {now: time.clock, timers: time, dispatcher: server.dispatcher, hdr, monitor, signal: controller.signal})
  time.advance(500)
  controller.abort()
  const report = await promise
  assert.equal(report.requests, 40)
  assert.equal(server.state.destroyed, true)
  assert.equal(report.selfCheck.warnings.length, 0, 'unsent requests are expected after Ctrl-C')
  assert.ok(report.selfCheck.unsent! >= 940, `unsent ${report.selfCheck.unsent}`)
  assert.ok(report.durationMs >= 490 && report.durationMs <= 510, `durationMs ${report.durationMs}`)
})

test('a server that never answers cannot hold the run: the drain is bounded by the timeout', async () => {
  const time = new FakeTime()
  const server = simulatedServer(time, (n) => (n < 10 ? {latencyMs: 1} : {hang: true}))
  const promise = runProbe(plan({model: 'closed', concurrency: 3, connections: 3, durationMs: 1000, timeoutMs: 300}), {now: time.clock, timers: time, dispatcher: server.dispatcher, hdr, monitor})
  time.advance(1000 + 300 + 1000 + 1)
  const report = await promise
  assert.equal(report.requests, 10)
  assert.equal(server.state.destroyed, true)
})

test('per-second series and intervals for the HDR log', async () => {
  const time = new FakeTime()
  const server = simulatedServer(time, (n) => ({latencyMs: 2, status: n % 50 === 0 ? 500 : 200}))
  const intervals: Array<[number, number, number]> = []
  const report = await run(time, plan({model: 'open', rate: 50, durationMs: 3000}), server.dispatcher, {
    onInterval: (h: {totalCount: number}, start: number, end: number) => intervals.push([h.totalCount, start, end]),
  })
  assert.equal(report.series.length, 3)
  for (const point of report.series) {
    assert.equal(point.requests, 50)
    assert.equal(point.errors, 1)
    assert.ok(point.p50! >= 2 && point.p50! < 2.1)
  }
  assert.deepEqual(intervals.map((i) => i[0]), [50, 50, 50])
  assert.equal(intervals[0][1], 1_700_000_000_000)
  // The last interval ends with the last response (due at 2980 ms, answered 2 ms later).
  const span = intervals[2][2] - intervals[0][1]
  assert.ok(span > 2980 && span < 2990, `span ${span}`)
})

test('each request carries its own X-Request-ID and traceparent span in the run trace', async () => {
  const time = new FakeTime()
  const server = simulatedServer(time, () => ({latencyMs: 1}))
  const traceId = 'ab'.repeat(16)
  await run(time, plan({model: 'closed', concurrency: 2, connections: 2, requests: 20, requestIdPrefix: 'req-run1', traceId}), server.dispatcher)
  const headers = server.state.headers.map((h) => {
    const list = h as string[]
    const get = (name: string) => list[list.indexOf(name) + 1]
    return {accept: get('accept'), id: get('x-request-id'), trace: get('traceparent')}
  })
  assert.equal(new Set(headers.map((h) => h.id)).size, 20)
  assert.ok(headers.every((h) => h.accept === 'application/json' && /^req-run1-\d+$/.test(h.id)))
  assert.ok(headers.every((h) => new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`).test(h.trace)))
  assert.equal(new Set(headers.map((h) => h.trace)).size, 20)
})
