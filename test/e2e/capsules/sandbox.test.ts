// The capsule commands against the real sandbox (src/sandbox): walking while capsules are
// created, idempotent creates with replay and conflict, confirmed deletes.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {resolve} from 'node:path'
import {pathToFileURL} from 'node:url'
import {after, before, describe, test} from 'node:test'
import {BIN, cleanEnv, runCli, tempConfigDir} from '../../helpers/cli.ts'

const SANDBOX = resolve(import.meta.dirname, '..', '..', '..', 'dist', 'sandbox', 'index.js')
const skip = existsSync(SANDBOX) ? false : 'the sandbox is not in the build yet (src/sandbox)'

interface Sandbox {
  apiUrl: string
  demoTokens: {admin: string}
  close(): Promise<void>
}

describe('capsules against the sandbox', {skip}, () => {
  let sandbox: Sandbox
  let env: Record<string, string>
  const api = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(sandbox.apiUrl + path, {...init, headers: {authorization: `Bearer ${sandbox.demoTokens.admin}`, 'content-type': 'application/json', ...init.headers}})
    return {status: response.status, body: response.status === 204 ? undefined : await response.json()}
  }
  before(async () => {
    const {startSandbox} = await import(pathToFileURL(SANDBOX).href)
    sandbox = await startSandbox({insecureDemoTokens: true, rateLimits: false, quiet: true, capsules: 300})
    env = {BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: sandbox.apiUrl, BFLY_TOKEN: sandbox.demoTokens.admin}
  })
  after(() => sandbox?.close())

  test('history --all while capsules are created: no duplicates, none skipped that existed throughout', async () => {
    const existing: string[] = []
    for (let page = 0; ; page++) {
      const {body} = await api(`/api/v1/history?size=100&page=${page}`)
      existing.push(...body.data.map((c: {id: string}) => c.id))
      if (page + 1 >= body.meta.pagination.totalPages) break
    }
    assert.ok(existing.length >= 300)
    // Newest first: each new capsule lands on page 0 and pushes every page one item down.
    const child = spawn(process.execPath, [BIN, 'history', '--all', '--size', '10', '--ndjson'], {env: cleanEnv(env)})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    let running = true
    const closed = new Promise<number | null>((resolveClose) => child.on('close', (code) => ((running = false), resolveClose(code))))
    let created = 0
    while (running && created < 300) {
      const {status} = await api('/api/v1/capsules', {method: 'POST', body: JSON.stringify({scopeId: 'rim:entity:finance:EURUSD', timestamp: new Date().toISOString(), payload: {n: created}})})
      assert.equal(status, 201)
      created++
      await new Promise((r) => setTimeout(r, 2))
    }
    assert.equal(await closed, 0, stderr)
    const printed = stdout.trim().split('\n').map((line) => JSON.parse(line).id as string)
    assert.equal(new Set(printed).size, printed.length, 'no duplicates')
    const seen = new Set(printed)
    assert.deepEqual(existing.filter((id) => !seen.has(id)), [], 'every capsule that existed throughout was printed')
    assert.ok(created > 0, 'capsules were created during the walk')
  })

  test('filters, sort and encoded scope ids are understood by the server', async () => {
    const list = await runCli(['capsules', 'list', '--scope-id', 'rim:entity:finance:GBPUSD', '--sort', 'timestamp,desc', '--limit', '5', '--json'], {env})
    assert.equal(list.code, 0, list.stderr)
    const items = JSON.parse(list.stdout)
    assert.equal(items.length, 5)
    assert.ok(items.every((c: {scopeId: string}) => c.scopeId === 'rim:entity:finance:GBPUSD'))
    assert.deepEqual(items.map((c: {timestamp: string}) => c.timestamp), items.map((c: {timestamp: string}) => c.timestamp).sort().reverse())
    const history = await runCli(['history', 'rim:actor:central.bank:ECB~rates', '--limit', '3', '--from', '30d', '--json'], {env})
    assert.equal(history.code, 0, history.stderr)
    assert.ok(JSON.parse(history.stdout).every((c: {scopeId: string}) => c.scopeId === 'rim:actor:central.bank:ECB~rates'))
    const events = await runCli(['events', 'list', '--type', 'capsule.created', '--limit', '3', '--ndjson'], {env})
    assert.equal(events.code, 0, events.stderr)
    assert.ok(events.stdout.trim().split('\n').every((line) => JSON.parse(line).type === 'capsule.created'))
    const table = await runCli(['capsules', 'list', '--size', '2'], {env})
    assert.equal(table.code, 0, table.stderr)
    assert.equal(table.stdout.trim().split('\n').length, 2)
    assert.match(table.stderr, /more with --page 1, or --all/)
  })

  test('create, replay with the same key, 409 with the same key and another body', async () => {
    const args = ['capsules', 'create', '--scope-id', 'rim:entity:finance:EURUSD', '--timestamp', '2025-12-03T10:00:00Z', '--idempotency-key', 'e2e-order-42', '--json']
    const first = await runCli([...args, '--payload', '{"price": 1.0842}'], {env})
    assert.equal(first.code, 0, first.stderr)
    const capsule = JSON.parse(first.stdout)
    assert.equal(first.stderr, '')
    const replay = await runCli([...args, '--payload', '{"price": 1.0842}'], {env})
    assert.equal(replay.code, 0, replay.stderr)
    assert.equal(JSON.parse(replay.stdout).id, capsule.id, 'the same capsule, not a second one')
    assert.match(JSON.parse(replay.stderr).warning, /^replayed: /)
    const conflict = await runCli([...args, '--payload', '{"price": 2}'], {env})
    assert.equal(conflict.code, 6)
    assert.equal(conflict.stdout, '')
    assert.equal(JSON.parse(conflict.stderr).error.status, 409)
    const fetched = await runCli(['capsules', 'get', capsule.id, '--json'], {env})
    assert.deepEqual(JSON.parse(fetched.stdout), capsule)
  })

  test('delete asks for --yes off a terminal and sends nothing without it', async () => {
    const {body} = await api('/api/v1/capsules', {method: 'POST', body: JSON.stringify({scopeId: 'rim:entity:finance:EURUSD', timestamp: '2025-12-03T10:00:00Z', payload: {doomed: true}})})
    const id = body.data.id
    const refused = await runCli(['capsules', 'delete', id], {env})
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, /pass --yes/)
    assert.equal((await api(`/api/v1/capsules/${id}`)).status, 200, 'still there')
    const deleted = await runCli(['capsules', 'delete', id, '--yes', '--json'], {env})
    assert.equal(deleted.code, 0, deleted.stderr)
    assert.deepEqual(JSON.parse(deleted.stdout), {id, deleted: true})
    assert.equal((await runCli(['capsules', 'get', id], {env})).code, 4)
    assert.equal((await runCli(['capsules', 'delete', id, '--yes'], {env})).code, 4)
  })
})
