// Proxies and private CAs on the API paths (got, the load probe's undici, doctor), as a user
// meets them: a spawned bfly reaching an https API signed by a test CA (api.bfly.test, which
// only the test proxy, or the test-hosts preload, routes to 127.0.0.1) through a real CONNECT
// proxy started here, so a request that does not go through the proxy cannot succeed by
// accident. What is checked is what a user sees: the exit code, one line on stderr naming the
// host or the proxy (never its password), and what the proxy and the server received.
import assert from 'node:assert/strict'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {createServer} from 'node:net'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {runCli, tempConfigDir, type CliResult} from '../../helpers/cli.ts'
import {startConnectProxy, type TestProxy} from '../../helpers/connect-proxy.ts'
import {CA_FILE, startHttpsServer, TEST_HOSTS_OPTION, TLS_DIR, type RunningServer} from '../../helpers/test-ca.ts'

const TOKEN = 'tok-network-7f3a'
const PROXY_PASSWORD = 'pr0xy-s3cret-91c'

interface Seen {
  method: string
  path: string
  authorization?: string
}

/** The API on an https origin, recording what reached it. */
async function startApi(cert: 'server' | 'expired' | 'other-host' = 'server'): Promise<RunningServer & {seen: Seen[]}> {
  const seen: Seen[] = []
  let origin = ''
  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body)
    res.writeHead(status, {'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), 'x-request-id': 'req-net'})
    res.end(text)
  }
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    req.resume()
    const path = (req.url ?? '/').split('?')[0]
    seen.push({method: req.method ?? '', path, authorization: req.headers.authorization})
    if (path === '/.well-known/oauth-protected-resource') return send(res, 200, {resource: origin, authorization_servers: [], scopes_supported: ['capsules:read']})
    if (path === '/api/v1/capsules') {
      // Five capsules in pages, as the contract serves a list.
      const query = new URL(req.url ?? '/', 'https://x').searchParams
      const page = Number(query.get('page') ?? 0)
      const size = Number(query.get('size') ?? 20)
      const data = Array.from({length: Math.max(0, Math.min(size, 5 - page * size))}, (_, i) => ({id: `cap_${page * size + i}`, scopeId: 'scope-a', timestamp: '2025-12-03T10:00:00Z'}))
      return send(res, 200, {data, meta: {requestId: 'req-net', pagination: {page, size, totalElements: 5, totalPages: Math.ceil(5 / size)}}})
    }
    if (path.startsWith('/api/v1/capsules/')) {
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        return send(res, 401, {error: {code: 'UNAUTHORIZED', message: 'invalid token'}, meta: {requestId: 'req-net'}})
      }
      return send(res, 200, {data: {id: path.split('/').pop(), scopeId: 'scope-a', timestamp: '2025-12-03T10:00:00Z'}, meta: {requestId: 'req-net'}})
    }
    send(res, 404, {error: {code: 'NOT_FOUND', message: 'no such path'}, meta: {requestId: 'req-net'}})
  }
  const server = await startHttpsServer(handler, cert)
  origin = server.url
  return {...server, seen}
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as {port: number}
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

const withCredentials = (p: TestProxy, user: string, password: string) => p.url.replace('http://', `http://${encodeURIComponent(user)}:${encodeURIComponent(password)}@`)

function assertOneLine(r: CliResult, pattern: RegExp): void {
  assert.equal(r.stdout, '', 'nothing on stdout')
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
  const lines = r.stderr.trim().split('\n')
  assert.equal(lines.length, 1, `one line on stderr:\n${r.stderr}`)
  assert.match(lines[0], pattern)
}

