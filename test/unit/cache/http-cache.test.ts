// The cache as the client drives it, without a network: what is stored, what is refused,
// what stands in after a failure, and that no secret reaches the file.
import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, test} from 'node:test'
import {ApiError, CircuitOpenError, NetworkError, RateLimitError} from '../../../dist/errors.js'
import {fallbackCause, HttpCache} from '../../../dist/cache/http-cache.js'

const TOKEN = 'tok-very-secret-0123456789'
const dirs: string[] = []
after(() => {
  for (const dir of dirs) rmSync(dir, {recursive: true, force: true})
})

function setup(options: {maxAgeMs?: number; staleIfErrorMs?: number} = {}) {
  let t = Date.parse('2025-12-03T10:00:00Z')
  const stateDir = mkdtempSync(join(tmpdir(), 'bfly-http-cache-'))
  dirs.push(stateDir)
  const notices: Array<{message: string; ageMs: number}> = []
  const traces: string[] = []
  const cache = new HttpCache({
    stateDir,
    profile: 'default',
    env: {BFLY_TOKEN: TOKEN},
    now: () => t,
    trace: (l) => traces.push(l),
    warn: () => {},
    notice: (n) => notices.push(n),
    session: async () => undefined,
    ...options,
  })
  const read = (path = '/api/v1/capsules/cap_1', headers: Record<string, string> = {}) =>
    cache.read({url: new URL(`https://api.example.com${path}`), headers: {accept: 'application/json', ...headers}, credentialSource: 'env', secrets: () => [TOKEN]})
  const ok = (body: string, headers: Record<string, string> = {}) => ({statusCode: 200, headers: {'content-type': 'application/json', date: new Date(t).toUTCString(), ...headers}, body, url: 'https://api.example.com/x'})
  return {cache, read, ok, notices, traces, stateDir, advance: (ms: number) => void (t += ms)}
}

const body = JSON.stringify({data: {id: 'cap_1'}, meta: {requestId: 'req-1'}})

