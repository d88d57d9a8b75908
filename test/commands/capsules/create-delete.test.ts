// capsules create and delete in-process against nock: the request sent, idempotency, replays,
// conflicts, local JSON checks and confirmation — and that a refused command sends nothing.
import assert from 'node:assert/strict'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, afterEach, before, describe, test} from 'node:test'
import nock from 'nock'
import {runInProcess} from '../../helpers/in-process.ts'
import {reply} from '../../helpers/nock-reply.ts'

const API = 'https://butterfly.example.com'
const env = () => ({BFLY_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'bfly-cmd-')), BFLY_API_URL: API, BFLY_TOKEN: 'tok-123'})
const meta = {requestId: 'req-1', timestamp: '2025-12-03T10:00:00Z'}
const created = {id: 'cap_new', scopeId: 'rim:entity:finance:EURUSD', timestamp: '2025-12-03T10:00:00Z', resolution: 60, version: 4, payload: {price: 1.0842}, createdAt: '2025-12-03T10:00:02Z', etag: 'kept'}
const base = ['capsules', 'create', '--scope-id', 'rim:entity:finance:EURUSD', '--timestamp', '2025-12-03T11:00:00+01:00']

before(() => nock.disableNetConnect())
after(() => nock.enableNetConnect())
afterEach(() => nock.cleanAll())

describe('capsules create', () => {
  test('POSTs the body with a generated Idempotency-Key; prints the created capsule as the API sent it', async () => {
    let key = ''
    const scope = nock(API, {reqheaders: {'content-type': 'application/json', 'idempotency-key': (v) => ((key = v), /^[0-9a-f-]{36}$/.test(v))}})
      .post('/api/v1/capsules', {scopeId: 'rim:entity:finance:EURUSD', timestamp: '2025-12-03T10:00:00Z', payload: {price: 1.0842}})
      .reply(...reply(201, {data: created, meta}))
    const r = await runInProcess([...base, '--payload', '{"price": 1.0842}', '--json'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), created)
    assert.equal(r.stderr, '')
    scope.done()
    const again = nock(API, {reqheaders: {'idempotency-key': (v) => v !== key}}).post('/api/v1/capsules').reply(...reply(201, {data: created, meta}))
    assert.equal((await runInProcess([...base, '--payload', '{"price": 1.0842}'], env())).code, 0)
    again.done()
  })

  test('--idempotency-key, --resolution and --payload @file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bfly-payload-'))
    writeFileSync(join(dir, 'payload.json'), '{\n  "price": 1.0842,\n  "regime": "calm"\n}\n')
    const scope = nock(API, {reqheaders: {'idempotency-key': 'order-42'}})
      .post('/api/v1/capsules', {scopeId: 'rim:entity:finance:EURUSD', timestamp: '2025-12-03T10:00:00Z', resolution: 300, payload: {price: 1.0842, regime: 'calm'}})
      .reply(...reply(201, {data: created, meta}))
    const r = await runInProcess([...base, '--payload', `@${join(dir, 'payload.json')}`, '--resolution', '300', '--idempotency-key', 'order-42'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^id\tcap_new\n/)
    scope.done()
  })

  test('a retried POST carries the same key, so the server can answer the repeat instead of creating twice', async () => {
    const keys: string[] = []
    const scope = nock(API, {reqheaders: {'idempotency-key': (v) => (keys.push(v), true)}})
      .post('/api/v1/capsules').reply(...reply(503, {error: {code: 'SERVICE_UNAVAILABLE', message: 'try again'}, meta}))
      .post('/api/v1/capsules').reply(...reply(201, {data: created, meta}))
    const r = await runInProcess([...base, '--payload', '{"price":1}'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.equal(keys.length, 2)
    assert.equal(keys[0], keys[1])
    scope.done()
  })

  test('a replayed response is reported on stderr; nothing new was created', async () => {
    const scope = nock(API).post('/api/v1/capsules').reply(...reply(201, {data: created, meta}, {'idempotent-replayed': 'true'}))
    const r = await runInProcess([...base, '--payload', '{"price":1}', '--idempotency-key', 'order-42', '--json'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), created)
    assert.match(JSON.parse(r.stderr).warning, /^replayed: the server answered with the result of an earlier create with Idempotency-Key order-42; nothing new was created$/)
    scope.done()
  })

  test('409: exit 6 with what to do', async () => {
    const scope = nock(API).post('/api/v1/capsules').reply(...reply(409, {error: {code: 'CONFLICT', message: 'Idempotency-Key reused with a different body'}, meta}))
    const r = await runInProcess([...base, '--payload', '{"price":2}', '--idempotency-key', 'order-42', '--json'], env())
    assert.equal(r.code, 6)
    assert.equal(r.stdout, '')
    const error = JSON.parse(r.stderr).error
    assert.equal(error.code, 'CONFLICT')
    assert.equal(error.status, 409)
    assert.match(error.hint, /Idempotency-Key order-42 was used before with a different body/)
    scope.done()
  })

  test('an unknown outcome (5xx after retries) says how to retry without creating twice', async () => {
    const scope = nock(API).post('/api/v1/capsules').times(2).reply(...reply(503, {error: {code: 'SERVICE_UNAVAILABLE', message: 'down'}, meta}))
    const r = await runInProcess([...base, '--payload', '{"price":2}', '--retries', '1'], env())
    assert.equal(r.code, 6)
    const key = /--idempotency-key ([0-9a-f-]{36})/.exec(r.stderr)?.[1]
    assert.ok(key, r.stderr)
    assert.match(r.stderr, /it may have been created: retry with `--idempotency-key [0-9a-f-]{36}` to be sure it is created once/)
    scope.done()
  })

  const refused: [string[], RegExp][] = [
    [['--payload', '{"price": 1.08,}'], /invalid JSON in --payload at line 1, column 16: Expected double-quoted property name/],
    [['--payload', '{"price":\n  tru}'], /invalid JSON in --payload at line 2, column 6/],
    [['--payload', '[1,2]'], /must be a JSON object, not an array/],
    [['--payload', '@/nonexistent/payload.json'], /cannot read --payload @\/nonexistent\/payload\.json: ENOENT/],
    [['--payload', '{}', '--idempotency-key', 'has spaces'], /invalid --idempotency-key/],
    [['--payload', '{}', '--resolution', '0'], /invalid --resolution "0"/],
  ]
  for (const [args, message] of refused) {
    test(`exit 2, nothing sent: ${args.join(' ').replace(/\n/g, '\\n')}`, async () => {
      const scope = nock(API).post(/.*/).reply(...reply(201, {data: created, meta}))
      const r = await runInProcess([...base, ...args], env())
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, message)
      assert.equal(scope.isDone(), false)
    })
  }

  test('missing or invalid scope and timestamp: exit 2, nothing sent', async () => {
    const scope = nock(API).post(/.*/).reply(...reply(201, {data: created, meta}))
    const missing = await runInProcess(['capsules', 'create', '--timestamp', 'now', '--payload', '{}'], env())
    assert.equal(missing.code, 2)
    assert.match(missing.stderr, /Missing required flag.*scope-id/)
    const scopeBad = await runInProcess(['capsules', 'create', '--scope-id', 'rim:x', '--timestamp', 'now', '--payload', '{}'], env())
    assert.equal(scopeBad.code, 2)
    assert.match(scopeBad.stderr, /invalid scope id "rim:x"/)
    const time = await runInProcess(['capsules', 'create', '--scope-id', 'rim:entity:finance:EURUSD', '--timestamp', 'noon', '--payload', '{}'], env())
    assert.equal(time.code, 2)
    assert.match(time.stderr, /invalid --timestamp "noon"/)
    assert.equal(scope.isDone(), false)
  })
})

