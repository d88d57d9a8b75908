// Seeded data: deterministic per seed, and rich enough for every command to show something.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {seedStore} from '../../../dist/sandbox/seed-data.js'
import {createStore} from '../../../dist/sandbox/store.js'

const NOW = Date.parse('2025-12-03T10:00:30Z')
const seeded = (seed: number, capsules = 1200) => {
  const store = createStore()
  seedStore(store, {seed, capsules, now: NOW, timeScale: 1, sinkOrigin: 'http://127.0.0.1:1234'})
  return store
}
const dump = (store: ReturnType<typeof createStore>) => ({
  capsules: [...store.capsules.values()],
  events: [...store.events.values()],
  webhooks: [...store.webhooks.values()],
  deliveries: [...store.deliveries.values()],
})

test('the same seed and clock give identical data; another seed gives other data', () => {
  assert.deepEqual(dump(seeded(7)), dump(seeded(7)))
  const other = dump(seeded(8))
  assert.notDeepEqual(other.capsules.map((c) => c.id), dump(seeded(7)).capsules.map((c) => c.id))
})

test('at least 1000 capsules over several scopes, newest just before the start, plus events', () => {
  const store = seeded(1)
  const capsules = [...store.capsules.values()]
  assert.equal(capsules.length, 1200)
  assert.ok(new Set(capsules.map((c) => c.scopeId)).size >= 8)
  assert.ok(capsules.every((c) => Date.parse(c.timestamp) < NOW))
  assert.ok(capsules.some((c) => NOW - Date.parse(c.timestamp) < 3_600_000), 'the last hour has data')
  assert.ok(store.capsules.has('cap_01JD9Z8K2M'), 'the contract example id exists')
  assert.ok(store.events.size > 1200)
  assert.equal(store.integrations.size, 4)
  assert.equal(seeded(1, 10).capsules.size, 10)
})

test('two webhooks whose deliveries are delivered, failed (with a next attempt) and dead-lettered', () => {
  const store = seeded(1)
  assert.equal(store.webhooks.size, 2)
  const statuses = new Set([...store.deliveries.values()].map((d) => d.status))
  assert.deepEqual([...statuses].sort(), ['dead_lettered', 'delivered', 'failed'])
  for (const d of store.deliveries.values()) {
    if (d.status === 'failed') assert.ok(d.next_attempt_ms! > NOW, 'scheduled in the future')
    if (d.status !== 'failed') assert.equal(d.next_attempt_at, null)
    assert.ok(store.webhooks.has(d.webhook_id))
    assert.equal(JSON.parse(d.body).id, d.event_id)
  }
  for (const w of store.webhooks.values()) assert.equal(new URL(w.url).origin, 'http://127.0.0.1:1234')
})
