// The read cache end to end: bin/run.js against a scripted loopback server.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, test, type TestContext} from 'node:test'
import {CacheStore} from '../../../dist/cache/store.js'
import {envelope, errorBody, type Handler, json, startServer, type TestServer} from '../../helpers/api-server.ts'
import {BIN, cleanEnv, runCli, tempConfigDir} from '../../helpers/cli.ts'

const TOKEN = 'secret-token-of-alice-0123'
const capsule = {id: 'cap_1', scopeId: 'rim:entity:finance:EURUSD', timestamp: '2025-12-03T10:00:00Z', version: 3, payload: {price: 1.0842}}

/** 304 when the client's If-None-Match matches, else the capsule with that ETag. */
const withEtag = (etag: string, data: unknown = capsule, headers: Record<string, string> = {}): Handler => (req, res) => {
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, {etag})
    res.end()
    return
  }
  json(200, envelope(data), {etag, ...headers})(req, res)
}

const down = () => json(503, errorBody('SERVICE_UNAVAILABLE', 'backend down'))

function cacheFile(configDir: string, profile = 'default'): string {
  return join(configDir, 'state', profile, 'http-cache.sqlite')
}

/** A server and a config dir per test: tests run two at a time, and handlers a test queued but never used must not answer another. */
async function setup(t: TestContext): Promise<{server: TestServer; env: Record<string, string>; configDir: string}> {
  const server = await startServer()
  t.after(() => server.close())
  const configDir = tempConfigDir()
  t.after(() => rmSync(configDir, {recursive: true, force: true}))
  return {server, configDir, env: {BFLY_CONFIG_DIR: configDir, BFLY_API_URL: server.url, BFLY_TOKEN: TOKEN}}
}

