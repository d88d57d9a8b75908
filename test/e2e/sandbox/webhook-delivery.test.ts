// Webhook deliveries are real: a loopback receiver gets signed POSTs; failures follow the
// retry schedule, compressed by timeScale so the test sees several attempts in well under
// a second; a receiver that never answers hits the attempt deadline.
import assert from 'node:assert/strict'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {after, before, test} from 'node:test'
import {startSandbox, verifySignature, type Sandbox} from '../../../dist/sandbox/index.js'
import {call} from './client.ts'

interface Received {
  headers: IncomingMessage['headers']
  body: string
  at: number
}

let sb: Sandbox
let receiver: Server
let url: string
const received: Received[] = []
let answer: (res: ServerResponse) => void = (res) => res.end('ok')

before(async () => {
  // 3600: one simulated hour per second, so the 1m and 5m retries come after 17 and 83 ms.
  sb = await startSandbox({insecureDemoTokens: true, quiet: true, rateLimits: false, timeScale: 3600, webhookTimeoutMs: 300})
  receiver = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      received.push({headers: req.headers, body, at: Date.now()})
      answer(res)
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/bfly`
})
after(async () => {
  await sb.close()
  receiver.closeAllConnections()
  receiver.close()
})

const admin = () => sb.demoTokens.admin

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await fn()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

test('an event becomes a signed POST the receiver can verify', async () => {
  received.length = 0
  answer = (res) => res.end('ok')
  const hook = (await call(sb.apiUrl, '/webhooks', {method: 'POST', token: admin(), body: {name: 'Verify me', url, events: ['capsule.created']}})).json
  const created = (await call(sb.apiUrl, '/api/v1/capsules', {method: 'POST', token: admin(), body: {scopeId: 'rim:entity:finance:EURUSD', timestamp: '2025-12-03T10:00:00Z', payload: {price: 1.1}}})).json.data
  const got = await until('the delivery', async () => received[0])
  assert.equal(got.headers['content-type'], 'application/json')
  const ts = String(got.headers['x-webhook-timestamp'])
  assert.match(ts, /^\d+$/)
  assert.ok(Math.abs(Number(ts) - Date.now() / 1000) < 5)
  assert.match(String(got.headers['x-webhook-signature']), /^sha256=[0-9a-f]{64}$/)
  assert.ok(verifySignature(hook.secret, ts, got.body, String(got.headers['x-webhook-signature']), Math.floor(Date.now() / 1000)), 'signature verifies with the secret shown at creation')
  assert.ok(!verifySignature('whsec_wrong', ts, got.body, String(got.headers['x-webhook-signature']), Math.floor(Date.now() / 1000)))
  const event = JSON.parse(got.body)
  assert.equal(event.type, 'capsule.created')
  assert.equal(event.data.capsuleId, created.id)
  const delivery = await until('delivered status', async () => {
    const d = (await call(sb.apiUrl, `/webhooks/${hook.id}/deliveries`, {token: admin()})).json.deliveries[0]
    return d?.status === 'delivered' ? d : undefined
  })
  assert.equal(delivery.attempts, 1)
  assert.equal(delivery.response_status_code, 200)
  assert.equal(got.headers['x-webhook-id'], delivery.id)
  await call(sb.apiUrl, `/webhooks/${hook.id}`, {method: 'DELETE', token: admin()})
})

test('a failing receiver gets retries on the (scaled) schedule until it recovers', async () => {
  received.length = 0
  let failures = 3
  answer = (res) => {
    if (failures-- > 0) {
      res.statusCode = 503
      res.end('down')
    } else {
      res.end('ok')
    }
  }
  const hook = (await call(sb.apiUrl, '/webhooks', {method: 'POST', token: admin(), body: {name: 'Flaky', url, events: ['capsule.deleted']}})).json
  const capsule = (await call(sb.apiUrl, '/api/v1/capsules', {method: 'POST', token: admin(), body: {scopeId: 'rim:entity:finance:EURUSD', timestamp: '2025-12-03T10:00:00Z', payload: {}}})).json.data
  await call(sb.apiUrl, `/api/v1/capsules/${capsule.id}`, {method: 'DELETE', token: admin()})
  const failed = await until('the first failure recorded', async () => {
    const d = (await call(sb.apiUrl, `/webhooks/${hook.id}/deliveries`, {token: admin()})).json.deliveries[0]
    return d?.status === 'failed' ? d : undefined
  })
  assert.equal(failed.response_status_code, 503)
  assert.equal(failed.error, 'upstream returned 503')
  assert.notEqual(failed.next_attempt_at, null)
  const delivered = await until('delivery after three failures', async () => {
    const d = (await call(sb.apiUrl, `/webhooks/${hook.id}/deliveries?status=delivered`, {token: admin()})).json.deliveries[0]
    return d
  })
  assert.equal(delivered.attempts, 4)
  assert.equal(received.length, 4)
  // 1m, 5m and 30m at 3600×: about 17, 83 and 500 ms apart (generous margins).
  const gaps = received.slice(1).map((r, i) => r.at - received[i].at)
  assert.ok(gaps[0] >= 10 && gaps[0] < 1000, `gaps ${gaps}`)
  assert.ok(gaps[1] >= 60 && gaps[1] < 1500, `gaps ${gaps}`)
  assert.ok(gaps[2] >= 400 && gaps[2] < 3000, `gaps ${gaps}`)
  assert.ok(new Set(received.map((r) => r.body)).size === 1, 'the same body every attempt')
  assert.equal((await call(sb.apiUrl, '/webhooks', {token: admin()})).json.webhooks.find((w: {id: string}) => w.id === hook.id).is_healthy, true)
  await call(sb.apiUrl, `/webhooks/${hook.id}`, {method: 'DELETE', token: admin()})
})

test('a receiver that never answers hits the attempt deadline', async () => {
  received.length = 0
  answer = () => {}
  const hook = (await call(sb.apiUrl, '/webhooks', {method: 'POST', token: admin(), body: {name: 'Silent', url, events: ['webhook.test']}})).json
  const started = Date.now()
  const r = await call(sb.apiUrl, `/webhooks/${hook.id}/test`, {method: 'POST', token: admin()})
  assert.equal(r.status, 200)
  assert.equal(r.json.status, 'failed')
  assert.equal(r.json.response_status_code, null)
  assert.match(r.json.error, /timed out after 300 ms/)
  assert.ok(Date.now() - started < 3000)
  await call(sb.apiUrl, `/webhooks/${hook.id}`, {method: 'PUT', token: admin(), body: {is_active: false}})
  receiver.closeAllConnections()
})
