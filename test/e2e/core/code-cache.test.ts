// The vendored bundles' code cache (src/vendor/code-cache.ts) as a user meets it: made by the
// first run, used (not rewritten) by the next ones, including after a walk has changed V8's
// flags; rebuilt when corrupt; never able to fail a command; off with BFLY_CODE_CACHE=off.
import assert from 'node:assert/strict'
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {envelope, json, startServer, type TestServer} from '../../helpers/api-server.ts'
import {runCli, tempConfigDir} from '../../helpers/cli.ts'

const capsule = (n: number) => ({id: `cap_${String(n).padStart(5, '0')}`, scopeId: 'rim:entity:finance:EURUSD', timestamp: '2025-12-03T10:00:00Z', version: n, payload: {}})

describe('the code cache of the vendored bundles', () => {
  let server: TestServer
  before(async () => {
    server = await startServer()
    server.fallback = (req, res) => {
      const page = Number(new URL(req.url, 'http://x').searchParams.get('page') ?? 0)
      json(200, envelope([capsule(2 * page), capsule(2 * page + 1)], {pagination: {page, size: 2, totalElements: 6, totalPages: 3}}))(req, res)
    }
  })
  after(() => server.close())
  const env = (cache: string) => ({BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: server.url, BFLY_TOKEN: 'e2e-token', BFLY_CODE_CACHE: cache})
  const files = (dir: string) => readdirSync(dir).sort()
  const inode = (dir: string, name: string) => statSync(join(dir, name)).ino

  test('the first run makes it (private), the next ones load it without rewriting it', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'bfly-code-')), 'cache')
    const first = await runCli(['capsules', 'get', 'cap_00001', '--json'], {env: env(dir)})
    assert.equal(first.code, 0, first.stderr)
    const made = files(dir)
    assert.deepEqual(made.map((f) => f.split('-')[0]), ['got', 'oclif'])
    assert.ok(made.every((f) => f.endsWith(`-${process.version}-${process.arch}.bin`)))
    assert.equal(statSync(dir).mode & 0o777, 0o700)
    for (const f of made) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600)
    const before = made.map((f) => inode(dir, f))
    const second = await runCli(['capsules', 'get', 'cap_00001', '--json'], {env: env(dir)})
    assert.equal(second.code, 0, second.stderr)
    assert.equal(second.stdout, first.stdout)
    // A cache V8 rejected would have been written again (a new file, renamed into place).
    assert.deepEqual(files(dir), made)
    assert.deepEqual(made.map((f) => inode(dir, f)), before)
  })

  test('a walk changes V8 flags: the cache it leaves is still accepted by the next run', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'bfly-code-')), 'cache')
    const walk = await runCli(['capsules', 'list', '--all', '--size', '2', '--ndjson'], {env: env(dir)})
    assert.equal(walk.code, 0, walk.stderr)
    assert.equal(walk.stdout.trim().split('\n').length, 6)
    const made = files(dir)
    assert.deepEqual(made.map((f) => f.split('-')[0]), ['oclif'])
    const before = inode(dir, made[0])
    const again = await runCli(['capsules', 'list', '--all', '--size', '2', '--ndjson'], {env: env(dir)})
    assert.equal(again.stdout, walk.stdout)
    assert.equal(inode(dir, made[0]), before, 'the cache made by the walk was rejected and written again')
  })

  test('a corrupt cache is rejected and replaced; the command does not notice', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'bfly-code-')), 'cache')
    const first = await runCli(['config', 'list', '--json'], {env: env(dir)})
    assert.equal(first.code, 0, first.stderr)
    const [name] = files(dir)
    writeFileSync(join(dir, name), 'not a code cache at all')
    const second = await runCli(['config', 'list', '--json'], {env: env(dir)})
    assert.equal(second.code, 0, second.stderr)
    assert.equal(second.stdout, first.stdout)
    assert.ok(statSync(join(dir, name)).size > 10_000, 'the corrupt cache was replaced')
  })

  // A cache is code: one that someone else could have written is never loaded.
  test('a cache others can write to is not used, nor is a directory others can write to', {skip: typeof process.getuid !== 'function' && 'POSIX permissions'}, async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'bfly-code-')), 'cache')
    assert.equal((await runCli(['config', 'list', '--json'], {env: env(dir)})).code, 0)
    const [name] = files(dir)
    // A valid cache, writable by others: not read, so made again (a new file).
    chmodSync(join(dir, name), 0o666)
    const before = inode(dir, name)
    assert.equal((await runCli(['config', 'list', '--json'], {env: env(dir)})).code, 0)
    assert.notEqual(inode(dir, name), before, 'a cache writable by others was loaded')
    assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600)
    // A directory others can write to: left alone (a rejected cache there would be rewritten).
    const shared = join(dir, '..', 'shared')
    mkdirSync(shared)
    chmodSync(shared, 0o777)
    writeFileSync(join(shared, name), 'not a code cache', {mode: 0o600})
    const r = await runCli(['config', 'list', '--json'], {env: env(shared)})
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(files(shared), [name])
    assert.equal(readFileSync(join(shared, name), 'utf8'), 'not a code cache')
  })

  test('BFLY_CODE_CACHE=off writes nothing; an unusable directory changes nothing', async () => {
    const home = mkdtempSync(join(tmpdir(), 'bfly-code-'))
    const off = await runCli(['config', 'list', '--json'], {env: {...env('off'), HOME: home, XDG_CACHE_HOME: join(home, 'xdg')}})
    assert.equal(off.code, 0, off.stderr)
    assert.deepEqual(files(home), [])
    const blocker = join(home, 'a-file')
    writeFileSync(blocker, '')
    const blocked = await runCli(['config', 'list', '--json'], {env: env(join(blocker, 'cache'))})
    assert.equal(blocked.code, 0, blocked.stderr)
    assert.equal(blocked.stderr, '')
    assert.equal(blocked.stdout, off.stdout)
  })
})
