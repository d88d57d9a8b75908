// `bfly logout`: revocation when the issuer offers it, local removal always, --all.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {describe, test} from 'node:test'
import {runCli, tempConfigDir} from '../../helpers/cli.ts'
import {filesUnder, loginWithBrowser, storedRecord} from '../../helpers/auth-cli.ts'
import {CI_CLIENT, serveOidcAndApi, startOidcFixture, startProtectedApi, type OidcFixture, type ProtectedApi} from '../../helpers/oidc-fixture.ts'

describe('logout', () => {
  let oidc: OidcFixture
  let api: ProtectedApi
  serveOidcAndApi((started) => ({oidc, api} = started))

  test('revokes the refresh token (RFC 7009) and removes everything local', async () => {
    const configDir = tempConfigDir()
    const env = {BFLY_CONFIG_DIR: configDir, BFLY_API_URL: api.url}
    assert.equal((await loginWithBrowser(env, 'kim')).code, 0)
    const {record} = storedRecord(configDir)!
    const out = await runCli(['logout', '--json'], {env})
    assert.equal(out.code, 0, out.stderr)
    assert.deepEqual(JSON.parse(out.stdout), {loggedOut: [{profile: 'default', issuer: oidc.issuer, revoked: true}]})
    assert.equal(await oidc.refreshTokenValid(record.refreshToken!), false)
    assert.equal(await oidc.tokenValid(record.accessToken), false, 'the grant is gone')
    assert.equal(storedRecord(configDir), undefined)
    const config = filesUnder(configDir).find((f) => f.path.endsWith('config.json'))!
    assert.doesNotMatch(config.content, /"session"/)
    assert.equal((await runCli(['auth', 'status'], {env})).code, 3)
    const again = await runCli(['logout'], {env})
    assert.equal(again.code, 0)
    assert.match(again.stderr, /Not logged in/)
  })

  test('--all logs out of every profile', async () => {
    const configDir = tempConfigDir()
    const env = {BFLY_CONFIG_DIR: configDir, BFLY_API_URL: api.url}
    assert.equal((await loginWithBrowser(env, 'lee')).code, 0)
    assert.equal((await loginWithBrowser(env, 'max', ['--profile', 'ops'])).code, 0)
    const out = await runCli(['logout', '--all'], {env})
    assert.equal(out.code, 0, out.stderr)
    assert.match(out.stderr, /Logged out of profile default/)
    assert.match(out.stderr, /Logged out of profile ops/)
    assert.equal(storedRecord(configDir), undefined)
    assert.equal(storedRecord(configDir, 'ops'), undefined)
    assert.equal((await runCli(['auth', 'status', '--profile', 'ops'], {env})).code, 3)
  })

  test('offline: the login is removed locally, with a warning that it was not revoked', async () => {
    const own = await startOidcFixture()
    const ownApi = await startProtectedApi(own)
    const configDir = tempConfigDir()
    const env = {BFLY_CONFIG_DIR: configDir, BFLY_API_URL: ownApi.url}
    assert.equal((await loginWithBrowser(env, 'nina')).code, 0)
    await ownApi.close()
    await own.close()
    const out = await runCli(['logout'], {env})
    assert.equal(out.code, 0, out.stderr)
    assert.match(out.stderr, /warning: could not revoke the login at http:\/\/127\.0\.0\.1:\d+ \(.*refused.*\); it is removed from this machine only/)
    assert.equal(storedRecord(configDir), undefined)
    assert.doesNotMatch(readFileSync(filesUnder(configDir).find((f) => f.path.endsWith('config.json'))!.path, 'utf8'), /"session"/)
  })

  test('--with-token: stored, used as is, never refreshed', async () => {
    const configDir = tempConfigDir()
    const env = {BFLY_CONFIG_DIR: configDir, BFLY_API_URL: api.url}
    // A token obtained elsewhere (here: straight from the token endpoint), pasted in.
    const grant = await fetch(`${oidc.issuer}/token`, {
      method: 'POST',
      headers: {'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${CI_CLIENT.clientId}:${CI_CLIENT.clientSecret}`).toString('base64')}`},
      body: new URLSearchParams({grant_type: 'client_credentials'}),
    })
    const token = ((await grant.json()) as {access_token: string}).access_token
    const login = await runCli(['login', '--with-token'], {env, input: `${token}\n`})
    assert.equal(login.code, 0, login.stderr)
    assert.ok(!login.stderr.includes(token))
    const get = await runCli(['capsules', 'get', 'cap_1'], {env})
    assert.equal(get.code, 0, get.stderr)
    assert.equal(api.requests.at(-1)!.authorization, `Bearer ${token}`)
    await (await oidc.provider.ClientCredentials.find(token))!.destroy()
    const grants = oidc.grants.length
    const refused = await runCli(['capsules', 'get', 'cap_1'], {env})
    assert.equal(refused.code, 3)
    assert.equal(oidc.grants.length, grants, 'no refresh attempted')
    const empty = await runCli(['login', '--with-token'], {env, input: ''})
    assert.equal(empty.code, 2)
  })
})
