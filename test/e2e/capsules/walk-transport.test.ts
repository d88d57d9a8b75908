// `capsules list --all` as a user runs it, through the transport of a walk's pages: the
// contract headers on every page, retries, Retry-After, the circuit shared with the other
// commands, --verbose, the read cache left alone, and a reader that goes away early.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import type {ServerResponse} from 'node:http'
import {join} from 'node:path'
import {after, before, beforeEach, describe, test} from 'node:test'
import {errorBody, json, type Recorded, startServer, type TestServer} from '../../helpers/api-server.ts'
import {BIN, cleanEnv, runCli, tempConfigDir} from '../../helpers/cli.ts'

const capsule = (n: number) => ({id: `cap_${String(n).padStart(5, '0')}`, scopeId: 'rim:entity:finance:EURUSD', timestamp: '2025-12-03T10:00:00Z', version: n, payload: {price: 1 + n / 1000}, shard: 'eu-1'})

/** Pages of `total` capsules as the contract serves them. */
function pages(total: number) {
  return (req: Recorded, res: ServerResponse) => {
    const url = new URL(req.url, 'http://x')
    const page = Number(url.searchParams.get('page') ?? 0)
    const size = Number(url.searchParams.get('size') ?? 20)
    const data = Array.from({length: Math.max(0, Math.min(size, total - page * size))}, (_, i) => capsule(page * size + i))
    const body = JSON.stringify({data, meta: {requestId: `req-p${page}`, pagination: {page, size, totalElements: total, totalPages: Math.ceil(total / size)}}})
    res.writeHead(200, {'content-type': 'application/json', 'content-length': Buffer.byteLength(body)})
    res.end(body)
  }
}

const ids = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line).id as string)

