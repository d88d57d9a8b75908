// `bfly login --device` against a real OAuth server, approved over HTTP as a user would.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {runCli, tempConfigDir} from '../../helpers/cli.ts'
import {filesUnder, startCli, storedRecord} from '../../helpers/auth-cli.ts'
import {Browser, serveOidcAndApi, type OidcFixture, type ProtectedApi} from '../../helpers/oidc-fixture.ts'

describe('login with the device flow', () => {
  let oidc: OidcFixture
  let api: ProtectedApi
  serveOidcAndApi((started) => ({oidc, api} = started))

  test('prints the code, is approved in a browser, stores the session, and commands use it', async () => {
    const configDir = tempConfigDir()
    const env = {BFLY_CONFIG_DIR: configDir, BFLY_API_URL: api.url}
    const login = startCli(['login', '--device'], {env})
    const [, uri, code] = await login.waitForStderr(/open (\S+) and enter the code (\S+)/)
    const [, complete] = await login.waitForStderr(/or open (\S+)/)
    assert.equal(uri, `${oidc.issuer}/device`)
    assert.match(complete, new RegExp(`user_code=${code}`))
    await new Browser('alice').approve(complete)
    const result = await login.done
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, /Logged in as alice \(profile default\)/)
    assert.equal(result.stdout, '')

    const stored = storedRecord(configDir)
    assert.ok(stored, 'the login is stored in the file (BFLY_KEYCHAIN=off)')
    assert.equal(stored.record.kind, 'user')
    assert.ok(stored.record.refreshToken, 'offline_access gave a refresh token')
    assert.ok(await oidc.tokenValid(stored.record.accessToken))

    const status = await runCli(['auth', 'status', '--json'], {env})
    assert.equal(status.code, 0, status.stderr)
    const shape = JSON.parse(status.stdout)
    assert.deepEqual(Object.keys(shape), ['loggedIn', 'profile', 'apiUrl', 'issuer', 'subject', 'scopes', 'expiresAt', 'storage'])
    assert.equal(shape.loggedIn, true)
    assert.equal(shape.issuer, oidc.issuer)
    assert.equal(shape.subject, 'alice')
    assert.equal(shape.storage, 'file')
    assert.ok(shape.scopes.includes('capsules:read'))
    assert.ok(Date.parse(shape.expiresAt) > Date.now())

    const get = await runCli(['capsules', 'get', 'cap_1', '--json', '--verbose'], {env})
    assert.equal(get.code, 0, get.stderr)
    assert.equal(JSON.parse(get.stdout).id, 'cap_1')
    assert.equal(api.requests.at(-1)!.authorization, `Bearer ${stored.record.accessToken}`)

    const token = await runCli(['auth', 'token'], {env})
    assert.equal(token.code, 0, token.stderr)
    assert.equal(token.stdout.trim(), stored.record.accessToken)

    // Tokens only in the 0600 credentials file: not in config, output or the trace.
    for (const secret of [stored.record.accessToken, stored.record.refreshToken!]) {
      for (const r of [result, status, get]) {
        assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), 'no token in output or --verbose trace')
      }
      for (const file of filesUnder(configDir)) {
        if (file.path !== stored.path) assert.ok(!file.content.includes(secret), `no token in ${file.path}`)
      }
    }
    assert.equal(filesUnder(configDir).find((f) => f.path === stored.path)!.mode, 0o600)
  })

  test('a denied request exits 3 and says what to do', async () => {
    const env = {BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: api.url}
    const login = startCli(['login', '--device'], {env})
    const [, complete] = await login.waitForStderr(/or open (\S+)/)
    await new Browser('bob').approve(complete, {deny: true})
    const result = await login.done
    assert.equal(result.code, 3, result.stderr)
    assert.match(result.stderr, /denied/)
    assert.match(result.stderr, /run `bfly login` again/)
    const status = await runCli(['auth', 'status'], {env})
    assert.equal(status.code, 3)
  })

  test('Ctrl-C while waiting for approval cancels (exit 130), nothing stored', async () => {
    const configDir = tempConfigDir()
    const login = startCli(['login', '--device'], {env: {BFLY_CONFIG_DIR: configDir, BFLY_API_URL: api.url}})
    await login.waitForStderr(/Waiting for approval/)
    login.child.kill('SIGINT')
    const result = await login.done
    assert.equal(result.code, 130)
    assert.equal(storedRecord(configDir), undefined)
  })

  test('an unreachable issuer exits 3 with what to do next', async () => {
    const env = {BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: api.url, BFLY_ISSUER: 'http://127.0.0.1:1'}
    const result = await runCli(['login', '--device'], {env})
    assert.equal(result.code, 3, result.stderr)
    assert.match(result.stderr, /cannot reach the authorization server http:\/\/127\.0\.0\.1:1/)
    assert.match(result.stderr, /--issuer/)
  })
})
