// `bfly login --web`: authorization code + PKCE with the loopback listener, the authorize URL
// driven through the provider's login and consent pages with a cookie jar.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {runCli, tempConfigDir} from '../../helpers/cli.ts'
import {startCli, storedRecord} from '../../helpers/auth-cli.ts'
import {Browser, serveOidcAndApi, type OidcFixture, type ProtectedApi} from '../../helpers/oidc-fixture.ts'

describe('login with the browser (PKCE, loopback)', () => {
  let oidc: OidcFixture
  let api: ProtectedApi
  serveOidcAndApi((started) => ({oidc, api} = started))

  test('prints the URL, takes one callback with the right state, exchanges the code with the verifier', async () => {
    const configDir = tempConfigDir()
    const env = {BFLY_CONFIG_DIR: configDir, BFLY_API_URL: api.url}
    const login = startCli(['login', '--web', '--no-browser'], {env})
    const [, printed] = await login.waitForStderr(/^\s+(http\S+)$/m)
    const authorize = new URL(printed)
    assert.equal(authorize.origin + authorize.pathname, `${oidc.issuer}/auth`)
    const p = authorize.searchParams
    assert.equal(p.get('client_id'), 'bfly-cli')
    assert.equal(p.get('response_type'), 'code')
    assert.equal(p.get('code_challenge_method'), 'S256')
    assert.match(p.get('code_challenge')!, /^[A-Za-z0-9_-]{43}$/)
    assert.match(p.get('state')!, /^[A-Za-z0-9_-]{43}$/)
    assert.match(p.get('redirect_uri')!, /^http:\/\/127\.0\.0\.1:\d+\/callback$/)
    assert.ok(p.get('scope')!.split(' ').includes('offline_access'))
    assert.equal(p.get('prompt'), 'consent')

    const redirect = p.get('redirect_uri')!
    // A forged callback (wrong state) is refused and does not end the login.
    const forged = await fetch(`${redirect}?code=evil&state=not-ours`)
    assert.equal(forged.status, 400)
    const browser = new Browser('carol')
    const {final} = await browser.approve(printed, {stopAt: redirect})
    const callback = await fetch(final)
    assert.equal(callback.status, 200)
    assert.match(await callback.text(), /You can close this window/)
    const result = await login.done
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, /Logged in as carol/)
    // One callback, then the listener is gone.
    await assert.rejects(fetch(final), /fetch failed/)

    const stored = storedRecord(configDir)!
    assert.ok(stored.record.refreshToken)
    const get = await runCli(['capsules', 'get', 'cap_2', '--json'], {env})
    assert.equal(get.code, 0, get.stderr)
    const codeGrant = oidc.grants.find((g) => g.grantType === 'authorization_code')
    assert.deepEqual(codeGrant, {grantType: 'authorization_code', ok: true})
  })

  test('access_denied at the consent page exits 3 with a next step', async () => {
    const env = {BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: api.url}
    const login = startCli(['login', '--web', '--no-browser', '--json'], {env})
    const [, printed] = await login.waitForStderr(/^\s+(http\S+)$/m)
    const redirect = new URL(printed).searchParams.get('redirect_uri')!
    const {final} = await new Browser('dave').approve(printed, {stopAt: redirect, deny: true})
    assert.match(final, /error=access_denied/)
    await fetch(final)
    const result = await login.done
    assert.equal(result.code, 3)
    assert.equal(result.stdout, '')
    const error = JSON.parse(result.stderr.trim().split('\n').at(-1)!).error
    assert.equal(error.code, 'ACCESS_DENIED')
    assert.match(error.hint, /run `bfly login` again/)
  })

  test('an authorization answer from another issuer (RFC 9207 iss) is refused', async () => {
    const env = {BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: api.url}
    const login = startCli(['login', '--web', '--no-browser'], {env})
    const [, printed] = await login.waitForStderr(/^\s+(http\S+)$/m)
    const params = new URL(printed).searchParams
    const answer = new URL(params.get('redirect_uri')!)
    answer.searchParams.set('code', 'abc')
    answer.searchParams.set('state', params.get('state')!)
    answer.searchParams.set('iss', 'https://evil.example')
    await fetch(answer)
    const result = await login.done
    assert.equal(result.code, 3)
    assert.match(result.stderr, /came from https:\/\/evil\.example/)
    assert.equal(oidc.grants.filter((g) => g.grantType === 'authorization_code').length, 1, 'the code was not sent anywhere')
  })
})
