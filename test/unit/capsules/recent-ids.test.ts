import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {retryAfterMs} from '../../../dist/api/page-transport.js'
import {RecentIds} from '../../../dist/api/recent-ids.js'

/** The obvious model: the last `max` distinct ids first seen, in an array. */
function model(max: number) {
  const window: string[] = []
  return (key: string): boolean => {
    if (window.includes(key)) return false
    window.push(key)
    if (window.length > max) window.shift()
    return true
  }
}

/** A seeded generator, so a failure can be replayed. */
function lcg(seed: number) {
  let s = seed >>> 0
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32)
}

describe('RecentIds', () => {
  test('agrees with the model over long random runs (repeats near and far, evictions, shifts in the table)', () => {
    for (const max of [1, 2, 3, 7, 50, 200]) {
      const random = lcg(max)
      const ids = new RecentIds(max)
      const expected = model(max)
      // A small alphabet makes ids recur both inside and just outside the window.
      for (let i = 0; i < 20_000; i++) {
        const id = `cap_${Math.floor(random() * max * 3)}`
        assert.equal(ids.firstSeen(id), expected(id), `max ${max}, step ${i}, ${id}`)
      }
    }
  })

  test('a walk of a million distinct ids: every one is new, and the window still catches a recent repeat', () => {
    const ids = new RecentIds(10_000)
    for (let i = 0; i < 1_000_000; i++) assert.ok(ids.firstSeen(`cap_${String(i).padStart(8, '0')}`))
    assert.equal(ids.firstSeen('cap_00999999'), false)
    assert.equal(ids.firstSeen('cap_00990000'), false, 'the oldest id still in the window')
    assert.equal(ids.firstSeen('cap_00989999'), true, 'just out of the window: forgotten')
  })

  test('numbers and strings stay apart; objects and null are never taken for duplicates', () => {
    const ids = new RecentIds(10)
    assert.ok(ids.firstSeen(1))
    assert.ok(ids.firstSeen('1'))
    assert.equal(ids.firstSeen(1), false)
    assert.equal(ids.firstSeen('1'), false)
    assert.ok(ids.firstSeen(null))
    assert.ok(ids.firstSeen(null))
    assert.ok(ids.firstSeen({id: 1}))
    assert.ok(ids.firstSeen(undefined))
  })
})

describe("the lean transport reads Retry-After as got does", () => {
  test('whole seconds, HTTP dates (asctime means UTC), and nothing else', () => {
    const now = Date.parse('2025-12-03T10:00:00Z')
    assert.equal(retryAfterMs('0', now), 0)
    assert.equal(retryAfterMs('120', now), 120_000)
    assert.equal(retryAfterMs('Wed, 03 Dec 2025 10:00:30 GMT', now), 30_000)
    assert.equal(retryAfterMs('Wed Dec  3 10:00:30 2025', now), 30_000)
    assert.equal(retryAfterMs('Wed, 03 Dec 2025 09:00:00 GMT', now), 0, 'a date in the past: now')
    assert.equal(retryAfterMs('1.5', now), undefined, 'fractions are not whole seconds')
    assert.equal(retryAfterMs('soon', now), undefined)
    assert.equal(retryAfterMs(undefined, now), undefined)
  })
})
