import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {PlanWatch, type SocketItem, type Timers} from '../../../dist/services/plans/plan-stream.js'

class FakeClock implements Timers {
  private t = 1_000_000
  private seq = 0
  private timers = new Map<number, {at: number; fn: () => void; every?: number}>()
  now = () => this.t
  setTimeout = (fn: () => void, ms: number) => {
    const id = ++this.seq
    this.timers.set(id, {at: this.t + ms, fn})
    return id
  }
  setInterval = (fn: () => void, ms: number) => {
    const id = ++this.seq
    this.timers.set(id, {at: this.t + ms, fn, every: ms})
    return id
  }
  clearTimeout = (id: unknown) => void this.timers.delete(id as number)
  clearInterval = (id: unknown) => void this.timers.delete(id as number)
  get pending() {
    return this.timers.size
  }
  /** Move time forward, firing due timers in order, letting the watcher react after each. */
  async advance(ms: number) {
    const end = this.t + ms
    for (;;) {
      const due = [...this.timers.entries()].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at)[0]
      if (!due) break
      const [id, timer] = due
      this.t = timer.at
      if (timer.every) timer.at += timer.every
      else this.timers.delete(id)
      timer.fn()
      await settle()
    }
    this.t = end
    await settle()
  }
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r))
}

interface FakeSocket {
  headers: Record<string, string>
  executionId?: string
  sent: string[]
  closed: 'no' | 'close' | 'terminate'
  emit: (item: SocketItem) => void
}

function harness(extra: Partial<ConstructorParameters<typeof PlanWatch>[0]> = {}) {
  const clock = new FakeClock()
  const sockets: FakeSocket[] = []
  const notes: string[] = []
  const controller = new AbortController()
  let token = 'tok-1'
  const watch = new PlanWatch({
    planId: 'plan_1',
    host: 'api.example.com',
    timers: clock,
    signal: controller.signal,
    maxWaitMs: 3_600_000,
    random: () => 0.5,
    headers: async () => ({authorization: `Bearer ${token}`}),
    connect: async (headers, sink, target) => {
      const socket: FakeSocket = {headers, executionId: target.executionId, sent: [], closed: 'no', emit: sink}
      sockets.push(socket)
      return {send: (d) => void socket.sent.push(d), close: () => void (socket.closed = 'close'), terminate: () => void (socket.closed = 'terminate')}
    },
    onNote: (n) => void notes.push(n),
    ...extra,
  })
  const events: Array<{type: string}> = []
  let error: unknown
  const done = (async () => {
    try {
      for await (const e of watch.events()) events.push(e)
    } catch (e) {
      error = e
    }
  })()
  return {clock, sockets, notes, controller, watch, events, done, get error() {
    return error
  }, setToken: (t: string) => (token = t)}
}

const msg = (o: object): SocketItem => ({kind: 'message', data: JSON.stringify(o)})

