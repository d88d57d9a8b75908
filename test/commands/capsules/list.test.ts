// capsules list, history, events list in-process against nock: the query sent for every
// flag, the walk, the output modes, and every validation error (exit 2, nothing sent).
import assert from 'node:assert/strict'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, afterEach, before, describe, test} from 'node:test'
import nock from 'nock'
import {runInProcess} from '../../helpers/in-process.ts'

const API = 'https://butterfly.example.com'
const env = () => ({BFLY_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'bfly-cmd-')), BFLY_API_URL: API, BFLY_TOKEN: 'tok-123'})
const capsule = (n: number, extra: Record<string, unknown> = {}) => ({
  id: `cap_${n}`,
  scopeId: 'rim:entity:finance:EURUSD',
  timestamp: `2025-12-03T10:00:0${n % 10}Z`,
  resolution: 60,
  version: n,
  payload: {price: 1 + n / 100, regime: 'calm'},
  createdAt: '2025-12-03T10:00:02Z',
  ...extra,
})
const page = (items: unknown[], page: number, size: number, total: number) => ({
  data: items,
  meta: {requestId: `req-p${page}`, timestamp: '2025-12-03T10:00:00Z', pagination: {page, size, totalElements: total, totalPages: Math.ceil(total / size)}},
})

before(() => nock.disableNetConnect())
after(() => nock.enableNetConnect())
afterEach(() => nock.cleanAll())

