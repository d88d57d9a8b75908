import assert from 'node:assert/strict'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, test} from 'node:test'
import {fullJitterDelay, parseRetryAfter} from '../../../dist/resilience/backoff.js'
import {admit, CircuitStore, DEFAULT_BREAKER, onFailure, onSuccess} from '../../../dist/resilience/circuit-breaker.js'
import {observe, parseServerBudget, reserve, TokenBucketStore} from '../../../dist/resilience/token-bucket.js'
import {withLock} from '../../../dist/resilience/lock.js'

const tmp = () => mkdtempSync(join(tmpdir(), 'bfly-unit-'))

describe('backoff', () => {
  test('full jitter stays within [1, base*2^(n-1)] and the cap', () => {
    for (const [attempt, ceiling] of [[1, 1000], [2, 2000], [3, 4000], [10, 30_000]] as const) {
      assert.equal(fullJitterDelay(attempt, undefined, () => 0.999999), ceiling - 1)
      assert.equal(fullJitterDelay(attempt, undefined, () => 0), 1, 'never 0: got would cancel the retry')
    }
  })
  test('Retry-After as seconds, HTTP date, garbage', () => {
    const now = Date.parse('2025-12-03T10:00:00Z')
    assert.equal(parseRetryAfter('42', now), 42_000)
    assert.equal(parseRetryAfter('Wed, 03 Dec 2025 10:01:00 GMT', now), 60_000)
    assert.equal(parseRetryAfter('Wed, 03 Dec 2025 09:00:00 GMT', now), 0)
    assert.equal(parseRetryAfter('soon', now), undefined)
    assert.equal(parseRetryAfter(undefined, now), undefined)
    assert.equal(parseRetryAfter(['7'], now), 7000)
  })
})

describe('circuit breaker state machine', () => {
  const cfg = DEFAULT_BREAKER
  test('opens after 5 consecutive failures, 4xx-style successes reset the count', () => {
    let c = undefined
    for (let i = 0; i < 4; i++) c = onFailure(c, cfg, 1000)
    assert.equal(c!.state, 'closed')
    c = onSuccess(c, cfg, 1000)
    assert.equal(c.failures, 0)
    for (let i = 0; i < 5; i++) c = onFailure(c, cfg, 1000)
    assert.equal(c.state, 'open')
    assert.equal(c.nextProbeAt, 61_000)
  })
  test('open refuses until the cooldown, then lets one probe through', () => {
    let c = undefined
    for (let i = 0; i < 5; i++) c = onFailure(c, cfg, 0)
    const early = admit(c, cfg, 59_999)
    assert.equal(early.allowed, false)
    assert.equal(early.allowed === false && early.retryInMs, 1)
    const probe = admit(c, cfg, 60_000)
    assert.equal(probe.allowed, true)
    assert.equal(probe.circuit.state, 'half-open')
    const second = admit(probe.circuit, cfg, 60_001)
    assert.equal(second.allowed, false, 'one probe in flight at a time')
  })
  test('half-open: 2 successes close, any failure reopens', () => {
    let c = undefined
    for (let i = 0; i < 5; i++) c = onFailure(c, cfg, 0)
    const half = admit(c, cfg, 60_000).circuit
    const one = onSuccess(half, cfg, 60_010)
    assert.equal(one.state, 'half-open')
    assert.equal(admit(one, cfg, 60_011).allowed, true, 'next probe allowed after a success')
    assert.equal(onSuccess(one, cfg, 60_020).state, 'closed')
    const reopened = onFailure(half, cfg, 60_010)
    assert.equal(reopened.state, 'open')
    assert.equal(reopened.nextProbeAt, 120_010)
  })
  test('the store persists state across instances and reset closes it', async () => {
    const dir = tmp()
    let now = 0
    const a = new CircuitStore(dir, cfg, () => now)
    for (let i = 0; i < 5; i++) await a.failure('api.example.com', 'HTTP 503')
    const b = new CircuitStore(dir, cfg, () => now)
    const refused = await b.admit('api.example.com')
    assert.equal(refused.allowed, false)
    now = 60_000
    assert.equal((await b.admit('api.example.com')).allowed, true)
    assert.deepEqual(await b.reset('api.example.com'), ['api.example.com'])
    assert.equal((await a.get('api.example.com')), undefined)
  })
})

