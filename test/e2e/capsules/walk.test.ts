// bin/run.js as a user runs it, against a loopback server implementing the contract's offset
// pages over a list that changes while it is walked.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import type {ServerResponse} from 'node:http'
import {after, before, describe, test} from 'node:test'
import {type Recorded, startServer, type TestServer} from '../../helpers/api-server.ts'
import {BIN, cleanEnv, runCli, tempConfigDir} from '../../helpers/cli.ts'

interface Capsule {
  id: string
  scopeId: string
  timestamp: string
  version: number
  payload: Record<string, unknown>
}

const capsule = (n: number, prefix = 'cap_'): Capsule => ({
  id: `${prefix}${String(n).padStart(5, '0')}`,
  scopeId: 'rim:entity:finance:EURUSD',
  timestamp: new Date(Date.UTC(2025, 11, 3, 10) + n * 1000).toISOString().replace('.000Z', 'Z'),
  version: n,
  payload: {price: 1 + n / 1000},
})

/** Answers GET /api/v1/capsules from `items` as the contract pages it. */
function pages(items: () => Capsule[], hook: (req: Recorded, page: number) => boolean | void = () => {}) {
  return (req: Recorded, res: ServerResponse) => {
    const url = new URL(req.url, 'http://x')
    const page = Number(url.searchParams.get('page') ?? 0)
    const size = Number(url.searchParams.get('size') ?? 20)
    if (hook(req, page) === false) return // leave it hanging
    const all = items()
    const body = JSON.stringify({
      data: all.slice(page * size, page * size + size),
      meta: {requestId: `req-${page}`, pagination: {page, size, totalElements: all.length, totalPages: Math.ceil(all.length / size)}},
    })
    res.writeHead(200, {'content-type': 'application/json', 'content-length': Buffer.byteLength(body)})
    res.end(body)
  }
}

describe('walking pages end to end', () => {
  let server: TestServer
  before(async () => {
    server = await startServer()
  })
  after(() => server.close())
  const env = () => ({BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: server.url, BFLY_TOKEN: 'e2e-token'})

  test('--all while items are inserted ahead of the walk: no duplicates, none skipped that existed throughout', async () => {
    server.requests.length = 0
    const originals = Array.from({length: 230}, (_, i) => capsule(i))
    // Newest first, as history and --sort timestamp,desc are: inserts land on page 0 and push everything down.
    const list = [...originals].reverse()
    let inserted = 0
    server.fallback = pages(() => list, (_req, page) => {
      if (page > 0) for (let k = 0; k < 7; k++) list.unshift(capsule(10_000 + inserted++, 'new_'))
    })
    const r = await runCli(['capsules', 'list', '--all', '--size', '20', '--sort', 'timestamp,desc', '--ndjson'], {env: env()})
    assert.equal(r.code, 0, r.stderr)
    const ids = r.stdout.trim().split('\n').map((line) => JSON.parse(line).id as string)
    assert.equal(new Set(ids).size, ids.length, 'no duplicates')
    const seen = new Set(ids)
    const missing = originals.filter((c) => !seen.has(c.id))
    assert.deepEqual(missing, [], 'every capsule that existed throughout was printed')
    assert.ok(inserted > 0 && server.requests.length > 12, 'the list changed while it was walked')
  })

  test('Ctrl-C mid-walk: valid JSON of what was fetched, how far it got on stderr, exit 130', async () => {
    server.requests.length = 0
    const list = Array.from({length: 1000}, (_, i) => capsule(i))
    server.fallback = pages(() => list, (_req, page) => page < 3)
    const child = spawn(process.execPath, [BIN, 'capsules', 'list', '--all', '--size', '50', '--json'], {env: cleanEnv(env())})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve))
    // Interrupt once pages 0-2 are printed and page 3 hangs on the server.
    for (let i = 0; i < 400 && (stdout.match(/"id":/g)?.length ?? 0) < 150; i++) await new Promise((r) => setTimeout(r, 25))
    assert.ok(server.requests.some((q) => q.url.includes('page=3')), 'page 3 was asked for')
    child.kill('SIGINT')
    assert.equal(await closed, 130)
    const items = JSON.parse(stdout)
    assert.equal(items.length, 150)
    assert.equal(items[149].id, 'cap_00149')
    const error = JSON.parse(stderr.trim().split('\n').at(-1)!).error
    assert.equal(error.code, 'INTERRUPTED')
    assert.equal(error.exitCode, 130)
    assert.equal(error.message, 'interrupted after 150 items, while fetching page 3')
    assert.equal(error.hint, 'resume with `--page 3 --size 50 --all`')
  })

  test('resuming with the printed flags continues where the walk stopped', async () => {
    server.requests.length = 0
    const list = Array.from({length: 120}, (_, i) => capsule(i))
    server.fallback = pages(() => list)
    const r = await runCli(['capsules', 'list', '--page', '1', '--size', '50', '--all', '--ndjson'], {env: env()})
    assert.equal(r.code, 0, r.stderr)
    const ids = r.stdout.trim().split('\n').map((line) => JSON.parse(line).id)
    assert.deepEqual([ids[0], ids.at(-1), ids.length], ['cap_00050', 'cap_00119', 70])
    assert.deepEqual(server.requests.map((q) => new URL(q.url, 'http://x').searchParams.get('page')), ['1', '2'])
  })
})

