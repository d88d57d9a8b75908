// Contract tests of the operational endpoints (bare documents): integrations, webhooks and
// their deliveries, plan execution.
import assert from 'node:assert/strict'
import {createServer, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {after, before, describe, test} from 'node:test'
import {startSandbox, type Sandbox} from '../../../dist/sandbox/index.js'
import {assertError, call, RFC3339} from './client.ts'

let sb: Sandbox
let admin: string
let read: string

before(async () => {
  sb = await startSandbox({insecureDemoTokens: true, quiet: true, rateLimits: false})
  admin = sb.demoTokens.admin
  read = sb.demoTokens.read
})
after(() => sb.close())

const get = (path: string, token = admin) => call(sb.apiUrl, path, {token})
const post = (path: string, body?: unknown, token = admin, headers: Record<string, string> = {}) => call(sb.apiUrl, path, {method: 'POST', token, body, headers})

describe('integrations', () => {
  test('status: four integrations, a bare document, one degraded/half-open and one unhealthy/open', async () => {
    const r = await get('/integrations/status', read)
    assert.equal(r.status, 200)
    assert.equal(r.json.data, undefined, 'not enveloped')
    const list = r.json.integrations
    assert.equal(list.length, 4)
    for (const i of list) {
      assert.deepEqual(Object.keys(i).sort(), ['circuit_state', 'error_rate', 'name', 'status', 'type'])
      assert.ok(['healthy', 'degraded', 'unhealthy'].includes(i.status))
      assert.ok(['closed', 'open', 'half-open'].includes(i.circuit_state))
      assert.ok(i.error_rate >= 0 && i.error_rate <= 1)
    }
    assert.ok(list.some((i: {status: string; circuit_state: string}) => i.status === 'degraded' && i.circuit_state === 'half-open'))
    assert.ok(list.some((i: {status: string; circuit_state: string}) => i.status === 'unhealthy' && i.circuit_state === 'open'))
  })

  test('health of one; an unknown name is 404 with the error envelope', async () => {
    const r = await get('/integrations/GitHubAPI/health', read)
    assert.equal(r.status, 200)
    const h = r.json
    assert.equal(h.name, 'GitHubAPI')
    assert.equal(h.status, 'healthy')
    assert.equal(h.circuit_state, 'closed')
    assert.ok(Number.isInteger(h.latency_p50) && Number.isInteger(h.latency_p99) && h.latency_p99 >= h.latency_p50)
    assert.ok(h.success_rate > 0.9 && h.success_rate <= 1)
    assert.equal(h.last_error, null)
    assert.equal(typeof (await get('/integrations/NotificationService/health')).json.last_error, 'string')
    assertError(await get('/integrations/NoSuchAPI/health'), 404, 'NOT_FOUND')
  })

  test('circuit reset needs integrations:admin, closes the open circuit and says what it was', async () => {
    assertError(await post('/integrations/NotificationService/circuit/reset', undefined, read), 403, 'FORBIDDEN')
    const r = await post('/integrations/NotificationService/circuit/reset')
    assert.equal(r.status, 200)
    assert.equal(r.json.name, 'NotificationService')
    assert.equal(r.json.previous_state, 'open')
    assert.equal(r.json.circuit_state, 'closed')
    assert.match(r.json.reset_at, RFC3339)
    const status = (await get('/integrations/status')).json.integrations.find((i: {name: string}) => i.name === 'NotificationService')
    assert.equal(status.circuit_state, 'closed')
    assertError(await post('/integrations/NoSuchAPI/circuit/reset'), 404, 'NOT_FOUND')
  })
})

describe('webhooks', () => {
  test('list: the two seeded endpoints, never their secrets', async () => {
    const r = await get('/webhooks', read)
    assert.equal(r.status, 200)
    assert.equal(r.json.webhooks.length >= 2, true)
    for (const w of r.json.webhooks) {
      for (const key of ['id', 'name', 'url', 'events', 'is_active', 'is_healthy']) assert.ok(key in w, key)
      assert.equal(w.secret, undefined)
    }
    assert.ok(r.json.webhooks.some((w: {is_healthy: boolean}) => w.is_healthy === false))
  })

  test('create shows the secret once; get, update, delete; validation details', async () => {
    const created = await post('/webhooks', {name: 'Orders', url: 'http://127.0.0.1:9/orders', events: ['capsule.created']})
    assert.equal(created.status, 201)
    const w = created.json
    assert.match(w.secret, /^whsec_/)
    assert.equal(w.is_active, true)
    assert.equal(created.headers.get('location'), `/webhooks/${w.id}`)
    assert.equal((await get(`/webhooks/${w.id}`)).json.secret, undefined)
    assert.ok((await get('/webhooks')).json.webhooks.every((x: {secret?: string}) => x.secret === undefined))

    const updated = await call(sb.apiUrl, `/webhooks/${w.id}`, {method: 'PUT', token: admin, body: {name: 'Orders v2', is_active: false}})
    assert.equal(updated.status, 200)
    assert.equal(updated.json.name, 'Orders v2')
    assert.equal(updated.json.is_active, false)
    assert.deepEqual(updated.json.events, ['capsule.created'])

    const bad = await post('/webhooks', {name: '', url: 'ftp://x', events: []})
    assertError(bad, 400, 'VALIDATION_ERROR')
    assert.deepEqual(bad.json.error.details.map((d: {field: string}) => d.field), ['name', 'url', 'events'])
    assertError(await call(sb.apiUrl, `/webhooks/${w.id}`, {method: 'PUT', token: admin, body: {}}), 400, 'VALIDATION_ERROR')
    assertError(await post('/webhooks', {name: 'x', url: 'http://127.0.0.1:9/', events: ['a']}, read), 403, 'FORBIDDEN')

    const del = await call(sb.apiUrl, `/webhooks/${w.id}`, {method: 'DELETE', token: admin})
    assert.equal(del.status, 204)
    assertError(await get(`/webhooks/${w.id}`), 404, 'NOT_FOUND')
    assertError(await call(sb.apiUrl, `/webhooks/${w.id}`, {method: 'DELETE', token: admin}), 404, 'NOT_FOUND')
  })

  test('deliveries: status filter, pages with meta.pagination, the delivery fields', async () => {
    const partner = (await get('/webhooks')).json.webhooks.find((w: {name: string}) => w.name === 'Partner alerts')
    const all = await get(`/webhooks/${partner.id}/deliveries?size=100`, read)
    assert.equal(all.status, 200)
    const statuses = new Set(all.json.deliveries.map((d: {status: string}) => d.status))
    for (const s of ['delivered', 'failed', 'dead_lettered']) assert.ok(statuses.has(s), s)
    const d = all.json.deliveries[0]
    for (const key of ['id', 'webhook_id', 'event_type', 'status', 'attempts', 'max_attempts', 'last_attempt_at', 'next_attempt_at', 'response_status_code', 'duration_ms', 'error', 'created_at']) assert.ok(key in d, key)
    assert.equal(d.body, undefined)

    const dead = await get(`/webhooks/${partner.id}/deliveries?status=dead_lettered&size=3`)
    assert.ok(dead.json.deliveries.length > 0 && dead.json.deliveries.length <= 3)
    assert.ok(dead.json.deliveries.every((x: {status: string; next_attempt_at: unknown}) => x.status === 'dead_lettered' && x.next_attempt_at === null))
    const p = dead.json.meta.pagination
    assert.deepEqual(Object.keys(p).sort(), ['page', 'size', 'totalElements', 'totalPages'])
    assert.equal(p.size, 3)
    const page2 = await get(`/webhooks/${partner.id}/deliveries?status=dead_lettered&size=3&page=1`)
    const ids = new Set([...dead.json.deliveries, ...page2.json.deliveries].map((x: {id: string}) => x.id))
    assert.equal(ids.size, dead.json.deliveries.length + page2.json.deliveries.length, 'pages do not overlap')

    const bad = await get(`/webhooks/${partner.id}/deliveries?status=lost`)
    assertError(bad, 400, 'VALIDATION_ERROR')
    assert.equal(bad.json.error.details[0].field, 'status')
    assertError(await get('/webhooks/wh_missing/deliveries'), 404, 'NOT_FOUND')
  })

  test('retry: 202 pending for a dead-lettered delivery, 409 when delivered or already pending, Idempotency-Key replays', async () => {
    const partner = (await get('/webhooks')).json.webhooks.find((w: {name: string}) => w.name === 'Partner alerts')
    const list = (await get(`/webhooks/${partner.id}/deliveries?size=100`)).json.deliveries
    const dead = list.filter((d: {status: string}) => d.status === 'dead_lettered')
    const delivered = list.find((d: {status: string}) => d.status === 'delivered')

    const r = await post(`/webhooks/deliveries/${dead[0].id}/retry`)
    assert.equal(r.status, 202)
    assert.equal(r.json.id, dead[0].id)
    assert.equal(r.json.status, 'pending')
    assert.equal(r.json.attempts, dead[0].attempts)
    assert.match(r.json.queued_at, RFC3339)
    assertError(await post(`/webhooks/deliveries/${delivered.id}/retry`), 409, 'CONFLICT')
    assertError(await post('/webhooks/deliveries/dlv_missing/retry'), 404, 'NOT_FOUND')

    const key = {'idempotency-key': 'retry-once-1'}
    const first = await post(`/webhooks/deliveries/${dead[1].id}/retry`, undefined, admin, key)
    const again = await post(`/webhooks/deliveries/${dead[1].id}/retry`, undefined, admin, key)
    assert.equal(first.status, 202)
    assert.equal(again.status, 202, 'a replay, not a 409 for the now pending delivery')
    assert.equal(again.headers.get('idempotent-replayed'), 'true')
    assert.deepEqual(again.json, first.json)
  })

  test('retrying a delivery whose attempt is still in flight (pending) is 409', async () => {
    const held: ServerResponse[] = []
    const receiver = createServer((req, res) => {
      req.resume()
      held.push(res)
    })
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`
      const hook = (await post('/webhooks', {name: 'Slow receiver', url, events: ['capsule.created']})).json
      await post('/api/v1/capsules', {scopeId: 'rim:entity:test:SLOW', timestamp: '2025-12-03T10:00:00Z', payload: {}})
      while (held.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
      const [pending] = (await get(`/webhooks/${hook.id}/deliveries`)).json.deliveries
      assert.equal(pending.status, 'pending')
      const conflict = await post(`/webhooks/deliveries/${pending.id}/retry`)
      assertError(conflict, 409, 'CONFLICT')
      assert.match(conflict.json.error.message, /already pending/)
      held[0].end('ok')
      let done
      do done = (await get(`/webhooks/${hook.id}/deliveries`)).json.deliveries[0]
      while (done.status === 'pending')
      assert.equal(done.status, 'delivered')
      await call(sb.apiUrl, `/webhooks/${hook.id}`, {method: 'DELETE', token: admin})
    } finally {
      for (const res of held) res.destroy()
      receiver.close()
    }
  })

  test('test: a webhook.test delivery, attempted before the answer', async () => {
    const feed = (await get('/webhooks')).json.webhooks.find((w: {name: string}) => w.name === 'Capsule feed')
    const r = await post(`/webhooks/${feed.id}/test`)
    assert.equal(r.status, 200)
    assert.equal(r.json.event_type, 'webhook.test')
    assert.equal(r.json.status, 'delivered', 'the seeded feed points at the built-in sink')
    assert.equal(r.json.response_status_code, 200)
    assert.equal(r.json.attempts, 1)
    assert.equal(typeof r.json.duration_ms, 'number')
    assertError(await post('/webhooks/wh_missing/test'), 404, 'NOT_FOUND')
  })
})

describe('plans', () => {
  test('execute: 202 with the execution; unknown plans 404; needs plans:execute', async () => {
    const r = await post('/api/v1/plans/plan_123/execute')
    assert.equal(r.status, 202)
    assert.equal(r.json.data.planId, 'plan_123')
    assert.match(r.json.data.executionId, /^exe_/)
    assert.equal(r.json.data.status, 'RUNNING')
    assert.equal(typeof r.json.meta.requestId, 'string')
    assertError(await post('/api/v1/plans/plan_nope/execute'), 404, 'NOT_FOUND')
    assertError(await post('/api/v1/plans/plan_123/execute', undefined, read), 403, 'FORBIDDEN')
  })
})
