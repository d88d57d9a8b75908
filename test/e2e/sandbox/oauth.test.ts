// The embedded issuer, driven over HTTP the way any compliant client would: discovery,
// client credentials, device flow (auto-approved and pending), authorization code + PKCE
// through the real login and consent pages, refresh rotation with reuse detection, and
// revocation — and the API accepting exactly the tokens it should.
import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {after, before, describe, test} from 'node:test'
import {startSandbox, type Sandbox} from '../../../dist/sandbox/index.js'
import {call} from './client.ts'

let sb: Sandbox
let meta: Record<string, any>

before(async () => {
  sb = await startSandbox({autoApprove: true, quiet: true, rateLimits: false})
  meta = (await call(sb.issuer, '/.well-known/openid-configuration')).json
})
after(() => sb.close())

const form = (fields: Record<string, string>) => ({method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'}, body: new URLSearchParams(fields)})

async function token(fields: Record<string, string>, headers: Record<string, string> = {}) {
  const init = form(fields)
  const res = await fetch(meta.token_endpoint, {...init, headers: {...init.headers, ...headers}})
  return {status: res.status, json: (await res.json()) as Record<string, any>}
}

const basic = () => 'Basic ' + Buffer.from(`${sb.ciClient.id}:${sb.ciClient.secret}`).toString('base64')
const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString())
const header = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString())
const api = (path: string, accessToken: string) => call(sb.apiUrl, path, {token: accessToken})

