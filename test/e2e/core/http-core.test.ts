// The HTTP core end to end: bin/run.js against a scripted loopback server.
import assert from 'node:assert/strict'
import {after, before, beforeEach, describe, test} from 'node:test'
import {envelope, errorBody, json, raw, startServer, type TestServer} from '../../helpers/api-server.ts'
import {runCli, tempConfigDir} from '../../helpers/cli.ts'

const capsule = {id: 'cap_1', scopeId: 'rim:entity:finance:EURUSD', timestamp: '2025-12-03T10:00:00Z', version: 3, payload: {price: 1.0842}, extra: 'kept'}

describe('capsules get through the HTTP core', () => {
  let server: TestServer
  let env: Record<string, string>
  before(async () => {
    server = await startServer()
  })
  after(() => server.close())
  beforeEach(() => {
    server.requests.length = 0
    env = {BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: server.url, BFLY_TOKEN: 'secret-token-abc'}
  })

  test('returns the capsule with unknown fields kept, and sends the contract headers', async () => {
    server.queue(json(200, envelope(capsule)))
    const r = await runCli(['capsules', 'get', 'cap_1', '--json'], {env})
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), capsule)
    const req = server.requests[0]
    assert.equal(req.url, '/api/v1/capsules/cap_1')
    assert.equal(req.headers.authorization, 'Bearer secret-token-abc')
    assert.match(String(req.headers['x-request-id']), /^req-[0-9a-f-]{36}$/)
    assert.match(String(req.headers['x-correlation-id']), /^cor-/)
    assert.match(String(req.headers.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
    assert.match(String(req.headers['user-agent']), /^bfly\/\d+\.\d+\.\d+ \(linux; node\/\d+/)
    assert.equal(req.headers.accept, 'application/json')
  })

  test('retries a 503 with the same request id, a new span, and succeeds', async () => {
    server.queue(json(503, errorBody('SERVICE_UNAVAILABLE', 'down')), json(503, errorBody('SERVICE_UNAVAILABLE', 'down')), json(200, envelope(capsule)))
    const r = await runCli(['capsules', 'get', 'cap_1', '--correlation-id', 'cor-fixed'], {env})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(server.requests.length, 3)
    const ids = new Set(server.requests.map((q) => q.headers['x-request-id']))
    assert.equal(ids.size, 1, 'one logical request keeps its X-Request-ID')
    const spans = new Set(server.requests.map((q) => String(q.headers.traceparent).split('-')[2]))
    assert.equal(spans.size, 3, 'each attempt gets its own span id')
    const traces = new Set(server.requests.map((q) => String(q.headers.traceparent).split('-')[1]))
    assert.equal(traces.size, 1)
    assert.ok(server.requests.every((q) => q.headers['x-correlation-id'] === 'cor-fixed'))
    assert.match(r.stdout, /cap_1/)
  })

  test('gives up after the retries with exit 6 and the request id', async () => {
    for (let i = 0; i < 4; i++) server.queue(json(503, errorBody('SERVICE_UNAVAILABLE', 'backend down')))
    const r = await runCli(['capsules', 'get', 'cap_1', '--json'], {env})
    assert.equal(r.code, 6)
    assert.equal(r.stdout, '')
    assert.equal(server.requests.length, 4)
    const err = JSON.parse(r.stderr.trim().split('\n').at(-1)!)
    assert.equal(err.error.code, 'SERVICE_UNAVAILABLE')
    assert.equal(err.error.status, 503)
    assert.equal(err.error.exitCode, 6)
    assert.equal(err.error.requestId, 'req-server')
  })

  test('--retries 0 sends exactly one request', async () => {
    server.queue(json(503, errorBody('SERVICE_UNAVAILABLE', 'down')))
    const r = await runCli(['capsules', 'get', 'cap_1', '--retries', '0'], {env})
    assert.equal(r.code, 6)
    assert.equal(server.requests.length, 1)
  })

  test('honours a short Retry-After on 429 and fails fast (exit 5) on a long one', async () => {
    server.queue(json(429, errorBody('RATE_LIMITED', 'Too many requests'), {'retry-after': '0'}), json(200, envelope(capsule)))
    const ok = await runCli(['capsules', 'get', 'cap_1'], {env})
    assert.equal(ok.code, 0, ok.stderr)
    assert.equal(server.requests.length, 2)
    server.requests.length = 0
    server.queue(json(429, errorBody('RATE_LIMITED', 'Too many requests'), {'retry-after': '120'}))
    const started = Date.now()
    const r = await runCli(['capsules', 'get', 'cap_1'], {env})
    assert.equal(r.code, 5)
    assert.ok(Date.now() - started < 10_000, 'does not wait 120 s')
    assert.equal(server.requests.length, 1)
    assert.match(r.stderr, /rate limited, retry after 120 s/)
  })

  test('a POST without an Idempotency-Key is never retried', async () => {
    server.queue(json(503, errorBody('SERVICE_UNAVAILABLE', 'down')))
    const r = await runCli(['api', '/api/v1/capsules', '-X', 'POST', '-f', 'scopeId=rim:a:b:c'], {env})
    assert.equal(r.code, 6)
    assert.equal(server.requests.length, 1)
  })

  test('404 exits 4 with the server message', async () => {
    server.queue(json(404, errorBody('NOT_FOUND', 'Capsule not found')))
    const r = await runCli(['capsules', 'get', 'cap_404'], {env})
    assert.equal(r.code, 4)
    assert.match(r.stderr, /Capsule not found \(request req-server\)/)
  })

  test('an HTML 502 from a proxy is a clear one-line error, exit 6', async () => {
    for (let i = 0; i < 4; i++) server.queue(raw(502, '<html><body>Bad Gateway</body></html>', {'content-type': 'text/html'}))
    const r = await runCli(['capsules', 'get', 'cap_1'], {env})
    assert.equal(r.code, 6)
    assert.match(r.stderr, /HTTP 502 bad gateway from 127\.0\.0\.1:\d+ \(an HTML page/)
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace')
  })

  test('a truncated 200 body is exit 1, an empty one too', async () => {
    server.queue(raw(200, '{"data":{"id":"cap_1"', {'content-type': 'application/json'}))
    const r = await runCli(['capsules', 'get', 'cap_1'], {env})
    assert.equal(r.code, 1)
    assert.match(r.stderr, /truncated or malformed JSON/)
    server.queue(raw(200, '', {'content-type': 'application/json'}))
    const e = await runCli(['capsules', 'get', 'cap_1'], {env})
    assert.equal(e.code, 1)
    assert.match(e.stderr, /empty body/)
  })

  test('an invalid id sends nothing and exits 2', async () => {
    const r = await runCli(['capsules', 'get', 'no/slash', '--json'], {env})
    assert.equal(r.code, 2)
    assert.equal(r.stdout, '')
    assert.equal(server.requests.length, 0)
    assert.match(JSON.parse(r.stderr).error.message, /must match/)
  })

  test('no credentials: exit 3 and nothing sent', async () => {
    const r = await runCli(['capsules', 'get', 'cap_1'], {env: {...env, BFLY_TOKEN: undefined}})
    assert.equal(r.code, 3)
    assert.match(r.stderr, /not logged in — run `bfly login`/)
    assert.equal(server.requests.length, 0)
  })

  test('API key goes in X-API-Key; --verbose redacts it and the token', async () => {
    server.queue(json(200, envelope(capsule)))
    const r = await runCli(['capsules', 'get', 'cap_1', '--verbose'], {env: {...env, BFLY_TOKEN: undefined, BUTTERFLY_API_KEY: 'key-very-secret'}})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(server.requests[0].headers['x-api-key'], 'key-very-secret')
    assert.match(r.stderr, /→ GET/)
    assert.match(r.stderr, /← 200/)
    assert.doesNotMatch(r.stderr, /key-very-secret/)
    assert.doesNotMatch(r.stdout, /key-very-secret/)
  })

  test('credentials are never sent over plain http to a non-loopback host', async () => {
    const r = await runCli(['capsules', 'get', 'cap_1', '--api-url', 'http://butterfly.invalid'], {env})
    assert.equal(r.code, 2)
    assert.match(r.stderr, /refusing to send credentials over plain http/)
  })

  test('a redirect to another origin drops X-API-Key', async () => {
    const other = await startServer()
    try {
      other.queue(json(200, envelope(capsule)))
      server.queue(raw(302, '', {location: `${other.url.replace('127.0.0.1', 'localhost')}/api/v1/capsules/cap_1`}))
      const r = await runCli(['capsules', 'get', 'cap_1'], {env: {...env, BFLY_TOKEN: undefined, BUTTERFLY_API_KEY: 'key-x'}})
      assert.equal(r.code, 0, r.stderr)
      assert.equal(other.requests.length, 1)
      assert.equal(other.requests[0].headers['x-api-key'], undefined)
      assert.equal(other.requests[0].headers.authorization, undefined)
    } finally {
      await other.close()
    }
  })

  test('connection refused is exit 7', async () => {
    const r = await runCli(['capsules', 'get', 'cap_1', '--api-url', 'http://127.0.0.1:1', '--retries', '1'], {env})
    assert.equal(r.code, 7)
    assert.match(r.stderr, /connection refused by 127\.0\.0\.1:1/)
  })

  test('the circuit opens after 5 failures and then fails fast across invocations', async () => {
    server.fallback = json(500, errorBody('INTERNAL_ERROR', 'boom'))
    try {
      const first = await runCli(['capsules', 'get', 'cap_1', '--retries', '4'], {env})
      assert.equal(first.code, 6)
      assert.equal(server.requests.length, 5)
      const second = await runCli(['capsules', 'get', 'cap_1', '--json'], {env})
      assert.equal(second.code, 6)
      assert.equal(server.requests.length, 5, 'nothing sent while open')
      assert.equal(JSON.parse(second.stderr).error.code, 'CIRCUIT_OPEN')
      assert.match(JSON.parse(second.stderr).error.message, /circuit open for 127\.0\.0\.1:\d+, next probe in \d+ s/)
      const status = await runCli(['circuit', 'status', '--json'], {env})
      assert.equal(status.code, 0)
      const rows = JSON.parse(status.stdout)
      assert.equal(rows[0].state, 'open')
      assert.equal(rows[0].failures, 5)
      const reset = await runCli(['circuit', 'reset'], {env})
      assert.equal(reset.code, 0, reset.stderr)
      server.fallback = json(200, envelope(capsule))
      const third = await runCli(['capsules', 'get', 'cap_1'], {env})
      assert.equal(third.code, 0, third.stderr)
    } finally {
      server.fallback = json(404, errorBody('NOT_FOUND', 'no handler queued'))
    }
  })
})
