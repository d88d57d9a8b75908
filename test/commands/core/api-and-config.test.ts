import assert from 'node:assert/strict'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, afterEach, before, describe, test} from 'node:test'
import nock from 'nock'
import {runInProcess} from '../../helpers/in-process.ts'
import {reply} from '../../helpers/nock-reply.ts'

const API = 'https://butterfly.example.com'
const dir = () => mkdtempSync(join(tmpdir(), 'bfly-cmd-'))
const meta = (extra = {}) => ({requestId: 'req-1', timestamp: '2025-12-03T10:00:00Z', ...extra})

describe('bfly api', () => {
  before(() => nock.disableNetConnect())
  after(() => nock.enableNetConnect())
  afterEach(() => nock.cleanAll())
  const env = () => ({BFLY_CONFIG_DIR: dir(), BFLY_API_URL: API, BFLY_TOKEN: 'tok-123'})

  test('GET prints the body as is, with the bearer and contract headers', async () => {
    const scope = nock(API, {reqheaders: {authorization: 'Bearer tok-123', 'x-request-id': /^req-/, accept: 'application/json'}})
      .get('/integrations/status').reply(200, {integrations: []}, {'content-type': 'application/json'})
    const r = await runInProcess(['api', '/integrations/status'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim(), '{"integrations":[]}')
    scope.done()
  })

  test('-f fields make a JSON POST; with GET they become the query', async () => {
    const post = nock(API).post('/api/v1/capsules', {scopeId: 'rim:a:b:c', resolution: 60, ok: true}).reply(...reply(201, {data: {id: 'cap_1'}, meta: meta()}))
    const r = await runInProcess(['api', '/api/v1/capsules', '-f', 'scopeId=rim:a:b:c', '-f', 'resolution=60', '-f', 'ok=true'], env())
    assert.equal(r.code, 0, r.stderr)
    post.done()
    const get = nock(API).get('/api/v1/events').query({type: 'capsule.created'}).reply(200, {data: [], meta: meta()})
    const g = await runInProcess(['api', '/api/v1/events', '-X', 'GET', '-f', 'type=capsule.created'], env())
    assert.equal(g.code, 0, g.stderr)
    get.done()
  })

  test('--paginate walks every page into one JSON array, de-duplicating shifted items', async () => {
    const page = (n: number, ids: string[]) => ({data: ids.map((id) => ({id})), meta: meta({pagination: {page: n, size: 2, totalElements: 5, totalPages: 3}})})
    const scope = nock(API)
      .get('/api/v1/capsules').query({page: 0}).reply(200, page(0, ['a', 'b']))
      .get('/api/v1/capsules').query({page: 1}).reply(200, page(1, ['b', 'c']))
      .get('/api/v1/capsules').query({page: 2}).reply(200, page(2, ['d', 'e']))
    const r = await runInProcess(['api', '/api/v1/capsules', '--paginate', '--json'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout).map((i: {id: string}) => i.id), ['a', 'b', 'c', 'd', 'e'])
    scope.done()
  })

  test('an error status prints the body for scripts and exits by the table', async () => {
    const scope = nock(API).get('/webhooks/nope').reply(404, {error: {code: 'NOT_FOUND', message: 'Webhook not found'}, meta: meta()})
    const r = await runInProcess(['api', '/webhooks/nope'], env())
    assert.equal(r.code, 4)
    assert.match(r.stdout, /NOT_FOUND/)
    assert.match(r.stderr, /Webhook not found/)
    scope.done()
    const j = nock(API).get('/webhooks/nope').reply(404, {error: {code: 'NOT_FOUND', message: 'Webhook not found'}, meta: meta()})
    const rj = await runInProcess(['api', '/webhooks/nope', '--json'], env())
    assert.equal(rj.code, 4)
    assert.equal(rj.stdout, '', 'with --json an error prints nothing on stdout')
    assert.deepEqual(JSON.parse(rj.stderr).error, {code: 'NOT_FOUND', message: 'Webhook not found', status: 404, requestId: 'req-1', exitCode: 4})
    j.done()
  })

  test('secrets are refused as -H flags, nothing is sent', async () => {
    const r = await runInProcess(['api', '/integrations/status', '-H', 'Authorization: Bearer x'], env())
    assert.equal(r.code, 2)
    assert.match(r.stderr, /refusing the Authorization header on the command line/)
  })

  test('oclif usage errors exit 2 with the JSON error shape and an empty stdout', async () => {
    const missing = await runInProcess(['api', '--json'], env())
    assert.equal(missing.code, 2)
    assert.equal(missing.stdout, '')
    assert.equal(JSON.parse(missing.stderr).error.code, 'USAGE')
    const unknown = await runInProcess(['capsules', 'get', 'x', '--nope', '--json'], env())
    assert.equal(unknown.code, 2)
    assert.equal(unknown.stdout, '')
    assert.match(JSON.parse(unknown.stderr).error.message, /Nonexistent flag: --nope/)
  })
})

describe('bfly config', () => {
  test('precedence flag > env > profile > default, with --show-origin', async () => {
    const env = {BFLY_CONFIG_DIR: dir()}
    assert.equal((await runInProcess(['config', 'set', 'api-url', 'https://profile.example.com'], env)).code, 0)
    let r = await runInProcess(['config', 'get', 'api-url', '--show-origin'], env)
    assert.equal(r.stdout, 'https://profile.example.com\tprofile\n')
    r = await runInProcess(['config', 'get', 'api-url', '--show-origin'], {...env, BFLY_API_URL: 'https://env.example.com'})
    assert.equal(r.stdout, 'https://env.example.com\tenv\n')
    r = await runInProcess(['config', 'get', 'api-url', '--show-origin', '--api-url', 'https://flag.example.com'], {...env, BFLY_API_URL: 'https://env.example.com'})
    assert.equal(r.stdout, 'https://flag.example.com\tflag\n')
    r = await runInProcess(['config', 'get', 'retries', '--show-origin'], env)
    assert.equal(r.stdout, '3\tdefault\n')
  })

  test('profiles are separate; invalid values and unknown keys exit 2; the file is 0600', async () => {
    const env = {BFLY_CONFIG_DIR: dir()}
    await runInProcess(['config', 'set', 'retries', '5', '--profile', 'staging'], env)
    const staging = await runInProcess(['config', 'list', '--profile', 'staging', '--json'], env)
    assert.equal(JSON.parse(staging.stdout).find((s: {key: string}) => s.key === 'retries').value, '5')
    const def = await runInProcess(['config', 'list', '--json'], env)
    assert.equal(JSON.parse(def.stdout).find((s: {key: string}) => s.key === 'retries').value, '3')
    const bad = await runInProcess(['config', 'set', 'api-url', 'not a url'], env)
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /not a URL/)
    const unknown = await runInProcess(['config', 'set', 'colour', 'blue'], env)
    assert.equal(unknown.code, 2)
    assert.match(unknown.stderr, /unknown setting "colour"/)
    const {statSync} = await import('node:fs')
    assert.equal(statSync(join(env.BFLY_CONFIG_DIR, 'config.json')).mode & 0o777, 0o600)
    const unset = await runInProcess(['config', 'unset', 'retries', '--profile', 'staging'], env)
    assert.equal(unset.code, 0)
  })

  test('TSV in a pipe: no borders, no colour, --columns chooses', async () => {
    const env = {BFLY_CONFIG_DIR: dir(), FORCE_COLOR: undefined}
    const r = await runInProcess(['config', 'list', '--columns', 'key,origin'], env)
    assert.equal(r.code, 0)
    const lines = r.stdout.trim().split('\n')
    assert.ok(lines.includes('retries\tdefault'))
    assert.doesNotMatch(r.stdout, /\u001B\[|│|─/)
    const bad = await runInProcess(['config', 'list', '--columns', 'nope'], env)
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /unknown column "nope": choose from key, value, origin, description/)
  })
})
