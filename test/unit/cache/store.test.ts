// The SQLite store: round trip, least-recently-used eviction under the size bound,
// invalidation after writes, and recovery from a damaged file. Fake clock throughout.
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, test} from 'node:test'
import {invalidatedBy} from '../../../dist/cache/invalidation.js'
import {CacheStore} from '../../../dist/cache/store.js'

const dirs: string[] = []
const tmp = () => {
  dirs.push(mkdtempSync(join(tmpdir(), 'bfly-cache-')))
  return join(dirs.at(-1)!, 'http-cache.sqlite')
}
after(() => {
  for (const dir of dirs) rmSync(dir, {recursive: true, force: true})
})

function clock(start = 1_000_000) {
  let t = start
  return {now: () => t, advance: (ms: number) => void (t += ms)}
}

function entry(key: string, path: string, body: string | Uint8Array, extra: Record<string, unknown> = {}) {
  return {
    key,
    partition: 'p1',
    host: 'api.example.com',
    path,
    url: `https://api.example.com${path}`,
    status: 200,
    headers: {'content-type': 'application/json', etag: `"${key}"`},
    vary: {},
    requestTime: 1_000_000,
    responseTime: 1_000_000,
    body: typeof body === 'string' ? Buffer.from(body) : body,
    ...extra,
  }
}

