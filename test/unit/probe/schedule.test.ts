// The open model's schedule, driven by a fake clock: requests go out at their intended times
// whatever the responses do, late timers do not shift the schedule, and a request that had
// to wait for a connection keeps its intended time.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {OpenLoop} from '../../../dist/probe/schedule.js'
import {FakeTime} from './fake-time.ts'

interface Sent {
  index: number
  intendedAt: number
  at: number
  fromBacklog: boolean
}

function loop(time: FakeTime, options: {rate: number; total: number; capacity?: () => boolean; startAt?: number}) {
  const sent: Sent[] = []
  let done = false
  const open = new OpenLoop({
    rate: options.rate,
    startAt: options.startAt ?? 0,
    total: options.total,
    now: time.clock,
    timers: time,
    hasCapacity: options.capacity ?? (() => true),
    send: (index, intendedAt, now, fromBacklog) => void sent.push({index, intendedAt, at: now, fromBacklog}),
    onDone: () => void (done = true),
  })
  return {open, sent, done: () => done}
}

test('requests go out at start + i / rate, exactly the planned number', () => {
  const time = new FakeTime()
  const {open, sent, done} = loop(time, {rate: 100, total: 50})
  open.start()
  time.advance(1000)
  assert.equal(sent.length, 50)
  assert.ok(done())
  sent.forEach((s, i) => {
    assert.equal(s.index, i)
    assert.equal(s.intendedAt, i * 10)
    // Sleeps until shortly before the due time, then polls: sent within a poll step of it.
    assert.ok(s.at >= s.intendedAt && s.at - s.intendedAt < 0.05, `request ${i} sent at ${s.at}, due ${s.intendedAt}`)
  })
  assert.equal(time.pending(), 0, 'no timer left behind')
})

test('a late timer sends what is overdue at once and keeps every intended time', () => {
  const time = new FakeTime()
  time.lateness = 35 // the process was busy for 35 ms each time it slept
  const {open, sent} = loop(time, {rate: 20, total: 10})
  open.start()
  time.advance(1000)
  assert.equal(sent.length, 10)
  sent.forEach((s, i) => assert.equal(s.intendedAt, i * 50, 'intended times do not drift'))
  assert.ok(sent.some((s) => s.at - s.intendedAt > 10), 'lateness is visible as at − intendedAt, not hidden')
  assert.ok(sent.every((s) => s.at >= s.intendedAt))
})

test('with every connection busy, due requests wait (not dropped, not invented) and keep their intended time', () => {
  const time = new FakeTime()
  let free = true
  const {open, sent} = loop(time, {rate: 100, total: 20, capacity: () => free})
  open.start()
  time.advance(45) // requests 0..4 sent
  assert.equal(sent.length, 5)
  free = false // the server stalls: no connection comes back
  time.advance(100) // requests 5..14 become due
  assert.equal(sent.length, 5, 'nothing sent without a connection')
  assert.equal(open.backlog(time.now), 10)
  free = true
  open.release() // one response arrives: everything overdue goes out now
  assert.equal(sent.length, 15)
  for (const s of sent.slice(5)) {
    assert.equal(s.fromBacklog, true)
    assert.equal(s.at, 145)
  }
  assert.deepEqual(sent.slice(5).map((s) => s.intendedAt), [50, 60, 70, 80, 90, 100, 110, 120, 130, 140])
  assert.equal(open.waitedForCapacity, 10)
  time.advance(100)
  assert.equal(sent.length, 20)
  assert.equal(sent.at(-1)!.fromBacklog, false)
  assert.equal(open.waitedForCapacity, 10, 'requests sent on time after the stall are not counted as waiting')
})

test('stop() ends sending: nothing more goes out and no timer is left', () => {
  const time = new FakeTime()
  const {open, sent, done} = loop(time, {rate: 10, total: 100})
  open.start()
  time.advance(250)
  assert.equal(sent.length, 3)
  open.stop()
  time.advance(10_000)
  assert.equal(sent.length, 3)
  assert.equal(done(), false)
  assert.equal(time.pending(), 0)
})

test('a fractional rate spaces requests evenly', () => {
  const time = new FakeTime()
  const {open, sent} = loop(time, {rate: 0.5, total: 3, startAt: 100})
  open.start()
  time.advance(5000)
  assert.deepEqual(sent.map((s) => s.intendedAt), [100, 2100, 4100])
})

test('polling time is accounted, so the self-check does not blame it on the work', () => {
  const time = new FakeTime()
  const {open} = loop(time, {rate: 100, total: 10})
  open.start()
  time.advance(200)
  // Each 10 ms interval sleeps until ~1.5 ms before the due time, then polls.
  assert.ok(open.spinMs > 5 && open.spinMs < 25, `spinMs ${open.spinMs}`)
})
