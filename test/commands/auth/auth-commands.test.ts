// The auth commands in-process, with nock standing in for a standard OAuth server.
import assert from 'node:assert/strict'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {PassThrough} from 'node:stream'
import {after, afterEach, before, describe, test} from 'node:test'
import nock from 'nock'
import {runInProcess} from '../../helpers/in-process.ts'
import {reply} from '../../helpers/nock-reply.ts'
import {IO} from '../../../dist/output/io.js'
import {promptHidden} from '../../../dist/auth/secret-prompt.js'

const API = 'https://butterfly.example.com'
const ISSUER = 'https://login.example.com/tenant'
const dir = () => mkdtempSync(join(tmpdir(), 'bfly-auth-cmd-'))
const discovery = () =>
  nock(API).get('/.well-known/oauth-protected-resource').reply(200, {resource: API, authorization_servers: [ISSUER], scopes_supported: ['openid', 'offline_access', 'capsules:read']})

describe('auth commands', () => {
  before(() => nock.disableNetConnect())
  after(() => nock.enableNetConnect())
  afterEach(() => nock.cleanAll())

  test('auth status of environment credentials: the cli-spec shape, storage env, never the token', async () => {
    const r = await runInProcess(['auth', 'status', '--json'], {BFLY_CONFIG_DIR: dir(), BFLY_API_URL: API, BFLY_TOKEN: 'tok-secret-1'})
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), {loggedIn: true, profile: 'default', apiUrl: API, issuer: null, subject: null, scopes: [], expiresAt: null, storage: 'env'})
    assert.doesNotMatch(r.stdout + r.stderr, /tok-secret-1/)
  })

  test('auth token prints BFLY_TOKEN; refuses with an API key (exit 3); auth refresh has nothing to refresh (exit 2)', async () => {
    const t = await runInProcess(['auth', 'token'], {BFLY_CONFIG_DIR: dir(), BFLY_TOKEN: 'tok-2'})
    assert.equal(t.stdout, 'tok-2\n')
    const k = await runInProcess(['auth', 'token', '--json'], {BFLY_CONFIG_DIR: dir(), BUTTERFLY_API_KEY: 'key-1'})
    assert.equal(k.code, 3)
    assert.equal(k.stdout, '')
    assert.doesNotMatch(k.stderr, /key-1/)
    const r = await runInProcess(['auth', 'refresh'], {BFLY_CONFIG_DIR: dir(), BFLY_TOKEN: 'tok-3'})
    assert.equal(r.code, 2)
  })

  test('login discovers a non-OIDC server through RFC 8414 and sends the client credentials only there', async () => {
    const api = discovery()
    const idp = nock('https://login.example.com')
      .get('/tenant/.well-known/openid-configuration').reply(404, {})
      .get('/.well-known/oauth-authorization-server/tenant').reply(200, {issuer: ISSUER, token_endpoint: `${ISSUER}/oauth/token`, token_endpoint_auth_methods_supported: ['client_secret_post']})
      .post('/tenant/oauth/token', (body: Record<string, string>) => body.grant_type === 'client_credentials' && body.client_id === 'ci' && body.client_secret === 'shh' && body.scope === 'capsules:read')
      .reply(...reply(200, {access_token: 'at-1', token_type: 'Bearer', expires_in: 600, scope: 'capsules:read'}))
    const configDir = dir()
    const r = await runInProcess(['login', '--client-credentials', '--json'], {BFLY_CONFIG_DIR: configDir, BFLY_API_URL: API, BFLY_CLIENT_ID: 'ci', BFLY_CLIENT_SECRET: 'shh'})
    assert.equal(r.code, 0, r.stderr)
    const status = JSON.parse(r.stdout)
    assert.equal(status.issuer, ISSUER)
    assert.equal(status.subject, 'ci')
    assert.equal(status.storage, 'file')
    assert.deepEqual(status.scopes, ['capsules:read'])
    api.done()
    idp.done()
  })

  test('a metadata document naming another issuer stops the login (mix-up defence, exit 3)', async () => {
    discovery()
    nock('https://login.example.com').get('/tenant/.well-known/openid-configuration').reply(200, {issuer: 'https://attacker.example.com', token_endpoint: 'https://attacker.example.com/token'})
    const r = await runInProcess(['login', '--device', '--json'], {BFLY_CONFIG_DIR: dir(), BFLY_API_URL: API})
    assert.equal(r.code, 3)
    assert.equal(JSON.parse(r.stderr.trim()).error.code, 'ISSUER_MISMATCH')
  })

  test('expired_token from the server ends the device flow with exit 3 and a next step', async () => {
    discovery()
    nock('https://login.example.com')
      .get('/tenant/.well-known/openid-configuration').reply(200, {issuer: ISSUER, token_endpoint: `${ISSUER}/token`, device_authorization_endpoint: `${ISSUER}/device/code`})
      .post('/tenant/device/code').reply(...reply(200, {device_code: 'dc', user_code: 'WXYZ', verification_uri: `${ISSUER}/activate`, expires_in: 60, interval: 0}))
      .post('/tenant/token').reply(...reply(400, {error: 'expired_token', error_description: 'too late'}))
    const r = await runInProcess(['login', '--device'], {BFLY_CONFIG_DIR: dir(), BFLY_API_URL: API})
    assert.equal(r.code, 3)
    assert.match(r.stderr, /open https:\/\/login\.example\.com\/tenant\/activate and enter the code WXYZ/)
    assert.match(r.stderr, /expired before it was approved \(too late\) — run `bfly login` again/)
  })
})

describe('hidden prompt', () => {
  test('reads a line without echoing it; backspace edits', async () => {
    const stdin = Object.assign(new PassThrough(), {isTTY: true, setRawMode: () => {}})
    const stderr = Object.assign(new PassThrough(), {isTTY: true})
    let shown = ''
    stderr.on('data', (d) => (shown += d))
    const io = new IO({stdout: new PassThrough(), stderr, stdin}, {})
    const answer = promptHidden(io, 'Client secret: ')
    stdin.write('s3cX\u007fret\r')
    assert.equal(await answer, 's3cret')
    assert.equal(shown, 'Client secret: \n')
  })
})
