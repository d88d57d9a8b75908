// Login against the project's own sandbox (API + embedded OAuth issuer), once it is built.
import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {ROOT, runCli, tempConfigDir} from '../../helpers/cli.ts'
import {storedRecord} from '../../helpers/auth-cli.ts'

const sandboxBuilt = existsSync(join(ROOT, 'dist', 'sandbox', 'index.js'))

interface Sandbox {
  apiUrl: string
  issuer: string
  ciClient: {id: string; secret: string}
  demoUsers: Array<{username: string}>
  close(): Promise<void>
}

describe('login against the sandbox', {skip: sandboxBuilt ? false : 'the sandbox (src/sandbox) is not in this build'}, () => {
  let sandbox: Sandbox
  before(async () => {
    const {startSandbox} = await import(join(ROOT, 'dist', 'sandbox', 'index.js'))
    sandbox = await startSandbox({autoApprove: true})
  })
  after(() => sandbox?.close())

  test('device flow, a call, a refresh with rotation, logout with revocation', async () => {
    const configDir = tempConfigDir()
    const env = {BFLY_CONFIG_DIR: configDir, BFLY_API_URL: sandbox.apiUrl}
    const login = await runCli(['login', '--device', '--json'], {env})
    assert.equal(login.code, 0, login.stderr)
    const status = JSON.parse(login.stdout)
    assert.equal(status.issuer.replace(/\/$/, ''), sandbox.issuer.replace(/\/$/, ''))
    assert.equal(status.subject, sandbox.demoUsers[0].username)
    const list = await runCli(['api', '/api/v1/capsules'], {env})
    assert.equal(list.code, 0, list.stderr)
    const before = storedRecord(configDir)!.record
    const refresh = await runCli(['auth', 'refresh'], {env})
    assert.equal(refresh.code, 0, refresh.stderr)
    const after = storedRecord(configDir)!.record
    assert.notEqual(after.accessToken, before.accessToken)
    const out = await runCli(['logout'], {env})
    assert.equal(out.code, 0, out.stderr)
    assert.match(out.stderr, /revoked at the issuer/)
    const revoked = await runCli(['api', '/api/v1/capsules'], {env: {...env, BFLY_TOKEN: after.accessToken}})
    assert.equal(revoked.code, 3, 'the revoked grant no longer opens the API')
  })

  test('client credentials of the CI client', async () => {
    const env = {BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: sandbox.apiUrl, BFLY_CLIENT_ID: sandbox.ciClient.id, BFLY_CLIENT_SECRET: sandbox.ciClient.secret}
    const list = await runCli(['api', '/api/v1/capsules'], {env})
    assert.equal(list.code, 0, list.stderr)
    const wrong = await runCli(['api', '/api/v1/capsules'], {env: {...env, BFLY_CLIENT_SECRET: 'wrong'}})
    assert.equal(wrong.code, 3)
  })
})
