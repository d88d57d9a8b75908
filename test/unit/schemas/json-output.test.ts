// The --json output of every command is a public interface: it is described by the JSON
// Schemas in schemas/, and this test checks the real output of each command against its
// schema, so a changed field is a visible, reviewed change of both.
import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {after, afterEach, before, describe, test} from 'node:test'
import nock from 'nock'
import {Ajv2020} from 'ajv/dist/2020.js'
import {runInProcess} from '../../helpers/in-process.ts'
import {reply} from '../../helpers/nock-reply.ts'

const DIR = resolve(import.meta.dirname, '..', '..', '..', 'schemas')
const files = readdirSync(DIR).filter((f) => f.endsWith('.schema.json')).sort()
const ajv = new Ajv2020({strict: true, allErrors: true})
for (const file of files) ajv.addSchema(JSON.parse(readFileSync(join(DIR, file), 'utf8')))

/** Which schema describes which command's --json output. */
const COMMANDS: Record<string, string> = {
  'capsules get': 'capsules-get.schema.json',
  'capsules list': 'capsules-list.schema.json',
  'capsules create': 'capsules-create.schema.json',
  'capsules delete': 'capsules-delete.schema.json',
  history: 'history.schema.json',
  'events list': 'events-list.schema.json',
  'circuit status': 'circuit-status.schema.json',
  'config list': 'config-list.schema.json',
  doctor: 'doctor.schema.json',
}
const SHARED = ['capsule.schema.json', 'event.schema.json', 'error.schema.json', 'warning.schema.json']

function check(schema: string, value: unknown): void {
  const validate = ajv.getSchema(schema)
  assert.ok(validate, `no schema ${schema}`)
  assert.ok(validate(value), `${schema}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 400)}`)
}

const API = 'https://butterfly.example.com'
const env = () => ({BFLY_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'bfly-schema-')), BFLY_API_URL: API, BFLY_TOKEN: 'tok'})
const meta = (extra = {}) => ({requestId: 'req-1', timestamp: '2025-12-03T10:00:00Z', ...extra})
const capsule = {id: 'cap_01JD9Z8K2M', scopeId: 'rim:entity:finance:EURUSD', timestamp: '2025-12-03T10:00:00Z', resolution: 60, version: 3, payload: {price: 1.0842}, createdAt: '2025-12-03T10:00:02Z', region: 'eu'}
const event = {id: 'evt_1', type: 'capsule.created', scopeId: 'rim:entity:finance:EURUSD', timestamp: '2025-12-03T10:00:00Z', data: {capsuleId: 'cap_1'}}
const listPage = (items: unknown[]) => ({data: items, meta: meta({pagination: {page: 0, size: 20, totalElements: items.length, totalPages: 1}})})

async function json(argv: string[], environment = env()): Promise<unknown> {
  const r = await runInProcess([...argv, '--json'], environment)
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout)
}

