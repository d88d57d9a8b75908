// Pieces of the request pipeline with fake clocks: rate windows, idempotency keys, the
// fault queue, the router, request validation.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {FaultQueue} from '../../../dist/sandbox/faults.js'
import {IdempotencyStore} from '../../../dist/sandbox/idempotency.js'
import {RateLimiter} from '../../../dist/sandbox/rate-limit.js'
import {Router} from '../../../dist/sandbox/router.js'
import {pageOf, parsePaging, parseSort, parseTimeRange, Problems} from '../../../dist/sandbox/validation.js'

describe('rate limiter', () => {
  test('a fixed one-minute window per client and class', () => {
    let now = 1_000_000
    const limiter = new RateLimiter({query: 2, write: 1, admin: 1}, () => now)
    const a = limiter.take('alice', 'query')
    assert.deepEqual({allowed: a.allowed, remaining: a.remaining, limit: a.limit, reset: a.reset}, {allowed: true, remaining: 1, limit: 2, reset: Math.ceil((1_000_000 + 60_000) / 1000)})
    assert.equal(limiter.take('alice', 'query').allowed, true)
    now += 15_000
    const over = limiter.take('alice', 'query')
    assert.equal(over.allowed, false)
    assert.equal(over.remaining, 0)
    assert.equal(over.retryAfter, 45)
    assert.equal(limiter.take('bob', 'query').allowed, true, 'per client')
    assert.equal(limiter.take('alice', 'write').allowed, true, 'per class')
    now += 45_000
    assert.equal(limiter.take('alice', 'query').allowed, true, 'a new window')
  })
})

describe('idempotency store', () => {
  test('replays the stored response, conflicts on another body or while in flight, forgets after 24 h', () => {
    let now = 0
    const store = new IdempotencyStore(() => now)
    const fp = IdempotencyStore.fingerprint('POST', '/api/v1/capsules', Buffer.from('{"a":1}'))
    const other = IdempotencyStore.fingerprint('POST', '/api/v1/capsules', Buffer.from('{"a":2}'))
    assert.deepEqual(store.begin('alice', 'k1', fp), {kind: 'new'})
    assert.equal(store.begin('alice', 'k1', fp).kind, 'conflict', 'still in flight')
    store.complete('alice', 'k1', {status: 201, body: {data: 1}, headers: {}})
    assert.deepEqual(store.begin('alice', 'k1', fp), {kind: 'replay', response: {status: 201, body: {data: 1}, headers: {}}})
    assert.equal(store.begin('alice', 'k1', other).kind, 'conflict')
    assert.equal(store.begin('bob', 'k1', other).kind, 'new', 'keys are per client')
    now += 24 * 3_600_000
    assert.equal(store.begin('alice', 'k1', other).kind, 'new')
  })
})

describe('fault queue', () => {
  test('exact paths, prefixes, methods and counts', () => {
    const q = new FaultQueue()
    q.inject({method: 'GET', path: '/api/v1/capsules', status: 503, count: 2})
    q.inject({path: '/webhooks*', kind: 'reset'})
    assert.equal(q.take('POST', '/api/v1/capsules'), undefined)
    assert.equal(q.take('GET', '/api/v1/capsules/cap_1'), undefined, 'exact means exact')
    assert.equal(q.take('GET', '/api/v1/capsules')?.status, 503)
    assert.equal(q.take('GET', '/api/v1/capsules')?.status, 503)
    assert.equal(q.take('GET', '/api/v1/capsules'), undefined, 'count used up')
    assert.equal(q.take('DELETE', '/webhooks/wh_1')?.kind, 'reset')
    assert.equal(q.size, 0)
  })
  test('rejects malformed faults with details', () => {
    const q = new FaultQueue()
    assert.throws(() => q.inject({path: 'api', status: 99, kind: 'explode'} as never), (e: Error & {details?: {field: string}[]}) => {
      assert.deepEqual(e.details?.map((d) => d.field), ['path', 'status', 'kind'])
      return true
    })
  })
})

describe('router', () => {
  const router = new Router<string>()
    .add('GET', '/webhooks/:id', 'get')
    .add('PUT', '/webhooks/:id', 'put')
    .add('POST', '/webhooks/deliveries/:id/retry', 'retry')
    .add('GET', '/api/v1/history/:scopeId', 'history')
  test('params are one decoded segment each', () => {
    assert.deepEqual(router.match('GET', '/api/v1/history/rim%3Aentity%3Afinance%3AEURUSD'), {kind: 'found', value: 'history', params: {scopeId: 'rim:entity:finance:EURUSD'}})
    assert.deepEqual(router.match('GET', '/webhooks/a%2Fb'), {kind: 'found', value: 'get', params: {id: 'a/b'}})
    assert.deepEqual(router.match('HEAD', '/webhooks/x/'), {kind: 'found', value: 'get', params: {id: 'x'}})
  })
  test('405 lists the allowed methods, 404 otherwise', () => {
    assert.deepEqual(router.match('DELETE', '/webhooks/x'), {kind: 'method-not-allowed', allowed: ['GET', 'PUT']})
    assert.deepEqual(router.match('GET', '/webhooks'), {kind: 'not-found'})
    assert.throws(() => router.match('GET', '/webhooks/%E0%A4%A'), /Invalid request path/)
  })
})

describe('validation', () => {
  test('collects every problem', () => {
    const problems = new Problems()
    const q = new URLSearchParams('page=-1&size=101&sort=price,up&from=2025-12-03&to=2025-13-01T00:00:00Z')
    parsePaging(q, problems)
    parseSort(q, ['timestamp'], {field: 'timestamp', direction: 'asc'}, problems)
    parseTimeRange(q, problems)
    assert.deepEqual(problems.details.map((d) => d.field), ['page', 'size', 'sort', 'from', 'to'])
  })
  test('defaults, sort direction, and the from/to order', () => {
    const problems = new Problems()
    assert.deepEqual(parsePaging(new URLSearchParams(''), problems), {page: 0, size: 20})
    assert.deepEqual(parseSort(new URLSearchParams('sort=timestamp,DESC'), ['timestamp'], {field: 'id', direction: 'asc'}, problems), {field: 'timestamp', direction: 'desc'})
    assert.deepEqual(parseSort(new URLSearchParams('sort=timestamp'), ['timestamp'], {field: 'id', direction: 'desc'}, problems), {field: 'timestamp', direction: 'asc'})
    parseTimeRange(new URLSearchParams('from=2025-12-03T10:00:00Z&to=2025-12-03T09:00:00+00:00'), problems)
    assert.deepEqual(problems.details, [{field: 'to', message: 'must not be before from'}])
  })
  test('a page past the end is empty but keeps the pagination block', () => {
    assert.deepEqual(pageOf([1, 2, 3], {page: 5, size: 2}), {items: [], pagination: {page: 5, size: 2, totalElements: 3, totalPages: 2}})
    assert.deepEqual(pageOf([1, 2, 3], {page: 1, size: 2}).items, [3])
    assert.equal(pageOf([], {page: 0, size: 20}).pagination.totalPages, 0)
  })
})