describe('discovery', () => {
  test('standard metadata at the issuer, with every grant the CLI uses', async () => {
    assert.equal(meta.issuer, sb.issuer)
    assert.equal(meta.issuer, `${sb.apiUrl}/oauth`)
    for (const grant of ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code']) assert.ok(meta.grant_types_supported.includes(grant), grant)
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256'])
    for (const key of ['authorization_endpoint', 'token_endpoint', 'device_authorization_endpoint', 'revocation_endpoint', 'jwks_uri']) assert.match(meta[key], /^http:\/\/127\.0\.0\.1:\d+\/oauth\//)
  })

  test('RFC 8414 metadata too, at the issuer and path-inserted', async () => {
    const atIssuer = await call(sb.issuer, '/.well-known/oauth-authorization-server')
    assert.equal(atIssuer.json.issuer, sb.issuer)
    const inserted = await call(sb.apiUrl, '/.well-known/oauth-authorization-server/oauth')
    assert.equal(inserted.json.token_endpoint, meta.token_endpoint)
  })
})

describe('client credentials', () => {
  test('a JWT access token for the API audience with the requested scopes, accepted by the API', async () => {
    const r = await token({grant_type: 'client_credentials', scope: 'capsules:read webhooks:read'}, {authorization: basic()})
    assert.equal(r.status, 200)
    assert.equal(r.json.token_type, 'Bearer')
    assert.equal(r.json.scope, 'capsules:read webhooks:read')
    assert.equal(header(r.json.access_token).typ, 'at+jwt')
    const c = claims(r.json.access_token)
    assert.equal(c.aud, sb.apiUrl)
    assert.equal(c.iss, sb.issuer)
    assert.equal(c.client_id, sb.ciClient.id)
    assert.equal((await api('/api/v1/capsules?size=1', r.json.access_token)).status, 200)
    const forbidden = await api('/integrations/status', r.json.access_token)
    assert.equal(forbidden.status, 403)
    assert.equal(forbidden.headers.get('www-authenticate'), 'Bearer error="insufficient_scope", scope="integrations:read"')
  })

  test('an explicit resource indicator (with or without a trailing slash) gives the same audience; others are invalid_target', async () => {
    for (const resource of [sb.apiUrl, `${sb.apiUrl}/`]) {
      const r = await token({grant_type: 'client_credentials', scope: 'capsules:read', resource}, {authorization: basic()})
      assert.equal(r.status, 200, JSON.stringify(r.json))
      assert.equal(claims(r.json.access_token).aud, sb.apiUrl)
      assert.equal((await api('/api/v1/capsules?size=1', r.json.access_token)).status, 200)
    }
    const other = await token({grant_type: 'client_credentials', scope: 'capsules:read', resource: 'https://elsewhere.example.com'}, {authorization: basic()})
    assert.equal(other.json.error, 'invalid_target')
  })

  test('a wrong secret is invalid_client', async () => {
    const r = await token({grant_type: 'client_credentials', scope: 'capsules:read'}, {authorization: 'Basic ' + Buffer.from(`${sb.ciClient.id}:nope`).toString('base64')})
    assert.equal(r.status, 401)
    assert.equal(r.json.error, 'invalid_client')
  })

  test('a token with one changed byte is refused by the API', async () => {
    const r = await token({grant_type: 'client_credentials', scope: 'capsules:read'}, {authorization: basic()})
    const [h, p, s] = r.json.access_token.split('.')
    const tampered = `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`
    assert.equal((await api('/api/v1/capsules?size=1', tampered)).status, 401)
  })
})

describe('device authorization', () => {
  test('with autoApprove the first poll gets tokens for the demo user, with a refresh token', async () => {
    const res = await fetch(meta.device_authorization_endpoint, form({client_id: sb.cliClientId, scope: 'openid offline_access capsules:read history:read'}))
    const device = (await res.json()) as Record<string, any>
    assert.equal(res.status, 200)
    assert.match(device.user_code, /^[A-Z]{4}-[A-Z]{4}$/)
    assert.equal(device.verification_uri, `${sb.issuer}/device`)
    assert.equal(device.interval, 1)
    const r = await token({grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: sb.cliClientId, device_code: device.device_code})
    assert.equal(r.status, 200)
    assert.equal(r.json.scope, 'capsules:read history:read')
    assert.ok(r.json.refresh_token)
    assert.ok(r.json.id_token)
    assert.equal(claims(r.json.access_token).sub, sb.demoUsers[0].username)
    assert.equal((await api('/api/v1/history?size=1', r.json.access_token)).status, 200)
  })

  test('without autoApprove: authorization_pending until a person approves the code in a browser', async () => {
    const manual = await startSandbox({quiet: true})
    try {
      const m = (await call(manual.issuer, '/.well-known/openid-configuration')).json
      const device = (await (await fetch(m.device_authorization_endpoint, form({client_id: manual.cliClientId, scope: 'openid offline_access capsules:read'}))).json()) as Record<string, any>
      assert.equal(device.interval, 5)
      const poll = async () => {
        const res = await fetch(m.token_endpoint, form({grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: manual.cliClientId, device_code: device.device_code}))
        return {status: res.status, json: (await res.json()) as Record<string, any>}
      }
      const pending = await poll()
      assert.equal(pending.status, 400)
      assert.equal(pending.json.error, 'authorization_pending')

      const go = browser(manual.apiUrl)
      let res = await go(device.verification_uri)
      let html = await res.text()
      res = await go(device.verification_uri, form({xsrf: /name="xsrf" value="([^"]+)"/.exec(html)![1], user_code: device.user_code.toLowerCase()}))
      html = await res.text()
      assert.match(html, /Confirm the device/)
      assert.ok(html.includes(device.user_code))
      res = await go(device.verification_uri, form({xsrf: /name="xsrf" value="([^"]+)"/.exec(html)![1], user_code: device.user_code, confirm: 'yes'}))
      res = await go(res.headers.get('location')!)
      html = await res.text()
      res = await go(/action="([^"]+\/login)"/.exec(html)![1], form({username: manual.demoUsers[0].username, password: manual.demoUsers[0].password}))
      res = await go(res.headers.get('location')!)
      res = await go(res.headers.get('location')!)
      html = await res.text()
      res = await go(/action="([^"]+\/confirm)"/.exec(html)![1], {method: 'POST'})
      res = await go(res.headers.get('location')!)
      assert.match(await res.text(), /Device signed in/)

      const approved = await poll()
      assert.equal(approved.status, 200)
      assert.equal(approved.json.scope, 'capsules:read')
      assert.ok(approved.json.refresh_token)
      assert.equal((await call(manual.apiUrl, '/api/v1/capsules?size=1', {token: approved.json.access_token})).status, 200)
    } finally {
      await manual.close()
    }
  })
})

/** A browser: follows nothing by itself, keeps cookies. */
function browser(base: string) {
  const jar = new Map<string, string>()
  return async (url: string, init: RequestInit = {}) => {
    const res = await fetch(new URL(url, base), {...init, redirect: 'manual', headers: {...(init.headers as Record<string, string>), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ')}})
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';')
      const i = pair.indexOf('=')
      jar.set(pair.slice(0, i), pair.slice(i + 1))
    }
    return res
  }
}

async function codeFlow(user: {username: string; password: string}, scope: string, port: number) {
  const go = browser(sb.apiUrl)
  const verifier = randomBytes(32).toString('base64url')
  const redirectUri = `http://127.0.0.1:${port}/callback`
  const params = new URLSearchParams({client_id: sb.cliClientId, response_type: 'code', redirect_uri: redirectUri, scope, state: 'xyz', code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256'})
  let res = await go(`${meta.authorization_endpoint}?${params}`)
  assert.equal(res.status, 303)
  res = await go(res.headers.get('location')!)
  let html = await res.text()
  assert.match(html, /Sign in/)
  const login = /action="([^"]+\/login)"/.exec(html)![1]
  res = await go(login, form({username: user.username, password: 'wrong'}))
  assert.match(await res.text(), /Wrong username or password/)
  res = await go(login, form({username: user.username, password: user.password}))
  assert.equal(res.status, 303)
  res = await go(res.headers.get('location')!)
  res = await go(res.headers.get('location')!)
  html = await res.text()
  assert.match(html, /Authorize/)
  const confirm = /action="([^"]+\/confirm)"/.exec(html)![1]
  res = await go(confirm, {method: 'POST'})
  res = await go(res.headers.get('location')!)
  const callback = new URL(res.headers.get('location')!)
  assert.equal(`${callback.origin}${callback.pathname}`, redirectUri)
  assert.equal(callback.searchParams.get('state'), 'xyz')
  assert.equal(callback.searchParams.get('iss'), sb.issuer)
  return {code: callback.searchParams.get('code')!, verifier, redirectUri, consentPage: html}
}

describe('authorization code with PKCE, in a browser', () => {
  test('login and consent pages, a loopback redirect on any port, tokens for the user', async () => {
    const flow = await codeFlow(sb.demoUsers[0], 'openid offline_access capsules:read capsules:write', 49152 + Math.floor(Math.random() * 1000))
    const r = await token({grant_type: 'authorization_code', client_id: sb.cliClientId, code: flow.code, redirect_uri: flow.redirectUri, code_verifier: flow.verifier})
    assert.equal(r.status, 200)
    assert.equal(r.json.scope, 'capsules:read capsules:write')
    assert.ok(r.json.refresh_token, 'offline_access gives a refresh token')
    assert.equal((await call(sb.apiUrl, '/api/v1/capsules', {method: 'POST', token: r.json.access_token, body: {scopeId: 'rim:entity:finance:EURUSD', timestamp: '2025-12-03T10:00:00Z', payload: {}}})).status, 201)
    const replay = await token({grant_type: 'authorization_code', client_id: sb.cliClientId, code: flow.code, redirect_uri: flow.redirectUri, code_verifier: flow.verifier})
    assert.equal(replay.json.error, 'invalid_grant', 'a code works once')
  })

  test('the wrong verifier is refused', async () => {
    const flow = await codeFlow(sb.demoUsers[0], 'openid capsules:read', 50000)
    const r = await token({grant_type: 'authorization_code', client_id: sb.cliClientId, code: flow.code, redirect_uri: flow.redirectUri, code_verifier: randomBytes(32).toString('base64url')})
    assert.equal(r.json.error, 'invalid_grant')
  })

  test('the viewer can only grant read scopes; the consent page says what is withheld', async () => {
    const flow = await codeFlow(sb.demoUsers[1], 'openid capsules:read capsules:write', 50001)
    assert.match(flow.consentPage, /Not available to viewer/)
    const r = await token({grant_type: 'authorization_code', client_id: sb.cliClientId, code: flow.code, redirect_uri: flow.redirectUri, code_verifier: flow.verifier})
    assert.equal(r.json.scope, 'capsules:read')
  })
})

describe('refresh tokens', () => {
  async function deviceLogin() {
    const device = (await (await fetch(meta.device_authorization_endpoint, form({client_id: sb.cliClientId, scope: 'openid offline_access capsules:read'}))).json()) as Record<string, any>
    return (await token({grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: sb.cliClientId, device_code: device.device_code})).json
  }

  test('each refresh rotates; reusing a rotated one revokes the whole grant', async () => {
    const first = await deviceLogin()
    const second = (await token({grant_type: 'refresh_token', client_id: sb.cliClientId, refresh_token: first.refresh_token})).json
    assert.ok(second.access_token)
    assert.notEqual(second.refresh_token, first.refresh_token)
    assert.equal((await api('/api/v1/capsules?size=1', second.access_token)).status, 200)
    const reuse = await token({grant_type: 'refresh_token', client_id: sb.cliClientId, refresh_token: first.refresh_token})
    assert.equal(reuse.status, 400)
    assert.equal(reuse.json.error, 'invalid_grant')
    const after = await token({grant_type: 'refresh_token', client_id: sb.cliClientId, refresh_token: second.refresh_token})
    assert.equal(after.json.error, 'invalid_grant', 'the newest refresh token died with the grant')
    const r = await api('/api/v1/capsules?size=1', second.access_token)
    assert.equal(r.status, 401, 'and so did its access tokens')
    assert.match(r.headers.get('www-authenticate') ?? '', /error="invalid_token"/)
  })

  test('revocation: the access token and the refresh token stop working', async () => {
    const tokens = await deviceLogin()
    const revoke = (t: string) => fetch(meta.revocation_endpoint, form({client_id: sb.cliClientId, token: t}))
    assert.equal((await revoke(tokens.access_token)).status, 200)
    assert.equal((await api('/api/v1/capsules?size=1', tokens.access_token)).status, 401)
    assert.equal((await revoke(tokens.refresh_token)).status, 200)
    assert.equal((await token({grant_type: 'refresh_token', client_id: sb.cliClientId, refresh_token: tokens.refresh_token})).json.error, 'invalid_grant')
  })
})