describe('capsules delete', () => {
  test('not a terminal and no --yes: exit 2, nothing sent', async () => {
    const scope = nock(API).delete(/.*/).reply(204)
    const r = await runInProcess(['capsules', 'delete', 'cap_1'], env())
    assert.equal(r.code, 2)
    assert.match(r.stderr, /refusing to delete capsule cap_1 without confirmation: not a terminal — pass --yes/)
    assert.equal(scope.isDone(), false)
  })

  test('--yes deletes; the id is one path segment', async () => {
    const scope = nock(API).delete('/api/v1/capsules/cap_01JD9Z8K2M').reply(204, '', {'content-length': '0'})
    const r = await runInProcess(['capsules', 'delete', 'cap_01JD9Z8K2M', '--yes'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'deleted capsule cap_01JD9Z8K2M\n')
    scope.done()
    const json = nock(API).delete('/api/v1/capsules/cap_2').reply(204, '', {'content-length': '0'})
    const j = await runInProcess(['capsules', 'delete', 'cap_2', '-y', '--json'], env())
    assert.deepEqual(JSON.parse(j.stdout), {id: 'cap_2', deleted: true})
    json.done()
  })

  test('404: exit 4; an invalid id: exit 2 before asking or sending', async () => {
    const scope = nock(API).delete('/api/v1/capsules/cap_gone').reply(...reply(404, {error: {code: 'NOT_FOUND', message: 'capsule cap_gone not found'}, meta}))
    const r = await runInProcess(['capsules', 'delete', 'cap_gone', '--yes'], env())
    assert.equal(r.code, 4)
    assert.match(r.stderr, /capsule cap_gone not found \(request req-1\)/)
    scope.done()
    const none = nock(API).delete(/.*/).reply(204)
    const bad = await runInProcess(['capsules', 'delete', 'cap/1', '--yes'], env())
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /invalid capsule id "cap\/1"/)
    assert.equal(none.isDone(), false)
  })
})

describe('capsules get', () => {
  test('the id is validated and encoded; the API object comes back with unknown fields', async () => {
    const scope = nock(API).get('/api/v1/capsules/cap_new').reply(200, {data: created, meta})
    const r = await runInProcess(['capsules', 'get', 'cap_new', '--json'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), created)
    scope.done()
    const none = nock(API).get(/.*/).reply(200, {data: created, meta})
    const bad = await runInProcess(['capsules', 'get', '../admin'], env())
    assert.equal(bad.code, 2)
    assert.equal(none.isDone(), false)
  })
})
