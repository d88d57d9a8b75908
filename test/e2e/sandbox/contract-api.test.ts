// Contract tests of the sandbox's /api/v1 surface: envelope, pagination, validation,
// errors, auth, scopes, rate limits, idempotency — so it stays a faithful stand-in.
import assert from 'node:assert/strict'
import {after, before, describe, test} from 'node:test'
import {startSandbox, type Sandbox} from '../../../dist/sandbox/index.js'
import {assertError, call, RFC3339} from './client.ts'

let sb: Sandbox
let admin: string
let read: string
const EURUSD = 'rim:entity:finance:EURUSD'

before(async () => {
  sb = await startSandbox({insecureDemoTokens: true, quiet: true, rateLimits: false})
  admin = sb.demoTokens.admin
  read = sb.demoTokens.read
})
after(() => sb.close())

const get = (path: string, token = admin, headers: Record<string, string> = {}) => call(sb.apiUrl, path, {token, headers})

describe('envelope and conventions', () => {
  test('a list: data array, meta with requestId, timestamp and pagination; the request id is echoed', async () => {
    const r = await get('/api/v1/capsules', admin, {'x-request-id': 'req-contract-1', 'x-correlation-id': 'cor-1'})
    assert.equal(r.status, 200)
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/)
    assert.equal(r.headers.get('x-request-id'), 'req-contract-1')
    assert.equal(r.json.meta.requestId, 'req-contract-1')
    assert.match(r.json.meta.timestamp, RFC3339)
    assert.equal(r.json.data.length, 20)
    assert.deepEqual(r.json.meta.pagination, {page: 0, size: 20, totalElements: 1200, totalPages: 60})
  })

  test('without X-Request-ID the server makes one', async () => {
    const r = await get('/api/v1/capsules/cap_01JD9Z8K2M')
    assert.match(r.headers.get('x-request-id') ?? '', /^req-[0-9a-f-]{36}$/)
    assert.equal(r.json.meta.requestId, r.headers.get('x-request-id'))
    assert.equal(r.json.meta.pagination, undefined, 'pagination on lists only')
  })

  test('unknown endpoints are 404 and wrong methods 405, both with the error envelope', async () => {
    assertError(await get('/api/v1/nothing'), 404, 'NOT_FOUND')
    const r = await call(sb.apiUrl, '/api/v1/capsules', {method: 'PATCH', token: admin, body: {}})
    assert.equal(r.status, 405)
    assert.equal(r.headers.get('allow'), 'GET, POST')
  })

  test('RFC 9728 protected resource metadata names the embedded issuer, without auth', async () => {
    const r = await call(sb.apiUrl, '/.well-known/oauth-protected-resource')
    assert.equal(r.status, 200)
    assert.deepEqual(r.json.resource, sb.apiUrl)
    assert.deepEqual(r.json.authorization_servers, [sb.issuer])
    assert.deepEqual(r.json.bearer_methods_supported, ['header'])
    assert.deepEqual(r.json.scopes_supported, ['openid', 'offline_access', 'capsules:read', 'capsules:write', 'history:read', 'events:read', 'integrations:read', 'integrations:admin', 'webhooks:read', 'webhooks:write', 'plans:execute'])
  })
})