describe('create end to end', () => {
  let server: TestServer
  before(async () => {
    server = await startServer()
  })
  after(() => server.close())
  const env = () => ({BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: server.url, BFLY_TOKEN: 'e2e-token'})

  test('a response lost on the way back: the retry is answered as a replay, and one capsule exists', async () => {
    server.requests.length = 0
    const byKey = new Map<string, string>()
    let creates = 0
    server.fallback = (req, res) => {
      const key = String(req.headers['idempotency-key'] ?? '')
      const known = byKey.get(key)
      if (known) {
        res.writeHead(201, {'content-type': 'application/json', 'idempotent-replayed': 'true'})
        res.end(known)
        return
      }
      creates++
      const body = JSON.stringify({data: {id: `cap_${creates}`, ...JSON.parse(req.body), version: 1}, meta: {requestId: 'req-create'}})
      byKey.set(key, body)
      res.socket?.destroy() // created, but the answer never arrives
    }
    const r = await runCli(['capsules', 'create', '--scope-id', 'rim:entity:finance:EURUSD', '--timestamp', '2025-12-03T10:00:00Z', '--payload', '-', '--json'], {env: env(), input: '{"price": 1.0842}\n'})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(creates, 1, 'created once')
    assert.equal(server.requests.length, 2, 'the POST was retried')
    assert.equal(server.requests[0].headers['idempotency-key'], server.requests[1].headers['idempotency-key'])
    assert.deepEqual(JSON.parse(r.stdout), {id: 'cap_1', scopeId: 'rim:entity:finance:EURUSD', timestamp: '2025-12-03T10:00:00Z', payload: {price: 1.0842}, version: 1})
    assert.match(JSON.parse(r.stderr.trim()).warning, /^replayed: /)
  })

  test('malformed JSON on stdin: exit 2 with the line and column, nothing sent', async () => {
    server.requests.length = 0
    const r = await runCli(['capsules', 'create', '--scope-id', 'rim:entity:finance:EURUSD', '--timestamp', 'now', '--payload', '-'], {env: env(), input: '{\n  "price": 1.08\n  "regime": "calm"\n}'})
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^Error: invalid JSON in stdin at line 3, column 3: Expected ',' or '}' after property value — near /)
    assert.equal(server.requests.length, 0)
  })

  test('delete without a terminal and without --yes: exit 2, nothing sent', async () => {
    server.requests.length = 0
    const r = await runCli(['capsules', 'delete', 'cap_1'], {env: env()})
    assert.equal(r.code, 2)
    assert.match(r.stderr, /refusing to delete capsule cap_1 without confirmation: not a terminal — pass --yes/)
    assert.equal(server.requests.length, 0)
  })
})
