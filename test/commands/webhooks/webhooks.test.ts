import assert from 'node:assert/strict'
import {createHmac} from 'node:crypto'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, afterEach, before, describe, test} from 'node:test'
import nock from 'nock'
import {runInProcess} from '../../helpers/in-process.ts'
import {reply} from '../../helpers/nock-reply.ts'

const API = 'https://butterfly.example.com'
const tmp = () => mkdtempSync(join(tmpdir(), 'bfly-wh-'))
const env = () => ({BFLY_CONFIG_DIR: tmp(), BFLY_API_URL: API, BFLY_TOKEN: 'tok-wh'})
const meta = {requestId: 'req-wh', timestamp: '2025-12-03T10:00:00Z'}
const err = (code: string, message: string) => ({error: {code, message}, meta})
const recent = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString()

const delivery = (id: string, extra: Record<string, unknown> = {}) => ({
  id, webhook_id: 'wh_1', event_type: 'order.created', status: 'failed', attempts: 5, max_attempts: 5,
  last_attempt_at: recent(10), next_attempt_at: null, response_status_code: 503, duration_ms: 234, error: 'upstream returned 503', created_at: recent(300), ...extra,
})
const page = (items: unknown[], n: number, totalPages: number, size = 100) => ({deliveries: items, meta: {pagination: {page: n, size, totalElements: items.length, totalPages}}})

