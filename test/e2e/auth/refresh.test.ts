// The session over time: refresh with rotation, replay detection, 401 → one refresh → retry,
// the end of a grant, profiles kept apart, and 20 processes refreshing at once.
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {describe, test} from 'node:test'
import {runCli, tempConfigDir} from '../../helpers/cli.ts'
import {filesUnder, loginWithBrowser, startCli, storedRecord} from '../../helpers/auth-cli.ts'
import {serveOidcAndApi, type OidcFixture, type ProtectedApi} from '../../helpers/oidc-fixture.ts'

/** Make the stored access token look expired to the CLI (and kill it at the server too). */
async function expireStoredAccessToken(oidc: OidcFixture, configDir: string, profile = 'default'): Promise<void> {
  const stored = storedRecord(configDir, profile)!
  await oidc.killAccessToken(stored.record.accessToken)
  const data = {account: '', record: {...stored.record, expiresAt: Date.now() - 1000}}
  const original = JSON.parse((await import('node:fs')).readFileSync(stored.path, 'utf8'))
  data.account = original.account
  writeFileSync(stored.path, JSON.stringify(data))
}

const refreshGrants = (oidc: OidcFixture) => oidc.grants.filter((g) => g.grantType === 'refresh_token')

describe('sessions: refresh, rotation, replay, expiry', () => {
  let oidc: OidcFixture
  let api: ProtectedApi
  serveOidcAndApi((started) => ({oidc, api} = started))

  test('an access token near expiry is refreshed once; the rotated refresh token is stored, the old one is dead', async () => {
    const configDir = tempConfigDir()
    const env = {BFLY_CONFIG_DIR: configDir, BFLY_API_URL: api.url}
    assert.equal((await loginWithBrowser(env, 'erin')).code, 0)
    const before = storedRecord(configDir)!.record
    const grantsBefore = refreshGrants(oidc).length

    // Valid for 30 s more: inside the 60 s margin, so due for a refresh.
    const stored = storedRecord(configDir)!
    const original = JSON.parse((await import('node:fs')).readFileSync(stored.path, 'utf8'))
    writeFileSync(stored.path, JSON.stringify({...original, record: {...before, expiresAt: Date.now() + 30_000}}))
    const get = await runCli(['capsules', 'get', 'cap_1'], {env})
    assert.equal(get.code, 0, get.stderr)
    assert.equal(refreshGrants(oidc).length, grantsBefore + 1)
    const after = storedRecord(configDir)!.record
    assert.notEqual(after.accessToken, before.accessToken)
    assert.notEqual(after.refreshToken, before.refreshToken, 'rotated')
    assert.equal(await oidc.refreshTokenValid(before.refreshToken!), false, 'the old refresh token is consumed')
    assert.equal(api.requests.at(-1)!.authorization, `Bearer ${after.accessToken}`)
    assert.equal(filesUnder(configDir).find((f) => f.path === stored.path)!.mode, 0o600)

    // Still fresh: reused without a refresh.
    const again = await runCli(['capsules', 'get', 'cap_1'], {env})
    assert.equal(again.code, 0)
    assert.equal(refreshGrants(oidc).length, grantsBefore + 1)

    // `auth refresh` forces one.
    const forced = await runCli(['auth', 'refresh', '--json'], {env})
    assert.equal(forced.code, 0, forced.stderr)
    assert.equal(JSON.parse(forced.stdout).loggedIn, true)
    assert.equal(refreshGrants(oidc).length, grantsBefore + 2)
    assert.ok(!forced.stdout.includes(storedRecord(configDir)!.record.accessToken))
  })

  test('a 401 from the API triggers one refresh and one retry', async () => {
    const configDir = tempConfigDir()
    const env = {BFLY_CONFIG_DIR: configDir, BFLY_API_URL: api.url}
    assert.equal((await loginWithBrowser(env, 'frank')).code, 0)
    const old = storedRecord(configDir)!.record
    // The server forgot the token although the CLI thinks it has an hour left.
    await oidc.killAccessToken(old.accessToken)
    const count = api.requests.length
    const grantsBefore = refreshGrants(oidc).length
    const get = await runCli(['capsules', 'get', 'cap_9', '--json'], {env})
    assert.equal(get.code, 0, get.stderr)
    const seen = api.requests.slice(count).filter((r) => r.path === '/api/v1/capsules/cap_9')
    assert.deepEqual(seen.map((r) => r.status), [401, 200])
    assert.equal(refreshGrants(oidc).length, grantsBefore + 1)
    assert.equal(seen[1].authorization, `Bearer ${storedRecord(configDir)!.record.accessToken}`)
  })

  test('replaying a rotated refresh token revokes the grant; the next refresh logs out cleanly (exit 3)', async () => {
    const configDir = tempConfigDir()
    const env = {BFLY_CONFIG_DIR: configDir, BFLY_API_URL: api.url}
    assert.equal((await loginWithBrowser(env, 'grace')).code, 0)
    const stolen = storedRecord(configDir)!.record.refreshToken!
    assert.equal((await runCli(['auth', 'refresh'], {env})).code, 0)
    // Someone replays the old refresh token: the server detects the reuse and revokes the grant.
    const replay = await fetch(`${oidc.issuer}/token`, {
      method: 'POST',
      headers: {'content-type': 'application/x-www-form-urlencoded'},
      body: new URLSearchParams({grant_type: 'refresh_token', refresh_token: stolen, client_id: 'bfly-cli'}),
    })
    assert.equal(replay.status, 400)
    assert.equal((await replay.json()).error, 'invalid_grant')
    assert.equal(await oidc.refreshTokenValid(storedRecord(configDir)!.record.refreshToken!), false, 'the whole grant is revoked')

    await expireStoredAccessToken(oidc, configDir)
    const get = await runCli(['capsules', 'get', 'cap_1', '--json'], {env})
    assert.equal(get.code, 3, get.stderr)
    const error = JSON.parse(get.stderr.trim().split('\n').at(-1)!).error
    assert.equal(error.code, 'SESSION_EXPIRED')
    const human = await runCli(['capsules', 'get', 'cap_1'], {env})
    assert.equal(human.code, 3)
    assert.match(human.stderr, /not logged in — run `bfly login`/)
    assert.equal(storedRecord(configDir), undefined, 'the dead tokens are removed')
    const status = await runCli(['auth', 'status', '--json'], {env})
    assert.equal(status.code, 3)
    assert.equal(JSON.parse(status.stdout).loggedIn, false)
  })

  test('the error a user sees when the refresh token is refused says: session expired — run `bfly login`', async () => {
    const configDir = tempConfigDir()
    const env = {BFLY_CONFIG_DIR: configDir, BFLY_API_URL: api.url}
    assert.equal((await loginWithBrowser(env, 'heidi')).code, 0)
    const rt = storedRecord(configDir)!.record.refreshToken!
    await (await oidc.provider.RefreshToken.find(rt))!.destroy()
    await expireStoredAccessToken(oidc, configDir)
    const get = await runCli(['capsules', 'get', 'cap_1'], {env})
    assert.equal(get.code, 3)
    assert.match(get.stderr, /session expired — run `bfly login`/)
    assert.equal(storedRecord(configDir), undefined)
  })

  test('Ctrl-C during a refresh still stores the rotated refresh token (the session survives)', async () => {
    const configDir = tempConfigDir()
    const env = {BFLY_CONFIG_DIR: configDir, BFLY_API_URL: api.url}
    assert.equal((await loginWithBrowser(env, 'ken')).code, 0)
    await expireStoredAccessToken(oidc, configDir)
    const old = storedRecord(configDir)!.record.refreshToken!
    const tokenCalls = oidc.requests.filter((r) => r.path === '/token').length
    oidc.state.tokenDelayMs = 800
    try {
      const get = startCli(['capsules', 'get', 'cap_1'], {env})
      while (oidc.requests.filter((r) => r.path === '/token').length === tokenCalls) await new Promise((r) => setTimeout(r, 10))
      get.child.kill('SIGINT')
      const result = await get.done
      assert.equal(result.code, 130, result.stderr)
    } finally {
      oidc.state.tokenDelayMs = 0
    }
    const now = storedRecord(configDir)!.record.refreshToken!
    assert.notEqual(now, old, 'the rotated refresh token was stored')
    assert.equal(await oidc.refreshTokenValid(now), true)
    const get = await runCli(['capsules', 'get', 'cap_1'], {env})
    assert.equal(get.code, 0, get.stderr)
  })

  test('profiles keep separate sessions', async () => {
    const configDir = tempConfigDir()
    const env = {BFLY_CONFIG_DIR: configDir, BFLY_API_URL: api.url}
    assert.equal((await loginWithBrowser(env, 'ivan')).code, 0)
    assert.equal((await loginWithBrowser(env, 'judy', ['--profile', 'staging'])).code, 0)
    const main = JSON.parse((await runCli(['auth', 'status', '--json'], {env})).stdout)
    const staging = JSON.parse((await runCli(['auth', 'status', '--json', '--profile', 'staging'], {env})).stdout)
    assert.equal(main.subject, 'ivan')
    assert.equal(staging.subject, 'judy')
    assert.notEqual(storedRecord(configDir)!.record.refreshToken, storedRecord(configDir, 'staging')!.record.refreshToken)
    const out = await runCli(['logout', '--profile', 'staging'], {env})
    assert.equal(out.code, 0, out.stderr)
    assert.equal((await runCli(['auth', 'status', '--profile', 'staging'], {env})).code, 3)
    assert.equal((await runCli(['auth', 'status'], {env})).code, 0, 'the default profile is still logged in')
  })

  test('20 processes with an expired access token: exactly one refresh_token grant, all 20 succeed', async () => {
    const configDir = tempConfigDir()
    const env = {BFLY_CONFIG_DIR: configDir, BFLY_API_URL: api.url}
    assert.equal((await loginWithBrowser(env, 'mallory')).code, 0)
    await expireStoredAccessToken(oidc, configDir)
    const grantsBefore = refreshGrants(oidc).length
    const results = await Promise.all(Array.from({length: 20}, (_, i) => runCli(['capsules', 'get', `cap_${i}`, '--json'], {env, timeoutMs: 90_000})))
    for (const r of results) assert.equal(r.code, 0, r.stderr)
    const grants = refreshGrants(oidc).slice(grantsBefore)
    assert.deepEqual(grants, [{grantType: 'refresh_token', ok: true}], 'one refresh, no replay')
    const token = storedRecord(configDir)!.record.accessToken
    assert.ok(await oidc.tokenValid(token))
  })
})
