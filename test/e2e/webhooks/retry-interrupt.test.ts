// Bulk retry as an on-call engineer runs it: interrupted with Ctrl-C, run again, and again.
// The fake platform below counts effects (real replays of a delivery) and honours
// Idempotency-Key the way the contract says; its listing lags behind the retries (a read model
// that has not caught up), so the second run asks again for deliveries the first one retried.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {after, before, test} from 'node:test'
import {BIN, cleanEnv, runCli, tempConfigDir} from '../../helpers/cli.ts'

const COUNT = 10
const DELAY_MS = 250

interface Platform {
  url: string
  posts: Array<{id: string; key: string}>
  effects: Map<string, number>
  close(): Promise<void>
}

async function startPlatform(): Promise<Platform> {
  const deliveries = Array.from({length: COUNT}, (_, i) => ({
    id: `dlv_${String(i).padStart(2, '0')}`, webhook_id: 'wh_1', event_type: 'order.created', status: 'failed', attempts: 5, max_attempts: 5,
    last_attempt_at: new Date().toISOString(), error: 'upstream returned 503', created_at: new Date().toISOString(),
  }))
  const posts: Platform['posts'] = []
  const effects = new Map<string, number>()
  const answers = new Map<string, string>()
  const pending = new Set<string>()
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const text = typeof body === 'string' ? body : JSON.stringify(body)
      res.writeHead(status, {'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers})
      res.end(text)
    }
    req.resume()
    req.on('end', () => {
      if (req.method === 'GET' && url.pathname === '/webhooks/wh_1/deliveries') {
        const page = Number(url.searchParams.get('page') ?? 0)
        const size = Number(url.searchParams.get('size') ?? 20)
        const matching = deliveries.filter((d) => !url.searchParams.get('status') || d.status === url.searchParams.get('status'))
        send(200, {deliveries: matching.slice(page * size, page * size + size), meta: {pagination: {page, size, totalElements: matching.length, totalPages: Math.ceil(matching.length / size)}}})
        return
      }
      const m = /^\/webhooks\/deliveries\/([^/]+)\/retry$/.exec(url.pathname)
      if (req.method === 'POST' && m) {
        const id = m[1]
        const key = String(req.headers['idempotency-key'] ?? '')
        posts.push({id, key})
        const stored = answers.get(key)
        if (stored) return send(202, stored, {'idempotent-replayed': 'true'})
        if (pending.has(id)) return send(409, {error: {code: 'CONFLICT', message: 'Delivery is already pending'}, meta: {requestId: 'req-409'}})
        // The effect happens on receipt; the answer takes a while: a window for Ctrl-C to land in.
        effects.set(id, (effects.get(id) ?? 0) + 1)
        pending.add(id)
        const answer = JSON.stringify({id, status: 'pending', attempts: 5, queued_at: new Date().toISOString()})
        answers.set(key, answer)
        setTimeout(() => send(202, answer), DELAY_MS)
        return
      }
      send(404, {error: {code: 'NOT_FOUND', message: 'no route'}})
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    posts,
    effects,
    close: () => new Promise((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

let platform: Platform
before(async () => {
  platform = await startPlatform()
})
after(() => platform.close())

test('Ctrl-C mid-way, then the same command twice: every delivery replayed exactly once, the report says what was and was not done', async () => {
  const env = {BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: platform.url, BFLY_TOKEN: 'tok-retry'}
  const args = ['webhooks', 'retry', '--webhook', 'wh_1', '--status', 'failed', '--yes', '--concurrency', '2', '--json']

  const child = spawn(process.execPath, [BIN, ...args], {env: cleanEnv(env)})
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const exit = new Promise<number | null>((resolve) => child.on('close', resolve))
  for (let i = 0; i < 400 && platform.posts.length < 3; i++) await new Promise((r) => setTimeout(r, 5))
  assert.ok(platform.posts.length >= 3, 'retries under way')
  child.kill('SIGINT')
  assert.equal(await exit, 130, stderr)
  const first = JSON.parse(stdout)
  const sentInRun1 = platform.posts.length
  assert.ok(sentInRun1 < COUNT, `interrupted before the end (${sentInRun1} sent)`)
  assert.equal(first.retried.length, sentInRun1, 'every retry in flight at Ctrl-C finished and is reported')
  assert.equal(first.retried.length + first.notStarted.length, COUNT, 'nothing unaccounted for')
  assert.deepEqual(first.failed, [])
  const error = JSON.parse(stderr.trim().split('\n').at(-1)!).error
  assert.equal(error.code, 'INTERRUPTED')
  assert.match(error.message, new RegExp(`${sentInRun1} retried, 0 skipped, 0 failed, ${COUNT - sentInRun1} not started — run the same command again to finish; nothing is retried twice`))

  // Again: the lagging listing offers all ten; the ones done are replayed by key, not redone.
  const second = await runCli(args, {env})
  assert.equal(second.code, 0, second.stderr)
  const report = JSON.parse(second.stdout)
  assert.deepEqual(report.skipped.map((s: {id: string}) => s.id).sort(), first.retried.map((r: {id: string}) => r.id).sort())
  assert.ok(report.skipped.every((s: {code: string}) => s.code === 'REPLAYED'))
  assert.deepEqual(report.retried.map((r: {id: string}) => r.id).sort(), [...first.notStarted].sort())

  const third = await runCli(args, {env})
  assert.equal(third.code, 0, third.stderr)
  assert.equal(JSON.parse(third.stdout).skipped.length, COUNT)

  assert.equal(platform.effects.size, COUNT)
  for (const [id, n] of platform.effects) assert.equal(n, 1, `${id} replayed once`)
  // Every POST for one delivery carried the same key: its id and attempt count.
  for (const {id, key} of platform.posts) assert.equal(key, `bfly-retry-${id}-attempt-5`)
})
