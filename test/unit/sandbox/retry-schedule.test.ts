// The webhook retry schedule (1m, 5m, 30m, 2h, 8h, then dead-lettered), driven by a fake
// clock and a fake transport: no network, no real waiting.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {createClock} from '../../../dist/sandbox/clock.js'
import {afterAttempt, MAX_ATTEMPTS, RETRY_DELAYS_MS, retryConflict} from '../../../dist/sandbox/retry-schedule.js'
import {createStore} from '../../../dist/sandbox/store.js'
import {WebhookDispatcher, type OutboundDelivery} from '../../../dist/sandbox/webhook-dispatcher.js'
import {verifySignature} from '../../../dist/sandbox/webhook-signature.js'

const T0 = Date.parse('2025-12-03T10:00:00Z')

function setup(timeScale: number, outcomes: boolean[]) {
  let now = T0
  const clock = createClock(() => now, timeScale)
  const store = createStore()
  store.webhooks.set({id: 'wh_1', name: 'n', url: 'http://127.0.0.1:9/hook', events: ['capsule.created'], is_active: true, is_healthy: true, created_at: '', updated_at: '', secret: 'whsec_x'})
  const sent: OutboundDelivery[] = []
  const sendTimes: number[] = []
  const dispatcher = new WebhookDispatcher({
    store,
    clock,
    timeoutMs: 1000,
    maxSleepMs: 60_000,
    send: async (request) => {
      sent.push(request)
      sendTimes.push(now)
      const ok = outcomes[sent.length - 1] ?? false
      return {ok, statusCode: ok ? 200 : 503, durationMs: 5, error: ok ? null : 'upstream returned 503'}
    },
  })
  const event = store.events.set({id: 'evt_1', type: 'capsule.created', scopeId: 'rim:a:b:c', timestamp: '2025-12-03T10:00:00Z', data: {}})
  return {store, dispatcher, sent, sendTimes, event, advance: (ms: number) => (now += ms), now: () => now}
}

describe('retry schedule', () => {
  test('six attempts at 0, +1m, +5m, +30m, +2h, +8h, then dead-lettered', async () => {
    const s = setup(1, [])
    const [delivery] = s.dispatcher.publish(s.event)
    await s.dispatcher.idle()
    let d = s.store.deliveries.get(delivery.id)!
    assert.equal(d.status, 'failed')
    assert.equal(d.attempts, 1)
    for (const [i, delay] of RETRY_DELAYS_MS.entries()) {
      assert.equal(d.next_attempt_ms, s.now() + delay, `attempt ${i + 2} is due ${delay} ms after the last`)
      s.advance(delay - 1)
      await s.dispatcher.runDue()
      assert.equal(s.sent.length, i + 1, 'not attempted a millisecond early')
      s.advance(1)
      await s.dispatcher.runDue()
      assert.equal(s.sent.length, i + 2)
      d = s.store.deliveries.get(delivery.id)!
    }
    assert.equal(d.status, 'dead_lettered')
    assert.equal(d.attempts, MAX_ATTEMPTS)
    assert.equal(d.next_attempt_at, null)
    assert.equal(d.response_status_code, 503)
    assert.equal(d.error, 'upstream returned 503')
    s.advance(7 * 86_400_000)
    await s.dispatcher.runDue()
    assert.equal(s.sent.length, MAX_ATTEMPTS, 'nothing after the dead-letter queue')
    assert.equal(s.store.webhooks.get('wh_1')!.is_healthy, false)
    await s.dispatcher.close()
  })

  test('timeScale 60 turns the minutes into seconds', async () => {
    const s = setup(60, [false, false, true])
    const [delivery] = s.dispatcher.publish(s.event)
    await s.dispatcher.idle()
    assert.equal(s.store.deliveries.get(delivery.id)!.next_attempt_ms, s.now() + 1000)
    s.advance(1000)
    await s.dispatcher.runDue()
    assert.equal(s.store.deliveries.get(delivery.id)!.next_attempt_ms, s.now() + 5000)
    s.advance(5000)
    await s.dispatcher.runDue()
    const d = s.store.deliveries.get(delivery.id)!
    assert.equal(d.status, 'delivered')
    assert.equal(d.attempts, 3)
    assert.equal(d.next_attempt_at, null)
    assert.equal(d.error, null)
    assert.deepEqual(s.sendTimes, [T0, T0 + 1000, T0 + 6000])
    await s.dispatcher.close()
  })

  test('every attempt is signed with its own timestamp over the same body', async () => {
    const s = setup(1, [false, true])
    s.dispatcher.publish(s.event)
    await s.dispatcher.idle()
    s.advance(60_000)
    await s.dispatcher.runDue()
    assert.equal(s.sent.length, 2)
    assert.equal(s.sent[0].body, s.sent[1].body)
    assert.equal(JSON.parse(s.sent[0].body).id, 'evt_1')
    for (const r of s.sent) {
      assert.ok(verifySignature('whsec_x', r.headers['x-webhook-timestamp'], r.body, r.headers['x-webhook-signature'], Math.floor(s.now() / 1000)))
      assert.equal(r.headers['x-webhook-event'], 'capsule.created')
    }
    assert.notEqual(s.sent[0].headers['x-webhook-timestamp'], s.sent[1].headers['x-webhook-timestamp'])
    await s.dispatcher.close()
  })

  test('a manual retry goes pending at once; delivered and pending ones conflict', async () => {
    const s = setup(1, [false, true])
    const [delivery] = s.dispatcher.publish(s.event)
    await s.dispatcher.idle()
    const failed = s.store.deliveries.get(delivery.id)!
    assert.equal(retryConflict(failed), undefined)
    const queued = s.dispatcher.retry(failed)
    assert.equal(queued.status, 'pending')
    assert.match(retryConflict(queued) ?? '', /already pending/)
    await s.dispatcher.idle()
    const done = s.store.deliveries.get(delivery.id)!
    assert.equal(done.status, 'delivered')
    assert.match(retryConflict(done) ?? '', /already delivered/)
    await s.dispatcher.close()
  })

  test('afterAttempt is pure arithmetic on the delivery', () => {
    const base = {id: 'dlv_1', webhook_id: 'wh_1', event_type: 't', event_id: 'e', status: 'failed' as const, attempts: 5, max_attempts: MAX_ATTEMPTS, last_attempt_at: null, next_attempt_at: null, response_status_code: null, duration_ms: null, error: null, created_at: '', body: '{}'}
    const next = afterAttempt(base, {ok: false, statusCode: null, durationMs: 10_000.4, error: 'timed out'}, T0, 1)
    assert.equal(next.status, 'dead_lettered')
    assert.equal(next.attempts, 6)
    assert.equal(next.duration_ms, 10_000)
    assert.equal(next.last_attempt_at, '2025-12-03T10:00:00Z')
    const early = afterAttempt({...base, attempts: 3}, {ok: false, statusCode: 500, durationMs: 1, error: 'x'}, T0, 1)
    assert.equal(early.next_attempt_at, '2025-12-03T12:00:00Z', 'the fourth attempt failed: next in 2h')
  })
})
