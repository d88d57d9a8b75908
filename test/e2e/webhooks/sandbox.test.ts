// Operations against the project's own sandbox, once it is built: real signed deliveries
// received by `webhooks listen`, a bulk retry interrupted and run again without doubles,
// plans watched to the end.
import assert from 'node:assert/strict'
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {BIN, cleanEnv, ROOT, runCli, tempConfigDir} from '../../helpers/cli.ts'

const sandboxBuilt = existsSync(join(ROOT, 'dist', 'sandbox', 'index.js'))
const skip = sandboxBuilt ? false : 'the sandbox (src/sandbox) is not in this build'

interface Sandbox {
  apiUrl: string
  demoTokens: {admin: string; read: string}
  close(): Promise<void>
}

async function startSandbox(options: Record<string, unknown>): Promise<Sandbox> {
  const {startSandbox: start} = await import(join(ROOT, 'dist', 'sandbox', 'index.js'))
  return start({insecureDemoTokens: true, rateLimits: false, ...options})
}

async function api(sandbox: Sandbox, method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(sandbox.apiUrl + path, {
    method,
    headers: {authorization: `Bearer ${sandbox.demoTokens.admin}`, 'content-type': 'application/json', accept: 'application/json'},
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`)
  return text ? JSON.parse(text) : undefined
}

const children = new Set<ChildProcess>()
function spawnCli(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, ...args], {env: cleanEnv(env)})
  children.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => (children.delete(child), resolve(code))))
  return {child, exit, stdout: () => stdout, stderr: () => stderr}
}
const until = async (check: () => boolean, what: string, ms = 15_000) => {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('operations against the sandbox', {skip}, () => {
  let sandbox: Sandbox
  let env: Record<string, string>
  before(async () => {
    sandbox = await startSandbox({timeScale: 60})
    env = {BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: sandbox.apiUrl, BFLY_TOKEN: sandbox.demoTokens.admin}
  })
  after(async () => {
    for (const child of children) child.kill('SIGKILL')
    await sandbox?.close()
  })

  test('webhooks listen receives the platform\'s signed test delivery and verifies it', async () => {
    // Register first (the secret is shown once), listen with it, then point the endpoint at the listener.
    const hook = await api(sandbox, 'POST', '/webhooks', {name: 'bfly listen', url: 'http://127.0.0.1:9/placeholder', events: ['webhook.test']})
    assert.match(hook.secret, /^whsec_/)
    const verified = spawnCli(['webhooks', 'listen', '--secret-env', 'WH_SECRET', '--json', '--max-events', '1'], {...env, WH_SECRET: hook.secret})
    await until(() => /"listening"/.test(verified.stderr()), 'the listener')
    const url = JSON.parse(verified.stderr().split('\n').find((l) => l.includes('"listening"'))!).listening as string
    await api(sandbox, 'PUT', `/webhooks/${hook.id}`, {url: `${url}hooks`})
    const sent = await runCli(['webhooks', 'test', hook.id, '--json'], {env})
    assert.equal(sent.code, 0, sent.stderr)
    const delivery = JSON.parse(sent.stdout)
    assert.equal(await verified.exit, 0, verified.stderr())
    const received = JSON.parse(verified.stdout().trim())
    assert.equal(received.signature, 'valid')
    assert.equal(received.deliveryId, delivery.id)
    assert.equal(received.type, 'webhook.test')
    assert.equal(received.response, 200)
    assert.equal(delivery.status, 'delivered')
  })

  test('plans execute --watch to PLAN_COMPLETED (exit 0) and to PLAN_FAILED (exit 6)', async () => {
    const ok = await runCli(['plans', 'execute', 'plan_123', '--watch', '--json'], {env})
    assert.equal(ok.code, 0, ok.stderr)
    const events = ok.stdout.trim().split('\n').map((l) => JSON.parse(l))
    assert.equal(events[0].type, 'EXECUTION_STARTED')
    assert.equal(events.at(-1).type, 'PLAN_COMPLETED')
    assert.ok(events.slice(1).every((e) => e.executionId === events[0].executionId), 'only our execution')
    assert.ok(events.some((e) => e.type === 'STEP_COMPLETED'))
    // Again: the sandbox replays the plan's previous run to a new subscriber; we follow ours.
    const again = await runCli(['plans', 'execute', 'plan_123', '--watch', '--json'], {env})
    assert.equal(again.code, 0, again.stderr)
    const second = again.stdout.trim().split('\n').map((l) => JSON.parse(l))
    assert.notEqual(second[0].executionId, events[0].executionId)
    assert.ok(second.slice(1).every((e) => e.executionId === second[0].executionId))
    assert.equal(second.filter((e) => e.type === 'PLAN_COMPLETED').length, 1)

    const broken = await runCli(['plans', 'execute', 'plan_broken', '--watch'], {env})
    assert.equal(broken.code, 6)
    assert.match(broken.stdout, /^plan plan_broken failed: /)
    assert.match(broken.stderr, /✖ fetch-market-data failed/)
  })
})

describe('a bulk retry against the sandbox, interrupted and run again', {skip}, () => {
  let sandbox: Sandbox
  let sink: Server
  let sinkUrl: string
  const received = new Map<string, number>()
  let failing = true
  before(async () => {
    // Real time (no automatic retries during the test) and slow answers (a window for Ctrl-C).
    sandbox = await startSandbox({timeScale: 1, latency: 'fixed:120ms'})
    sink = createServer((req, res) => {
      const id = String(req.headers['x-webhook-id'])
      received.set(id, (received.get(id) ?? 0) + 1)
      req.resume()
      res.writeHead(failing ? 503 : 200).end()
    })
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve))
    sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/sink`
  })
  after(async () => {
    for (const child of children) child.kill('SIGKILL')
    sink?.closeAllConnections()
    await new Promise((resolve) => sink?.close(resolve))
    await sandbox?.close()
  })

  test('every failed delivery is replayed exactly once across an interrupted run and a re-run', async () => {
    const COUNT = 8
    const hook = await api(sandbox, 'POST', '/webhooks', {name: 'flaky', url: sinkUrl, events: ['webhook.test']})
    for (let i = 0; i < COUNT; i++) await api(sandbox, 'POST', `/webhooks/${hook.id}/test`)
    assert.equal(received.size, COUNT, 'each test delivery attempted once, and failed')
    failing = false
    const env = {BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: sandbox.apiUrl, BFLY_TOKEN: sandbox.demoTokens.admin}
    const args = ['webhooks', 'retry', '--webhook', hook.id, '--status', 'failed', '--yes', '--concurrency', '1', '--json']

    const first = spawnCli(args, env)
    const total = () => [...received.values()].reduce((a, b) => a + b, 0)
    await until(() => total() >= COUNT + 2, 'two retries')
    first.child.kill('SIGINT')
    assert.equal(await first.exit, 130, first.stderr())
    const report = JSON.parse(first.stdout())
    assert.ok(report.notStarted.length > 0, 'interrupted before the end')
    assert.equal(report.retried.length + report.notStarted.length, COUNT)

    const second = await runCli(args, {env})
    assert.equal(second.code, 0, second.stderr)
    assert.deepEqual(JSON.parse(second.stdout).retried.map((r: {id: string}) => r.id).sort(), [...report.notStarted].sort())
    await until(() => total() === 2 * COUNT, 'the last retries to be delivered')
    const third = await runCli(args, {env})
    assert.equal(third.code, 0, third.stderr)
    assert.equal(third.stdout.trim(), '{\n  "retried": [],\n  "skipped": [],\n  "failed": [],\n  "notStarted": []\n}')
    await new Promise((r) => setTimeout(r, 200))
    for (const [id, n] of received) assert.equal(n, 2, `${id}: one failed attempt, then exactly one replay`)
  })
})
