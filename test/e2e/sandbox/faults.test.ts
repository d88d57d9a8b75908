// Scripted faults (in-process and over the loopback control endpoint), random chaos and
// injected latency: what real networks do to a client, on demand.
import assert from 'node:assert/strict'
import {after, before, describe, test} from 'node:test'
import {startSandbox, type Sandbox} from '../../../dist/sandbox/index.js'
import {call} from './client.ts'

let sb: Sandbox
before(async () => {
  sb = await startSandbox({insecureDemoTokens: true, quiet: true, rateLimits: false})
})
after(() => sb.close())

const get = (path = '/api/v1/capsules?size=1') => call(sb.apiUrl, path, {token: sb.demoTokens.admin, headers: {'x-request-id': 'req-fault-test'}})

describe('scripted faults', () => {
  test('"the next 2 responses to GET /api/v1/capsules are 503", then normal service', async () => {
    sb.faults.inject({method: 'GET', path: '/api/v1/capsules', status: 503, count: 2})
    const first = await get()
    assert.equal(first.status, 503)
    assert.equal(first.json.error.code, 'SERVICE_UNAVAILABLE')
    assert.equal(first.json.meta.requestId, 'req-fault-test')
    assert.equal(first.headers.get('x-request-id'), 'req-fault-test')
    assert.equal((await get()).status, 503)
    assert.equal((await get()).status, 200)
  })

  test('other paths and methods are untouched; prefixes end in *', async () => {
    sb.faults.inject({path: '/integrations*', status: 500})
    assert.equal((await get()).status, 200)
    const r = await get('/integrations/GitHubAPI/health')
    assert.equal(r.status, 500)
    assert.equal(r.json.error.code, 'INTERNAL_ERROR')
  })

  test('429 comes with Retry-After and retryAfter; custom headers and bodies pass through', async () => {
    sb.faults.inject({path: '/api/v1/capsules', status: 429, headers: {'retry-after': '7'}})
    const limited = await get()
    assert.equal(limited.status, 429)
    assert.equal(limited.headers.get('retry-after'), '7')
    assert.equal(limited.json.error.code, 'RATE_LIMITED')
    assert.equal(limited.json.error.retryAfter, 7)
    sb.faults.inject({path: '/api/v1/capsules', status: 502, body: 'upstream connect error', headers: {'content-type': 'text/plain'}})
    const custom = await get()
    assert.equal(custom.status, 502)
    assert.equal(custom.text, 'upstream connect error')
    assert.equal(custom.headers.get('content-type'), 'text/plain')
  })

  test('an HTML error page, an empty body, truncated JSON', async () => {
    sb.faults.inject({path: '/api/v1/capsules', kind: 'html'})
    const html = await get()
    assert.equal(html.status, 502)
    assert.match(html.headers.get('content-type') ?? '', /text\/html/)
    assert.match(html.text, /<html>/)
    sb.faults.inject({path: '/api/v1/capsules', kind: 'empty', status: 504})
    const empty = await get()
    assert.equal(empty.status, 504)
    assert.equal(empty.text, '')
    sb.faults.inject({path: '/api/v1/capsules', kind: 'truncated'})
    const truncated = await get()
    assert.equal(truncated.status, 200)
    assert.match(truncated.headers.get('content-type') ?? '', /json/)
    assert.throws(() => JSON.parse(truncated.text))
  })

  test('a reset connection and a request that never gets an answer', async () => {
    sb.faults.inject({path: '/api/v1/capsules', kind: 'reset'})
    await assert.rejects(get(), (e: Error & {cause?: {code?: string}}) => /fetch failed|socket|reset/i.test(`${e.message} ${e.cause?.code}`))
    sb.faults.inject({path: '/api/v1/capsules', kind: 'hang'})
    await assert.rejects(fetch(`${sb.apiUrl}/api/v1/capsules`, {headers: {authorization: `Bearer ${sb.demoTokens.admin}`}, signal: AbortSignal.timeout(150)}), /abort|timeout/i)
    assert.equal((await get()).status, 200, 'the hang was used up')
  })

  test('clear drops what is queued', async () => {
    sb.faults.inject({path: '/api/v1/capsules', status: 503, count: 10})
    sb.faults.clear()
    assert.equal((await get()).status, 200)
  })
})

