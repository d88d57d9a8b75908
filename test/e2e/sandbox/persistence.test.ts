// --data FILE: state survives a restart, and a process killed in the middle of writing
// leaves a file the next start opens without complaint.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {DatabaseSync} from 'node:sqlite'
import {after, test} from 'node:test'
import {startSandbox} from '../../../dist/sandbox/index.js'
import {call} from './client.ts'

const dir = mkdtempSync(join(tmpdir(), 'bfly-sandbox-data-'))
after(() => rmSync(dir, {recursive: true, force: true}))

test('capsules, webhooks, deliveries and circuit resets survive a restart; seeding happens once', async () => {
  const file = join(dir, 'state.db')
  const first = await startSandbox({dataFile: file, insecureDemoTokens: true, quiet: true, rateLimits: false})
  const t = first.demoTokens.admin
  const capsule = (await call(first.apiUrl, '/api/v1/capsules', {method: 'POST', token: t, body: {scopeId: 'rim:entity:finance:EURUSD', timestamp: '2025-12-03T10:00:00Z', payload: {kept: true}}})).json.data
  const hook = (await call(first.apiUrl, '/webhooks', {method: 'POST', token: t, body: {name: 'Kept', url: 'http://127.0.0.1:9/kept', events: ['plan.completed']}})).json
  await call(first.apiUrl, '/api/v1/capsules/cap_01JD9Z8K2M', {method: 'DELETE', token: t})
  await call(first.apiUrl, '/integrations/NotificationService/circuit/reset', {method: 'POST', token: t})
  const feed = (await call(first.apiUrl, '/webhooks', {token: t})).json.webhooks.find((w: {name: string}) => w.name === 'Capsule feed')
  await first.close()

  const second = await startSandbox({dataFile: file, insecureDemoTokens: true, quiet: true, rateLimits: false})
  try {
    const s = second.demoTokens.admin
    assert.deepEqual((await call(second.apiUrl, `/api/v1/capsules/${capsule.id}`, {token: s})).json.data, capsule)
    assert.equal((await call(second.apiUrl, '/api/v1/capsules/cap_01JD9Z8K2M', {token: s})).status, 404, 'the delete stuck')
    assert.equal((await call(second.apiUrl, '/api/v1/capsules?size=1', {token: s})).json.meta.pagination.totalElements, 1200, 'seeded once: 1200 - 1 + 1')
    const hooks = (await call(second.apiUrl, '/webhooks', {token: s})).json.webhooks
    assert.ok(hooks.some((w: {id: string}) => w.id === hook.id))
    const movedFeed = hooks.find((w: {id: string}) => w.id === feed.id)
    assert.equal(new URL(movedFeed.url).origin, second.apiUrl, 'seeded webhooks follow the sandbox to its new port')
    const status = (await call(second.apiUrl, '/integrations/status', {token: s})).json.integrations.find((i: {name: string}) => i.name === 'NotificationService')
    assert.equal(status.circuit_state, 'closed')
    const deliveries = (await call(second.apiUrl, `/webhooks/${feed.id}/deliveries?size=100`, {token: s})).json.deliveries
    assert.ok(deliveries.length >= 40)
  } finally {
    await second.close()
  }
})

test('a login survives a restart on the same port: signing key and token records are kept', async () => {
  const file = join(dir, 'oauth.db')
  const first = await startSandbox({dataFile: file, quiet: true, rateLimits: false})
  const port = Number(new URL(first.apiUrl).port)
  const meta = (await call(first.issuer, '/.well-known/openid-configuration')).json
  const res = await fetch(meta.token_endpoint, {
    method: 'POST',
    headers: {authorization: 'Basic ' + Buffer.from(`${first.ciClient.id}:${first.ciClient.secret}`).toString('base64'), 'content-type': 'application/x-www-form-urlencoded'},
    body: 'grant_type=client_credentials&scope=capsules:read',
  })
  const accessToken = ((await res.json()) as {access_token: string}).access_token
  assert.equal((await call(first.apiUrl, '/api/v1/capsules?size=1', {token: accessToken})).status, 200)
  await first.close()

  const second = await startSandbox({dataFile: file, quiet: true, rateLimits: false, port})
  // A fresh connection pool: the old one still holds sockets the first sandbox closed.
  const {Agent} = await import('undici')
  const dispatcher = new Agent()
  try {
    const again = await fetch(`${second.apiUrl}/api/v1/capsules?size=1`, {headers: {authorization: `Bearer ${accessToken}`}, dispatcher} as RequestInit)
    assert.equal(again.status, 200)
    assert.notEqual(second.ciClient.secret, first.ciClient.secret, 'the CI secret is new every start')
  } finally {
    await dispatcher.close()
    await second.close()
  }
})

test('a process killed mid-write leaves a consistent file', async () => {
  const file = join(dir, 'crash.db')
  const script = `
    const {startSandbox} = await import(${JSON.stringify(new URL('../../../dist/sandbox/index.js', import.meta.url).href)})
    const sb = await startSandbox({dataFile: ${JSON.stringify(file)}, insecureDemoTokens: true, quiet: true, rateLimits: false})
    for (let i = 0; ; i++) {
      // After 20 writes, give the 25 ms flush time to land, then say so and keep writing.
      if (i === 20) {
        await new Promise((resolve) => setTimeout(resolve, 150))
        process.stdout.write('written\\n')
      }
      await fetch(sb.apiUrl + '/api/v1/capsules', {method: 'POST', headers: {authorization: 'Bearer ' + sb.demoTokens.admin, 'content-type': 'application/json'}, body: JSON.stringify({scopeId: 'rim:entity:crash:T', timestamp: '2025-12-03T10:00:00Z', payload: {i, pad: 'x'.repeat(2000)}})})
    }
  `
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {stdio: ['ignore', 'pipe', 'inherit']})
  await new Promise<void>((resolve) => child.stdout.on('data', (d) => String(d).includes('written') && resolve()))
  // Somewhere in the middle of the following writes and flushes.
  await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 200))
  child.kill('SIGKILL')
  await new Promise((resolve) => child.once('exit', resolve))

  const db = new DatabaseSync(file)
  assert.equal((db.prepare('PRAGMA integrity_check').get() as {integrity_check: string}).integrity_check, 'ok')
  db.close()
  const again = await startSandbox({dataFile: file, insecureDemoTokens: true, quiet: true, rateLimits: false})
  try {
    const r = await call(again.apiUrl, `/api/v1/capsules?scopeId=${encodeURIComponent('rim:entity:crash:T')}&size=1`, {token: again.demoTokens.admin})
    assert.equal(r.status, 200)
    assert.ok(r.json.meta.pagination.totalElements >= 20, 'writes before the kill are there')
    assert.equal((await call(again.apiUrl, '/api/v1/capsules/cap_01JD9Z8K2M', {token: again.demoTokens.admin})).status, 200, 'the seed is intact')
  } finally {
    await again.close()
  }
})

test('a file that is not a database is refused with a clear error', async () => {
  const file = join(dir, 'not-a-db.txt')
  const {writeFileSync} = await import('node:fs')
  writeFileSync(file, 'hello, I am a text file and not SQLite at all'.repeat(50))
  await assert.rejects(startSandbox({dataFile: file, quiet: true}), /cannot use .*not-a-db\.txt as a sandbox data file/)
})
