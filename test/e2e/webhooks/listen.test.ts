// `webhooks listen` as a user runs it: a spawned bfly receiving real signed deliveries.
import assert from 'node:assert/strict'
import type {ChildProcess} from 'node:child_process'
import {createHmac} from 'node:crypto'
import {after, before, describe, test} from 'node:test'
import {startServer, json, type TestServer} from '../../helpers/api-server.ts'
import {startCli} from '../../helpers/auth-cli.ts'
import {runCli, tempConfigDir} from '../../helpers/cli.ts'

const secret = 'whsec_listen_e2e'
const sign = (ts: string, body: string, key = secret) => 'sha256=' + createHmac('sha256', key).update(`${ts}.${body}`).digest('hex')
const now = () => String(Math.floor(Date.now() / 1000))

interface Listener {
  child: ChildProcess
  url: string
  stdout: () => string
  stderr: () => string
  exit: Promise<number | null>
}

const children = new Set<ChildProcess>()

async function listen(args: string[], env: Record<string, string> = {}): Promise<Listener> {
  const cli = startCli(['webhooks', 'listen', '--port', '0', ...args], {env: {BFLY_CONFIG_DIR: tempConfigDir(), ...env}})
  children.add(cli.child)
  cli.child.on('close', () => children.delete(cli.child))
  const [, json, human] = await cli.waitForStderr(/"listening":"([^"]+)"|Listening on (\S+)/, 15_000)
  return {child: cli.child, url: json ?? human, stdout: cli.stdout, stderr: cli.stderr, exit: cli.done.then((r) => r.code)}
}

async function deliver(url: string, body: string, headers: Record<string, string>): Promise<{status: number; body: string}> {
  const response = await fetch(url + 'hooks/orders', {method: 'POST', headers: {'content-type': 'application/json', ...headers}, body})
  return {status: response.status, body: await response.text()}
}