describe('cache store', () => {
  test('stores and returns an entry; the file is private to the user', async () => {
    const path = tmp()
    const store = await CacheStore.open(path)
    assert.equal(store.put(entry('k1', '/api/v1/capsules/cap_1', '{"data":{"id":"cap_1"}}')), true)
    const got = store.get('k1')!
    assert.equal(Buffer.from(got.body).toString(), '{"data":{"id":"cap_1"}}')
    assert.deepEqual(got.headers, {'content-type': 'application/json', etag: '"k1"'})
    assert.equal(store.get('missing'), undefined)
    assert.deepEqual(store.totals(), {entries: 1, bytes: got.size})
    assert.equal(statSync(path).mode & 0o777, 0o600)
    store.close()
  })

  test('replacing an entry keeps the totals right', async () => {
    const store = await CacheStore.open(tmp())
    store.put(entry('k1', '/a', 'x'.repeat(100)))
    store.put(entry('k1', '/a', 'x'.repeat(10)))
    assert.equal(store.totals().entries, 1)
    assert.equal(store.totals().bytes, store.get('k1')!.size)
    store.close()
  })

  test('over the bound, the least recently used entries go first', async () => {
    const c = clock()
    const store = await CacheStore.open(tmp(), {maxBytes: 2000, now: c.now})
    const body = 'x'.repeat(500)
    for (const k of ['a', 'b', 'c']) {
      store.put(entry(k, `/${k}`, body))
      c.advance(1000)
    }
    // Reading "a" makes it the most recently used: "b" is now the oldest.
    assert.ok(store.get('a'))
    c.advance(1000)
    store.put(entry('d', '/d', body))
    assert.ok(store.totals().bytes <= 2000, `bound kept: ${store.totals().bytes}`)
    assert.equal(store.get('b'), undefined, 'the least recently used went')
    assert.ok(store.get('a') && store.get('c') && store.get('d'))
    store.close()
  })

  test('an answer larger than the whole bound is not stored and pushes nothing out', async () => {
    const store = await CacheStore.open(tmp(), {maxBytes: 1000})
    store.put(entry('small', '/s', 'x'.repeat(100)))
    assert.equal(store.put(entry('huge', '/h', 'x'.repeat(5000))), false)
    assert.equal(store.get('huge'), undefined)
    assert.ok(store.get('small'))
    store.close()
  })

  test('refresh after a 304 keeps the body and takes the new headers and times', async () => {
    const store = await CacheStore.open(tmp())
    store.put(entry('k', '/k', 'body'))
    store.refresh('k', {etag: '"k"', 'cache-control': 'max-age=60'}, {requestTime: 2_000_000, responseTime: 2_000_100})
    const got = store.get('k')!
    assert.equal(Buffer.from(got.body).toString(), 'body')
    assert.equal(got.headers['cache-control'], 'max-age=60')
    assert.equal(got.responseTime, 2_000_100)
    assert.equal(store.totals().bytes, got.size)
    store.close()
  })

  test('a write invalidates its path, its parent collection, and related lists, of every identity', async () => {
    const store = await CacheStore.open(tmp())
    const put = (key: string, path: string, query = '', partition = 'p1', host = 'api.example.com') =>
      store.put({...entry(key, path, '{}'), url: `https://${host}${path}${query}`, partition, host})
    put('get', '/api/v1/capsules/cap_1')
    put('get-other-identity', '/api/v1/capsules/cap_1', '', 'p2')
    put('list-scope', '/api/v1/capsules', '?scopeId=rim:a:b:c')
    put('list-page', '/api/v1/capsules', '?page=1')
    put('history', '/api/v1/history/rim:a:b:c')
    put('sibling', '/api/v1/capsules/cap_10')
    put('underscore-lookalike', '/api/v1/capsulesX')
    put('webhooks', '/webhooks')
    put('other-host', '/api/v1/capsules', '', 'p1', 'other.example.com')
    const target = new URL('https://api.example.com/api/v1/capsules/cap_1')
    const {paths, prefixes} = invalidatedBy(target, '/')
    const removed = store.invalidate('api.example.com', paths, prefixes)
    assert.equal(removed, 5)
    for (const gone of ['get', 'get-other-identity', 'list-scope', 'list-page', 'history']) assert.equal(store.get(gone), undefined, gone)
    for (const kept of ['sibling', 'underscore-lookalike', 'webhooks', 'other-host']) assert.ok(store.get(kept), kept)
    store.close()
  })

  test('ids with LIKE wildcards invalidate only themselves', async () => {
    const store = await CacheStore.open(tmp())
    store.put(entry('pct', '/api/v1/capsules/a%b', '{}'))
    store.put(entry('other', '/api/v1/capsules/axxb', '{}'))
    store.put(entry('under', '/api/v1/capsules/a_c', '{}'))
    store.invalidate('api.example.com', [], ['/api/v1/capsules/a%b', '/api/v1/capsules/a_'])
    assert.equal(store.get('pct'), undefined)
    assert.ok(store.get('other'))
    assert.ok(store.get('under'))
    store.close()
  })

  test('clear empties it; two connections see each other', async () => {
    const path = tmp()
    const a = await CacheStore.open(path)
    const b = await CacheStore.open(path)
    a.put(entry('k', '/k', 'x'))
    assert.ok(b.get('k'), 'a second process sees the first one\'s entry')
    assert.equal(b.clear(), 1)
    assert.equal(a.get('k'), undefined)
    assert.deepEqual(a.totals(), {entries: 0, bytes: 0})
    a.close()
    b.close()
  })

  test('a damaged file is replaced by an empty cache', async () => {
    const path = tmp()
    writeFileSync(path, 'this is not a database, it is what a crash of a naive writer leaves '.repeat(100))
    const store = await CacheStore.open(path)
    assert.deepEqual(store.totals(), {entries: 0, bytes: 0})
    assert.equal(store.integrity(), 'ok')
    store.put(entry('k', '/k', 'x'))
    assert.ok(store.get('k'))
    store.close()
    assert.doesNotMatch(readFileSync(path).subarray(0, 16).toString(), /this is not/)
  })
})

describe('what a write invalidates', () => {
  test('create: the collection (all its queries) and the history lists', () => {
    const r = invalidatedBy(new URL('https://h/api/v1/capsules'), '/', {location: '/api/v1/capsules/cap_9'})
    assert.deepEqual(r.prefixes.sort(), ['/api/v1/capsules', '/api/v1/capsules/cap_9', '/api/v1/history'])
    assert.deepEqual(r.paths, ['/api/v1', '/api/v1/'])
  })
  test('delete of one: itself and its parent collection', () => {
    const r = invalidatedBy(new URL('https://h/api/v1/capsules/cap_1'), '/')
    assert.ok(r.prefixes.includes('/api/v1/capsules/cap_1'))
    assert.ok(r.paths.includes('/api/v1/capsules'))
  })
  test('a Location on another origin is ignored; a base path is respected', () => {
    const r = invalidatedBy(new URL('https://h/bfly/webhooks/wh_1/test'), '/bfly/', {location: 'https://elsewhere/x'})
    assert.ok(r.prefixes.includes('/bfly/webhooks'))
    assert.ok(!r.prefixes.some((p) => p.startsWith('/x')))
  })
})