describe('read cache', () => {
  test('a 200 is stored; the next read revalidates with its ETag and a 304 brings the body back', async () => {
    const s = setup()
    const first = (await s.read())!
    assert.equal(first.reuse(), undefined)
    assert.deepEqual(first.validators(), {})
    first.commit(s.ok(body, {etag: '"v1"', 'last-modified': 'Tue, 02 Dec 2025 10:00:00 GMT'}))
    s.advance(30_000)
    const second = (await s.read())!
    assert.equal(second.reuse(), undefined, 'no lifetime stated: fresh reads ask the server')
    assert.deepEqual(second.validators(), {'if-none-match': '"v1"', 'if-modified-since': 'Tue, 02 Dec 2025 10:00:00 GMT'})
    const settled = second.settle({statusCode: 304, headers: {etag: '"v1"'}, body: '', url: ''})
    assert.equal(settled.statusCode, 200)
    assert.equal(settled.body, body)
    assert.equal(settled.cache?.state, 'revalidated')
  })

  test('fresh by Cache-Control max-age, or young enough for --max-age: no request', async () => {
    const s = setup()
    ;(await s.read())!.commit(s.ok(body, {'cache-control': 'private, max-age=60'}))
    s.advance(59_000)
    assert.equal((await s.read())!.reuse()?.cache?.state, 'fresh')
    s.advance(2000)
    assert.equal((await s.read())!.reuse(), undefined)
    const young = setup({maxAgeMs: 5 * 60_000})
    ;(await young.read())!.commit(young.ok(body))
    young.advance(4 * 60_000)
    const hit = (await young.read())!.reuse()
    assert.equal(hit?.cache?.state, 'max-age')
    assert.equal(hit?.headers.age, '240', 'an answer from the cache carries its Age')
    young.advance(2 * 60_000)
    assert.equal((await young.read())!.reuse(), undefined)
  })

  test('no-store, Vary: * and bodies that carry credentials are not stored, and drop the old answer', async () => {
    for (const [why, answer] of [
      ['no-store', {headers: {'cache-control': 'no-store'}, body}],
      ['Vary: *', {headers: {vary: '*'}, body}],
      ['a token field', {headers: {}, body: '{"access_token":"x"}'}],
      ['the token itself', {headers: {}, body: `{"data":{"echo":"${TOKEN}"}}`}],
    ] as const) {
      const s = setup({maxAgeMs: 60_000})
      ;(await s.read())!.commit(s.ok(body))
      ;(await s.read())!.commit(s.ok(answer.body, answer.headers))
      assert.equal((await s.read())!.reuse(), undefined, why)
    }
  })

  test('other Accept types, other paths, caller conditionals and secret queries do not share or use entries', async () => {
    const s = setup({maxAgeMs: 60_000})
    ;(await s.read())!.commit(s.ok(body))
    assert.ok((await s.read())!.reuse())
    assert.equal((await s.read('/api/v1/capsules/cap_1', {accept: 'text/csv'}))!.reuse(), undefined)
    assert.equal((await s.read('/api/v1/capsules/cap_2'))!.reuse(), undefined)
    assert.equal(await s.read('/api/v1/capsules/cap_1', {'if-none-match': '"x"'}), undefined)
    assert.equal(await s.read('/api/v1/capsules/cap_1?access_token=abc'), undefined)
  })

  test('Vary on a request header: another value is a miss', async () => {
    const s = setup({maxAgeMs: 60_000})
    ;(await s.read('/x', {'accept-language': 'en'}))!.commit(s.ok(body, {vary: 'Accept-Language, Authorization'}))
    assert.ok((await s.read('/x', {'accept-language': 'en'}))!.reuse())
    assert.equal((await s.read('/x', {'accept-language': 'fr'}))!.reuse(), undefined)
  })

  test('after a 401 or 403 nothing is served or stored, and the old answer is gone', async () => {
    const s = setup({maxAgeMs: 60_000, staleIfErrorMs: 15 * 60_000})
    ;(await s.read())!.commit(s.ok(body))
    const denied = (await s.read())!
    denied.settle({statusCode: 403, headers: {}, body: '', url: ''})
    assert.equal(await s.read(), undefined, 'the cache is off for the rest of the command')
    // A new invocation on the same state dir: the entry really went.
    const fresh = new HttpCache({...s.cache.options})
    const r = (await fresh.read({url: new URL('https://api.example.com/api/v1/capsules/cap_1'), headers: {accept: 'application/json'}, credentialSource: 'env', secrets: () => []}))!
    assert.equal(r.reuse(), undefined)
    assert.equal(r.fallback(new NetworkError('connection refused by api.example.com')), undefined)
  })

  test('stale-if-error: within the window the old answer stands in, with a notice naming its age', async () => {
    const s = setup({staleIfErrorMs: 15 * 60_000})
    ;(await s.read())!.commit(s.ok(body))
    s.advance(192_000)
    const r = (await s.read())!
    const stale = r.fallback(new CircuitOpenError('api.example.com', 30_000))
    assert.equal(stale?.body, body)
    assert.equal(stale?.cache?.state, 'stale')
    assert.deepEqual(s.notices.map((n) => n.message), ['served from cache, 3m12s old: circuit open for api.example.com'])
    s.advance(15 * 60_000)
    assert.equal((await s.read())!.fallback(new CircuitOpenError('api.example.com', 30_000)), undefined, 'too old')
  })

  test('without a window there is no fallback; 4xx and 429 never fall back', async () => {
    const none = setup()
    ;(await none.read())!.commit(none.ok(body))
    assert.equal((await none.read())!.fallback(new NetworkError('refused')), undefined)
    assert.equal(fallbackCause(new ApiError('bad', {code: 'VALIDATION_ERROR', status: 400})), undefined)
    assert.equal(fallbackCause(new ApiError('nope', {code: 'NOT_FOUND', status: 404})), undefined)
    assert.equal(fallbackCause(new RateLimitError('slow down')), undefined)
    assert.equal(fallbackCause(new ApiError('backend down (after 3 retries)', {code: 'SERVICE_UNAVAILABLE', status: 503})), 'HTTP 503: backend down (after 3 retries)')
    assert.equal(fallbackCause(new NetworkError('connection refused by h')), 'connection refused by h')
  })

  test('neither the token nor credential headers reach the cache file', async () => {
    const s = setup()
    ;(await s.read('/x', {'accept-language': 'en'}))!.commit(s.ok(body, {etag: '"etag-marker-123"', vary: 'Authorization, X-API-Key', 'set-cookie': 'session=abc', authorization: `Bearer ${TOKEN}`}))
    const files = readdirSync(s.stateDir).map((f) => readFileSync(join(s.stateDir, f)).toString('latin1')).join('')
    assert.ok(files.includes('etag-marker-123'), 'the entry is there')
    assert.ok(!files.includes(TOKEN), 'no token')
    assert.ok(!files.includes('session=abc'), 'no cookie')
  })
})
