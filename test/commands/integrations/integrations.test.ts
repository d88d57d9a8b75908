import assert from 'node:assert/strict'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, afterEach, before, describe, test} from 'node:test'
import nock from 'nock'
import {runInProcess} from '../../helpers/in-process.ts'
import {reply} from '../../helpers/nock-reply.ts'

const API = 'https://butterfly.example.com'
const env = () => ({BFLY_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'bfly-int-')), BFLY_API_URL: API, BFLY_TOKEN: 'tok-int'})
const meta = {requestId: 'req-int', timestamp: '2025-12-03T10:00:00Z'}
const err = (code: string, message: string) => ({error: {code, message}, meta})

const integrations = [
  {name: 'GitHubAPI', type: 'rest', status: 'healthy', circuit_state: 'closed', error_rate: 0.02, owner: 'kept'},
  {name: 'WeatherAPI', type: 'rest', status: 'unhealthy', circuit_state: 'open', error_rate: 0.61},
  {name: 'Search', type: 'graphql', status: 'degraded', circuit_state: 'half-open', error_rate: 0.12},
]

describe('integrations', () => {
  before(() => nock.disableNetConnect())
  after(() => nock.enableNetConnect())
  afterEach(() => nock.cleanAll())

  test('status: one row per integration, tab-separated in a pipe, no colour', async () => {
    const scope = nock(API, {reqheaders: {authorization: 'Bearer tok-int'}}).get('/integrations/status').reply(200, {integrations})
    const r = await runInProcess(['integrations', 'status'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(r.stdout.trim().split('\n'), [
      'GitHubAPI\trest\thealthy\tclosed\t2.0%',
      'WeatherAPI\trest\tunhealthy\topen\t61.0%',
      'Search\tgraphql\tdegraded\thalf-open\t12.0%',
    ])
    assert.doesNotMatch(r.stdout, /\u001B\[/)
    scope.done()
  })

  test('status --json: the list as the API gives it, unknown fields kept', async () => {
    const scope = nock(API).get('/integrations/status').reply(200, {integrations})
    const r = await runInProcess(['integrations', 'status', '--json'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), integrations)
    scope.done()
  })

  test('status --fail-on: exit 8 naming the offenders, after printing the data', async () => {
    const scope = nock(API).get('/integrations/status').times(3).reply(200, {integrations})
    const r = await runInProcess(['integrations', 'status', '--fail-on', 'unhealthy', '--json'], env())
    assert.equal(r.code, 8)
    assert.deepEqual(JSON.parse(r.stdout), integrations, 'the data is printed in full')
    const e = JSON.parse(r.stderr.trim()).error
    assert.equal(e.exitCode, 8)
    assert.equal(e.message, '1 integration failed --fail-on unhealthy: WeatherAPI (unhealthy)')

    const d = await runInProcess(['integrations', 'status', '--fail-on', 'degraded,open'], env())
    assert.equal(d.code, 8)
    assert.equal(d.stdout.trim().split('\n').length, 3)
    assert.match(d.stderr, /2 integrations failed --fail-on degraded,open: WeatherAPI \(unhealthy, circuit open\), Search \(degraded\)/)

    const open = await runInProcess(['integrations', 'status', '--fail-on', 'open'], env())
    assert.equal(open.code, 8, 'WeatherAPI has its circuit open')
    assert.match(open.stderr, /WeatherAPI \(circuit open\)/)
    scope.done()
  })

  test('status --fail-on passes when all are well; a bad value is exit 2 before any request', async () => {
    const scope = nock(API).get('/integrations/status').reply(200, {integrations: [integrations[0]]})
    const r = await runInProcess(['integrations', 'status', '--fail-on', 'degraded', '--fail-on', 'open'], env())
    assert.equal(r.code, 0, r.stderr)
    scope.done()
    const bad = await runInProcess(['integrations', 'status', '--fail-on', 'sick'], env())
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /invalid --fail-on "sick"/)
  })

  test('status: a body without the list is exit 1, a 503 after retries is exit 6, a 403 is exit 3', async () => {
    nock(API).get('/integrations/status').reply(200, {items: []})
    const bad = await runInProcess(['integrations', 'status'], env())
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /without an "integrations" list/)
    nock(API).get('/integrations/status').times(4).reply(503, err('SERVICE_UNAVAILABLE', 'integrations module down'))
    const down = await runInProcess(['integrations', 'status', '--retries', '3'], env())
    assert.equal(down.code, 6)
    assert.match(down.stderr, /integrations module down \(after 3 retries\)/)
    nock(API).get('/integrations/status').reply(403, err('FORBIDDEN', 'missing scope integrations:read'))
    const forbidden = await runInProcess(['integrations', 'status'], env())
    assert.equal(forbidden.code, 3)
  })

  test('health: latency, success rate, last error', async () => {
    const health = {name: 'GitHubAPI', status: 'degraded', circuit_state: 'closed', latency_p50: 120, latency_p99: 450.4, success_rate: 0.981, last_error: 'HTTP 502 from upstream'}
    const scope = nock(API).get('/integrations/GitHubAPI/health').reply(200, health)
    const r = await runInProcess(['integrations', 'health', 'GitHubAPI'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(r.stdout.trim().split('\n'), [
      'name\tGitHubAPI', 'status\tdegraded', 'circuit\tclosed', 'latencyP50\t120 ms', 'latencyP99\t450 ms', 'successRate\t98.1%', 'lastError\tHTTP 502 from upstream',
    ])
    scope.done()
    nock(API).get('/integrations/GitHubAPI/health').reply(200, health)
    const j = await runInProcess(['integrations', 'health', 'GitHubAPI', '--json'], env())
    assert.deepEqual(JSON.parse(j.stdout), health)
  })

  test('health: an unknown name is exit 4 with a next step; names are one encoded path segment', async () => {
    const scope = nock(API).get('/integrations/No%2FSuch/health').reply(404, err('NOT_FOUND', 'Integration not found'))
    const r = await runInProcess(['integrations', 'health', 'No/Such', '--json'], env())
    assert.equal(r.code, 4)
    assert.equal(r.stdout, '')
    const e = JSON.parse(r.stderr.trim()).error
    assert.equal(e.code, 'NOT_FOUND')
    assert.match(e.hint, /bfly integrations status/)
    scope.done()
  })

  test('reset: not on a terminal and no --yes → exit 2 and nothing sent', async () => {
    // No interceptor: any request would fail the test with a network error (exit 7), not 2.
    const r = await runInProcess(['integrations', 'reset', 'WeatherAPI'], env())
    assert.equal(r.code, 2)
    assert.match(r.stderr, /refusing to reset the circuit of WeatherAPI without confirmation: not a terminal — pass --yes/)
    assert.equal(r.stdout, '')
  })

  test('reset --yes: an admin POST with an idempotency key; prints previous → new state', async () => {
    const body = {name: 'WeatherAPI', previous_state: 'open', circuit_state: 'closed', reset_at: '2025-12-03T10:00:00Z'}
    const scope = nock(API, {reqheaders: {authorization: 'Bearer tok-int', 'idempotency-key': /^bfly-circuit-reset-/}})
      .post('/integrations/WeatherAPI/circuit/reset').reply(...reply(200, body))
    const r = await runInProcess(['integrations', 'reset', 'WeatherAPI', '--yes'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim(), 'WeatherAPI: circuit open → closed (reset at 2025-12-03T10:00:00Z)')
    scope.done()
    nock(API).post('/integrations/WeatherAPI/circuit/reset').reply(...reply(200, body))
    const j = await runInProcess(['integrations', 'reset', 'WeatherAPI', '-y', '--json'], env())
    assert.deepEqual(JSON.parse(j.stdout), body)
  })

  test('reset: without the admin scope exit 3; unknown exit 4; the admin budget is its own bucket', async () => {
    nock(API).post('/integrations/WeatherAPI/circuit/reset').reply(...reply(403, err('FORBIDDEN', 'missing scope integrations:admin'), {'www-authenticate': 'Bearer error="insufficient_scope", scope="integrations:admin"'}))
    const r = await runInProcess(['integrations', 'reset', 'WeatherAPI', '--yes'], env())
    assert.equal(r.code, 3)
    assert.match(r.stderr, /missing scope integrations:admin/)
    nock(API).post('/integrations/Nope/circuit/reset').reply(...reply(404, err('NOT_FOUND', 'Integration not found')))
    const n = await runInProcess(['integrations', 'reset', 'Nope', '--yes'], env())
    assert.equal(n.code, 4)

    const dir = env()
    nock(API).post('/integrations/WeatherAPI/circuit/reset').reply(...reply(200, {name: 'WeatherAPI', previous_state: 'open', circuit_state: 'closed'}, {'x-ratelimit-limit': '100', 'x-ratelimit-remaining': '41', 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 60)}))
    await runInProcess(['integrations', 'reset', 'WeatherAPI', '--yes'], dir)
    const {readFileSync} = await import('node:fs')
    const buckets = JSON.parse(readFileSync(join(dir.BFLY_CONFIG_DIR, 'state', 'default', 'buckets.json'), 'utf8')).buckets
    assert.ok(buckets['butterfly.example.com|admin'], 'the reset took a token from the admin budget')
    assert.equal(Math.floor(buckets['butterfly.example.com|admin'].tokens), 41)
  })
})
