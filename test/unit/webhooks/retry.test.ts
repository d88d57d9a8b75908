import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {ApiError, CircuitOpenError} from '../../../dist/errors.js'
import {retryDeliveries, retryIdempotencyKey, retryOutcome, type RetryTarget} from '../../../dist/services/webhooks/retry.js'

interface Sent {
  path: string
  key: string | undefined
  signal: unknown
}

/** A poster whose answers the test scripts per delivery id; each call resolves when released. */
function fakeApi(answer: (id: string) => Promise<unknown> | unknown) {
  const sent: Sent[] = []
  let inFlight = 0
  let maxInFlight = 0
  return {
    sent,
    get maxInFlight() {
      return maxInFlight
    },
    async request(spec: {path: string; idempotencyKey?: string; signal?: unknown}) {
      sent.push({path: spec.path, key: spec.idempotencyKey, signal: spec.signal})
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      try {
        const id = decodeURIComponent(spec.path.split('/')[3])
        const out = await answer(id)
        return {status: 202, data: out, replayed: false, ...(out as {__replayed?: boolean})?.__replayed ? {replayed: true} : {}}
      } finally {
        inFlight--
      }
    },
  }
}

const tick = () => new Promise((r) => setImmediate(r))
const targets = (n: number): RetryTarget[] => Array.from({length: n}, (_, i) => ({id: `dlv_${i}`, attempts: 5}))

describe('webhook retries', () => {
  test('the idempotency key is made of the delivery id and its attempt count', () => {
    assert.equal(retryIdempotencyKey({id: 'dlv_1', attempts: 5}), 'bfly-retry-dlv_1-attempt-5')
    assert.equal(retryIdempotencyKey({id: 'dlv_1', attempts: 6}), 'bfly-retry-dlv_1-attempt-6')
    assert.equal(retryIdempotencyKey({id: 'dlv_1'}), 'bfly-retry-dlv_1')
    const long = retryIdempotencyKey({id: 'x'.repeat(255), attempts: 99})
    assert.ok(long.length <= 255, 'a key stays within 255 characters')
  })

  test('at most --concurrency in flight; every POST keyed; in-flight requests are not cancellable', async () => {
    const api = fakeApi(async (id) => {
      await tick()
      return {id, status: 'pending', attempts: 6}
    })
    const run = await retryDeliveries(api as never, targets(20), {concurrency: 4, signal: new AbortController().signal})
    assert.equal(api.sent.length, 20)
    assert.equal(api.maxInFlight, 4)
    assert.equal(run.report.retried.length, 20)
    assert.deepEqual(run.report.retried.map((r) => r.id), targets(20).map((t) => t.id), 'report in the order of the selection')
    assert.ok(api.sent.every((s) => s.key === `bfly-retry-${s.path.split('/')[3]}-attempt-5`))
    assert.ok(api.sent.every((s) => s.signal === null))
    assert.equal(retryOutcome(run), undefined)
  })

  test('409 and replayed answers are skipped with the reason; errors are failed; exit 9', async () => {
    const api = fakeApi((id) => {
      if (id === 'dlv_1') throw new ApiError('Delivery is already pending', {code: 'CONFLICT', status: 409, requestId: 'req-9'})
      if (id === 'dlv_2') return {id, status: 'pending', __replayed: true}
      if (id === 'dlv_3') throw new ApiError('Internal error (after 3 retries)', {code: 'INTERNAL_ERROR', status: 500, requestId: 'req-500'})
      return {id, status: 'pending', attempts: 6}
    })
    const run = await retryDeliveries(api as never, targets(5), {concurrency: 2, signal: new AbortController().signal})
    assert.deepEqual(run.report.retried.map((r) => r.id), ['dlv_0', 'dlv_4'])
    assert.deepEqual(run.report.skipped.map((s) => [s.id, s.code]), [['dlv_1', 'CONFLICT'], ['dlv_2', 'REPLAYED']])
    assert.match(run.report.skipped[0].reason, /already pending/)
    assert.deepEqual(run.report.failed, [{id: 'dlv_3', error: 'Internal error (after 3 retries)', code: 'INTERNAL_ERROR', status: 500, requestId: 'req-500'}])
    const outcome = retryOutcome(run)!
    assert.equal(outcome.exitCode, 9)
    assert.match(outcome.message, /1 of 5 retries failed/)
  })

  test('Ctrl-C: no new retry starts, the ones in flight finish, the rest are reported not started, exit 130', async () => {
    const controller = new AbortController()
    const release: Array<() => void> = []
    const api = fakeApi((id) => new Promise((resolve) => release.push(() => resolve({id, status: 'pending'}))))
    const running = retryDeliveries(api as never, targets(10), {concurrency: 3, signal: controller.signal})
    while (release.length < 3) await tick()
    controller.abort()
    for (const r of release.splice(0)) r()
    const run = await running
    assert.equal(api.sent.length, 3, 'nothing new was sent after Ctrl-C')
    assert.deepEqual(run.report.retried.map((r) => r.id), ['dlv_0', 'dlv_1', 'dlv_2'], 'in-flight retries finished and are reported')
    assert.equal(run.report.notStarted.length, 7)
    const outcome = retryOutcome(run)!
    assert.equal(outcome.exitCode, 130)
    assert.match(outcome.message, /3 retried, 0 skipped, 0 failed, 7 not started/)
  })

  test('an error every further retry would hit stops the run (circuit open → exit 6, auth → exit 3)', async () => {
    const api = fakeApi((id) => {
      if (id === 'dlv_1') throw new CircuitOpenError('api.example.com', 30_000)
      return {id, status: 'pending'}
    })
    const run = await retryDeliveries(api as never, targets(10), {concurrency: 1, signal: new AbortController().signal})
    assert.equal(api.sent.length, 2)
    assert.equal(run.report.notStarted.length, 8)
    const outcome = retryOutcome(run)!
    assert.equal(outcome.exitCode, 6)
    assert.match(outcome.hint ?? '', /8 not started/)

    const auth = fakeApi(() => {
      throw new ApiError('token expired', {code: 'UNAUTHORIZED', status: 401})
    })
    const run2 = await retryDeliveries(auth as never, targets(3), {concurrency: 1, signal: new AbortController().signal})
    assert.equal(auth.sent.length, 1)
    assert.equal(retryOutcome(run2)!.exitCode, 3)
  })

  test('targets known to be skipped send nothing', async () => {
    const api = fakeApi((id) => ({id}))
    const run = await retryDeliveries(api as never, [{id: 'dlv_x', skip: 'not a delivery of webhook wh_1'}], {concurrency: 4, signal: new AbortController().signal})
    assert.equal(api.sent.length, 0)
    assert.deepEqual(run.report.skipped, [{id: 'dlv_x', reason: 'not a delivery of webhook wh_1'}])
  })
})
