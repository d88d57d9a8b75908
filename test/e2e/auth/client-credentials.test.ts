// CI logins: BFLY_CLIENT_ID + BFLY_CLIENT_SECRET (nothing stored), and `login --client-credentials`.
import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {describe, test} from 'node:test'
import {runCli, tempConfigDir} from '../../helpers/cli.ts'
import {filesUnder, storedRecord} from '../../helpers/auth-cli.ts'
import {CI_CLIENT, NARROW_CI_CLIENT, serveOidcAndApi, type OidcFixture, type ProtectedApi} from '../../helpers/oidc-fixture.ts'

describe('client credentials', () => {
  let oidc: OidcFixture
  let api: ProtectedApi
  serveOidcAndApi((started) => ({oidc, api} = started))

  test('from the environment: a token per run, nothing stored, the secret only to the token endpoint', async () => {
    const configDir = tempConfigDir()
    const env = {BFLY_CONFIG_DIR: configDir, BFLY_API_URL: api.url, BFLY_CLIENT_ID: CI_CLIENT.clientId, BFLY_CLIENT_SECRET: CI_CLIENT.clientSecret}
    const from = oidc.requests.length
    const get = await runCli(['capsules', 'get', 'cap_1', '--json', '--verbose'], {env})
    assert.equal(get.code, 0, get.stderr)
    assert.ok(!get.stderr.includes(CI_CLIENT.clientSecret), 'the secret is not in the trace')
    const toIssuer = oidc.requests.slice(from)
    const token = toIssuer.filter((r) => r.path === '/token')
    assert.equal(token.length, 1)
    assert.match(token[0].authorization!, /^Basic /)
    assert.ok(toIssuer.filter((r) => r.path !== '/token').every((r) => r.authorization === undefined), 'no credentials on discovery')
    assert.equal(oidc.grants.at(-1)!.grantType, 'client_credentials')
    assert.ok(!existsSync(join(configDir, 'credentials')), 'nothing stored')
    const status = JSON.parse((await runCli(['auth', 'status', '--json'], {env})).stdout)
    assert.equal(status.storage, 'env')
    assert.equal(status.subject, CI_CLIENT.clientId)
  })

  test("asks for the API's scopes; a client allowed less gets its default instead of a failure", async () => {
    const configDir = tempConfigDir()
    const env = {BFLY_CONFIG_DIR: configDir, BFLY_API_URL: api.url}
    const wide = await runCli(['login', '--client-credentials', '--client-id', CI_CLIENT.clientId, '--json'], {env: {...env, BFLY_CLIENT_SECRET: CI_CLIENT.clientSecret}})
    assert.equal(wide.code, 0, wide.stderr)
    assert.deepEqual(JSON.parse(wide.stdout).scopes, ['capsules:read', 'capsules:write', 'history:read', 'events:read'])
    const narrow = await runCli(['capsules', 'get', 'cap_1', '--verbose'], {env: {...env, BFLY_CLIENT_ID: NARROW_CI_CLIENT.clientId, BFLY_CLIENT_SECRET: NARROW_CI_CLIENT.clientSecret}})
    assert.equal(narrow.code, 0, narrow.stderr)
    assert.match(narrow.stderr, /refused the API's scopes for bfly-ci-narrow; asking for the client's default scopes/)
    const asked = await runCli(['login', '--client-credentials', '--client-id', NARROW_CI_CLIENT.clientId, '--scopes', 'capsules:read', '--json'], {env: {...env, BFLY_CLIENT_SECRET: NARROW_CI_CLIENT.clientSecret}})
    assert.equal(asked.code, 0, asked.stderr)
    assert.deepEqual(JSON.parse(asked.stdout).scopes, ['capsules:read'])
  })

  test('a wrong secret exits 3 and names the variables to check', async () => {
    const env = {BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: api.url, BFLY_CLIENT_ID: CI_CLIENT.clientId, BFLY_CLIENT_SECRET: 'wrong'}
    const get = await runCli(['capsules', 'get', 'cap_1'], {env})
    assert.equal(get.code, 3)
    assert.match(get.stderr, /invalid_client/)
    assert.match(get.stderr, /BFLY_CLIENT_SECRET/)
    const login = await runCli(['login', '--client-credentials', '--json'], {env})
    assert.equal(login.code, 3)
    assert.equal(JSON.parse(login.stderr.trim().split('\n').at(-1)!).error.code, 'INVALID_CLIENT')
  })

  test('the secret is never a flag value', async () => {
    const r = await runCli(['login', '--client-credentials', '--client-secret', CI_CLIENT.clientSecret], {env: {BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: api.url}})
    assert.equal(r.code, 2)
    const none = await runCli(['login', '--client-credentials', '--client-id', CI_CLIENT.clientId], {env: {BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: api.url}})
    assert.equal(none.code, 2)
    assert.match(none.stderr, /BFLY_CLIENT_SECRET/)
  })

  test('login --client-credentials stores the client login; renewal is a new grant; logout revokes', async () => {
    const configDir = tempConfigDir()
    const env = {BFLY_CONFIG_DIR: configDir, BFLY_API_URL: api.url}
    const login = await runCli(['login', '--client-credentials', '--client-id', CI_CLIENT.clientId, '--json'], {env: {...env, BFLY_CLIENT_SECRET: CI_CLIENT.clientSecret}})
    assert.equal(login.code, 0, login.stderr)
    assert.equal(JSON.parse(login.stdout).subject, CI_CLIENT.clientId)
    const stored = storedRecord(configDir)!
    assert.equal(stored.record.kind, 'client')
    for (const file of filesUnder(configDir)) {
      if (file.path !== stored.path) assert.ok(!file.content.includes(CI_CLIENT.clientSecret), 'the secret is only in the 0600 file')
    }
    const get = await runCli(['capsules', 'get', 'cap_1'], {env})
    assert.equal(get.code, 0, get.stderr)

    await oidc.killAccessToken(stored.record.accessToken)
    await (await oidc.provider.ClientCredentials.find(stored.record.accessToken))?.destroy()
    const renewed = await runCli(['capsules', 'get', 'cap_1'], {env})
    assert.equal(renewed.code, 0, renewed.stderr)
    const token = storedRecord(configDir)!.record.accessToken
    assert.notEqual(token, stored.record.accessToken)

    const revocations = oidc.revocations
    const out = await runCli(['logout'], {env})
    assert.equal(out.code, 0, out.stderr)
    assert.match(out.stderr, /revoked at the issuer/)
    assert.equal(oidc.revocations, revocations + 1)
    assert.equal(await oidc.tokenValid(token), false)
    assert.equal(storedRecord(configDir), undefined)
  })
})
