// The query budget must not throttle a long walk when the server grants more than the
// contract's 1000/min: a 100,000-item walk is 1000 pages.
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, test} from 'node:test'
import {DEFAULT_BUDGETS, observe, reserve, reserveLease, TokenBucketStore} from '../../../dist/resilience/token-bucket.js'

const cfg = {capacity: 10, windowMs: 1000}

describe('token bucket: the server announces its budget', () => {
  test('a larger X-RateLimit-Limit becomes the capacity, and the extra tokens are there at once', () => {
    let state = observe(undefined, cfg, {limit: 100}, 0)
    assert.equal(state.limit, 100)
    assert.equal(state.tokens, 100)
    for (let i = 0; i < 100; i++) {
      const r = reserve(state, cfg, 0)
      assert.equal(r.waitMs, 0, `request ${i + 1} of 100 goes at once`)
      state = r.state
    }
    assert.equal(reserve(state, cfg, 0).waitMs, 10, 'then it refills at the announced rate: 100 per second')
    assert.equal(reserve(state, cfg, 500).state.tokens, 49, 'half a window refills half the announced budget')
  })
  test('the adopted limit survives refills and later reports of the same limit', () => {
    let state = observe(undefined, cfg, {limit: 100, remaining: 99}, 0)
    state = reserve(state, cfg, 10).state
    assert.equal(state.limit, 100)
    state = observe(state, cfg, {limit: 100, remaining: 98}, 20)
    assert.equal(state.limit, 100)
    assert.equal(reserve(state, cfg, 10_000).state.tokens, 99, 'refilled to the announced capacity, not ours')
  })
  test('a limit at or below ours changes nothing; remaining still shrinks the balance', () => {
    const state = observe(undefined, cfg, {limit: 5, remaining: 3}, 0)
    assert.equal(state.limit, undefined)
    assert.equal(state.tokens, 3)
    assert.equal(observe(undefined, cfg, {remaining: 500}, 0).tokens, 10, 'without a limit, never past our budget')
  })
  test('a lower announcement later falls back towards ours; queued reservations keep their turn', () => {
    let state = observe(undefined, cfg, {limit: 100}, 0)
    state = observe(state, cfg, {limit: 50}, 0)
    assert.equal(state.tokens, 50)
    state = observe(state, cfg, {limit: 8}, 0)
    assert.equal(state.limit, undefined)
    assert.equal(state.tokens, 10)
    let queued = {tokens: -3, updatedAt: 0}
    queued = observe(queued, cfg, {limit: 20}, 0)
    assert.equal(queued.tokens, 7, 'the 10 extra tokens are added to the queue, not replacing it')
  })
  test('a well-stocked bucket leases 1% at once; small or scarce ones one token at a time', () => {
    const big = {capacity: 1000, windowMs: 60_000}
    assert.equal(reserveLease(undefined, big, 0).granted, 10)
    assert.equal(reserveLease(undefined, big, 0).state.tokens, 990)
    assert.equal(reserveLease({tokens: 15, updatedAt: 0}, big, 0).granted, 1, 'scarce: FIFO reservations as before')
    assert.equal(reserveLease(undefined, cfg, 0).granted, 1, 'small budgets never lease')
  })
})

describe('token bucket store: a 1000-page walk', () => {
  test('with the announced budget no request waits, and the state file is locked a few times only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bfly-bucket-'))
    let now = 0
    const store = new TokenBucketStore(dir, DEFAULT_BUDGETS, () => now)
    let waited = 0
    for (let page = 0; page < 1000; page++) {
      waited += await store.take('api.example.com', 'query', 30_000)
      await store.observe('api.example.com', 'query', {limit: 100_000, remaining: 100_000 - page - 1, resetAt: 60_000})
      now += 5
    }
    assert.equal(waited, 0, 'the client bucket did not throttle what the server allows')
    const saved = JSON.parse(readFileSync(join(dir, 'buckets.json'), 'utf8')).buckets['api.example.com|query']
    assert.equal(saved.limit, 100_000)
  })
  test('without an announcement the contract budget still holds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bfly-bucket-'))
    const store = new TokenBucketStore(dir, DEFAULT_BUDGETS, () => 0)
    let immediate = 0
    for (let i = 0; i < 1001; i++) if ((await store.take('h', 'query', 10_000_000)) === 0) immediate++
    assert.equal(immediate, 1000)
  })
  test('a scarce report from the server drops the lease: the next request goes through the shared state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bfly-bucket-'))
    const store = new TokenBucketStore(dir, DEFAULT_BUDGETS, () => 0)
    assert.equal(await store.take('h', 'query', 60_000), 0)
    await store.observe('h', 'query', {limit: 1000, remaining: 0, resetAt: 30_000})
    assert.equal(await store.take('h', 'query', 60_000), 30_000, 'waits for the server window instead of spending leased tokens')
  })
})