describe('authentication and scopes', () => {
  const resourceMetadata = () => `Bearer error="invalid_token", resource_metadata="${sb.apiUrl}/.well-known/oauth-protected-resource"`

  test('no token: 401 UNAUTHORIZED with the exact WWW-Authenticate', async () => {
    const r = await call(sb.apiUrl, '/api/v1/capsules')
    assertError(r, 401, 'UNAUTHORIZED')
    assert.equal(r.headers.get('www-authenticate'), resourceMetadata())
  })

  test('a token the issuer never signed, a malformed header, a wrong API key: 401', async () => {
    for (const headers of [{authorization: 'Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'}, {authorization: 'Bearer not-a-token'}, {authorization: 'Basic dXNlcjpwYXNz'}, {'x-api-key': 'sbx_key_wrong'}]) {
      const r = await call(sb.apiUrl, '/api/v1/capsules', {headers})
      assertError(r, 401, 'UNAUTHORIZED')
      assert.equal(r.headers.get('www-authenticate'), resourceMetadata())
    }
  })

  test('the API key works as X-API-Key', async () => {
    assert.equal((await call(sb.apiUrl, '/api/v1/capsules?size=1', {headers: {'x-api-key': sb.apiKey}})).status, 200)
  })

  test('the read demo token reads, and a write is 403 insufficient_scope naming the scope', async () => {
    assert.equal((await get('/api/v1/history?size=1', read)).status, 200)
    const r = await call(sb.apiUrl, '/api/v1/capsules', {method: 'POST', token: read, body: {scopeId: EURUSD, timestamp: '2025-12-03T10:00:00Z', payload: {}}})
    assertError(r, 403, 'FORBIDDEN')
    assert.equal(r.headers.get('www-authenticate'), 'Bearer error="insufficient_scope", scope="capsules:write"')
    assertError(await call(sb.apiUrl, '/integrations/GitHubAPI/circuit/reset', {method: 'POST', token: read}), 403, 'FORBIDDEN')
  })

  test('demo tokens are refused unless the sandbox was started with insecureDemoTokens', async () => {
    const strict = await startSandbox({quiet: true})
    try {
      assertError(await call(strict.apiUrl, '/api/v1/capsules', {token: strict.demoTokens.admin}), 401, 'UNAUTHORIZED')
    } finally {
      await strict.close()
    }
  })
})

