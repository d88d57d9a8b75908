// OAuth through an HTTPS proxy with a private CA: the issuer is reachable only as
// https://api.bfly.test through the proxy (a TLS front before the OIDC fixture), so discovery
// and the token request must both tunnel; the API itself is on loopback (no proxy).
import assert from 'node:assert/strict'
import {join, resolve} from 'node:path'
import {after, before, test} from 'node:test'
import {runCli, tempConfigDir} from '../../helpers/cli.ts'
import {startConnectProxy, type TestProxy} from '../../helpers/connect-proxy.ts'
import {CI_CLIENT, startOidcFixture, startProtectedApi, type OidcFixture, type ProtectedApi} from '../../helpers/oidc-fixture.ts'
import {startTlsFront} from '../../helpers/tls-front.ts'

const CA = join(resolve(import.meta.dirname, '..', '..', 'fixtures', 'tls'), 'ca.pem')

let oidc: OidcFixture
let api: ProtectedApi
let front: {port: number; close(): Promise<void>}
let proxy: TestProxy

before(async () => {
  let fixturePort = 0
  front = await startTlsFront(() => fixturePort)
  oidc = await startOidcFixture({publicIssuer: `https://api.bfly.test:${front.port}`})
  fixturePort = Number(new URL(oidc.localUrl).port)
  api = await startProtectedApi(oidc)
  proxy = await startConnectProxy({routes: {[`api.bfly.test:${front.port}`]: front.port}})
})
after(async () => {
  await proxy.close()
  await api.close()
  await front.close()
  await oidc.close()
})

test('client credentials: discovery and the token request tunnel through the proxy to a private-CA issuer', async () => {
  const env = {BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: api.url, BFLY_CLIENT_ID: CI_CLIENT.clientId, BFLY_CLIENT_SECRET: CI_CLIENT.clientSecret, HTTPS_PROXY: proxy.url}
  const r = await runCli(['capsules', 'get', 'cap_1', '--json', '--verbose', '--ca-file', CA], {env})
  assert.equal(r.code, 0, r.stderr)
  assert.equal(JSON.parse(r.stdout).id, 'cap_1')
  assert.ok(proxy.seen.some((s) => s.method === 'CONNECT' && s.target === `api.bfly.test:${front.port}`), 'the issuer was not reached through the proxy')
  assert.ok(oidc.requests.some((q) => q.path === '/token'), 'no token request reached the issuer')
  assert.match(r.stderr, /→ POST https:\/\/api\.bfly\.test:\d+\/token through the proxy http:\/\/127\.0\.0\.1:\d+/)
  assert.ok(!r.stderr.includes(CI_CLIENT.clientSecret), 'the client secret is not in the trace')
  // Without the CA the issuer is not trusted: a clear failure, not a hang or a stack.
  // A certificate problem is the network's, not the login's: exit 7 and the CA remedy.
  const untrusted = await runCli(['capsules', 'get', 'cap_1', '--retries', '0'], {env: {...env, BFLY_CONFIG_DIR: tempConfigDir()}})
  assert.equal(untrusted.code, 7, untrusted.stderr)
  assert.match(untrusted.stderr, new RegExp(`^Error: the certificate of api\\.bfly\\.test:${front.port} is not signed by a trusted certificate authority .*--ca-file`))
  assert.doesNotMatch(untrusted.stderr, /\n\s+at /)
})