describe('walking pages through the lean transport', () => {
  let server: TestServer
  let env: Record<string, string>
  before(async () => {
    server = await startServer()
  })
  after(() => server.close())
  beforeEach(() => {
    server.requests.length = 0
    server.fallback = pages(5)
    env = {BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: server.url, BFLY_TOKEN: 'secret-token-abc'}
  })

  test('every page carries the contract headers; unknown fields kept; the read cache is not touched', async () => {
    const r = await runCli(['capsules', 'list', '--all', '--size', '2', '--ndjson', '--correlation-id', 'cor-walk'], {env})
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(ids(r.stdout), ['cap_00000', 'cap_00001', 'cap_00002', 'cap_00003', 'cap_00004'])
    assert.equal(JSON.parse(r.stdout.split('\n')[0]).shard, 'eu-1')
    assert.deepEqual(server.requests.map((q) => q.url), [0, 1, 2].map((page) => `/api/v1/capsules?page=${page}&size=2`))
    for (const q of server.requests) {
      assert.equal(q.headers.authorization, 'Bearer secret-token-abc')
      assert.equal(q.headers['x-correlation-id'], 'cor-walk')
      assert.match(String(q.headers['x-request-id']), /^req-[0-9a-f-]{36}$/)
      assert.match(String(q.headers.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
      assert.match(String(q.headers['user-agent']), /^bfly\/\d+\.\d+\.\d+ /)
    }
    assert.equal(new Set(server.requests.map((q) => String(q.headers.traceparent).split('-')[1])).size, 1, 'one trace per invocation')
    assert.equal(existsSync(join(env.BFLY_CONFIG_DIR, 'state', 'default', 'http-cache.sqlite')), false)
  })

  test('a 503 on a page is retried; the walk completes', async () => {
    let failed = 0
    server.fallback = (req, res) => {
      if (req.url.includes('page=1') && failed++ < 2) return json(503, errorBody('SERVICE_UNAVAILABLE', 'down'))(req, res)
      return pages(5)(req, res)
    }
    const r = await runCli(['capsules', 'list', '--all', '--size', '2', '--ndjson'], {env})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(ids(r.stdout).length, 5)
    assert.equal(server.requests.filter((q) => q.url.includes('page=1')).length, 3)
  })

  test('a page that still fails after the retries: what came before is out, exit 6, how to resume', async () => {
    server.fallback = (req, res) => (req.url.includes('page=1') ? json(503, errorBody('SERVICE_UNAVAILABLE', 'backend down'))(req, res) : pages(5)(req, res))
    const r = await runCli(['capsules', 'list', '--all', '--size', '2', '--json', '--retries', '2'], {env})
    assert.equal(r.code, 6)
    assert.deepEqual(JSON.parse(r.stdout).map((c: {id: string}) => c.id), ['cap_00000', 'cap_00001'])
    assert.equal(server.requests.filter((q) => q.url.includes('page=1')).length, 3)
    const error = JSON.parse(r.stderr.trim().split('\n').at(-1)!).error
    assert.equal(error.code, 'SERVICE_UNAVAILABLE')
    assert.equal(error.message, 'backend down (after 2 retries)')
    assert.match(error.hint, /^page 1 failed; 2 items already printed; resume with `--page 1 --size 2 --all`/)
  })

  test('429 with a long Retry-After fails fast: exit 5, nothing more sent', async () => {
    server.fallback = json(429, errorBody('RATE_LIMITED', 'Too many requests'), {'retry-after': '120'})
    const started = Date.now()
    const r = await runCli(['capsules', 'list', '--all', '--ndjson'], {env})
    assert.equal(r.code, 5)
    assert.ok(Date.now() - started < 10_000, 'does not wait 120 s')
    assert.equal(server.requests.length, 1)
    assert.match(r.stderr, /rate limited, retry after 120 s/)
  })

  test('--verbose traces every page and never shows the credentials', async () => {
    const r = await runCli(['capsules', 'list', '--all', '--size', '2', '--ndjson', '--verbose'], {env: {...env, BFLY_TOKEN: undefined, BUTTERFLY_API_KEY: 'key-very-secret'}})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(server.requests[0].headers['x-api-key'], 'key-very-secret')
    assert.equal(r.stderr.match(/→ GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/capsules\?/g)?.length, 3)
    assert.equal(r.stderr.match(/← 200 GET /g)?.length, 3)
    assert.doesNotMatch(r.stderr + r.stdout, /key-very-secret/)
  })

  test('connection refused is exit 7', async () => {
    const r = await runCli(['capsules', 'list', '--all', '--api-url', 'http://127.0.0.1:1', '--retries', '1'], {env})
    assert.equal(r.code, 7)
    assert.match(r.stderr, /connection refused by 127\.0\.0\.1:1 — page 0 failed; resume with `--page 0 --size 100 --all`/)
  })

  test('the circuit a walk opens is the one every command sees', async () => {
    server.fallback = json(500, errorBody('INTERNAL_ERROR', 'boom'))
    const walk = await runCli(['capsules', 'list', '--all', '--retries', '4'], {env})
    assert.equal(walk.code, 6)
    assert.equal(server.requests.length, 5)
    const get = await runCli(['capsules', 'get', 'cap_1', '--json'], {env})
    assert.equal(get.code, 6)
    assert.equal(JSON.parse(get.stderr).error.code, 'CIRCUIT_OPEN')
    assert.equal(server.requests.length, 5, 'nothing sent while open')
  })

  test('a reader that goes away early (`| head`) ends the walk, exit 0', async () => {
    server.fallback = pages(100_000)
    const child = spawn(process.execPath, [BIN, 'capsules', 'list', '--all', '--ndjson'], {env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe']})
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    const code = new Promise<number | null>((resolve) => child.on('close', resolve))
    await new Promise((resolve) => child.stdout.once('data', resolve))
    child.stdout.destroy()
    assert.equal(await code, 0, stderr)
    assert.ok(server.requests.length < 100, `stopped after ${server.requests.length} of 1000 pages`)
  })
})