describe('plan stream', () => {
  test('yields every event but PONG, ends on PLAN_COMPLETED with a polite close and exit 0', async () => {
    const h = harness()
    await settle()
    assert.equal(h.sockets.length, 1)
    assert.equal(h.sockets[0].headers.authorization, 'Bearer tok-1', 'the bearer goes on the upgrade')
    const s = h.sockets[0]
    s.emit({kind: 'open'})
    s.emit(msg({type: 'STEP_STARTED', step: 'fetch', progress: 0}))
    s.emit(msg({type: 'PONG'}))
    s.emit(msg({type: 'STEP_PROGRESS', step: 'fetch', progress: 50}))
    s.emit(msg({type: 'STEP_COMPLETED', step: 'fetch', result: {rows: 3}}))
    s.emit(msg({type: 'PLAN_COMPLETED', status: 'SUCCESS', artifacts: ['a.csv']}))
    await h.done
    assert.deepEqual(h.events.map((e) => e.type), ['STEP_STARTED', 'STEP_PROGRESS', 'STEP_COMPLETED', 'PLAN_COMPLETED'])
    assert.equal(s.closed, 'close')
    assert.equal(h.watch.outcome(), undefined)
    assert.equal(h.clock.pending, 0, 'no timer left behind')
  })

  test('PLAN_FAILED ends with exit 6 and the reason', async () => {
    const h = harness()
    await settle()
    h.sockets[0].emit({kind: 'open'})
    h.sockets[0].emit(msg({type: 'STEP_FAILED', step: 'load', error: 'disk full'}))
    h.sockets[0].emit(msg({type: 'PLAN_FAILED', error: {message: 'step load failed'}}))
    await h.done
    const outcome = h.watch.outcome()!
    assert.equal(outcome.exitCode, 6)
    assert.equal(outcome.message, 'plan plan_1 failed: step load failed')
    assert.equal(h.clock.pending, 0, 'no timer left behind')
  })

  test('PING every 30 s; a connection silent since the last PING is replaced', async () => {
    const h = harness()
    await settle()
    const s = h.sockets[0]
    s.emit({kind: 'open'})
    await settle()
    await h.clock.advance(29_999)
    assert.equal(s.sent.length, 0)
    await h.clock.advance(1)
    assert.deepEqual(s.sent, ['{"type":"PING"}'])
    s.emit(msg({type: 'PONG'}))
    await settle()
    await h.clock.advance(30_000)
    assert.equal(s.sent.length, 2, 'answered: another PING')
    // No PONG this time: at the next tick the connection counts as dead.
    await h.clock.advance(30_000)
    assert.equal(s.closed, 'terminate')
    assert.match(h.notes.at(-1)!, /no answer to PING within 30s; reconnecting in 500ms \(1\/8\)/)
    await h.clock.advance(500)
    assert.equal(h.sockets.length, 2, 'reconnected after the backoff')
    h.controller.abort()
    await h.done
  })

  test('a dropped stream reconnects with growing backoff and fresh headers; events resume', async () => {
    const h = harness()
    await settle()
    h.sockets[0].emit({kind: 'open'})
    h.sockets[0].emit(msg({type: 'STEP_STARTED', step: 'a'}))
    h.sockets[0].emit({kind: 'close', code: 1006, reason: ''})
    await settle()
    assert.match(h.notes[0], /stream closed \(1006\) before the plan ended; reconnecting in 500ms/)
    h.setToken('tok-2')
    await h.clock.advance(499)
    assert.equal(h.sockets.length, 1)
    await h.clock.advance(1)
    assert.equal(h.sockets.length, 2)
    assert.equal(h.sockets[1].headers.authorization, 'Bearer tok-2')
    // Refused once more: the next wait doubles (full jitter at 0.5 of the ceiling).
    h.sockets[1].emit({kind: 'error', error: Object.assign(new Error('connect ECONNREFUSED'), {code: 'ECONNREFUSED'})})
    h.sockets[1].emit({kind: 'close', code: 1006, reason: ''})
    await settle()
    assert.match(h.notes[1], /cannot connect: ECONNREFUSED; reconnecting in 1s \(2\/8\)/)
    assert.equal(h.notes.length, 2, 'the close after the error is not a second failure')
    await h.clock.advance(1000)
    h.sockets[2].emit({kind: 'open'})
    h.sockets[2].emit(msg({type: 'PLAN_COMPLETED', status: 'SUCCESS'}))
    await h.done
    assert.deepEqual(h.events.map((e) => e.type), ['STEP_STARTED', 'PLAN_COMPLETED'])
  })

  test('gives up after the reconnects in a row with exit 7', async () => {
    const h = harness({maxReconnects: 3})
    await settle()
    for (let i = 0; i < 4; i++) {
      h.sockets[i].emit({kind: 'error', error: Object.assign(new Error('refused'), {code: 'ECONNREFUSED'})})
      await settle()
      await h.clock.advance(60_000)
    }
    await h.done
    assert.equal((h.error as {exitCode: number}).exitCode, 7)
    assert.match((h.error as Error).message, /lost the stream of plan plan_1.*3 reconnects failed/)
  })

  test('401 on the upgrade refreshes once; a second 401 is exit 3; 404 is exit 4', async () => {
    let refreshes = 0
    const h = harness({refresh: async () => (++refreshes, true)})
    await settle()
    h.sockets[0].emit({kind: 'http', status: 401, body: '{"error":{"code":"UNAUTHORIZED","message":"token expired"}}', headers: {}})
    await settle()
    assert.equal(refreshes, 1)
    assert.equal(h.sockets.length, 2)
    h.sockets[1].emit({kind: 'http', status: 401, body: '{"error":{"code":"UNAUTHORIZED","message":"token expired"}}', headers: {}})
    await h.done
    assert.equal((h.error as {exitCode: number}).exitCode, 3)

    const n = harness()
    await settle()
    n.sockets[0].emit({kind: 'http', status: 404, body: '{"error":{"code":"NOT_FOUND","message":"Plan not found"}}', headers: {}})
    await n.done
    assert.equal((n.error as {exitCode: number}).exitCode, 4)
    assert.match((n.error as {hint: string}).hint, /no plan "plan_1"/)
  })

  test('503 on the upgrade is retried', async () => {
    const h = harness()
    await settle()
    h.sockets[0].emit({kind: 'http', status: 503, body: '', headers: {}})
    await settle()
    await h.clock.advance(1000)
    assert.equal(h.sockets.length, 2)
    h.controller.abort()
    await h.done
  })

  test('the wait is bounded: no end within --timeout is exit 7; Ctrl-C is 130', async () => {
    const h = harness({maxWaitMs: 600_000})
    await settle()
    h.sockets[0].emit({kind: 'open'})
    await settle()
    for (let i = 0; i < 20; i++) {
      await h.clock.advance(30_000)
      h.sockets[0].emit(msg({type: 'PONG'}))
    }
    await h.done
    const outcome = h.watch.outcome()!
    assert.equal(outcome.exitCode, 7)
    assert.match(outcome.message, /did not finish within 10m/)
    assert.equal(h.sockets[0].closed, 'terminate')
    assert.equal(h.sockets[0].sent.length, 19, 'one PING per 30 s while waiting')
    assert.equal(h.clock.pending, 0, 'no timer left behind')

    const c = harness()
    await settle()
    c.sockets[0].emit({kind: 'open'})
    c.controller.abort()
    await c.done
    assert.equal(c.watch.outcome()!.exitCode, 130)
    assert.equal(c.clock.pending, 0)
    assert.equal(c.sockets[0].closed, 'terminate')
  })

  test('onFirstOpen runs once, after the first open, and its event comes first', async () => {
    let calls = 0
    const h = harness({onFirstOpen: async () => (++calls, {type: 'EXECUTION_STARTED', executionId: 'exe_1'})})
    await settle()
    assert.equal(calls, 0, 'nothing is started before the stream is open')
    h.sockets[0].emit({kind: 'open'})
    h.sockets[0].emit(msg({type: 'STEP_STARTED', step: 'a'}))
    h.sockets[0].emit({kind: 'close', code: 1001, reason: 'going away'})
    await settle()
    await h.clock.advance(1000)
    h.sockets[1].emit({kind: 'open'})
    h.sockets[1].emit(msg({type: 'PLAN_COMPLETED'}))
    await h.done
    assert.equal(calls, 1)
    assert.deepEqual(h.events.map((e) => e.type), ['EXECUTION_STARTED', 'STEP_STARTED', 'PLAN_COMPLETED'])
  })

  test('a replay of an older run is dropped and our execution asked for at once; a replay of ours is not repeated', async () => {
    const h = harness({onFirstOpen: async () => ({type: 'EXECUTION_STARTED', executionId: 'exe_new'})})
    await settle()
    assert.equal(h.sockets[0].executionId, undefined, 'before the start no execution is known')
    const s0 = h.sockets[0]
    s0.emit({kind: 'open'})
    // A server following the plan's latest run replays the previous one.
    s0.emit(msg({type: 'STEP_STARTED', step: 'a', executionId: 'exe_old', timestamp: 't0'}))
    s0.emit(msg({type: 'PLAN_COMPLETED', status: 'SUCCESS', executionId: 'exe_old', timestamp: 't1'}))
    await settle()
    assert.equal(h.sockets.length, 2, 'reconnected at once, no backoff')
    assert.equal(s0.closed, 'terminate')
    assert.equal(h.sockets[1].executionId, 'exe_new', 'asks for our execution')
    assert.deepEqual(h.notes, [], 'quietly')
    const s1 = h.sockets[1]
    s1.emit({kind: 'open'})
    s1.emit(msg({type: 'STEP_STARTED', step: 'a', executionId: 'exe_new', timestamp: 't2'}))
    s1.emit({kind: 'close', code: 1006, reason: ''})
    await settle()
    await h.clock.advance(1000)
    const s2 = h.sockets[2]
    assert.equal(s2.executionId, 'exe_new')
    s2.emit({kind: 'open'})
    // This server replays our run from its start: what was shown is not shown again.
    s2.emit(msg({type: 'STEP_STARTED', step: 'a', executionId: 'exe_new', timestamp: 't2'}))
    s2.emit(msg({type: 'STEP_COMPLETED', step: 'a', executionId: 'exe_new', timestamp: 't3'}))
    s2.emit(msg({type: 'PLAN_COMPLETED', status: 'SUCCESS', executionId: 'exe_new', timestamp: 't4'}))
    await h.done
    assert.deepEqual(h.events.map((e) => `${e.type}`), ['EXECUTION_STARTED', 'STEP_STARTED', 'STEP_COMPLETED', 'PLAN_COMPLETED'])
    assert.equal(h.watch.outcome(), undefined)
  })

  test('plans watch pins the execution of the first message it sees', async () => {
    const h = harness()
    await settle()
    h.sockets[0].emit({kind: 'open'})
    h.sockets[0].emit(msg({type: 'STEP_STARTED', step: 'a', executionId: 'exe_7'}))
    h.sockets[0].emit({kind: 'close', code: 1001, reason: ''})
    await settle()
    await h.clock.advance(1000)
    assert.equal(h.sockets[1].executionId, 'exe_7')
    h.controller.abort()
    await h.done
  })
})