describe('capsules', () => {
  test('get one: the contract fields', async () => {
    const r = await get('/api/v1/capsules/cap_01JD9Z8K2M')
    assert.equal(r.status, 200)
    const c = r.json.data
    assert.equal(c.id, 'cap_01JD9Z8K2M')
    assert.equal(c.scopeId, EURUSD)
    assert.match(c.timestamp, RFC3339)
    assert.match(c.createdAt, RFC3339)
    assert.equal(typeof c.resolution, 'number')
    assert.equal(typeof c.version, 'number')
    assert.equal(typeof c.payload, 'object')
  })

  test('404 NOT_FOUND for an absent id, 400 with details for an invalid one', async () => {
    assertError(await get('/api/v1/capsules/cap_nope'), 404, 'NOT_FOUND')
    const r = await get(`/api/v1/capsules/${encodeURIComponent('bad id!')}`)
    assertError(r, 400, 'VALIDATION_ERROR')
    assert.deepEqual(r.json.error.details, [{field: 'id', message: 'must match pattern ^[A-Za-z0-9_-]{1,64}$'}])
  })

  test('filter by scope, sort, and page through without gaps or duplicates', async () => {
    const ids = new Set<string>()
    let last = ''
    for (let page = 0; ; page++) {
      const r = await get(`/api/v1/capsules?scopeId=${encodeURIComponent(EURUSD)}&sort=timestamp,desc&size=100&page=${page}`)
      assert.equal(r.status, 200)
      if (r.json.data.length === 0) {
        assert.equal(r.json.meta.pagination.totalElements, ids.size)
        assert.equal(r.json.meta.pagination.totalPages, Math.ceil(ids.size / 100))
        break
      }
      for (const c of r.json.data) {
        assert.equal(c.scopeId, EURUSD)
        if (last) assert.ok(c.timestamp <= last, 'newest first')
        last = c.timestamp
        ids.add(c.id)
      }
    }
    assert.equal(ids.size, 150)
  })

  test('from is inclusive and to exclusive', async () => {
    const all = (await get(`/api/v1/capsules?scopeId=${encodeURIComponent(EURUSD)}&sort=timestamp,asc&size=5`)).json.data
    const from = all[1].timestamp
    const to = all[3].timestamp
    const r = await get(`/api/v1/capsules?scopeId=${encodeURIComponent(EURUSD)}&from=${from}&to=${to}`)
    assert.deepEqual(r.json.data.map((c: {id: string}) => c.id), [all[1].id, all[2].id])
  })

  test('every bad parameter is listed in details', async () => {
    const r = await get('/api/v1/capsules?scopeId=EURUSD&from=yesterday&page=-1&size=101&sort=price,up')
    assertError(r, 400, 'VALIDATION_ERROR')
    assert.deepEqual(r.json.error.details.map((d: {field: string}) => d.field), ['scopeId', 'from', 'page', 'size', 'sort'])
    assert.equal(r.json.error.details[0].message, 'must match pattern rim:{nodeType}:{namespace}:{localId}')
  })

  test('a page past the end is empty, with the pagination block', async () => {
    const r = await get('/api/v1/capsules?page=999&size=100')
    assert.deepEqual(r.json.data, [])
    assert.deepEqual(r.json.meta.pagination, {page: 999, size: 100, totalElements: 1200, totalPages: 12})
  })

  test('create: 201 with Location; validation details; malformed JSON; an existing id is 409', async () => {
    const body = {scopeId: 'rim:entity:finance:EURCHF', timestamp: '2025-12-03T10:00:00+01:00', resolution: 60, payload: {price: 0.94}}
    const r = await call(sb.apiUrl, '/api/v1/capsules', {method: 'POST', token: admin, body})
    assert.equal(r.status, 201)
    const c = r.json.data
    assert.equal(r.headers.get('location'), `/api/v1/capsules/${c.id}`)
    assert.match(c.id, /^cap_[A-Z0-9]{10}$/)
    assert.equal(c.timestamp, '2025-12-03T09:00:00Z', 'normalised to UTC')
    assert.deepEqual(c.payload, {price: 0.94})
    assert.equal((await get(`/api/v1/capsules/${c.id}`)).json.data.id, c.id)

    const bad = await call(sb.apiUrl, '/api/v1/capsules', {method: 'POST', token: admin, body: {scopeId: 'nope', timestamp: 'today', payload: [1]}})
    assertError(bad, 400, 'VALIDATION_ERROR')
    assert.deepEqual(bad.json.error.details.map((d: {field: string}) => d.field), ['scopeId', 'timestamp', 'payload'])

    const malformed = await call(sb.apiUrl, '/api/v1/capsules', {method: 'POST', token: admin, raw: '{"scopeId":', headers: {'content-type': 'application/json'}})
    assertError(malformed, 400, 'VALIDATION_ERROR')

    assertError(await call(sb.apiUrl, '/api/v1/capsules', {method: 'POST', token: admin, body: {...body, id: 'cap_01JD9Z8K2M'}}), 409, 'CONFLICT')
  })

  test('Idempotency-Key: a replay returns the first response marked Idempotent-Replayed; another body is 409', async () => {
    const body = {scopeId: 'rim:entity:finance:EURCHF', timestamp: '2025-12-03T11:00:00Z', payload: {price: 0.95}}
    const headers = {'idempotency-key': 'idem-contract-1'}
    const first = await call(sb.apiUrl, '/api/v1/capsules', {method: 'POST', token: admin, body, headers})
    assert.equal(first.status, 201)
    assert.equal(first.headers.get('idempotent-replayed'), null)
    const before = (await get('/api/v1/capsules?size=1')).json.meta.pagination.totalElements
    const second = await call(sb.apiUrl, '/api/v1/capsules', {method: 'POST', token: admin, body, headers})
    assert.equal(second.status, 201)
    assert.equal(second.headers.get('idempotent-replayed'), 'true')
    assert.deepEqual(second.json, first.json)
    assert.equal((await get('/api/v1/capsules?size=1')).json.meta.pagination.totalElements, before, 'nothing created twice')
    assertError(await call(sb.apiUrl, '/api/v1/capsules', {method: 'POST', token: admin, body: {...body, payload: {price: 1}}, headers}), 409, 'CONFLICT')
    const long = await call(sb.apiUrl, '/api/v1/capsules', {method: 'POST', token: admin, body, headers: {'idempotency-key': 'k'.repeat(256)}})
    assertError(long, 400, 'VALIDATION_ERROR')
    assert.equal(long.json.error.details[0].field, 'Idempotency-Key')
  })

  test('delete: 204 without a body, then 404', async () => {
    const created = await call(sb.apiUrl, '/api/v1/capsules', {method: 'POST', token: admin, body: {scopeId: EURUSD, timestamp: '2025-12-03T12:00:00Z', payload: {}}})
    const id = created.json.data.id
    const r = await call(sb.apiUrl, `/api/v1/capsules/${id}`, {method: 'DELETE', token: admin})
    assert.equal(r.status, 204)
    assert.equal(r.text, '')
    assertError(await get(`/api/v1/capsules/${id}`), 404, 'NOT_FOUND')
    assertError(await call(sb.apiUrl, `/api/v1/capsules/${id}`, {method: 'DELETE', token: admin}), 404, 'NOT_FOUND')
  })
})

