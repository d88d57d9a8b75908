// RFC 9111 freshness and age with a fake clock: what may be reused, what must be asked again.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {currentAgeMs, freshnessLifetimeMs, parseCacheControl, reuseWithoutRequest, staleIfErrorAllows} from '../../../dist/cache/freshness.js'

const T0 = Date.parse('2025-12-03T10:00:00Z')
const date = (ms: number) => new Date(ms).toUTCString()
const answer = (headers: Record<string, string>, at = T0) => ({headers: {date: date(at), ...headers}, requestTime: at, responseTime: at})
const sec = 1000
const min = 60 * sec

describe('Cache-Control parsing', () => {
  test('directives, values, quotes, case, first one wins', () => {
    assert.deepEqual(parseCacheControl('Private, MAX-AGE=60, no-cache="set-cookie", max-age=5'), {private: true, 'max-age': '60', 'no-cache': 'set-cookie'})
    assert.deepEqual(parseCacheControl('no-store'), {'no-store': true})
    assert.deepEqual(parseCacheControl(undefined), {})
    assert.deepEqual(parseCacheControl(''), {})
  })
})

describe('freshness lifetime', () => {
  test('max-age wins over Expires; Expires counts from Date; nothing stated means 0', () => {
    assert.equal(freshnessLifetimeMs({'cache-control': 'max-age=60', expires: date(T0 + 3600 * sec), date: date(T0)}), 60 * sec)
    assert.equal(freshnessLifetimeMs({expires: date(T0 + 90 * sec), date: date(T0)}), 90 * sec)
    assert.equal(freshnessLifetimeMs({expires: '0', date: date(T0)}), 0, 'an invalid Expires is already expired')
    assert.equal(freshnessLifetimeMs({'last-modified': date(T0 - 3600 * sec), date: date(T0)}), 0, 'no heuristic freshness from Last-Modified')
    assert.equal(freshnessLifetimeMs({'cache-control': 'max-age=abc'}), 0)
  })
})

describe('age', () => {
  test('grows with the clock from the response time', () => {
    const a = answer({})
    assert.equal(currentAgeMs(a.headers, a, T0), 0)
    assert.equal(currentAgeMs(a.headers, a, T0 + 192 * sec), 192 * sec)
  })
  test('an Age header and the time the request took count too', () => {
    const a = {headers: {date: date(T0), age: '30'}, requestTime: T0 - 2 * sec, responseTime: T0}
    assert.equal(currentAgeMs(a.headers, a, T0 + 10 * sec), 30 * sec + 2 * sec + 10 * sec)
  })
  test('a server Date in the past (clock skew, or a proxy copy) makes the answer older', () => {
    const a = {headers: {date: date(T0 - 5 * sec)}, requestTime: T0, responseTime: T0}
    assert.equal(currentAgeMs(a.headers, a, T0), 5 * sec)
  })
})

describe('reuse without a request', () => {
  const cases: Array<[string, Record<string, string>, number, number | undefined, string | undefined]> = [
    ['nothing stated, default: always ask', {}, 1 * sec, undefined, undefined],
    ['fresh by max-age', {'cache-control': 'max-age=60'}, 59 * sec, undefined, 'fresh'],
    ['stale by max-age', {'cache-control': 'max-age=60'}, 61 * sec, undefined, undefined],
    ['--max-age 5m accepts a 4 minute old answer the server gave no lifetime', {}, 4 * min, 5 * min, 'max-age'],
    ['--max-age 5m refuses a 6 minute old answer', {}, 6 * min, 5 * min, undefined],
    ['--max-age narrows server freshness too', {'cache-control': 'max-age=3600'}, 10 * min, 5 * min, undefined],
    ['--max-age 0 always asks', {'cache-control': 'max-age=60'}, 1, 0, undefined],
    ['no-cache always asks, even within --max-age', {'cache-control': 'no-cache'}, 1 * sec, 5 * min, undefined],
    ['must-revalidate: fresh is fine', {'cache-control': 'max-age=60, must-revalidate'}, 30 * sec, 5 * min, 'fresh'],
    ['must-revalidate: stale needs the server, whatever --max-age says', {'cache-control': 'max-age=60, must-revalidate'}, 2 * min, 5 * min, undefined],
    ['private answers are reused (a per-user cache)', {'cache-control': 'private, max-age=60'}, 30 * sec, undefined, 'fresh'],
  ]
  for (const [name, headers, elapsed, maxAge, expected] of cases) {
    test(name, () => {
      assert.equal(reuseWithoutRequest(answer(headers), T0 + elapsed, maxAge), expected)
    })
  }
})

describe('stale-if-error window', () => {
  test('within the window yes, beyond it no', () => {
    const a = answer({})
    assert.equal(staleIfErrorAllows(a, T0 + 14 * min, 15 * min), true)
    assert.equal(staleIfErrorAllows(a, T0 + 15 * min, 15 * min), true)
    assert.equal(staleIfErrorAllows(a, T0 + 15 * min + 1, 15 * min), false)
  })
  test('the server can forbid serving stale: no-cache, must-revalidate', () => {
    assert.equal(staleIfErrorAllows(answer({'cache-control': 'no-cache'}), T0 + sec, 15 * min), false)
    assert.equal(staleIfErrorAllows(answer({'cache-control': 'max-age=10, must-revalidate'}), T0 + 20 * sec, 15 * min), false)
    assert.equal(staleIfErrorAllows(answer({'cache-control': 'max-age=10, must-revalidate'}), T0 + 5 * sec, 15 * min), true, 'still fresh')
  })
})
