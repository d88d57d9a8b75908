// Tokens in the OS keychain (the Secret Service on Linux), and what happens when it is absent
// or stuck: the file fallback with one warning, within the 3 s bound, never a hang.
import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {runCli, tempConfigDir} from '../../helpers/cli.ts'
import {loginWithBrowser, storedRecord} from '../../helpers/auth-cli.ts'
import {startDbusBlackHole, type BlackHole} from '../../helpers/dbus-blackhole.ts'
import {startOidcFixture, startProtectedApi, type OidcFixture, type ProtectedApi} from '../../helpers/oidc-fixture.ts'

const linux = process.platform === 'linux' ? false : 'the D-Bus scenarios are Linux only'
const secretService = process.env.BFLY_TEST_SECRET_SERVICE === '1'
  ? false
  : `no Secret Service: ${process.env.BFLY_TEST_SECRET_SERVICE_MISSING ?? 'run through `npm test`, which starts a throwaway one when gnome-keyring and dbus are installed'}`

const keychainModule = () => import('../../../dist/auth/keychain.js')

describe('keychain storage', () => {
  let oidc: OidcFixture
  let api: ProtectedApi
  let hole: BlackHole
  before(async () => {
    oidc = await startOidcFixture()
    api = await startProtectedApi(oidc)
    hole = await startDbusBlackHole()
  })
  after(async () => {
    await hole.close()
    await api.close()
    await oidc.close()
  })

  test('no Secret Service: the login goes to the 0600 file with one warning, quickly', {skip: linux}, async () => {
    const configDir = tempConfigDir()
    const env = {BFLY_CONFIG_DIR: configDir, BFLY_API_URL: api.url, BFLY_KEYCHAIN: 'on', DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(configDir, 'no-bus-here')}`}
    const started = Date.now()
    const result = await loginWithBrowser(env, 'pat')
    assert.equal(result.code, 0, result.stderr)
    assert.ok(Date.now() - started < 8000, 'no long wait for an absent keychain')
    const warnings = result.stderr.match(/^warning: .*/gm) ?? []
    assert.equal(warnings.length, 1, result.stderr)
    assert.match(warnings[0], /keychain.*the login is stored in .*credentials.* instead \(readable only by you\)/)
    assert.ok(storedRecord(configDir))
    const status = JSON.parse((await runCli(['auth', 'status', '--json'], {env})).stdout)
    assert.equal(status.storage, 'file')
    const get = await runCli(['capsules', 'get', 'cap_1'], {env})
    assert.equal(get.code, 0, get.stderr)
    assert.doesNotMatch(get.stderr, /warning/, 'later commands read the file without asking the keychain again')
  })

  test('a Secret Service that never answers: the same fallback after the 3 s bound, never a hang', {skip: linux}, async () => {
    const configDir = tempConfigDir()
    const env = {BFLY_CONFIG_DIR: configDir, BFLY_API_URL: api.url, BFLY_KEYCHAIN: 'on', DBUS_SESSION_BUS_ADDRESS: hole.address}
    const connections = hole.connections
    const started = Date.now()
    const result = await runCli(['login', '--with-token'], {env, input: 'pasted-token-value\n', timeoutMs: 20_000})
    const elapsed = Date.now() - started
    assert.equal(result.code, 0, result.stderr)
    assert.ok(hole.connections > connections, 'the keychain was really asked')
    assert.ok(elapsed < 3000 + 5000, `gave up on the keychain within its bound (took ${elapsed} ms)`)
    assert.match(result.stderr, /warning: the OS keychain did not answer within 3 s; the login is stored in .* instead/)
    assert.equal(storedRecord(configDir)!.record.accessToken, 'pasted-token-value')
    const token = await runCli(['auth', 'token'], {env})
    assert.equal(token.stdout.trim(), 'pasted-token-value')
  })

  test('the keychain helper itself is killed at the bound', {skip: linux}, async () => {
    const {Keychain, KeychainUnavailable} = await keychainModule()
    const keychain = new Keychain({env: {...process.env, DBUS_SESSION_BUS_ADDRESS: hole.address}, timeoutMs: 500})
    const started = Date.now()
    await assert.rejects(keychain.get('nobody:nowhere'), (error: unknown) => error instanceof KeychainUnavailable && error.reason === 'timeout')
    assert.ok(Date.now() - started < 2500)
  })

  describe('with a real Secret Service', {skip: linux || secretService}, () => {
    test('login, refresh and logout keep the tokens in the keychain only', async () => {
      const {Keychain} = await keychainModule()
      const keychain = new Keychain({env: process.env})
      const configDir = tempConfigDir()
      const env = {BFLY_CONFIG_DIR: configDir, BFLY_API_URL: api.url, BFLY_KEYCHAIN: 'on'}
      const login = await loginWithBrowser(env, 'quinn')
      assert.equal(login.code, 0, login.stderr)
      assert.doesNotMatch(login.stderr, /warning/)
      assert.match(login.stderr, /kept in the OS keychain/)
      assert.equal(existsSync(join(configDir, 'credentials')), false, 'no file copy')
      const account = `default:${oidc.issuer}`
      const first = JSON.parse((await keychain.get(account))!)
      assert.ok(first.refreshToken)
      const status = JSON.parse((await runCli(['auth', 'status', '--json'], {env})).stdout)
      assert.equal(status.storage, 'keychain')

      const refreshed = await runCli(['auth', 'refresh'], {env})
      assert.equal(refreshed.code, 0, refreshed.stderr)
      const second = JSON.parse((await keychain.get(account))!)
      assert.notEqual(second.refreshToken, first.refreshToken, 'the rotated refresh token is in the keychain')
      const get = await runCli(['capsules', 'get', 'cap_1'], {env})
      assert.equal(get.code, 0, get.stderr)
      assert.equal(api.requests.at(-1)!.authorization, `Bearer ${second.accessToken}`)

      // The keychain stops answering: a command fails within the bound instead of hanging.
      const started = Date.now()
      const stuck = await runCli(['capsules', 'get', 'cap_1', '--json'], {env: {...env, DBUS_SESSION_BUS_ADDRESS: hole.address}, timeoutMs: 20_000})
      assert.equal(stuck.code, 3)
      assert.equal(JSON.parse(stuck.stderr.trim().split('\n').at(-1)!).error.code, 'KEYCHAIN_UNAVAILABLE')
      assert.ok(Date.now() - started < 8000)

      const out = await runCli(['logout'], {env})
      assert.equal(out.code, 0, out.stderr)
      assert.equal(await keychain.get(account), undefined)
    })

    test('processes refreshing through the keychain at once: one grant', async () => {
      const configDir = tempConfigDir()
      const env = {BFLY_CONFIG_DIR: configDir, BFLY_API_URL: api.url, BFLY_KEYCHAIN: 'on', BFLY_PROFILE: 'race'}
      assert.equal((await loginWithBrowser(env, 'rita')).code, 0)
      const {Keychain} = await keychainModule()
      const keychain = new Keychain({env: process.env})
      const account = `race:${oidc.issuer}`
      const record = JSON.parse((await keychain.get(account))!)
      await oidc.killAccessToken(record.accessToken)
      await keychain.set(account, JSON.stringify({...record, expiresAt: Date.now() - 1000}))
      const before = oidc.grants.filter((g) => g.grantType === 'refresh_token').length
      const results = await Promise.all(Array.from({length: 4}, () => runCli(['capsules', 'get', 'cap_1'], {env, timeoutMs: 90_000})))
      for (const r of results) assert.equal(r.code, 0, r.stderr)
      assert.equal(oidc.grants.filter((g) => g.grantType === 'refresh_token').length, before + 1)
      await runCli(['logout'], {env})
    })
  })
})