describe('JSON Schemas of --json output', () => {
  before(() => nock.disableNetConnect())
  after(() => nock.enableNetConnect())
  afterEach(() => nock.cleanAll())

  test('every schema file compiles (strict) and is used by a command or shared', () => {
    assert.deepEqual(files, [...new Set([...Object.values(COMMANDS), ...SHARED])].sort())
  })

  test('every command with a schema exists', () => {
    const manifest = JSON.parse(readFileSync(resolve(DIR, '..', 'oclif.manifest.json'), 'utf8'))
    for (const command of Object.keys(COMMANDS)) assert.ok(manifest.commands[command.replace(' ', ':')], `${command} is a command`)
  })

  test('capsules get, list, create, delete', async () => {
    nock(API).get('/api/v1/capsules/cap_01JD9Z8K2M').reply(200, {data: capsule, meta: meta()})
    check(COMMANDS['capsules get'], await json(['capsules', 'get', 'cap_01JD9Z8K2M']))
    nock(API).get('/api/v1/capsules').query(true).reply(200, listPage([capsule, {...capsule, id: 'cap_2'}]))
    check(COMMANDS['capsules list'], await json(['capsules', 'list', '--all']))
    nock(API).get('/api/v1/capsules').query(true).reply(200, listPage([]))
    check(COMMANDS['capsules list'], await json(['capsules', 'list']))
    nock(API).post('/api/v1/capsules').reply(...reply(201, {data: capsule, meta: meta()}, {'idempotent-replayed': 'true'}))
    const create = await runInProcess(['capsules', 'create', '--scope-id', capsule.scopeId, '--timestamp', capsule.timestamp, '--payload', '{"price":1.0842}', '--json'], env())
    assert.equal(create.code, 0, create.stderr)
    check(COMMANDS['capsules create'], JSON.parse(create.stdout))
    check('warning.schema.json', JSON.parse(create.stderr))
    nock(API).delete('/api/v1/capsules/cap_01JD9Z8K2M').reply(204, '', {'content-length': '0'})
    check(COMMANDS['capsules delete'], await json(['capsules', 'delete', 'cap_01JD9Z8K2M', '--yes']))
  })

  test('--ndjson lines are the item schemas', async () => {
    nock(API).get('/api/v1/history/rim%3Aentity%3Afinance%3AEURUSD').query(true).reply(200, listPage([capsule]))
    const r = await runInProcess(['history', 'rim:entity:finance:EURUSD', '--ndjson'], env())
    for (const line of r.stdout.trim().split('\n')) check('capsule.schema.json', JSON.parse(line))
    nock(API).get('/api/v1/events').query(true).reply(200, listPage([event, {id: 'evt_2', type: 'plan.completed', scopeId: null, timestamp: '2025-12-03T10:00:01.250Z', data: {}}]))
    const e = await runInProcess(['events', 'list', '--ndjson'], env())
    for (const line of e.stdout.trim().split('\n')) check('event.schema.json', JSON.parse(line))
  })

  test('history and events list', async () => {
    nock(API).get('/api/v1/history').query(true).reply(200, listPage([capsule]))
    check(COMMANDS.history, await json(['history']))
    nock(API).get('/api/v1/events').query(true).reply(200, listPage([event]))
    check(COMMANDS['events list'], await json(['events', 'list', '--type', 'capsule.created']))
  })

  test('circuit status (with a host that failed) and config list', async () => {
    const environment = env()
    nock(API).get('/api/v1/capsules/cap_1').reply(503, {error: {code: 'SERVICE_UNAVAILABLE', message: 'down'}, meta: meta()})
    assert.equal((await runInProcess(['capsules', 'get', 'cap_1', '--retries', '0'], environment)).code, 6)
    const circuits = (await json(['circuit', 'status'], environment)) as unknown[]
    assert.equal(circuits.length, 1)
    check(COMMANDS['circuit status'], circuits)
    check(COMMANDS['config list'], await json(['config', 'list'], {...environment, BFLY_API_URL: API}))
  })

  test('the error line: API errors, usage errors, a walk failing half way', async () => {
    nock(API).get('/api/v1/capsules/cap_404').reply(404, {error: {code: 'NOT_FOUND', message: 'capsule cap_404 not found', details: [{field: 'id', message: 'unknown'}]}, meta: meta()})
    const notFound = await runInProcess(['capsules', 'get', 'cap_404', '--json'], env())
    assert.equal(notFound.code, 4)
    check('error.schema.json', JSON.parse(notFound.stderr))
    const usage = await runInProcess(['capsules', 'list', '--size', '500', '--json'], env())
    assert.equal(usage.code, 2)
    check('error.schema.json', JSON.parse(usage.stderr))
    nock(API).get('/api/v1/capsules').query(true).reply(200, {data: [capsule], meta: meta({pagination: {page: 0, size: 1, totalElements: 2, totalPages: 2}})})
    nock(API).get('/api/v1/capsules').query(true).reply(500, 'upstream exploded', {'content-type': 'text/html'})
    const failed = await runInProcess(['capsules', 'list', '--all', '--size', '1', '--retries', '0', '--json'], env())
    assert.equal(failed.code, 6)
    check(COMMANDS['capsules list'], JSON.parse(failed.stdout))
    check('error.schema.json', JSON.parse(failed.stderr.trim()))
  })

  test('the schemas catch a changed field', () => {
    const validate = ajv.getSchema('capsules-list.schema.json')!
    assert.equal(validate([{...capsule, id: undefined}]), false, 'a capsule without its id')
    assert.equal(validate([{...capsule, timestamp: '03/12/2025 10:00'}]), false, 'a timestamp not in RFC 3339')
    assert.equal(ajv.getSchema('capsules-delete.schema.json')!({id: 'cap_1', deleted: true, extra: 1}), false)
    assert.equal(ajv.getSchema('error.schema.json')!({error: {code: 'X', message: 'm', exitCode: 42}}), false)
  })
})