describe('the control endpoint', () => {
  test('POST queues faults, GET lists them, DELETE clears them', async () => {
    const posted = await call(sb.apiUrl, '/__control/faults', {method: 'POST', body: [{method: 'GET', path: '/api/v1/capsules', status: 503, count: 2}, {path: '/webhooks', kind: 'empty'}]})
    assert.equal(posted.status, 201)
    assert.equal(posted.json.queued, 2)
    const listed = await call(sb.apiUrl, '/__control/faults')
    assert.deepEqual(listed.json.faults.map((f: {path: string; count: number}) => [f.path, f.count]), [['/api/v1/capsules', 2], ['/webhooks', 1]])
    assert.equal((await get()).status, 503)
    assert.equal((await call(sb.apiUrl, '/__control/faults')).json.faults[0].count, 1)
    assert.equal((await call(sb.apiUrl, '/__control/faults', {method: 'DELETE'})).status, 204)
    assert.equal((await get()).status, 200)
  })

  test('a malformed fault is a 400 with details; the control endpoint itself is never faulted', async () => {
    const bad = await call(sb.apiUrl, '/__control/faults', {method: 'POST', body: {path: 'capsules', kind: 'boom'}})
    assert.equal(bad.status, 400)
    assert.deepEqual(bad.json.error.details.map((d: {field: string}) => d.field), ['path', 'kind'])
    await call(sb.apiUrl, '/__control/faults', {method: 'POST', body: {path: '/__control/*', status: 500}})
    assert.equal((await call(sb.apiUrl, '/__control/health')).status, 200)
    await call(sb.apiUrl, '/__control/faults', {method: 'DELETE'})
  })
})

describe('chaos and latency', () => {
  test('--chaos 503:1 fails every API request but not the metadata or the issuer', async () => {
    const chaotic = await startSandbox({insecureDemoTokens: true, quiet: true, chaos: '503:1'})
    try {
      for (let i = 0; i < 3; i++) assert.equal((await call(chaotic.apiUrl, '/api/v1/capsules', {token: chaotic.demoTokens.admin})).status, 503)
      assert.equal((await call(chaotic.apiUrl, '/.well-known/oauth-protected-resource')).status, 200)
      assert.equal((await call(chaotic.issuer, '/.well-known/openid-configuration')).status, 200)
    } finally {
      await chaotic.close()
    }
  })

  test('the same seed gives the same chaos sequence', async () => {
    const run = async () => {
      const s = await startSandbox({insecureDemoTokens: true, quiet: true, rateLimits: false, chaos: '503:0.5', seed: 9})
      try {
        const out: number[] = []
        for (let i = 0; i < 12; i++) out.push((await call(s.apiUrl, '/api/v1/capsules?size=1', {token: s.demoTokens.admin})).status)
        return out
      } finally {
        await s.close()
      }
    }
    const a = await run()
    assert.deepEqual(await run(), a)
    assert.ok(a.includes(503) && a.includes(200), String(a))
  })

  test('--latency fixed:80ms delays API answers', async () => {
    const slow = await startSandbox({insecureDemoTokens: true, quiet: true, latency: 'fixed:80ms'})
    try {
      const started = performance.now()
      assert.equal((await call(slow.apiUrl, '/api/v1/capsules/cap_01JD9Z8K2M', {token: slow.demoTokens.admin})).status, 200)
      assert.ok(performance.now() - started >= 75)
    } finally {
      await slow.close()
    }
  })

  test('a bad spec is refused with a clear message before anything listens', async () => {
    await assert.rejects(startSandbox({quiet: true, chaos: '503:0.5,reset:0.6'}), /add up to 1.1/)
    await assert.rejects(startSandbox({quiet: true, latency: 'fixed:20'}), /"20" is not a duration/)
    await assert.rejects(startSandbox({quiet: true, host: '0.0.0.0'}), /refusing to listen on 0.0.0.0/)
  })
})
