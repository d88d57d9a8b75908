import assert from 'node:assert/strict'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, afterEach, before, describe, test} from 'node:test'
import nock from 'nock'
import {runInProcess} from '../../helpers/in-process.ts'
import {reply} from '../../helpers/nock-reply.ts'

const API = 'https://butterfly.example.com'
const env = () => ({BFLY_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'bfly-plans-')), BFLY_API_URL: API, BFLY_TOKEN: 'tok-plans'})
const meta = {requestId: 'req-plan', timestamp: '2025-12-03T10:00:00Z'}

describe('plans execute', () => {
  before(() => nock.disableNetConnect())
  after(() => nock.enableNetConnect())
  afterEach(() => nock.cleanAll())

  test('POSTs once with an idempotency key; --json prints the execution as the API gives it', async () => {
    const execution = {planId: 'plan_123', executionId: 'exe_9', status: 'RUNNING', extra: 'kept'}
    const scope = nock(API, {reqheaders: {authorization: 'Bearer tok-plans', 'idempotency-key': /^bfly-execute-[0-9a-f-]{36}$/}})
      .post('/api/v1/plans/plan_123/execute').reply(...reply(202, {data: execution, meta}))
    const r = await runInProcess(['plans', 'execute', 'plan_123', '--json'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), execution)
    scope.done()
  })

  test('a lost connection is retried with the same key: the plan starts once', async () => {
    const keys: string[] = []
    nock(API).post('/api/v1/plans/plan_1/execute').times(2).reply((req: Request) => {
      keys.push(String(req.headers.get('idempotency-key')))
      return keys.length === 1 ? reply(502, '<html>Bad Gateway</html>', {'content-type': 'text/html'}) : reply(202, {data: {planId: 'plan_1', executionId: 'exe_1', status: 'RUNNING'}, meta})
    })
    const r = await runInProcess(['plans', 'execute', 'plan_1'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.equal(keys.length, 2)
    assert.equal(keys[0], keys[1])
  })

  test('errors map to exit codes: 404 → 4, 403 → 3, 409 → 6, a bad id → 2 with nothing sent', async () => {
    nock(API).post('/api/v1/plans/nope/execute').reply(...reply(404, {error: {code: 'NOT_FOUND', message: 'Plan not found'}, meta}))
    assert.equal((await runInProcess(['plans', 'execute', 'nope'], env())).code, 4)
    nock(API).post('/api/v1/plans/p/execute').reply(...reply(403, {error: {code: 'FORBIDDEN', message: 'missing scope plans:execute'}, meta}))
    const f = await runInProcess(['plans', 'execute', 'p'], env())
    assert.equal(f.code, 3)
    assert.match(f.stderr, /missing scope plans:execute/)
    nock(API).post('/api/v1/plans/p/execute').reply(...reply(409, {error: {code: 'CONFLICT', message: 'Plan is already running'}, meta}))
    const c = await runInProcess(['plans', 'execute', 'p', '--json'], env())
    assert.equal(c.code, 6)
    assert.equal(JSON.parse(c.stderr.trim()).error.code, 'CONFLICT')
    const bad = await runInProcess(['plans', 'execute', 'has space'], env())
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /invalid plan id "has space"/)
  })

  test('no credentials: exit 3 before anything is sent', async () => {
    const r = await runInProcess(['plans', 'watch', 'plan_1'], {...env(), BFLY_TOKEN: undefined})
    assert.equal(r.code, 3)
    assert.match(r.stderr, /not logged in/)
  })
})