describe('read cache', {concurrency: 2}, () => {
  test('revalidates with If-None-Match and uses the 304: same output, no body sent', async (t) => {
    const {server, env, configDir} = await setup(t)
    server.queue(withEtag('"v3"'), withEtag('"v3"'))
    const first = await runCli(['capsules', 'get', 'cap_1', '--json'], {env})
    assert.equal(first.code, 0, first.stderr)
    const second = await runCli(['capsules', 'get', 'cap_1', '--json'], {env})
    assert.equal(second.code, 0, second.stderr)
    assert.deepEqual(JSON.parse(second.stdout), capsule)
    assert.equal(server.requests.length, 2, 'fresh reads by default: the server is asked every time')
    assert.equal(server.requests[0].headers['if-none-match'], undefined)
    assert.equal(server.requests[1].headers['if-none-match'], '"v3"')
    assert.equal(second.stderr, '')
  })

  test('Last-Modified revalidates with If-Modified-Since', async (t) => {
    const {server, env, configDir} = await setup(t)
    const lastModified = 'Tue, 02 Dec 2025 10:00:00 GMT'
    server.queue(json(200, envelope(capsule), {'last-modified': lastModified}), (_req, res) => {
      res.writeHead(304)
      res.end()
    })
    assert.equal((await runCli(['capsules', 'get', 'cap_1'], {env})).code, 0)
    const r = await runCli(['capsules', 'get', 'cap_1', '--json'], {env})
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), capsule)
    assert.equal(server.requests[1].headers['if-modified-since'], lastModified)
  })

  test('fresh by the server\'s max-age or within --max-age: no request; no-store: never kept', async (t) => {
    const {server, env, configDir} = await setup(t)
    server.queue(json(200, envelope(capsule), {'cache-control': 'private, max-age=300'}))
    assert.equal((await runCli(['capsules', 'get', 'cap_1'], {env})).code, 0)
    const hit = await runCli(['capsules', 'get', 'cap_1', '--json'], {env})
    assert.equal(hit.code, 0, hit.stderr)
    assert.deepEqual(JSON.parse(hit.stdout), capsule)
    assert.equal(server.requests.length, 1, 'private, max-age=300: answered from the cache')

    server.requests.length = 0
    server.queue(json(200, envelope({...capsule, id: 'cap_2'})))
    assert.equal((await runCli(['capsules', 'get', 'cap_2'], {env})).code, 0)
    const young = await runCli(['capsules', 'get', 'cap_2', '--max-age', '5m', '--json'], {env})
    assert.equal(young.code, 0, young.stderr)
    assert.equal(JSON.parse(young.stdout).id, 'cap_2')
    assert.equal(server.requests.length, 1, '--max-age 5m: no request')
    server.queue(json(200, envelope({...capsule, id: 'cap_2'})))
    assert.equal((await runCli(['capsules', 'get', 'cap_2', '--max-age', '0'], {env})).code, 0)
    assert.equal(server.requests.length, 2, '--max-age 0: asks')

    server.requests.length = 0
    server.queue(json(200, envelope({...capsule, id: 'cap_3'}), {'cache-control': 'no-store', etag: '"n"'}), json(200, envelope({...capsule, id: 'cap_3'})))
    assert.equal((await runCli(['capsules', 'get', 'cap_3'], {env})).code, 0)
    assert.equal((await runCli(['capsules', 'get', 'cap_3', '--max-age', '5m'], {env})).code, 0)
    assert.equal(server.requests.length, 2, 'no-store was not kept')
    assert.equal(server.requests[1].headers['if-none-match'], undefined)
  })

  test('circuit open + --stale-if-error prints the cached capsule and a warning with its age, exit 0; without the flag exit 6', async (t) => {
    const {server, env, configDir} = await setup(t)
    assert.equal((await runCli(['config', 'set', 'circuit-failure-threshold', '1'], {env})).code, 0)
    server.queue(withEtag('"v3"'))
    assert.equal((await runCli(['capsules', 'get', 'cap_1'], {env})).code, 0)
    server.queue(down())
    const failing = await runCli(['capsules', 'get', 'cap_1'], {env})
    assert.equal(failing.code, 6, failing.stderr)
    server.requests.length = 0

    const plain = await runCli(['capsules', 'get', 'cap_1'], {env})
    assert.equal(plain.code, 6, 'no fallback unless asked')
    assert.match(plain.stderr, /circuit open for 127\.0\.0\.1:\d+/)
    assert.equal(plain.stdout, '')

    const stale = await runCli(['capsules', 'get', 'cap_1', '--stale-if-error'], {env})
    assert.equal(stale.code, 0, stale.stderr)
    assert.match(stale.stdout, /cap_1/)
    assert.match(stale.stderr, /^warning: served from cache, \d+(ms|s) old: circuit open for 127\.0\.0\.1:\d+\n$/)

    const asJson = await runCli(['capsules', 'get', 'cap_1', '--stale-if-error', '15m', '--json'], {env})
    assert.equal(asJson.code, 0, asJson.stderr)
    assert.deepEqual(JSON.parse(asJson.stdout), capsule, 'stdout stays pure data')
    const lines = asJson.stderr.trim().split('\n')
    assert.equal(lines.length, 1)
    const warning = JSON.parse(lines[0])
    assert.match(warning.warning, /^served from cache, \d+(ms|s) old: circuit open for 127\.0\.0\.1:\d+$/)
    assert.equal(warning.cache.state, 'stale')
    assert.equal(warning.cache.cause, 'CIRCUIT_OPEN')
    assert.equal(typeof warning.cache.ageMs, 'number')
    assert.equal(server.requests.length, 0, 'an open circuit sends nothing')

    const tooOld = await runCli(['capsules', 'get', 'cap_1', '--stale-if-error', '1ms'], {env})
    assert.equal(tooOld.code, 6, 'older than the window: the error stands')
  })

  test('5xx after the retries, and the profile setting fallback=cache, answer from the cache', async (t) => {
    const {server, env, configDir} = await setup(t)
    // Eight failures in a row would open the circuit; this test is about the 5xx path.
    assert.equal((await runCli(['config', 'set', 'circuit-failure-threshold', '100'], {env})).code, 0)
    server.queue(withEtag('"v3"'))
    assert.equal((await runCli(['capsules', 'get', 'cap_1'], {env})).code, 0)
    server.queue(down(), down(), down(), down())
    const r = await runCli(['capsules', 'get', 'cap_1', '--stale-if-error', '10m', '--json'], {env})
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), capsule)
    assert.match(JSON.parse(r.stderr.trim()).warning, /^served from cache, .* old: HTTP 503: backend down \(after 3 retries\)$/)
    assert.equal(server.requests.at(-1)!.headers['if-none-match'], '"v3"', 'the retries still revalidate')

    assert.equal((await runCli(['config', 'set', 'fallback', 'cache'], {env})).code, 0)
    server.queue(down(), down(), down(), down())
    const setting = await runCli(['capsules', 'get', 'cap_1'], {env})
    assert.equal(setting.code, 0, setting.stderr)
    assert.match(setting.stderr, /served from cache/)
    server.queue(json(200, envelope(capsule)))
    const healthy = await runCli(['capsules', 'get', 'cap_1'], {env})
    assert.equal(healthy.stderr, '', 'no warning when the API answers')
  })

  test('the network down: --stale-if-error answers; `bfly api` GETs are cached too', async (t) => {
    const {server, env, configDir} = await setup(t)
    const gone = await startServer()
    const e = {...env, BFLY_API_URL: gone.url}
    gone.queue(json(200, {integrations: [{name: 'GitHubAPI', status: 'healthy'}]}, {etag: '"i1"'}))
    assert.equal((await runCli(['api', '/integrations/status'], {env: e})).code, 0)
    await gone.close()
    const r = await runCli(['api', '/integrations/status', '--stale-if-error', '--retries', '0'], {env: e})
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /GitHubAPI/)
    assert.match(r.stderr, /served from cache, .* old: connection refused by 127\.0\.0\.1:\d+/)
    const without = await runCli(['api', '/integrations/status', '--retries', '0'], {env: e})
    assert.equal(without.code, 7)
  })

  test('a successful write invalidates the cached get and list of that resource', async (t) => {
    const {server, env, configDir} = await setup(t)
    server.queue(withEtag('"c1"'), withEtag('"l1"', [capsule]))
    assert.equal((await runCli(['capsules', 'get', 'cap_1'], {env})).code, 0)
    assert.equal((await runCli(['api', '/api/v1/capsules?scopeId=rim:entity:finance:EURUSD'], {env})).code, 0)
    server.queue((_req, res) => {
      res.writeHead(204)
      res.end()
    })
    const del = await runCli(['api', '-X', 'DELETE', '/api/v1/capsules/cap_1'], {env})
    assert.equal(del.code, 0, del.stderr)
    server.requests.length = 0
    server.queue(withEtag('"c1"'), withEtag('"l1"', []))
    await runCli(['capsules', 'get', 'cap_1', '--stale-if-error'], {env})
    await runCli(['api', '/api/v1/capsules?scopeId=rim:entity:finance:EURUSD'], {env})
    assert.equal(server.requests[0].headers['if-none-match'], undefined, 'the get entry went')
    assert.equal(server.requests[1].headers['if-none-match'], undefined, 'the list entry went')
  })

  test('another BFLY_TOKEN never sees the first one\'s answers; nothing secret is in the cache files', async (t) => {
    const {server, env, configDir} = await setup(t)
    server.queue(withEtag('"v3"'), withEtag('"v3"'))
    assert.equal((await runCli(['capsules', 'get', 'cap_1'], {env})).code, 0)
    const bob = await runCli(['capsules', 'get', 'cap_1', '--max-age', '1h'], {env: {...env, BFLY_TOKEN: 'token-of-bob-456789'}})
    assert.equal(bob.code, 0, bob.stderr)
    assert.equal(server.requests.length, 2, 'bob asked the server')
    assert.equal(server.requests[1].headers['if-none-match'], undefined)
    const dir = join(configDir, 'state', 'default')
    const bytes = readdirSync(dir).filter((f) => f.startsWith('http-cache')).map((f) => readFileSync(join(dir, f)).toString('latin1')).join('')
    assert.ok(bytes.includes('cap_1'))
    for (const secret of [TOKEN, 'token-of-bob-456789']) assert.ok(!bytes.includes(secret), 'no token in the cache')
  })

  test('after a 401 the stored answer is gone: no fallback serves it', async (t) => {
    const {server, env, configDir} = await setup(t)
    server.queue(withEtag('"v3"'))
    assert.equal((await runCli(['capsules', 'get', 'cap_1'], {env})).code, 0)
    server.queue(json(401, errorBody('UNAUTHORIZED', 'token revoked')))
    assert.equal((await runCli(['capsules', 'get', 'cap_1'], {env})).code, 3)
    server.queue(down(), down(), down(), down())
    const r = await runCli(['capsules', 'get', 'cap_1', '--stale-if-error'], {env})
    assert.equal(r.code, 6)
    assert.doesNotMatch(r.stderr, /served from cache/)
  })

  test('cache status shows size and entries; cache clear empties it', async (t) => {
    const {server, env, configDir} = await setup(t)
    server.queue(withEtag('"v3"'))
    assert.equal((await runCli(['capsules', 'get', 'cap_1'], {env})).code, 0)
    const status = await runCli(['cache', 'status', '--json'], {env})
    assert.equal(status.code, 0, status.stderr)
    const s = JSON.parse(status.stdout)
    assert.equal(s.entries, 1)
    assert.equal(s.maxBytes, 50 * 1024 * 1024)
    assert.ok(s.sizeBytes > 0)
    assert.equal(s.items[0].url, `${server.url}/api/v1/capsules/cap_1`)
    assert.equal(s.items[0].validator, 'etag')
    const human = await runCli(['cache', 'status'], {env})
    assert.match(human.stdout, /1 entry/)
    assert.match(human.stdout, /api\/v1\/capsules\/cap_1/)
    const cleared = await runCli(['cache', 'clear', '--json'], {env})
    assert.equal(cleared.code, 0, cleared.stderr)
    assert.equal(JSON.parse(cleared.stdout).entries, 1)
    assert.equal(JSON.parse((await runCli(['cache', 'status', '--json'], {env})).stdout).entries, 0)
  })

  test('concurrent bfly processes share one cache file', async (t) => {
    const {server, env, configDir} = await setup(t)
    server.fallback = (req, res) => withEtag(`"${req.url}"`, {...capsule, id: req.url.split('/').at(-1)})(req, res)
    const ids = ['cap_a', 'cap_b', 'cap_c', 'cap_a', 'cap_b', 'cap_d']
    const results = await Promise.all(ids.map((id) => runCli(['capsules', 'get', id, '--json'], {env})))
    for (const [i, r] of results.entries()) {
      assert.equal(r.code, 0, r.stderr)
      assert.equal(JSON.parse(r.stdout).id, ids[i])
      assert.equal(r.stderr, '', 'no busy or lock complaints')
    }
    const status = JSON.parse((await runCli(['cache', 'status', '--json'], {env})).stdout)
    assert.equal(status.entries, 4)
    const store = await CacheStore.open(cacheFile(configDir))
    assert.equal(store.integrity(), 'ok')
    store.close()
  })

  test('a bfly process killed (-9) while it writes leaves a readable cache', async (t) => {
    const {server, env, configDir} = await setup(t)
    // Big enough that storing it takes tens of milliseconds; the kills land at points from
    // decoding through storing to printing (each run a new id, so each run writes).
    const big = {...capsule, payload: {blob: 'x'.repeat(6 * 1024 * 1024)}}
    const body = JSON.stringify(envelope(big))
    let sent: () => void = () => {}
    server.fallback = (_req, res) => {
      res.writeHead(200, {'content-type': 'application/json', etag: '"big"'})
      res.end(body, () => sent())
    }
    const killed: number[] = []
    for (const [i, delay] of [15, 35, 55, 80, 120].entries()) {
      const child = spawn(process.execPath, [BIN, 'capsules', 'get', `cap_big${i}`, '--json'], {env: cleanEnv(env), stdio: ['ignore', 'ignore', 'ignore']})
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
      await Promise.race([new Promise<void>((resolve) => (sent = resolve)), exited])
      await new Promise((r) => setTimeout(r, delay))
      if (child.kill('SIGKILL')) killed.push(delay)
      await exited
    }
    assert.ok(killed.length > 0, 'at least one run was killed')
    const store = await CacheStore.open(cacheFile(configDir))
    try {
      assert.equal(store.integrity(), 'ok')
      const entries = store.list()
      for (const e of entries) {
        const whole = JSON.parse(Buffer.from(store.get(e.key)!.body).toString('utf8'))
        assert.equal(whole.data.payload.blob.length, 6 * 1024 * 1024, 'an entry is all there or not there')
      }
      const {entries: count} = store.totals()
      assert.equal(count, entries.length, 'totals agree with the rows')
    } finally {
      store.close()
    }
    const status = await runCli(['cache', 'status', '--json'], {env})
    assert.equal(status.code, 0, status.stderr)
    server.queue(withEtag('"after"', {...capsule, id: 'cap_big0'}))
    const after = await runCli(['capsules', 'get', 'cap_big0', '--json'], {env})
    assert.equal(after.code, 0, after.stderr)
    assert.equal(JSON.parse(after.stdout).id, 'cap_big0')
  })

  test('a crash inside the write transaction leaves no half entry and the old ones intact', async (t) => {
    const {server, env, configDir} = await setup(t)
    server.queue(withEtag('"v3"'))
    assert.equal((await runCli(['capsules', 'get', 'cap_1'], {env})).code, 0)
    const path = cacheFile(configDir)
    const script = join(configDir, 'crash.mjs')
    writeFileSync(script, `
      import {DatabaseSync} from 'node:sqlite'
      const db = new DatabaseSync(${JSON.stringify(path)})
      db.exec('PRAGMA busy_timeout = 5000')
      db.exec('BEGIN IMMEDIATE')
      db.exec("INSERT INTO entries VALUES ('half', 'p', 'h', '/half', 'u', 200, '{}', '{}', 0, 0, 0, 10)")
      db.prepare("INSERT INTO bodies VALUES ('half', ?)").run(Buffer.alloc(4 << 20))
      db.exec("DELETE FROM entries WHERE key <> 'half'")
      process.kill(process.pid, 'SIGKILL')
    `)
    const code = await new Promise((resolve) => spawn(process.execPath, [script], {stdio: 'ignore'}).on('exit', (c, signal) => resolve(signal ?? c)))
    assert.equal(code, 'SIGKILL')
    const store = await CacheStore.open(path)
    try {
      assert.equal(store.integrity(), 'ok')
      assert.deepEqual(store.list().map((e) => e.url), [`${server.url}/api/v1/capsules/cap_1`])
    } finally {
      store.close()
    }
  })
})

