// Proxies and private CAs on every outgoing path: API calls (got), the load probe (undici),
// with a real CONNECT proxy and a TLS server whose certificate comes from a test CA. The API
// host is a name (api.bfly.test) that only the proxy knows how to reach, so a request that
// does not go through the proxy cannot succeed by accident.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {createServer, type Server} from 'node:https'
import {join, resolve} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {runCli, tempConfigDir} from '../../helpers/cli.ts'
import {startConnectProxy, type TestProxy} from '../../helpers/connect-proxy.ts'

const TLS = resolve(import.meta.dirname, '..', '..', 'fixtures', 'tls')
const CA = join(TLS, 'ca.pem')
const capsule = {id: 'cap_1', scopeId: 'rim:entity:finance:EURUSD', timestamp: '2025-12-03T10:00:00Z', resolution: 60, version: 1, payload: {price: 1.08}, createdAt: '2025-12-03T10:00:00Z'}

function tlsApi(cert: string, key: string): Promise<{server: Server; port: number}> {
  const server = createServer({cert: readFileSync(join(TLS, cert)), key: readFileSync(join(TLS, key))}, (req, res) => {
    const body = JSON.stringify({data: req.url!.startsWith('/api/v1/capsules/') ? capsule : [], meta: {requestId: 'req-tls'}})
    res.writeHead(200, {'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body))})
    res.end(body)
  })
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done({server, port: (server.address() as {port: number}).port})))
}