describe('history and events', () => {
  test('history across scopes is newest first by default', async () => {
    const r = await get('/api/v1/history?size=50')
    const times = r.json.data.map((c: {timestamp: string}) => Date.parse(c.timestamp))
    assert.deepEqual(times, [...times].sort((a, b) => b - a))
    assert.ok(new Set(r.json.data.map((c: {scopeId: string}) => c.scopeId)).size > 1)
  })

  test('history of one entity: the scope id as one encoded path segment; a bad one is 400', async () => {
    const scope = 'rim:actor:central.bank:ECB~rates'
    const r = await get(`/api/v1/history/${encodeURIComponent(scope)}?size=3&sort=timestamp,asc`)
    assert.equal(r.status, 200)
    assert.ok(r.json.data.every((c: {scopeId: string}) => c.scopeId === scope))
    assert.ok(r.json.data[0].timestamp <= r.json.data[2].timestamp)
    assert.equal(r.json.meta.pagination.totalElements, 150)
    assertError(await get('/api/v1/history/not-a-scope'), 400, 'VALIDATION_ERROR')
    assertError(await get('/api/v1/history?from=2025-12-03'), 400, 'VALIDATION_ERROR')
  })

  test('events: newest first, filter by type; a new capsule makes a capsule.created event', async () => {
    const created = await call(sb.apiUrl, '/api/v1/capsules', {method: 'POST', token: admin, body: {scopeId: 'rim:entity:test:EVENTS', timestamp: '2025-12-03T12:00:00Z', payload: {}}})
    const r = await get('/api/v1/events?type=capsule.created&size=5')
    assert.equal(r.status, 200)
    assert.ok(r.json.data.every((e: {type: string}) => e.type === 'capsule.created'))
    const e = r.json.data.find((x: {data: {capsuleId: string}}) => x.data.capsuleId === created.json.data.id)
    assert.ok(e, 'the new event is on the first page')
    assert.match(e.id, /^evt_/)
    assert.equal(e.scopeId, 'rim:entity:test:EVENTS')
    assert.match(e.timestamp, RFC3339)
    const all = await get('/api/v1/events?size=100&sort=timestamp,desc')
    assert.ok(new Set(all.json.data.map((x: {type: string}) => x.type)).size >= 1)
    assertError(await get('/api/v1/events?sort=scopeId'), 400, 'VALIDATION_ERROR')
  })
})

describe('rate limits', () => {
  test('per class: X-RateLimit-* on every response, then 429 with Retry-After and retryAfter', async () => {
    const limited = await startSandbox({insecureDemoTokens: true, quiet: true, rateLimits: {query: 3, write: 1, admin: 1}})
    try {
      const t = limited.demoTokens.admin
      const first = await call(limited.apiUrl, '/api/v1/capsules?size=1', {token: t})
      assert.equal(first.headers.get('x-ratelimit-limit'), '3')
      assert.equal(first.headers.get('x-ratelimit-remaining'), '2')
      const reset = Number(first.headers.get('x-ratelimit-reset'))
      assert.ok(reset > Date.now() / 1000 && reset <= Date.now() / 1000 + 61, 'Unix seconds of the window end')
      await call(limited.apiUrl, '/integrations/status', {token: t})
      await call(limited.apiUrl, '/api/v1/events?size=1', {token: t})
      const over = await call(limited.apiUrl, '/api/v1/capsules?size=1', {token: t})
      assertError(over, 429, 'RATE_LIMITED')
      assert.equal(over.json.error.message, 'Too many requests')
      assert.equal(over.headers.get('x-ratelimit-remaining'), '0')
      const retryAfter = Number(over.headers.get('retry-after'))
      assert.ok(retryAfter >= 1 && retryAfter <= 60)
      assert.equal(over.json.error.retryAfter, retryAfter)
      // The write class has its own budget.
      const write = await call(limited.apiUrl, '/api/v1/capsules', {method: 'POST', token: t, body: {scopeId: EURUSD, timestamp: '2025-12-03T10:00:00Z', payload: {}}})
      assert.equal(write.status, 201)
      assert.equal(write.headers.get('x-ratelimit-limit'), '1')
      assertError(await call(limited.apiUrl, '/api/v1/capsules', {method: 'POST', token: t, body: {}}), 429, 'RATE_LIMITED')
      // Another client is not affected.
      assert.equal((await call(limited.apiUrl, '/api/v1/capsules?size=1', {token: limited.demoTokens.read})).status, 200)
    } finally {
      await limited.close()
    }
  })
})