describe('start-up', () => {
  test('help (through oclif) loads neither node:sqlite nor got', async (t) => {
    const dir = tempConfigDir()
    t.after(() => rmSync(dir, {recursive: true, force: true}))
    const hook = join(dir, 'hook.mjs')
    writeFileSync(hook, `
      import {registerHooks} from 'node:module'
      import {writeSync} from 'node:fs'
      const seen = []
      registerHooks({resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r }})
      process.on('exit', () => writeSync(2, JSON.stringify(seen) + '\\n'))
    `)
    const out = await new Promise<{code: number | null; stdout: string; stderr: string}>((resolve) => {
      const child = spawn(process.execPath, ['--import', hook, BIN, 'capsules', 'get', '--help'], {env: cleanEnv({BFLY_CONFIG_DIR: dir})})
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d) => (stdout += d))
      child.stderr.on('data', (d) => (stderr += d))
      child.on('close', (code) => resolve({code, stdout, stderr}))
    })
    assert.equal(out.code, 0, out.stderr)
    assert.match(out.stdout, /USAGE/)
    const loaded = JSON.parse(out.stderr.trim().split('\n').at(-1)!) as string[]
    assert.ok(loaded.length > 5, 'the hook saw the imports')
    assert.deepEqual(loaded.filter((u) => /sqlite|\/node_modules\/got\/|dist\/vendor\/got|cacheable-request|dist\/cache\//.test(u)), [])
  })
})