describe('capsules list', () => {
  test('no paging flags: one page at the server default size, TSV in a pipe, where the rest is on stderr', async () => {
    const scope = nock(API, {reqheaders: {authorization: 'Bearer tok-123'}}).get('/api/v1/capsules').query({page: 0}).reply(200, page([capsule(1), capsule(2)], 0, 20, 45))
    const r = await runInProcess(['capsules', 'list'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'cap_1\trim:entity:finance:EURUSD\t2025-12-03T10:00:01Z\t1\tprice=1.01 regime=calm\ncap_2\trim:entity:finance:EURUSD\t2025-12-03T10:00:02Z\t2\tprice=1.02 regime=calm\n')
    assert.match(r.stderr, /^showing 2 of 45 capsules \(page 0 of pages 0-2\); more with --page 1, or --all\n$/)
    scope.done()
  })

  test('every filter and paging flag goes into the query', async () => {
    const scope = nock(API)
      .get('/api/v1/capsules')
      .query({scopeId: 'rim:entity:finance:EURUSD', from: '2025-12-01T00:00:00Z', to: '2025-12-02T00:00:00Z', sort: 'timestamp,desc', page: 2, size: 5})
      .reply(200, page([capsule(11)], 2, 5, 11))
    const r = await runInProcess(['capsules', 'list', '--scope-id', 'rim:entity:finance:EURUSD', '--from', '2025-12-01T01:00:00+01:00', '--to', '2025-12-02T00:00:00Z', '--sort', 'timestamp,DESC', '--page', '2', '--size', '5', '--json'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), [capsule(11)])
    assert.equal(r.stderr, '', 'nothing but data with --json')
    scope.done()
  })

  test('relative times are sent as RFC 3339 instants that long ago', async () => {
    let query: Record<string, string> = {}
    const scope = nock(API).get('/api/v1/capsules').query((q) => ((query = q as Record<string, string>), true)).reply(200, page([], 0, 20, 0))
    const before = Date.now()
    const r = await runInProcess(['capsules', 'list', '--from', '2h', '--json'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, '[]\n')
    const from = Date.parse(query.from)
    assert.ok(Math.abs(before - 2 * 3600_000 - from) < 60_000, `from=${query.from}`)
    scope.done()
  })

  test('--all walks to the end in pages of 100, shifted items once, unknown fields kept', async () => {
    const first = Array.from({length: 100}, (_, i) => capsule(i, {shard: 'eu-1'}))
    const scope = nock(API)
      .get('/api/v1/capsules').query({page: 0, size: 100}).reply(200, page(first, 0, 100, 230))
      .get('/api/v1/capsules').query({page: 1, size: 100}).reply(200, page([...first.slice(97), ...Array.from({length: 97}, (_, i) => capsule(100 + i))], 1, 100, 230))
      .get('/api/v1/capsules').query({page: 2, size: 100}).reply(200, page(Array.from({length: 33}, (_, i) => capsule(197 + i)), 2, 100, 230))
    const r = await runInProcess(['capsules', 'list', '--all', '--json'], env())
    assert.equal(r.code, 0, r.stderr)
    const items = JSON.parse(r.stdout)
    assert.equal(items.length, 230)
    assert.equal(new Set(items.map((c: {id: string}) => c.id)).size, 230)
    assert.equal(items[0].shard, 'eu-1')
    scope.done()
  })

  test('--limit N stops after N items, asking for no more than it needs', async () => {
    const scope = nock(API)
      .get('/api/v1/capsules').query({page: 0, size: 3}).reply(200, page([capsule(1), capsule(2), capsule(3)], 0, 3, 10))
    const r = await runInProcess(['capsules', 'list', '--limit', '3', '--ndjson'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(r.stdout.trim().split('\n').map((l) => JSON.parse(l).id), ['cap_1', 'cap_2', 'cap_3'])
    scope.done()
    const more = nock(API)
      .get('/api/v1/capsules').query({page: 0, size: 2}).reply(200, page([capsule(1), capsule(2)], 0, 2, 10))
      .get('/api/v1/capsules').query({page: 1, size: 2}).reply(200, page([capsule(3), capsule(4)], 1, 2, 10))
    const m = await runInProcess(['capsules', 'list', '--limit', '3', '--size', '2', '--columns', 'id,version'], env())
    assert.equal(m.code, 0, m.stderr)
    assert.equal(m.stdout, 'cap_1\t1\ncap_2\t2\ncap_3\t3\n')
    assert.match(m.stderr, /stopped at --limit 3; 10 capsules in all/)
    more.done()
  })

  test('--page past the end says so', async () => {
    const scope = nock(API).get('/api/v1/capsules').query({page: 9}).reply(200, page([], 9, 20, 45))
    const r = await runInProcess(['capsules', 'list', '--page', '9'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, /page 9 is past the end: 45 capsules in 3 pages/)
    scope.done()
  })

  test('a failure mid-walk: the items fetched are out as valid JSON, the error names the page and how to resume', async () => {
    const scope = nock(API)
      .get('/api/v1/capsules').query({page: 0, size: 2}).reply(200, page([capsule(1), capsule(2)], 0, 2, 6))
      .get('/api/v1/capsules').query({page: 1, size: 2}).reply(200, page([capsule(3), capsule(4)], 1, 2, 6))
      .get('/api/v1/capsules').query({page: 2, size: 2}).times(2).reply(503, {error: {code: 'SERVICE_UNAVAILABLE', message: 'backend down'}, meta: {requestId: 'req-bad'}})
    const r = await runInProcess(['capsules', 'list', '--all', '--size', '2', '--json', '--retries', '1'], env())
    assert.equal(r.code, 6)
    assert.deepEqual(JSON.parse(r.stdout).map((c: {id: string}) => c.id), ['cap_1', 'cap_2', 'cap_3', 'cap_4'])
    const error = JSON.parse(r.stderr.trim().split('\n').at(-1)!).error
    assert.equal(error.code, 'SERVICE_UNAVAILABLE')
    assert.equal(error.requestId, 'req-bad')
    assert.match(error.hint, /^page 2 failed; 4 items already printed; resume with `--page 2 --size 2 --all`/)
    scope.done()
  })

  test('a failure on the first page: exit by the table, nothing on stdout but the empty array', async () => {
    const scope = nock(API).get('/api/v1/capsules').query(true).reply(403, {error: {code: 'FORBIDDEN', message: 'missing scope capsules:read'}, meta: {requestId: 'req-403'}})
    const r = await runInProcess(['capsules', 'list', '--all', '--ndjson'], env())
    assert.equal(r.code, 3)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, /missing scope capsules:read \(request req-403\) — page 0 failed; resume with `--page 0 --size 100 --all`/)
    scope.done()
  })

  const invalid: [string[], RegExp][] = [
    [['--size', '0'], /invalid --size "0": must be a whole number from 1 to 100/],
    [['--size', '101'], /invalid --size "101": must be a whole number from 1 to 100/],
    [['--page', '-1'], /invalid --page "-1"/],
    [['--page', 'two'], /invalid --page "two"/],
    [['--limit', '0'], /invalid --limit "0"/],
    [['--sort', 'price,desc'], /unknown field "price"; use field,asc\|desc with field one of timestamp, createdAt, id, scopeId, version, resolution/],
    [['--sort', 'timestamp,down'], /invalid --sort "timestamp,down"/],
    [['--from', 'last tuesday'], /invalid --from "last tuesday": use RFC 3339 \(2025-12-03T10:00:00Z\) or a duration ago/],
    [['--to', '2025-13-01T00:00:00Z'], /invalid --to/],
    [['--from', '1h', '--to', '2h'], /--from \(.*\) must be before --to/],
    [['--scope-id', 'EURUSD'], /invalid scope id "EURUSD": must match rim:\{nodeType\}:\{namespace\}:\{localId\}/],
    [['--columns', 'id,price'], /unknown column "price": choose from id, scopeId, timestamp, resolution, version, payload, createdAt/],
    [['--ndjson', '--json'], /--ndjson=true cannot also be provided when using --json|cannot also be provided/],
  ]
  for (const [args, message] of invalid) {
    test(`exit 2, nothing sent: ${args.join(' ')}`, async () => {
      const scope = nock(API).get(/.*/).reply(200, page([capsule(1)], 0, 20, 1))
      const r = await runInProcess(['capsules', 'list', ...args, '--json'], env())
      assert.equal(r.code, 2, r.stderr)
      assert.equal(r.stdout, '')
      const error = JSON.parse(r.stderr.trim()).error
      assert.equal(error.exitCode, 2)
      assert.match(error.message, message)
      assert.equal(scope.isDone(), false, 'no request was sent')
    })
  }
})

describe('history', () => {
  test('of one entity: the scope id is one percent-encoded path segment; newest first is the server default', async () => {
    const scope = nock(API).get('/api/v1/history/rim%3Aentity%3Afinance%3AEUR.USD~1').query({page: 0, size: 2}).reply(200, page([capsule(2), capsule(1)], 0, 2, 2))
    const r = await runInProcess(['history', 'rim:entity:finance:EUR.USD~1', '--limit', '2', '--json'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout).map((c: {id: string}) => c.id), ['cap_2', 'cap_1'])
    scope.done()
  })

  test('across scopes, with a time range and a sort', async () => {
    const scope = nock(API).get('/api/v1/history').query({from: '2025-12-01T00:00:00Z', sort: 'version,asc', page: 0}).reply(200, page([capsule(1)], 0, 20, 1))
    const r = await runInProcess(['history', '--from', '2025-12-01T00:00:00Z', '--sort', 'version,asc'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^cap_1\t/)
    scope.done()
  })

  test('an invalid scope id or sort field: exit 2, nothing sent', async () => {
    const scope = nock(API).get(/.*/).reply(200, page([], 0, 20, 0))
    const bad = await runInProcess(['history', 'rim:entity:finance'], env())
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /invalid scope id "rim:entity:finance"/)
    const sort = await runInProcess(['history', '--sort', 'type'], env())
    assert.equal(sort.code, 2)
    assert.equal(scope.isDone(), false)
  })
})

describe('events list', () => {
  const event = (n: number, type = 'capsule.created') => ({id: `evt_${n}`, type, scopeId: 'rim:entity:finance:EURUSD', timestamp: '2025-12-03T10:00:00Z', data: {capsuleId: `cap_${n}`}})

  test('--type and --scope-id filter; columns id, type, scope, timestamp, data', async () => {
    const scope = nock(API).get('/api/v1/events').query({type: 'capsule.*', scopeId: 'rim:entity:finance:EURUSD', page: 0, size: 2}).reply(200, page([event(1), event(2, 'capsule.deleted')], 0, 2, 2))
    const r = await runInProcess(['events', 'list', '--type', 'capsule.*', '--scope-id', 'rim:entity:finance:EURUSD', '--limit', '2'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'evt_1\tcapsule.created\trim:entity:finance:EURUSD\t2025-12-03T10:00:00Z\tcapsuleId=cap_1\nevt_2\tcapsule.deleted\trim:entity:finance:EURUSD\t2025-12-03T10:00:00Z\tcapsuleId=cap_2\n')
    scope.done()
  })

  test('--all --ndjson de-duplicates by id', async () => {
    const scope = nock(API)
      .get('/api/v1/events').query({page: 0, size: 100, sort: 'timestamp,desc'}).reply(200, page([event(3), event(2)], 0, 2, 3))
      .get('/api/v1/events').query({page: 1, size: 100, sort: 'timestamp,desc'}).reply(200, page([event(2), event(1)], 1, 2, 3))
    const r = await runInProcess(['events', 'list', '--all', '--ndjson', '--sort', 'timestamp,desc'], env())
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(r.stdout.trim().split('\n').map((l) => JSON.parse(l).id), ['evt_3', 'evt_2', 'evt_1'])
    scope.done()
  })

  test('an invalid --type or sort field: exit 2, nothing sent', async () => {
    const scope = nock(API).get(/.*/).reply(200, page([], 0, 20, 0))
    const bad = await runInProcess(['events', 'list', '--type', 'capsule created'], env())
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /invalid --type "capsule created": an event type such as capsule.created/)
    const sort = await runInProcess(['events', 'list', '--sort', 'scopeId'], env())
    assert.equal(sort.code, 2)
    assert.match(sort.stderr, /with field one of timestamp, type, id/)
    assert.equal(scope.isDone(), false)
  })
})
