// Plans as a user runs them: a spawned bfly against a loopback server speaking the contract's
// HTTP execute and WebSocket stream (bearer on the upgrade, PING/PONG, server-sent steps).
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {createServer, type Server} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'
import {after, before, describe, test} from 'node:test'
import {WebSocketServer, type WebSocket} from 'ws'
import {BIN, cleanEnv, runCli, tempConfigDir} from '../../helpers/cli.ts'

type Script = (ws: WebSocket, connection: number) => void

interface PlanServer {
  url: string
  log: string[]
  upgrades: Array<{plan: string; authorization?: string; correlation?: string}>
  scripts: Map<string, Script>
  close(): Promise<void>
}

const send = (ws: WebSocket, event: object) => ws.send(JSON.stringify(event))

async function startPlanServer(): Promise<PlanServer> {
  const log: string[] = []
  const upgrades: PlanServer['upgrades'] = []
  const scripts = new Map<string, Script>()
  const sockets = new Map<string, Set<WebSocket>>()
  const connections = new Map<string, number>()
  const raw = new Set<Socket>()
  const wss = new WebSocketServer({noServer: true})
  const server: Server = createServer((req, res) => {
    const m = /^\/api\/v1\/plans\/([^/]+)\/execute$/.exec(req.url ?? '')
    req.resume()
    if (req.method === 'POST' && m) {
      log.push(`execute ${m[1]} key=${req.headers['idempotency-key'] ? 'yes' : 'no'}`)
      const body = JSON.stringify({data: {planId: m[1], executionId: 'exe_1', status: 'RUNNING'}, meta: {requestId: 'req-exe'}})
      res.writeHead(202, {'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body))})
      res.end(body)
      // Started: the script plays on the sockets already subscribed.
      for (const ws of sockets.get(m[1]) ?? []) scripts.get(m[1])?.(ws, -1)
      return
    }
    res.writeHead(404).end()
  })
  server.on('connection', (s) => {
    raw.add(s)
    s.on('close', () => raw.delete(s))
  })
  server.on('upgrade', (req, socket, head) => {
    const plan = /^\/ws\/plans\/([^/?]+)/.exec(req.url ?? '')?.[1] ?? ''
    upgrades.push({plan, authorization: req.headers.authorization, correlation: req.headers['x-correlation-id'] as string | undefined})
    const refuse = (status: number, code: string, message: string) => {
      const body = JSON.stringify({error: {code, message}, meta: {requestId: 'req-ws'}})
      socket.end(`HTTP/1.1 ${status} ${code}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
    }
    if (req.headers.authorization !== 'Bearer tok-plans') return refuse(401, 'UNAUTHORIZED', 'invalid token')
    if (!scripts.has(plan)) return refuse(404, 'NOT_FOUND', 'Plan not found')
    wss.handleUpgrade(req, socket, head, (ws) => {
      log.push(`open ${plan}`)
      const n = (connections.get(plan) ?? 0) + 1
      connections.set(plan, n)
      if (!sockets.has(plan)) sockets.set(plan, new Set())
      sockets.get(plan)!.add(ws)
      ws.on('close', () => sockets.get(plan)!.delete(ws))
      ws.on('message', (data) => {
        if (JSON.parse(String(data)).type === 'PING') send(ws, {type: 'PONG'})
      })
      scripts.get(plan)!(ws, n)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    upgrades,
    scripts,
    close: async () => {
      for (const ws of wss.clients) ws.terminate()
      for (const s of raw) s.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

describe('plans', () => {
  let srv: PlanServer
  let env: Record<string, string>
  before(async () => {
    srv = await startPlanServer()
    env = {BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: srv.url, BFLY_TOKEN: 'tok-plans'}
  })
  after(() => srv.close())

  test('execute --watch --json: subscribes, then starts; NDJSON events; exit 0 on PLAN_COMPLETED', async () => {
    srv.scripts.set('plan_ok', (ws, connection) => {
      if (connection !== -1) return // events only once the plan is started
      send(ws, {type: 'STEP_STARTED', step: 'fetch', progress: 0})
      send(ws, {type: 'STEP_PROGRESS', step: 'fetch', progress: 50})
      send(ws, {type: 'STEP_COMPLETED', step: 'fetch', result: {rows: 3}})
      send(ws, {type: 'PLAN_COMPLETED', status: 'SUCCESS', artifacts: ['report.csv']})
    })
    const r = await runCli(['plans', 'execute', 'plan_ok', '--watch', '--json', '--correlation-id', 'cor-plans'], {env})
    assert.equal(r.code, 0, r.stderr)
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l))
    assert.deepEqual(events.map((e) => e.type), ['EXECUTION_STARTED', 'STEP_STARTED', 'STEP_PROGRESS', 'STEP_COMPLETED', 'PLAN_COMPLETED'])
    assert.equal(events[0].executionId, 'exe_1')
    assert.deepEqual(events[4].artifacts, ['report.csv'])
    assert.deepEqual(srv.log.filter((l) => l.includes('plan_ok')), ['open plan_ok', 'execute plan_ok key=yes'], 'the stream is open before the plan starts')
    const upgrade = srv.upgrades.find((u) => u.plan === 'plan_ok')!
    assert.equal(upgrade.authorization, 'Bearer tok-plans', 'the bearer goes on the upgrade')
    assert.equal(upgrade.correlation, 'cor-plans')
    assert.equal(r.stderr, '', 'nothing but data with --json')
  })

  test('watch: a dropped stream reconnects; per-step lines on stderr; exit 6 on PLAN_FAILED with the reason', async () => {
    srv.scripts.set('plan_drop', (ws, connection) => {
      if (connection === 1) {
        send(ws, {type: 'STEP_STARTED', step: 'load', progress: 0})
        setTimeout(() => ws.terminate(), 20)
      } else {
        send(ws, {type: 'STEP_FAILED', step: 'load', error: 'quota exceeded'})
        send(ws, {type: 'PLAN_FAILED', error: {message: 'step load failed: quota exceeded'}})
      }
    })
    const r = await runCli(['plans', 'watch', 'plan_drop'], {env})
    assert.equal(r.code, 6, r.stderr)
    assert.equal(r.stdout, 'plan plan_drop failed: step load failed: quota exceeded\n')
    assert.match(r.stderr, /▸ load started/)
    assert.match(r.stderr, /stream closed \(1006\) before the plan ended; reconnecting in \d+ms \(1\/8\)/)
    assert.match(r.stderr, /✖ load failed: quota exceeded/)
    assert.match(r.stderr, /Error: plan plan_drop failed: step load failed: quota exceeded/)
    assert.equal(srv.upgrades.filter((u) => u.plan === 'plan_drop').length, 2)
  })

  test('watch: PONGs are not events; human stdout is how the plan ended', async () => {
    srv.scripts.set('plan_quiet', (ws) => {
      send(ws, {type: 'PONG'})
      send(ws, {type: 'PLAN_COMPLETED', status: 'SUCCESS', artifacts: [{name: 'a.csv', url: '/artifacts/a.csv'}, 'b.json']})
    })
    const r = await runCli(['plans', 'watch', 'plan_quiet'], {env})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'plan plan_quiet completed: SUCCESS — artifacts: a.csv, b.json\n')
  })

  test('a refused token on the upgrade is exit 3; an unknown plan exit 4; no end within --timeout exit 7', async () => {
    const bad = await runCli(['plans', 'watch', 'plan_ok', '--json'], {env: {...env, BFLY_TOKEN: 'wrong'}})
    assert.equal(bad.code, 3)
    assert.equal(JSON.parse(bad.stderr.trim()).error.code, 'UNAUTHORIZED')
    const missing = await runCli(['plans', 'watch', 'plan_nope'], {env})
    assert.equal(missing.code, 4)
    assert.match(missing.stderr, /Plan not found.*no plan "plan_nope"/)
    srv.scripts.set('plan_idle', () => {})
    const idle = await runCli(['plans', 'watch', 'plan_idle', '--timeout', '500ms'], {env})
    assert.equal(idle.code, 7)
    assert.match(idle.stderr, /plan plan_idle did not finish within 500ms — it may still be running: `bfly plans watch plan_idle`/)
  })

  test('Ctrl-C while watching: exit 130, the plan keeps running', async () => {
    srv.scripts.set('plan_long', (ws) => send(ws, {type: 'STEP_STARTED', step: 'crunch', progress: 0}))
    const child = spawn(process.execPath, [BIN, 'plans', 'watch', 'plan_long', '--json'], {env: cleanEnv(env)})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const exit = new Promise((resolve) => child.on('close', resolve))
    for (let i = 0; i < 400 && !stdout.includes('STEP_STARTED'); i++) await new Promise((r) => setTimeout(r, 10))
    child.kill('SIGINT')
    assert.equal(await exit, 130)
    assert.equal(JSON.parse(stdout).type, 'STEP_STARTED')
    assert.match(JSON.parse(stderr.trim()).error.message, /stopped watching plan plan_long; it keeps running/)
  })

  test('execute without --watch prints the execution; an unsafe API URL never gets the token', async () => {
    srv.scripts.set('plan_bg', () => {})
    const r = await runCli(['plans', 'execute', 'plan_bg'], {env})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'planId\tplan_bg\nexecutionId\texe_1\nstatus\tRUNNING\n')
    const plain = await runCli(['plans', 'watch', 'plan_bg'], {env: {...env, BFLY_API_URL: 'http://plans.example.com'}})
    assert.equal(plain.code, 2)
    assert.match(plain.stderr, /refusing to send credentials over plain ws:\/\//)
  })
})
