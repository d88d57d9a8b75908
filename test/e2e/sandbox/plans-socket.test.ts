// The plan progress WebSocket: bearer on the upgrade, the documented messages in order,
// PING → PONG, and HTTP errors for refused upgrades.
import assert from 'node:assert/strict'
import {after, before, test} from 'node:test'
import WebSocket from 'ws'
import {startSandbox, type Sandbox} from '../../../dist/sandbox/index.js'
import {call} from './client.ts'

let sb: Sandbox

before(async () => {
  sb = await startSandbox({insecureDemoTokens: true, quiet: true, rateLimits: false, timeScale: 20})
})
after(() => sb.close())

const wsUrl = (planId: string) => `${sb.apiUrl.replace('http', 'ws')}/ws/plans/${planId}`

/** Connects and records every message from the first byte (replayed messages arrive with the upgrade). */
function watch(planId: string, token?: string) {
  const ws = new WebSocket(wsUrl(planId), {headers: token ? {authorization: `Bearer ${token}`} : {}})
  const messages: any[] = []
  ws.on('message', (data) => messages.push(JSON.parse(String(data))))
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  const closed = new Promise<{messages: any[]; code: number}>((resolve) => ws.once('close', (code) => resolve({messages, code})))
  return {ws, opened, closed, messages}
}

function refused(planId: string, token?: string): Promise<{status: number; headers: Record<string, unknown>; body: string}> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(planId), {headers: token ? {authorization: `Bearer ${token}`} : {}})
    ws.once('open', () => reject(new Error('the upgrade was accepted')))
    ws.once('error', () => {})
    ws.once('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += c))
      res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body}))
    })
  })
}

test('PING gets PONG while waiting for an execution', async () => {
  const w = watch('plan_123', sb.demoTokens.admin)
  await w.opened
  w.ws.send(JSON.stringify({type: 'PING'}))
  while (w.messages.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
  assert.equal(w.messages[0].type, 'PONG')
  w.ws.close()
})

test('execute, then watch: every step started, progressing, completed, then PLAN_COMPLETED and a normal close', async () => {
  const w = watch('plan_123', sb.demoTokens.admin)
  await w.opened
  const r = await call(sb.apiUrl, '/api/v1/plans/plan_123/execute', {method: 'POST', token: sb.demoTokens.admin})
  assert.equal(r.status, 202)
  const {messages, code} = await w.closed
  assert.equal(code, 1000)
  const types = messages.map((m) => m.type)
  assert.equal(types[0], 'STEP_STARTED')
  assert.equal(messages[0].progress, 0)
  assert.equal(types.at(-1), 'PLAN_COMPLETED')
  assert.equal(messages.at(-1).status, 'SUCCESS')
  assert.ok(Array.isArray(messages.at(-1).artifacts))
  const steps = new Set(messages.filter((m) => m.type === 'STEP_COMPLETED').map((m) => m.step))
  assert.deepEqual([...steps], ['evaluate-conditions', 'fetch-capsules', 'compute-signals', 'publish-artifacts'])
  for (const m of messages.filter((x) => x.type === 'STEP_PROGRESS')) assert.ok(m.progress >= 0 && m.progress <= 100)
  assert.ok(messages.every((m) => m.executionId === r.json.data.executionId))
})

test('a watcher that connects after the execute still gets the whole story', async () => {
  const r = await call(sb.apiUrl, '/api/v1/plans/plan_nightly_rebalance/execute', {method: 'POST', token: sb.demoTokens.admin})
  await new Promise((resolve) => setTimeout(resolve, 60))
  const {messages} = await watch('plan_nightly_rebalance', sb.demoTokens.admin).closed
  assert.equal(messages[0].type, 'STEP_STARTED')
  assert.equal(messages[0].executionId, r.json.data.executionId)
  assert.equal(messages.at(-1).type, 'PLAN_COMPLETED')
})

test('a failing plan: STEP_FAILED then PLAN_FAILED with an error', async () => {
  const w = watch('plan_broken', sb.demoTokens.admin)
  await w.opened
  await call(sb.apiUrl, '/api/v1/plans/plan_broken/execute', {method: 'POST', token: sb.demoTokens.admin})
  const {messages} = await w.closed
  assert.deepEqual(messages.slice(-2).map((m) => m.type), ['STEP_FAILED', 'PLAN_FAILED'])
  assert.equal(messages.at(-2).step, 'fetch-market-data')
  assert.equal(typeof messages.at(-1).error, 'string')
})

test('refused upgrades are HTTP errors: 401 with WWW-Authenticate, 403 without plans:execute, 404 for unknown plans', async () => {
  const unauthorized = await refused('plan_123')
  assert.equal(unauthorized.status, 401)
  assert.equal(unauthorized.headers['www-authenticate'], `Bearer error="invalid_token", resource_metadata="${sb.apiUrl}/.well-known/oauth-protected-resource"`)
  assert.equal(JSON.parse(unauthorized.body).error.code, 'UNAUTHORIZED')
  const forbidden = await refused('plan_123', sb.demoTokens.read)
  assert.equal(forbidden.status, 403)
  assert.equal(JSON.parse(forbidden.body).error.code, 'FORBIDDEN')
  const missing = await refused('plan_nope', sb.demoTokens.admin)
  assert.equal(missing.status, 404)
  assert.equal(JSON.parse(missing.body).error.code, 'NOT_FOUND')
})
