// PKCE, device-flow polling, token answers and what OAuth errors tell the user.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {codeChallenge, pkcePair, randomToken} from '../../../dist/auth/pkce.js'
import {parseDeviceAuthorization, pollForToken} from '../../../dist/auth/device-flow.js'
import {OAuthError} from '../../../dist/auth/oauth-http.js'
import {loginFailure, parseTokenResponse, recordFrom, subjectFromIdToken} from '../../../dist/auth/tokens.js'
import {metadataUrls, sameIssuer} from '../../../dist/auth/discovery.js'
import {browserPossible, openerFor} from '../../../dist/auth/browser.js'
import {userScopes} from '../../../dist/services/auth/login.js'
import {AuthError, Interrupted, NetworkError} from '../../../dist/errors.js'

const jwt = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`

describe('PKCE', () => {
  test('S256 matches RFC 7636 appendix B', () => {
    assert.equal(codeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')
  })
  test('verifiers are 43 url-safe characters and never repeat', () => {
    const a = pkcePair()
    const b = pkcePair()
    assert.match(a.verifier, /^[A-Za-z0-9_-]{43}$/)
    assert.notEqual(a.verifier, b.verifier)
    assert.equal(a.method, 'S256')
    assert.notEqual(randomToken(), randomToken())
  })
})

describe('discovery URLs', () => {
  test('OpenID discovery appends, RFC 8414 inserts before the path', () => {
    assert.deepEqual(metadataUrls('https://auth.example.com'), ['https://auth.example.com/.well-known/openid-configuration', 'https://auth.example.com/.well-known/oauth-authorization-server'])
    assert.deepEqual(metadataUrls('https://auth.example.com/'), ['https://auth.example.com/.well-known/openid-configuration', 'https://auth.example.com/.well-known/oauth-authorization-server'])
    assert.deepEqual(metadataUrls('https://idp.example.com/realms/bfly'), [
      'https://idp.example.com/realms/bfly/.well-known/openid-configuration',
      'https://idp.example.com/.well-known/oauth-authorization-server/realms/bfly',
    ])
  })
  test('issuers compare exactly but for a trailing slash', () => {
    assert.ok(sameIssuer('https://auth.example.com/', 'https://auth.example.com'))
    assert.ok(!sameIssuer('https://auth.example.com', 'https://auth.example.com.evil'))
    assert.ok(!sameIssuer('https://auth.example.com/a', 'https://auth.example.com/b'))
    assert.ok(!sameIssuer('https://Auth.example.com', 'https://auth.example.com'))
  })
})

describe('device flow polling', () => {
  const auth = (over: object = {}) => ({deviceCode: 'dc', userCode: 'UC', verificationUri: 'https://x/device', expiresInSec: 600, intervalSec: 5, ...over})
  function clock() {
    let now = 1_000_000
    const sleeps: number[] = []
    return {sleeps, now: () => now, sleep: async (ms: number) => void (sleeps.push(ms), (now += ms))}
  }
  const pending = () => new OAuthError('authorization_pending', undefined, 400)

  test('defaults: interval 5 s, verification_uri_complete kept, draft verification_url accepted', () => {
    const parsed = parseDeviceAuthorization({device_code: 'd', user_code: 'ABCD-EFGH', verification_url: 'https://x/device', verification_uri_complete: 'https://x/device?user_code=ABCD-EFGH', expires_in: 900}, 'x')
    assert.equal(parsed.intervalSec, 5)
    assert.equal(parsed.expiresInSec, 900)
    assert.equal(parsed.verificationUri, 'https://x/device')
    assert.equal(parsed.verificationUriComplete, 'https://x/device?user_code=ABCD-EFGH')
    assert.throws(() => parseDeviceAuthorization({user_code: 'x'}, 'x'), /without device_code/)
  })

  test('waits the interval before each poll until approved', async () => {
    const c = clock()
    let calls = 0
    const result = await pollForToken(auth(), async () => {
      if (++calls < 3) throw pending()
      return 'tokens'
    }, c)
    assert.equal(result, 'tokens')
    assert.deepEqual(c.sleeps, [5000, 5000, 5000])
  })

  test('slow_down adds 5 s for good', async () => {
    const c = clock()
    const answers = [new OAuthError('slow_down', undefined, 400), pending(), new OAuthError('slow_down', undefined, 400)]
    await pollForToken(auth(), async () => {
      const next = answers.shift()
      if (next) throw next
      return 'ok'
    }, c)
    assert.deepEqual(c.sleeps, [5000, 10000, 10000, 15000])
  })

  test('stops at expires_in', async () => {
    const c = clock()
    let calls = 0
    await assert.rejects(pollForToken(auth({expiresInSec: 12}), async () => {
      calls++
      throw pending()
    }, c), (e: unknown) => e instanceof AuthError && e.code === 'EXPIRED_TOKEN' && e.exitCode === 3)
    assert.equal(calls, 2)
  })

  test('access_denied and expired_token end it; network errors back off', async () => {
    const c = clock()
    await assert.rejects(pollForToken(auth(), async () => { throw new OAuthError('access_denied', 'no', 400) }, c), (e: unknown) => e instanceof OAuthError && e.error === 'access_denied')
    const d = clock()
    const answers: Error[] = [new NetworkError('reset'), new NetworkError('reset')]
    await pollForToken(auth(), async () => {
      const next = answers.shift()
      if (next) throw next
      return 'ok'
    }, d)
    assert.deepEqual(d.sleeps, [5000, 10000, 20000])
  })

  test('Ctrl-C cancels', async () => {
    const controller = new AbortController()
    const c = clock()
    await assert.rejects(pollForToken(auth(), async () => {
      controller.abort()
      throw pending()
    }, {...c, signal: controller.signal}), (e: unknown) => e instanceof Interrupted)
  })
})

describe('token answers', () => {
  test('expires_in becomes an absolute expiry; a refresh without a new refresh token keeps the old one', () => {
    const set = parseTokenResponse({access_token: 'a', token_type: 'bearer', expires_in: 300, scope: 'x y'}, 1000, 'h')
    assert.equal(set.expiresAt, 301_000)
    const record = recordFrom(set, 'user', {previousRefreshToken: 'old-rt'})
    assert.equal(record.refreshToken, 'old-rt')
    assert.equal(record.scope, 'x y')
    assert.throws(() => parseTokenResponse({access_token: 'a', token_type: 'DPoP'}, 0, 'h'), /DPoP token/)
    assert.throws(() => parseTokenResponse({token_type: 'Bearer'}, 0, 'h'), /without an access_token/)
  })

  test('the ID token must come from the issuer, for this client, with our nonce', () => {
    const expected = {issuer: 'https://auth.example.com', clientId: 'bfly-cli', nonce: 'n1'}
    assert.equal(subjectFromIdToken(jwt({iss: 'https://auth.example.com/', aud: 'bfly-cli', sub: 'alice', nonce: 'n1'}), expected), 'alice')
    assert.equal(subjectFromIdToken(undefined, expected), undefined)
    assert.throws(() => subjectFromIdToken(jwt({iss: 'https://evil.example', aud: 'bfly-cli', sub: 'x'}), expected), /issued by https:\/\/evil\.example/)
    assert.throws(() => subjectFromIdToken(jwt({iss: 'https://auth.example.com', aud: ['other'], sub: 'x'}), expected), /not meant for this client/)
    assert.throws(() => subjectFromIdToken(jwt({iss: 'https://auth.example.com', aud: 'bfly-cli', sub: 'x', nonce: 'n2'}), expected), /nonce/)
  })

  test('OAuth errors become exit 3 with a next step', () => {
    const context = {issuer: 'https://auth.example.com', clientId: 'bfly-ci', grant: 'client-credentials' as const}
    const cases: Array<[string, string, RegExp]> = [
      ['access_denied', 'ACCESS_DENIED', /approve/],
      ['expired_token', 'EXPIRED_TOKEN', /within the time shown/],
      ['invalid_client', 'INVALID_CLIENT', /BFLY_CLIENT_ID, BFLY_CLIENT_SECRET/],
      ['invalid_scope', 'INVALID_SCOPE', /--scopes/],
      ['server_error', 'LOGIN_FAILED', /run `bfly login` again/],
    ]
    for (const [oauth, code, hint] of cases) {
      const error = loginFailure(new OAuthError(oauth, 'why', 400), context)
      assert.equal(error.exitCode, 3)
      assert.equal(error.code, code)
      assert.match(error.hint!, hint)
    }
  })
})

describe('choosing the flow and the scopes', () => {
  test('no browser over SSH, in CI or without a display', () => {
    assert.deepEqual(browserPossible({DISPLAY: ':0'}, 'linux'), {possible: true})
    assert.equal(browserPossible({}, 'linux').possible, false)
    assert.equal(browserPossible({WAYLAND_DISPLAY: 'wayland-0'}, 'linux').possible, true)
    assert.equal(browserPossible({}, 'darwin').possible, true)
    assert.equal(browserPossible({SSH_CONNECTION: '1 2 3 4'}, 'darwin').reason, 'an SSH session')
    assert.equal(browserPossible({CI: 'true', DISPLAY: ':0'}, 'linux').reason, 'running in CI')
  })
  test('the opener: $BROWSER, open, rundll32 (no cmd quoting), xdg-open', () => {
    assert.deepEqual(openerFor('u', {BROWSER: 'firefox'}, 'linux'), ['firefox', ['u']])
    assert.deepEqual(openerFor('u', {}, 'darwin'), ['open', ['u']])
    assert.deepEqual(openerFor('u&x', {}, 'win32'), ['rundll32', ['url.dll,FileProtocolHandler', 'u&x']])
    assert.deepEqual(openerFor('u', {}, 'linux'), ['xdg-open', ['u']])
  })
  test('scopes: asked or the API list, plus openid and offline_access where understood', () => {
    const oidc = {issuer: 'i', token_endpoint: 't', oidc: true}
    assert.equal(userScopes(undefined, ['capsules:read', 'openid'], oidc), 'capsules:read openid offline_access')
    assert.equal(userScopes('capsules:read', ['capsules:read', 'capsules:write'], oidc), 'capsules:read openid offline_access')
    assert.equal(userScopes('a,b', undefined, oidc), 'a b openid offline_access')
    assert.equal(userScopes('a', undefined, {issuer: 'i', token_endpoint: 't', oidc: false, scopes_supported: ['a', 'b']}), 'a')
  })
})