describe('webhooks listen', () => {
  let app: TestServer
  before(async () => {
    app = await startServer()
    app.fallback = json(204, {})
  })
  after(async () => {
    for (const child of children) child.kill('SIGKILL')
    await app.close()
  })

  test('verifies each signature, answers 200 or 400, forwards valid ones byte for byte, NDJSON with --json, stops after --max-events', async () => {
    const l = await listen(['--secret-env', 'HOOK_SECRET', '--forward-to', `${app.url}/local/hooks`, '--json', '--max-events', '3'], {HOOK_SECRET: secret})
    assert.match(l.url, /^http:\/\/127\.0\.0\.1:\d+\/$/, 'a loopback receiver')
    const body = '{"id":"evt_1","type":"order.created","data":{"amount":42}}'
    const ts = now()
    const good = await deliver(l.url, body, {'x-webhook-timestamp': ts, 'x-webhook-signature': sign(ts, body), 'x-webhook-id': 'dlv_1', 'x-webhook-event': 'order.created'})
    assert.equal(good.status, 200)
    const forged = await deliver(l.url, body, {'x-webhook-timestamp': ts, 'x-webhook-signature': sign(ts, body, 'whsec_wrong')})
    assert.equal(forged.status, 400)
    assert.match(forged.body, /signature does not match/)
    const old = String(Number(ts) - 900)
    const stale = await deliver(l.url, '{"id":"evt_3","type":"order.paid"}', {'x-webhook-timestamp': old, 'x-webhook-signature': sign(old, '{"id":"evt_3","type":"order.paid"}')})
    assert.equal(stale.status, 400)
    assert.equal(await l.exit, 0)
    const events = l.stdout().trim().split('\n').map((line) => JSON.parse(line))
    assert.deepEqual(events.map((e) => [e.deliveryId, e.eventId, e.type, e.signature, e.response]), [
      ['dlv_1', 'evt_1', 'order.created', 'valid', 200],
      [undefined, 'evt_1', 'order.created', 'invalid', 400],
      [undefined, 'evt_3', 'order.paid', 'invalid', 400],
    ])
    assert.match(events[2].reason, /stale timestamp: 90\d s old/)
    assert.deepEqual(events[0].body, JSON.parse(body))
    assert.equal(events[0].forward.status, 204)
    assert.equal(events[0].path, '/hooks/orders')
    // Only the valid delivery reached the local app, with the same bytes and signature headers.
    assert.equal(app.requests.length, 1)
    assert.equal(app.requests[0].url, '/local/hooks')
    assert.equal(app.requests[0].body, body)
    assert.equal(app.requests[0].headers['x-webhook-signature'], sign(ts, body))
    assert.equal(app.requests[0].headers['x-webhook-timestamp'], ts)
    const summary = JSON.parse(l.stderr().trim().split('\n').at(-1)!)
    assert.deepEqual(summary, {summary: {received: 3, valid: 1, invalid: 2, unverified: 0, forwarded: 1, forwardFailed: 0}})
  })

  test('runs until Ctrl-C, then exits 0 with a summary on stderr; human lines on stdout', async () => {
    const l = await listen(['--secret-env', 'HOOK_SECRET'], {HOOK_SECRET: secret})
    const body = '{"id":"evt_9","type":"webhook.test"}'
    const ts = now()
    assert.equal((await deliver(l.url, body, {'x-webhook-timestamp': ts, 'x-webhook-signature': sign(ts, body)})).status, 200)
    for (let i = 0; i < 200 && !l.stdout().includes('evt_9'); i++) await new Promise((r) => setTimeout(r, 10))
    l.child.kill('SIGINT')
    assert.equal(await l.exit, 0)
    assert.match(l.stdout(), /webhook\.test {2}evt_9 {2}signature valid {2}answered 200/)
    assert.match(l.stderr(), /received 1 delivery \(1 valid\)\n$/)
  })

  test('without a secret deliveries are unverified (with a warning); a forward target down or silent is reported, the sender still gets 200', async () => {
    const gone = await startServer()
    const refused = gone.url
    await gone.close()
    const silent = await startServer()
    silent.fallback = () => {} // never answers
    try {
      const l = await listen(['--forward-to', `${refused}/`, '--max-events', '1'])
      assert.equal((await deliver(l.url, 'not json', {})).status, 200)
      assert.equal(await l.exit, 0)
      assert.match(l.stderr(), /no --secret-env: signatures are not verified/)
      assert.match(l.stdout(), /unverified {2}answered 200 {2}→ forward failed: ECONNREFUSED/)
      assert.match(l.stderr(), /received 1 delivery \(1 unverified\); forwarded 0 ok, 1 failed/)

      const s = await listen(['--forward-to', `${silent.url}/`, '--forward-timeout', '300ms', '--max-events', '1', '--json'])
      const started = Date.now()
      assert.equal((await deliver(s.url, '{}', {})).status, 200)
      assert.ok(Date.now() - started < 10_000, 'the forward wait is bounded')
      assert.equal(await s.exit, 0)
      assert.match(JSON.parse(s.stdout()).forward.error, /no answer within 300 ms/)
    } finally {
      await silent.close()
    }
  })

  test('--timeout bounds a listener for scripts: exit 0 with nothing received', async () => {
    const l = await listen(['--timeout', '300ms', '--json'])
    assert.equal(await l.exit, 0)
    assert.equal(l.stdout(), '')
    assert.match(l.stderr(), /"received":0/)
  })

  test('a secret env var that is not set is exit 2 before listening', async () => {
    const r = await runCli(['webhooks', 'listen', '--secret-env', 'NOPE_SECRET'], {env: {BFLY_CONFIG_DIR: tempConfigDir()}})
    assert.equal(r.code, 2)
    assert.match(r.stderr, /environment variable NOPE_SECRET is not set/)
  })
})

describe('webhooks verify from stdin', () => {
  test('the raw body piped in, exactly', async () => {
    const body = '{"a":1}\r\n'
    const ts = now()
    const ok = await runCli(['webhooks', 'verify', '--secret-env', 'HOOK_SECRET', '--timestamp', ts, '--signature', sign(ts, body)], {env: {BFLY_CONFIG_DIR: tempConfigDir(), HOOK_SECRET: secret}, input: body})
    assert.equal(ok.code, 0, ok.stderr)
    assert.match(ok.stdout, /^valid \(signed \d+ s ago\)\n$/)
    const bad = await runCli(['webhooks', 'verify', '--secret-env', 'HOOK_SECRET', '--timestamp', ts, '--signature', sign(ts, body)], {env: {BFLY_CONFIG_DIR: tempConfigDir(), HOOK_SECRET: secret}, input: body.trim()})
    assert.equal(bad.code, 8)
  })
})