describe('token bucket', () => {
  const cfg = {capacity: 10, windowMs: 1000}
  test('starts full, then queues FIFO with growing waits', () => {
    let state = undefined
    const waits: number[] = []
    for (let i = 0; i < 12; i++) {
      const r = reserve(state, cfg, 0)
      state = r.state
      waits.push(r.waitMs)
    }
    assert.deepEqual(waits.slice(0, 10), Array(10).fill(0))
    assert.deepEqual(waits.slice(10), [100, 200])
  })
  test('refills continuously up to capacity', () => {
    let state = reserve(undefined, cfg, 0).state
    for (let i = 0; i < 9; i++) state = reserve(state, cfg, 0).state
    assert.equal(reserve(state, cfg, 100).waitMs, 0, 'one token back after 100 ms')
    assert.equal(reserve(state, cfg, 10_000).state.tokens, 9, 'never above capacity')
  })
  test('shrinks to what the server reports and waits for its reset', () => {
    const s = observe(undefined, cfg, {remaining: 0, resetAt: 5000}, 0)
    assert.equal(s.tokens, 0)
    assert.equal(reserve(s, cfg, 0).waitMs, 5000)
    const after = reserve(s, cfg, 5000)
    assert.equal(after.waitMs, 0)
    assert.equal(observe(undefined, cfg, {remaining: 3}, 0).tokens, 3)
    assert.equal(observe(undefined, cfg, {remaining: 500}, 0).tokens, 10, 'never grows past the local budget')
  })
  test('parses X-RateLimit-* headers', () => {
    assert.deepEqual(parseServerBudget({'x-ratelimit-limit': '1000', 'x-ratelimit-remaining': '7', 'x-ratelimit-reset': '1764756000'}), {limit: 1000, remaining: 7, resetAt: 1764756000_000})
    assert.deepEqual(parseServerBudget({}), {limit: undefined, remaining: undefined, resetAt: undefined})
  })
  test('a wait beyond the allowed one fails fast (exit 5) without reserving', async () => {
    const dir = tmp()
    const store = new TokenBucketStore(dir, {query: {capacity: 2, windowMs: 60_000}, write: {capacity: 1, windowMs: 60_000}, admin: {capacity: 1, windowMs: 60_000}}, () => 0)
    assert.equal(await store.take('h', 'query', 1000), 0)
    assert.equal(await store.take('h', 'query', 1000), 0)
    await assert.rejects(store.take('h', 'query', 1000), (e: {exitCode: number; message: string}) => e.exitCode === 5 && /budget/.test(e.message))
    assert.equal(await store.take('h', 'query', 60_000), 30_000, 'the failed attempt reserved nothing')
  })
  test('concurrent takers sharing the state file never over-spend', async () => {
    const dir = tmp()
    const budgets = {query: {capacity: 20, windowMs: 600_000}, write: {capacity: 1, windowMs: 60_000}, admin: {capacity: 1, windowMs: 60_000}}
    const stores = Array.from({length: 8}, () => new TokenBucketStore(dir, budgets, () => 0))
    const waits = await Promise.all(Array.from({length: 40}, (_, i) => stores[i % 8].take('h', 'query', 10_000_000)))
    assert.equal(waits.filter((w) => w === 0).length, 20, 'exactly the budget goes at once')
    assert.equal(new Set(waits.filter((w) => w > 0)).size, 20, 'the rest queue at distinct times')
  })
})

describe('file lock', () => {
  test('serialises critical sections and recovers a stale lock', async () => {
    const dir = tmp()
    const path = join(dir, 'x.lock')
    let inside = 0
    let max = 0
    await Promise.all(Array.from({length: 10}, () => withLock(path, async () => {
      inside++
      max = Math.max(max, inside)
      await new Promise((r) => setImmediate(r))
      inside--
    })))
    assert.equal(max, 1)
    const {writeFileSync} = await import('node:fs')
    writeFileSync(path, '999999999 0')
    assert.equal(await withLock(path, async () => 'taken', {timeoutMs: 2000}), 'taken', 'a dead pid does not block')
  })
})

describe('token bucket across processes', () => {
  test('8 processes taking 5 tokens each from a budget of 20: 20 go at once, the rest queue', async () => {
    const {spawn} = await import('node:child_process')
    const {resolve} = await import('node:path')
    const dir = tmp()
    const module = resolve(import.meta.dirname, '../../../dist/resilience/token-bucket.js')
    const script = `
      const {TokenBucketStore} = await import(${JSON.stringify(module)});
      const budgets = {query: {capacity: 20, windowMs: 600000}, write: {capacity: 1, windowMs: 60000}, admin: {capacity: 1, windowMs: 60000}};
      const store = new TokenBucketStore(${JSON.stringify(dir)}, budgets, () => 0);
      const waits = [];
      for (let i = 0; i < 5; i++) waits.push(await store.take('h', 'query', 1e9));
      process.stdout.write(JSON.stringify(waits));`
    const runs = await Promise.all(Array.from({length: 8}, () => new Promise<number[]>((res, rej) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script])
      let out = ''
      child.stdout.on('data', (d) => (out += d))
      child.on('close', (code) => (code === 0 ? res(JSON.parse(out)) : rej(new Error(`exit ${code}`))))
    })))
    const waits = runs.flat()
    assert.equal(waits.length, 40)
    assert.equal(waits.filter((w) => w === 0).length, 20)
    assert.equal(new Set(waits.filter((w) => w > 0)).size, 20)
  })
})