describe('proxies and private CAs', () => {
  let good: {server: Server; port: number}
  let expired: {server: Server; port: number}
  let wrongHost: {server: Server; port: number}
  let proxy: TestProxy
  let authProxy: TestProxy
  const host = (p: number) => `api.bfly.test:${p}`
  before(async () => {
    ;[good, expired, wrongHost] = await Promise.all([tlsApi('server.pem', 'server.key'), tlsApi('expired.pem', 'expired.key'), tlsApi('other-host.pem', 'other-host.key')])
    const routes = {[host(good.port)]: good.port, [host(expired.port)]: expired.port, [host(wrongHost.port)]: wrongHost.port}
    proxy = await startConnectProxy({routes})
    authProxy = await startConnectProxy({routes, auth: {user: 'alice', password: 's3cret-proxy-pass'}})
  })
  after(async () => {
    for (const s of [good, expired, wrongHost]) s.server.close()
    await proxy.close()
    await authProxy.close()
  })

  const env = (port: number, extra: Record<string, string> = {}) => ({BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: `https://${host(port)}`, BFLY_TOKEN: 'tls-token', HTTPS_PROXY: proxy.url, ...extra})
  const tunnelled = (p: TestProxy, port: number) => p.seen.filter((s) => s.method === 'CONNECT' && s.target === host(port)).length

  test('through HTTPS_PROXY with --ca-file: the request is tunnelled and the private CA trusted', async () => {
    const before = tunnelled(proxy, good.port)
    const r = await runCli(['capsules', 'get', 'cap_1', '--json', '--ca-file', CA], {env: env(good.port)})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(JSON.parse(r.stdout).id, 'cap_1')
    assert.ok(tunnelled(proxy, good.port) > before, 'the proxy saw the CONNECT')
  })

  test('the ca-file setting and NODE_EXTRA_CA_CERTS work the same', async () => {
    const config = tempConfigDir()
    assert.equal((await runCli(['config', 'set', 'ca-file', CA], {env: {BFLY_CONFIG_DIR: config}})).code, 0)
    const viaSetting = await runCli(['capsules', 'get', 'cap_1', '--json'], {env: {...env(good.port), BFLY_CONFIG_DIR: config}})
    assert.equal(viaSetting.code, 0, viaSetting.stderr)
    const viaNode = await runCli(['capsules', 'get', 'cap_1', '--json'], {env: env(good.port, {NODE_EXTRA_CA_CERTS: CA})})
    assert.equal(viaNode.code, 0, viaNode.stderr)
  })

  test('an unknown CA, an expired certificate, a certificate for another host: exit 7, one line, no stack', async () => {
    for (const [port, pattern] of [
      [good.port, /certificate|CA/i],
      [expired.port, /expired/i],
      [wrongHost.port, /api\.bfly\.test|altnames|host/i],
    ] as const) {
      const r = await runCli(['capsules', 'get', 'cap_1', '--retries', '0', ...(port === good.port ? [] : ['--ca-file', CA])], {env: env(port)})
      assert.equal(r.code, 7, r.stderr)
      assert.equal(r.stdout, '')
      assert.match(r.stderr, pattern)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      assert.doesNotMatch(r.stderr, /\n\s+at /)
    }
  })

  test('an unreadable --ca-file: exit 2, one line naming it, nothing sent', async () => {
    const before = proxy.seen.length
    for (const args of [['capsules', 'get', 'cap_1'], ['probe', '/api/v1/capsules', '--requests', '1']]) {
      const r = await runCli([...args, '--ca-file', '/nonexistent/ca.pem'], {env: env(good.port)})
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, /^Error: cannot read --ca-file \/nonexistent\/ca\.pem: ENOENT/)
      assert.equal(r.stderr.trim().split('\n').length, 1)
    }
    assert.equal(proxy.seen.length, before)
  })

  test('NO_PROXY sends the request directly: the proxy sees nothing', async () => {
    const before = proxy.seen.length
    const r = await runCli(['capsules', 'get', 'cap_1', '--retries', '0', '--ca-file', CA], {env: env(good.port, {NO_PROXY: '.bfly.test'})})
    // Directly, api.bfly.test does not resolve: a network error, and nothing went to the proxy.
    assert.equal(r.code, 7, r.stderr)
    assert.equal(proxy.seen.length, before)
  })

  test('proxy credentials from the URL are sent, never printed; wrong ones are a clear error naming the proxy', async () => {
    const withAuth = authProxy.url.replace('http://', 'http://alice:s3cret-proxy-pass@')
    const ok = await runCli(['capsules', 'get', 'cap_1', '--json', '--verbose', '--ca-file', CA], {env: env(good.port, {HTTPS_PROXY: withAuth})})
    assert.equal(ok.code, 0, ok.stderr)
    assert.ok(authProxy.seen.some((s) => s.proxyAuthorization === `Basic ${Buffer.from('alice:s3cret-proxy-pass').toString('base64')}`))
    assert.ok(!ok.stderr.includes('s3cret-proxy-pass'), 'the proxy password is in the trace')

    const wrong = authProxy.url.replace('http://', 'http://alice:wrong-pass@')
    const denied = await runCli(['capsules', 'get', 'cap_1', '--retries', '0', '--verbose', '--ca-file', CA], {env: env(good.port, {HTTPS_PROXY: wrong})})
    assert.equal(denied.code, 7, denied.stderr)
    assert.match(denied.stderr, /Error: the proxy http:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:\d+ refused the tunnel to api\.bfly\.test:\d+: HTTP 407 Proxy Authentication Required — check the user and password in HTTPS_PROXY/)
    assert.ok(!denied.stderr.includes('wrong-pass'), 'the proxy password is in the error')
  })

  test('the load probe goes through the proxy and trusts the ca-file', async () => {
    const before = tunnelled(proxy, good.port)
    const r = await runCli(['probe', '/api/v1/capsules/cap_1', '--requests', '5', '--concurrency', '1', '--json', '--ca-file', CA], {env: env(good.port), timeoutMs: 60_000})
    assert.equal(r.code, 0, r.stderr)
    const report = JSON.parse(r.stdout)
    assert.equal(report.statusCodes['200'], 5)
    assert.ok(tunnelled(proxy, good.port) > before, 'the probe did not use the proxy')
  })

  test('doctor names the proxy without its password and reaches the API through it', async () => {
    const withAuth = authProxy.url.replace('http://', 'http://alice:s3cret-proxy-pass@')
    const r = await runCli(['doctor', '--json', '--ca-file', CA], {env: env(good.port, {HTTPS_PROXY: withAuth})})
    assert.ok(!r.stdout.includes('s3cret-proxy-pass') && !r.stderr.includes('s3cret-proxy-pass'))
    const checks = Object.fromEntries(JSON.parse(r.stdout).checks.map((c: {name: string}) => [c.name, c]))
    assert.match(checks.proxy.detail, /^http:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:\d+ \(from HTTPS_PROXY\)$/)
    assert.equal(checks.http.status, 'pass', checks.http.detail)
    assert.match(checks.http.detail, /through the proxy/)
    assert.equal(checks.credentials.status, 'pass', checks.credentials.detail)
  })
})