describe('proxies and private CAs', () => {
  let api: RunningServer & {seen: Seen[]}
  let expired: RunningServer & {seen: Seen[]}
  let otherHost: RunningServer & {seen: Seen[]}
  let proxy: TestProxy
  let guarded: TestProxy
  const base = () => ({BFLY_CONFIG_DIR: tempConfigDir(), BFLY_TOKEN: TOKEN, BFLY_API_URL: api.url})
  const tunnels = (p: TestProxy, from: number) => p.seen.slice(from).map((s) => `${s.method} ${s.target} ${s.status}`)

  before(async () => {
    ;[api, expired, otherHost, proxy, guarded] = await Promise.all([
      startApi(),
      startApi('expired'),
      startApi('other-host'),
      startConnectProxy(),
      startConnectProxy({auth: {user: 'alice', password: PROXY_PASSWORD}}),
    ])
  })
  after(async () => {
    await Promise.all([api, expired, otherHost, proxy, guarded].map((s) => s?.close()))
  })

  test('capsules get through HTTPS_PROXY: trusted with --ca-file, refused without it (exit 7, one line naming the host and the remedy)', async () => {
    const from = proxy.seen.length
    const [ok, untrusted] = await Promise.all([
      runCli(['capsules', 'get', 'cap_1', '--json', '--ca-file', CA_FILE], {env: {...base(), HTTPS_PROXY: proxy.url}}),
      runCli(['capsules', 'get', 'cap_2'], {env: {...base(), HTTPS_PROXY: proxy.url}}),
    ])
    assert.equal(ok.code, 0, ok.stderr)
    assert.equal(JSON.parse(ok.stdout).id, 'cap_1')
    assert.equal(untrusted.code, 7)
    assertOneLine(untrusted, new RegExp(`^Error: the certificate of api\\.bfly\\.test:${api.port} is not signed by a trusted certificate authority .*--ca-file.*NODE_EXTRA_CA_CERTS`))
    // Every connection went through the proxy, to the name in the URL (the proxy resolved it).
    assert.deepEqual(tunnels(proxy, from).sort(), [0, 1].map(() => `CONNECT api.bfly.test:${api.port} 200`))
    assert.deepEqual(api.seen.filter((s) => s.path === '/api/v1/capsules/cap_1').length, 1)
    assert.equal(api.seen.filter((s) => s.path !== '/api/v1/capsules/cap_1').length, 0, 'the untrusted server got no request')
  })

  test('a walk through HTTPS_PROXY opens one tunnel for all its pages, not one a page', async () => {
    const from = proxy.seen.length
    const pagesBefore = api.seen.filter((s) => s.path === '/api/v1/capsules').length
    const r = await runCli(['capsules', 'list', '--all', '--size', '2', '--ndjson', '--ca-file', CA_FILE], {env: {...base(), HTTPS_PROXY: proxy.url}})
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(r.stdout.trim().split('\n').map((line) => JSON.parse(line).id), ['cap_0', 'cap_1', 'cap_2', 'cap_3', 'cap_4'])
    assert.equal(api.seen.filter((s) => s.path === '/api/v1/capsules').length - pagesBefore, 3)
    assert.deepEqual(tunnels(proxy, from), [`CONNECT api.bfly.test:${api.port} 200`])
  })

  test('NODE_EXTRA_CA_CERTS trusts the CA too, and a --ca-file adds to it (and to the system roots) instead of replacing them', async () => {
    const configDir = tempConfigDir()
    const set = await runCli(['config', 'set', 'ca-file', CA_FILE], {env: {BFLY_CONFIG_DIR: configDir}})
    assert.equal(set.code, 0, set.stderr)
    const [extra, both, setting] = await Promise.all([
      runCli(['capsules', 'get', 'cap_1', '--json'], {env: {...base(), HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: CA_FILE}}),
      // A ca-file of an unrelated certificate: the test CA still comes from NODE_EXTRA_CA_CERTS.
      runCli(['capsules', 'get', 'cap_1', '--json', '--ca-file', join(TLS_DIR, 'other-host.pem')], {env: {...base(), HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: CA_FILE}}),
      runCli(['capsules', 'get', 'cap_1', '--json'], {env: {...base(), BFLY_CONFIG_DIR: configDir, HTTPS_PROXY: proxy.url}}),
    ])
    assert.equal(extra.code, 0, extra.stderr)
    assert.equal(both.code, 0, both.stderr)
    assert.equal(setting.code, 0, `bfly config set ca-file: ${setting.stderr}`)
  })

  test('an unreadable --ca-file, or one that holds no certificate: exit 2, one line naming it, nothing sent', async () => {
    const from = proxy.seen.length
    const [notCa, ...missing] = await Promise.all([
      runCli(['capsules', 'get', 'cap_1', '--ca-file', join(TLS_DIR, 'README.md')], {env: {...base(), HTTPS_PROXY: proxy.url}}),
      runCli(['capsules', 'get', 'cap_1', '--ca-file', '/nonexistent/ca.pem'], {env: {...base(), HTTPS_PROXY: proxy.url}}),
      runCli(['probe', '/api/v1/capsules', '--requests', '1', '--ca-file', '/nonexistent/ca.pem'], {env: {...base(), HTTPS_PROXY: proxy.url}}),
    ])
    assert.equal(notCa.code, 2, notCa.stderr)
    assertOneLine(notCa, /^Error: --ca-file .*README\.md holds no certificate — it must be the PEM/)
    for (const r of missing) {
      assert.equal(r.code, 2, r.stderr)
      assertOneLine(r, /^Error: cannot read --ca-file \/nonexistent\/ca\.pem: ENOENT/)
    }
    assert.equal(proxy.seen.length, from)
  })

  test('NO_PROXY bypasses the proxy (a host in another case, *.suffix:port, lower-case no_proxy); another port does not; lower-case https_proxy is honoured', async () => {
    // The whole rule matrix is in test/unit/network; here, that every request really goes direct.
    const direct = {NODE_OPTIONS: TEST_HOSTS_OPTION}
    const from = proxy.seen.length
    const bypassing = await Promise.all([
      {HTTPS_PROXY: proxy.url, NO_PROXY: 'API.bfly.test'},
      {https_proxy: proxy.url, no_proxy: `example.com, *.bfly.test:${api.port}`},
    ].map((env) => runCli(['capsules', 'get', 'cap_1', '--json', '--ca-file', CA_FILE], {env: {...base(), ...direct, ...env}})))
    for (const r of bypassing) assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(tunnels(proxy, from), [], 'the proxy saw nothing')

    const proxied = await runCli(['capsules', 'get', 'cap_1', '--json', '--ca-file', CA_FILE], {env: {...base(), ...direct, https_proxy: proxy.url, NO_PROXY: 'api.bfly.test:1'}})
    assert.equal(proxied.code, 0, proxied.stderr)
    assert.deepEqual(tunnels(proxy, from), [`CONNECT api.bfly.test:${api.port} 200`])
  })

  test('a proxy that needs credentials: those in the URL arrive as Proxy-Authorization and are never printed, even with --verbose', async () => {
    const from = guarded.seen.length
    const r = await runCli(['capsules', 'get', 'cap_1', '--json', '--verbose', '--ca-file', CA_FILE], {env: {...base(), HTTPS_PROXY: withCredentials(guarded, 'alice', PROXY_PASSWORD)}})
    assert.equal(r.code, 0, r.stderr)
    const tunnel = guarded.seen.slice(from)
    assert.equal(tunnel.length, 1)
    assert.equal(tunnel[0].proxyAuthorization, `Basic ${Buffer.from(`alice:${PROXY_PASSWORD}`).toString('base64')}`)
    assert.match(r.stderr, new RegExp(`through the proxy http://\\*\\*\\*:\\*\\*\\*@127\\.0\\.0\\.1:${guarded.port}`))
    assert.ok(!r.stderr.includes(PROXY_PASSWORD) && !r.stdout.includes(PROXY_PASSWORD), 'the proxy password leaked')
    assert.ok(!r.stderr.includes(Buffer.from(`alice:${PROXY_PASSWORD}`).toString('base64')), 'the Proxy-Authorization value leaked')
  })

  test('407 from the proxy: exit 7, one line naming the proxy (never its password); the API circuit is not blamed', async () => {
    const config = tempConfigDir()
    const [none, wrong] = await Promise.all([
      runCli(['capsules', 'get', 'cap_1', '--ca-file', CA_FILE], {env: {...base(), BFLY_CONFIG_DIR: config, HTTPS_PROXY: guarded.url}}),
      runCli(['capsules', 'get', 'cap_1', '--ca-file', CA_FILE, '--verbose'], {env: {...base(), HTTPS_PROXY: withCredentials(guarded, 'alice', 'wrong-Pa55word')}}),
    ])
    assert.equal(none.code, 7)
    assertOneLine(none, new RegExp(`^Error: the proxy http://127\\.0\\.0\\.1:${guarded.port} refused the tunnel to api\\.bfly\\.test:${api.port}: HTTP 407 Proxy Authentication Required — the proxy wants credentials: .*user:password@`))
    assert.equal(wrong.code, 7)
    assert.match(wrong.stderr, new RegExp(`^Error: the proxy http://\\*\\*\\*:\\*\\*\\*@127\\.0\\.0\\.1:${guarded.port} refused the tunnel to api\\.bfly\\.test:${api.port}: HTTP 407 Proxy Authentication Required — check the user and password in HTTPS_PROXY`, 'm'))
    assert.ok(!wrong.stderr.includes('wrong-Pa55word'), 'the password is not in the --verbose output (trace, error, stack)')
    const circuit = await runCli(['circuit', 'status', '--json'], {env: {BFLY_CONFIG_DIR: config, BFLY_API_URL: api.url}})
    assert.doesNotMatch(circuit.stdout, /"failures":\s*[1-9]/, circuit.stdout)
  })

  test('a proxy that refuses the tunnel (403) or does not answer: exit 7, one line naming the proxy', async () => {
    const refusing = await startConnectProxy({refuse: 403})
    try {
      const port = await closedPort()
      const [forbidden, down] = await Promise.all([
        runCli(['capsules', 'get', 'cap_1', '--ca-file', CA_FILE], {env: {...base(), HTTPS_PROXY: refusing.url}}),
        runCli(['capsules', 'get', 'cap_1', '--ca-file', CA_FILE, '--retries', '0'], {env: {...base(), HTTPS_PROXY: `http://bob:hunter2-pw@127.0.0.1:${port}`}}),
      ])
      assert.equal(forbidden.code, 7)
      assertOneLine(forbidden, new RegExp(`the proxy http://127\\.0\\.0\\.1:${refusing.port} refused the tunnel to api\\.bfly\\.test:${api.port}: HTTP 403 — .*NO_PROXY`))
      assert.equal(down.code, 7)
      assertOneLine(down, new RegExp(`^Error: connection refused by the proxy http://\\*\\*\\*:\\*\\*\\*@127\\.0\\.0\\.1:${port} \\(on the way to api\\.bfly\\.test:${api.port}\\) — is the proxy up\\? .*HTTPS_PROXY`))
      assert.ok(!down.stderr.includes('hunter2-pw'))
    } finally {
      await refusing.close()
    }
  })

  test('an expired certificate and one for another host: exit 7 with what is wrong and what to do', async () => {
    const [old, other] = await Promise.all([
      runCli(['capsules', 'get', 'cap_1', '--ca-file', CA_FILE], {env: {...base(), BFLY_API_URL: expired.url, HTTPS_PROXY: proxy.url}}),
      runCli(['capsules', 'get', 'cap_1', '--ca-file', CA_FILE], {env: {...base(), BFLY_API_URL: otherHost.url, HTTPS_PROXY: proxy.url}}),
    ])
    assert.equal(old.code, 7)
    assertOneLine(old, new RegExp(`^Error: the certificate of api\\.bfly\\.test:${expired.port} has expired \\(CERT_HAS_EXPIRED\\) — the server must renew it`))
    assert.equal(other.code, 7)
    assertOneLine(other, new RegExp(`^Error: the certificate of api\\.bfly\\.test:${otherHost.port} is not for that host name \\(it names DNS:other\\.bfly\\.test\\)`))
    assert.equal(expired.seen.length + otherHost.seen.length, 0, 'no request reached a server whose certificate was refused')
  })

  test('probe through the proxy: every connection tunnels; an untrusted certificate or a 407 ends it with exit 7 and the cause', async () => {
    const from = proxy.seen.length
    const [ok, untrusted, refused] = await Promise.all([
      runCli(['probe', '/api/v1/capsules/cap_1', '--requests', '6', '--concurrency', '2', '--json', '--ca-file', CA_FILE], {env: {...base(), HTTPS_PROXY: proxy.url}}),
      runCli(['probe', '/api/v1/capsules/cap_1', '--requests', '3', '--concurrency', '1', '--json'], {env: {...base(), HTTPS_PROXY: proxy.url}}),
      runCli(['probe', '/api/v1/capsules/cap_1', '--requests', '3', '--concurrency', '1', '--json', '--ca-file', CA_FILE], {env: {...base(), HTTPS_PROXY: guarded.url}}),
    ])
    assert.equal(ok.code, 0, ok.stderr)
    const report = JSON.parse(ok.stdout)
    assert.deepEqual(report.statusCodes, {200: 6})
    assert.equal(report.errors, 0)
    const mine = proxy.seen.slice(from).filter((s) => s.status === 200)
    assert.ok(mine.length >= 2, `tunnels: ${JSON.stringify(mine)}`)
    assert.ok(mine.every((s) => s.target === `api.bfly.test:${api.port}`))
    assert.equal(untrusted.code, 7, untrusted.stderr)
    assert.equal(JSON.parse(untrusted.stdout).errorsByKind.tls, 3, 'the report still says what happened')
    assert.match(JSON.parse(untrusted.stderr.trim().split('\n').at(-1)!).error.message, /^no request got an answer: the certificate of api\.bfly\.test:\d+ is not signed by a trusted certificate authority/)
    assert.equal(refused.code, 7, refused.stderr)
    assert.match(JSON.parse(refused.stderr.trim().split('\n').at(-1)!).error.message, new RegExp(`the proxy http://127\\.0\\.0\\.1:${guarded.port} refused the tunnel .*407`))
  })

  test('doctor names the proxy without its password and reaches the API through it', async () => {
    const r = await runCli(['doctor', '--json', '--ca-file', CA_FILE], {env: {...base(), HTTPS_PROXY: withCredentials(guarded, 'alice', PROXY_PASSWORD)}})
    assert.ok(!r.stdout.includes(PROXY_PASSWORD) && !r.stderr.includes(PROXY_PASSWORD))
    const checks = Object.fromEntries(JSON.parse(r.stdout).checks.map((c: {name: string}) => [c.name, c]))
    assert.match(checks.proxy.detail, /^http:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:\d+ \(from HTTPS_PROXY\)$/)
    assert.equal(checks.http.status, 'pass', checks.http.detail)
    assert.match(checks.http.detail, /through the proxy/)

    // A proxy setting bfly cannot use is a failed check with the remedy, not a crash.
    const socks = await runCli(['doctor', '--json'], {env: {...base(), HTTPS_PROXY: 'socks5://127.0.0.1:1080'}})
    assert.equal(socks.code, 8, socks.stderr)
    const proxyCheck = JSON.parse(socks.stdout).checks.find((c: {name: string}) => c.name === 'proxy')
    assert.equal(proxyCheck.status, 'fail')
    assert.match(proxyCheck.detail, /HTTPS_PROXY names a socks5 proxy/)
  })
})