describe('webhooks', () => {
  before(() => nock.disableNetConnect())
  after(() => nock.enableNetConnect())
  afterEach(() => nock.cleanAll())

  test('list: rows in a pipe, the list with --json', async () => {
    const hooks = [{id: 'wh_1', name: 'orders', url: 'https://shop.example/hooks', events: ['order.created', 'order.paid'], is_active: true, is_healthy: false}]
    nock(API).get('/webhooks').times(2).reply(200, {webhooks: hooks})
    const r = await runInProcess(['webhooks', 'list'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'wh_1\torders\thttps://shop.example/hooks\torder.created,order.paid\tyes\tno\n')
    const j = await runInProcess(['webhooks', 'list', '--json'], env())
    assert.deepEqual(JSON.parse(j.stdout), hooks)
  })

  test('deliveries: the bare document is paged with its own pagination block; --status goes to the server', async () => {
    const scope = nock(API)
      .get('/webhooks/wh_1/deliveries').query({status: 'failed', page: 0, size: 100}).reply(200, page([delivery('d1'), delivery('d2')], 0, 2))
      .get('/webhooks/wh_1/deliveries').query({status: 'failed', page: 1, size: 100}).reply(200, page([delivery('d2'), delivery('d3')], 1, 2))
    const r = await runInProcess(['webhooks', 'deliveries', 'wh_1', '--status', 'failed', '--all', '--json'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout).map((d: {id: string}) => d.id), ['d1', 'd2', 'd3'], 'de-duplicated across shifted pages')
    scope.done()
  })

  test('deliveries: one page by default; --since filters on the last attempt; --limit stops', async () => {
    nock(API).get('/webhooks/wh_1/deliveries').query({page: 0}).reply(200, page([delivery('old', {last_attempt_at: recent(300)}), delivery('new')], 0, 5, 20))
    const r = await runInProcess(['webhooks', 'deliveries', 'wh_1', '--since', '2h', '--columns', 'id,status,attempts'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'new\tfailed\t5/5\n')
    nock(API).get('/webhooks/wh_1/deliveries').query({page: 0, size: 100}).reply(200, page([delivery('a'), delivery('b'), delivery('c')], 0, 9))
    const l = await runInProcess(['webhooks', 'deliveries', 'wh_1', '--limit', '2', '--ndjson'], env())
    assert.deepEqual(l.stdout.trim().split('\n').map((x) => JSON.parse(x).id), ['a', 'b'])
  })

  test('deliveries: bad status or since → exit 2 before any request; unknown webhook → exit 4; a body without the list → exit 1', async () => {
    const s = await runInProcess(['webhooks', 'deliveries', 'wh_1', '--status', 'broken'], env())
    assert.equal(s.code, 2)
    assert.match(s.stderr, /invalid --status "broken": choose from pending, delivered, failed, dead_lettered/)
    const t = await runInProcess(['webhooks', 'deliveries', 'wh_1', '--since', 'yesterday'], env())
    assert.equal(t.code, 2)
    nock(API).get('/webhooks/wh_9/deliveries').query(true).reply(404, err('NOT_FOUND', 'Webhook not found'))
    const n = await runInProcess(['webhooks', 'deliveries', 'wh_9'], env())
    assert.equal(n.code, 4)
    nock(API).get('/webhooks/wh_1/deliveries').query(true).reply(200, {data: []})
    const b = await runInProcess(['webhooks', 'deliveries', 'wh_1'], env())
    assert.equal(b.code, 1)
    assert.match(b.stderr, /without a "deliveries" list/)
  })

  test('test: POSTs a test delivery and shows it', async () => {
    const d = delivery('dlv_t', {event_type: 'webhook.test', status: 'pending', attempts: 0})
    const scope = nock(API).post('/webhooks/wh_1/test').reply(...reply(201, d))
    const r = await runInProcess(['webhooks', 'test', 'wh_1', '--json'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), d)
    scope.done()
    nock(API).post('/webhooks/nope/test').reply(...reply(404, err('NOT_FOUND', 'Webhook not found')))
    assert.equal((await runInProcess(['webhooks', 'test', 'nope'], env())).code, 4)
  })
})

describe('webhooks retry', () => {
  before(() => nock.disableNetConnect())
  after(() => nock.enableNetConnect())
  afterEach(() => nock.cleanAll())

  test('ids: each POST keyed by the delivery; the report says retried / skipped / failed; exit 9 with --json shape', async () => {
    const keys: Record<string, string> = {}
    const scope = nock(API)
      .post('/webhooks/deliveries/d1/retry').reply((req: Request) => {
        keys.d1 = String(req.headers.get('idempotency-key'))
        return reply(202, {id: 'd1', status: 'pending', attempts: 6, queued_at: '2025-12-03T10:00:00Z'})
      })
      .post('/webhooks/deliveries/d2/retry').reply(...reply(409, err('CONFLICT', 'Delivery is already pending')))
      .post('/webhooks/deliveries/d3/retry').reply(...reply(404, err('NOT_FOUND', 'Delivery not found')))
    const r = await runInProcess(['webhooks', 'retry', 'd1', 'd2', 'd3', 'd1', '--json'], env())
    assert.equal(r.code, 9, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), {
      retried: [{id: 'd1', status: 'pending', attempts: 6, queued_at: '2025-12-03T10:00:00Z'}],
      skipped: [{id: 'd2', reason: 'Delivery is already pending', code: 'CONFLICT', status: 409}],
      failed: [{id: 'd3', error: 'Delivery not found', code: 'NOT_FOUND', status: 404, requestId: 'req-wh'}],
      notStarted: [],
    })
    assert.equal(keys.d1, 'bfly-retry-d1')
    const e = JSON.parse(r.stderr.trim()).error
    assert.equal(e.code, 'PARTIAL_FAILURE')
    assert.equal(e.exitCode, 9)
    scope.done()
  })

  test('ids: human report in a pipe is tab-separated rows; all good → exit 0', async () => {
    nock(API).post('/webhooks/deliveries/d1/retry').reply(...reply(202, {id: 'd1', status: 'pending', attempts: 6, queued_at: '2025-12-03T10:00:00Z'}))
    nock(API).post('/webhooks/deliveries/d2/retry').reply(...reply(202, {id: 'd2', status: 'pending', attempts: 2}, {'idempotent-replayed': 'true'}))
    const r = await runInProcess(['webhooks', 'retry', 'd1', 'd2'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(r.stdout.trim().split('\n'), [
      'retried\td1\tqueued 2025-12-03T10:00:00Z after 6 attempts',
      'skipped\td2\talready retried by an earlier run (the server replayed its answer)',
    ])
  })

  test('ids with --webhook: keys carry the attempt count looked up there; ids not of that webhook are skipped unsent', async () => {
    nock(API).get('/webhooks/wh_1/deliveries').query({page: 0, size: 100}).reply(200, page([delivery('d1', {attempts: 3}), delivery('d7')], 0, 1))
    const scope = nock(API, {reqheaders: {'idempotency-key': 'bfly-retry-d1-attempt-3'}}).post('/webhooks/deliveries/d1/retry').reply(...reply(202, {id: 'd1', status: 'pending', attempts: 3}))
    const r = await runInProcess(['webhooks', 'retry', 'd1', 'dX', '--webhook', 'wh_1', '--json'], env())
    assert.equal(r.code, 0, r.stderr)
    const out = JSON.parse(r.stdout)
    assert.deepEqual(out.retried.map((x: {id: string}) => x.id), ['d1'])
    assert.deepEqual(out.skipped, [{id: 'dX', reason: 'not a delivery of webhook wh_1'}])
    scope.done()
  })

  test('bulk without --yes on a non-terminal: exit 2 and nothing sent, not even the listing', async () => {
    const r = await runInProcess(['webhooks', 'retry', '--webhook', 'wh_1', '--status', 'failed'], env())
    assert.equal(r.code, 2)
    assert.match(r.stderr, /refusing to retry the failed deliveries of wh_1 without confirmation: not a terminal — pass --yes/)
    assert.equal(r.stdout, '')
  })

  test('bulk --dry-run lists what would be retried (after --since) and sends no POST', async () => {
    const scope = nock(API).get('/webhooks/wh_1/deliveries').query({status: 'dead_lettered', page: 0, size: 100})
      .reply(200, page([delivery('d1', {status: 'dead_lettered'}), delivery('d2', {status: 'dead_lettered', last_attempt_at: recent(500)}), delivery('d3', {status: 'delivered'})], 0, 1))
    const r = await runInProcess(['webhooks', 'retry', '--webhook', 'wh_1', '--status', 'dead_lettered', '--since', '2h', '--dry-run', '--json'], env())
    assert.equal(r.code, 0, r.stderr)
    const out = JSON.parse(r.stdout)
    assert.equal(out.dryRun, true)
    assert.deepEqual(out.wouldRetry.map((t: {id: string; attempts: number}) => [t.id, t.attempts]), [['d1', 5]], 'older ones and other states left out')
    scope.done()
    nock(API).get('/webhooks/wh_1/deliveries').query(true).reply(200, page([delivery('d1')], 0, 1))
    const h = await runInProcess(['webhooks', 'retry', '--webhook', 'wh_1', '--status', 'failed', '--dry-run'], env())
    assert.match(h.stdout, /^would retry\td1\torder\.created, failed, 5 attempts, last /)
  })

  test('bulk --yes: lists every page first, then retries each at most once with its attempt key', async () => {
    const list = nock(API)
      .get('/webhooks/wh_1/deliveries').query({status: 'failed', page: 0, size: 100}).reply(200, page([delivery('d1'), delivery('d2', {attempts: 2})], 0, 2))
      .get('/webhooks/wh_1/deliveries').query({status: 'failed', page: 1, size: 100}).reply(200, page([delivery('d3', {attempts: 4})], 1, 2))
    const seen: string[] = []
    const posts = nock(API).post(/\/webhooks\/deliveries\/d\d\/retry/).times(3).reply((req: Request) => {
      const id = new URL(req.url).pathname.split('/')[3]
      seen.push(`${id} ${req.headers.get('idempotency-key')}`)
      return reply(202, {id, status: 'pending'})
    })
    const r = await runInProcess(['webhooks', 'retry', '--webhook', 'wh_1', '--status', 'failed', '--yes', '--concurrency', '2', '--json'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(seen.sort(), ['d1 bfly-retry-d1-attempt-5', 'd2 bfly-retry-d2-attempt-2', 'd3 bfly-retry-d3-attempt-4'])
    assert.equal(JSON.parse(r.stdout).retried.length, 3)
    list.done()
    posts.done()
  })

  test('bulk with nothing to retry: exit 0, no confirmation needed', async () => {
    nock(API).get('/webhooks/wh_1/deliveries').query(true).reply(200, page([], 0, 0))
    const r = await runInProcess(['webhooks', 'retry', '--webhook', 'wh_1', '--status', 'failed', '--yes'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim(), 'nothing to retry: no failed deliveries of wh_1')
  })

  test('a 503 on a retry is retried by the client with the same key (safe: it is idempotent)', async () => {
    const keys: string[] = []
    nock(API).post('/webhooks/deliveries/d1/retry').times(2).reply((req: Request) => {
      keys.push(String(req.headers.get('idempotency-key')))
      return keys.length === 1 ? reply(503, err('SERVICE_UNAVAILABLE', 'busy')) : reply(202, {id: 'd1', status: 'pending'})
    })
    const r = await runInProcess(['webhooks', 'retry', 'd1', '--json'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(keys, ['bfly-retry-d1', 'bfly-retry-d1'])
  })

  test('usage errors: nothing selected, --status with ids, --webhook without --status, a bad concurrency', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['webhooks', 'retry'], /which deliveries\?/],
      [['webhooks', 'retry', 'd1', '--status', 'failed'], /--status and --since select deliveries in bulk/],
      [['webhooks', 'retry', '--webhook', 'wh_1'], /bulk retry needs --status/],
      [['webhooks', 'retry', '--webhook', 'wh_1', '--status', 'delivered'], /Expected --status=delivered to be one of: failed, dead_lettered/],
      [['webhooks', 'retry', 'd1', '--concurrency', '99'], /concurrency/],
    ]
    for (const [argv, message] of cases) {
      const r = await runInProcess(argv, env())
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, message)
    }
  })

  test('a 401 on a retry stops the run: exit 3, the rest reported not started', async () => {
    nock(API).post('/webhooks/deliveries/d1/retry').reply(...reply(401, err('UNAUTHORIZED', 'token expired'), {'www-authenticate': 'Bearer error="invalid_token"'}))
    const r = await runInProcess(['webhooks', 'retry', 'd1', 'd2', 'd3', '--concurrency', '1', '--json'], env())
    assert.equal(r.code, 3)
    const out = JSON.parse(r.stdout)
    assert.deepEqual(out.notStarted, ['d2', 'd3'])
    assert.match(JSON.parse(r.stderr.trim()).error.hint, /2 not started/)
  })
})

describe('webhooks verify', () => {
  const secret = 'whsec_cmd_test'
  const body = '{"id":"evt_1","type":"order.created"}\n'
  const ts = () => String(Math.floor(Date.now() / 1000))
  const sign = (t: string, b = body, s = secret) => 'sha256=' + createHmac('sha256', s).update(`${t}.${b}`).digest('hex')

  test('valid from a file: exit 0; the raw bytes count, trailing newline included', async () => {
    const file = join(tmp(), 'body.json')
    writeFileSync(file, body)
    const t = ts()
    const r = await runInProcess(['webhooks', 'verify', '--secret-env', 'HOOK_SECRET', '--timestamp', t, '--signature', sign(t), '--file', file, '--json'], {...env(), HOOK_SECRET: secret})
    assert.equal(r.code, 0, r.stderr)
    const out = JSON.parse(r.stdout)
    assert.equal(out.valid, true)
    assert.equal(out.bytes, Buffer.byteLength(body))
    const trimmed = await runInProcess(['webhooks', 'verify', '--secret-env', 'HOOK_SECRET', '--timestamp', t, '--signature', sign(t, body.trim()), '--file', file], {...env(), HOOK_SECRET: secret})
    assert.equal(trimmed.code, 8)
  })

  test('invalid: exit 8 with the reason; stale: exit 8; --tolerance widens the window', async () => {
    const file = join(tmp(), 'body.json')
    writeFileSync(file, body)
    const t = ts()
    const bad = await runInProcess(['webhooks', 'verify', '--secret-env', 'HOOK_SECRET', '--timestamp', t, '--signature', sign(t, body, 'whsec_other'), '--file', file], {...env(), HOOK_SECRET: secret})
    assert.equal(bad.code, 8)
    assert.equal(bad.stdout, 'invalid\n')
    assert.match(bad.stderr, /webhook signature check failed: signature does not match/)
    const old = String(Number(t) - 600)
    const stale = await runInProcess(['webhooks', 'verify', '--secret-env', 'HOOK_SECRET', '--timestamp', old, '--signature', sign(old), '--file', file, '--json'], {...env(), HOOK_SECRET: secret})
    assert.equal(stale.code, 8)
    assert.equal(JSON.parse(stale.stdout).valid, false)
    assert.match(JSON.parse(stale.stderr.trim()).error.message, /stale timestamp: 60\d s old, beyond the 300 s tolerance/)
    const wide = await runInProcess(['webhooks', 'verify', '--secret-env', 'HOOK_SECRET', '--timestamp', old, '--signature', sign(old), '--file', file, '--tolerance', '15m'], {...env(), HOOK_SECRET: secret})
    assert.equal(wide.code, 0, wide.stderr)
  })

  test('the secret comes only from the named variable: unset → exit 2; a missing file → exit 2', async () => {
    const t = ts()
    const r = await runInProcess(['webhooks', 'verify', '--secret-env', 'HOOK_SECRET', '--timestamp', t, '--signature', sign(t), '--file', '/nonexistent/body'], env())
    assert.equal(r.code, 2)
    assert.match(r.stderr, /environment variable HOOK_SECRET is not set/)
    const f = await runInProcess(['webhooks', 'verify', '--secret-env', 'HOOK_SECRET', '--timestamp', t, '--signature', sign(t), '--file', '/nonexistent/body'], {...env(), HOOK_SECRET: secret})
    assert.equal(f.code, 2)
    assert.match(f.stderr, /cannot read \/nonexistent\/body: no such file/)
  })
})
