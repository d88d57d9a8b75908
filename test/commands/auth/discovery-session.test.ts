// Discovery and the session in-process: a Context built by the test, real loopback servers.
import assert from 'node:assert/strict'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {PassThrough} from 'node:stream'
import {after, before, describe, test} from 'node:test'
import {Context} from '../../../dist/context.js'
import {IO} from '../../../dist/output/io.js'
import {chooseIssuer, fetchMetadata} from '../../../dist/auth/discovery.js'
import {OAuthHttp} from '../../../dist/auth/oauth-http.js'
import {Session} from '../../../dist/auth/session.js'
import {json, startServer, type TestServer} from '../../helpers/api-server.ts'
import {loginWithBrowser, storedRecord} from '../../helpers/auth-cli.ts'
import {serveOidcAndApi, type OidcFixture, type ProtectedApi} from '../../helpers/oidc-fixture.ts'

function context(env: NodeJS.ProcessEnv, flags: Record<string, unknown> = {}) {
  const stderr = new PassThrough()
  let err = ''
  stderr.on('data', (d) => (err += d))
  const io = new IO({stdout: new PassThrough(), stderr, stdin: new PassThrough()}, env)
  const ctx = new Context({io, env, flags, configDir: (env.BFLY_CONFIG_DIR as string) ?? mkdtempSync(join(tmpdir(), 'bfly-ctx-')), version: '0.0.0-test', signal: new AbortController().signal})
  return {ctx, stderr: () => err}
}

describe('discovery', () => {
  let server: TestServer
  before(async () => {
    server = await startServer()
  })
  after(() => server.close())

  const metadata = (issuer: string) => ({issuer, token_endpoint: `${issuer}/token`, authorization_endpoint: `${issuer}/authorize`})

  test('the API names the issuer; OpenID discovery first; no API credentials go to the issuer', async () => {
    server.requests.length = 0
    server.queue(json(200, {resource: server.url, authorization_servers: [`${server.url}/oauth`]}), json(200, metadata(`${server.url}/oauth`)))
    const {ctx} = context({BFLY_API_URL: server.url, BFLY_TOKEN: 'api-token-xyz', BUTTERFLY_API_KEY: 'key'})
    const http = await OAuthHttp.create(ctx)
    const choice = await chooseIssuer(ctx, http)
    assert.equal(choice.issuer, `${server.url}/oauth`)
    const found = await fetchMetadata(http, choice.issuer)
    assert.equal(found.token_endpoint, `${server.url}/oauth/token`)
    assert.equal(found.oidc, true)
    assert.deepEqual(server.requests.map((r) => r.url), ['/.well-known/oauth-protected-resource', '/oauth/.well-known/openid-configuration'])
    assert.ok(server.requests.every((r) => !r.headers.authorization && !r.headers['x-api-key']))
  })

  test('falls back to RFC 8414 metadata (path inserted after the well-known part)', async () => {
    server.requests.length = 0
    server.queue(json(404, {}), json(200, metadata(`${server.url}/tenant`)))
    const {ctx} = context({})
    const found = await fetchMetadata(await OAuthHttp.create(ctx), `${server.url}/tenant`)
    assert.equal(found.oidc, false)
    assert.deepEqual(server.requests.map((r) => r.url), ['/tenant/.well-known/openid-configuration', '/.well-known/oauth-authorization-server/tenant'])
  })

  test('mix-up defence: metadata naming another issuer is refused (exit 3)', async () => {
    server.queue(json(200, metadata('https://evil.example')))
    const {ctx} = context({})
    await assert.rejects(fetchMetadata(await OAuthHttp.create(ctx), server.url), (e: {code?: string; exitCode?: number}) => e.code === 'ISSUER_MISMATCH' && e.exitCode === 3)
  })

  test('an explicit issuer wins over the API metadata', async () => {
    server.requests.length = 0
    server.queue(json(200, {authorization_servers: ['https://discovered.example'], scopes_supported: ['a']}))
    const {ctx} = context({BFLY_API_URL: server.url}, {issuer: 'https://explicit.example'})
    const choice = await chooseIssuer(ctx, await OAuthHttp.create(ctx))
    assert.equal(choice.issuer, 'https://explicit.example')
    assert.equal(choice.origin, 'flag')
    assert.deepEqual(choice.resourceScopes, ['a'])
  })

  test('endpoints over plain http to another host are refused', async () => {
    server.queue(json(200, {...metadata(server.url), token_endpoint: 'http://tokens.example/token'}))
    const {ctx} = context({})
    await assert.rejects(fetchMetadata(await OAuthHttp.create(ctx), server.url), /not https/)
    await assert.rejects(fetchMetadata(await OAuthHttp.create(ctx), 'http://auth.example'), /tokens go only over https/)
  })
})

describe('session in one process', () => {
  let oidc: OidcFixture
  let api: ProtectedApi
  serveOidcAndApi((started) => ({oidc, api} = started))

  test('concurrent requests share one refresh; a fresh token is reused without one', async () => {
    const configDir = mkdtempSync(join(tmpdir(), 'bfly-session-'))
    const env = {BFLY_CONFIG_DIR: configDir, BFLY_API_URL: api.url, BFLY_KEYCHAIN: 'off'}
    assert.equal((await loginWithBrowser(env, 'sam')).code, 0)
    const {ctx} = context(env)
    const session = (await Session.open(ctx))!
    const credentials = session.credentials()
    const grants = oidc.grants.length
    const fresh = await credentials.headers()
    assert.equal(fresh.authorization, `Bearer ${storedRecord(configDir)!.record.accessToken}`)
    assert.equal(oidc.grants.length, grants, 'no refresh for a fresh token')

    // 30 s left: due (60 s margin).
    ;(session.record as {expiresAt?: number}).expiresAt = Date.now() + 30_000
    const all = await Promise.all(Array.from({length: 5}, () => credentials.headers()))
    assert.equal(new Set(all.map((h) => h.authorization)).size, 1)
    assert.equal(oidc.grants.filter((g) => g.grantType === 'refresh_token').length, 1)
    assert.equal(all[0].authorization, `Bearer ${storedRecord(configDir)!.record.accessToken}`, 'persisted before use')
    assert.equal(await credentials.refresh!(), true)
    assert.equal(oidc.grants.filter((g) => g.grantType === 'refresh_token').length, 2)
  })
})
