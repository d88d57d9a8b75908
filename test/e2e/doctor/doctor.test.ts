// `bfly doctor` as a user runs it: against the sandbox, a server that is down or hangs, a
// server whose clock is off or whose budget is nearly spent, a TLS server with a private CA
// (untrusted, trusted, expired, behind a CONNECT proxy), rejected and expired tokens, an open
// client circuit, and Ctrl-C. Every JSON report is checked against its published schema;
// secrets never appear in the output; no run prints a stack trace.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {createServer as createHttp, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {createServer as createHttps} from 'node:https'
import {createServer as createTcp} from 'node:net'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {pathToFileURL} from 'node:url'
import {Ajv2020} from 'ajv/dist/2020.js'
import {BIN, cleanEnv, ROOT, runCli, tempConfigDir} from '../../helpers/cli.ts'
import {startConnectProxy, type TestProxy} from '../../helpers/connect-proxy.ts'
import {startDbusBlackHole} from '../../helpers/dbus-blackhole.ts'

const TLS = join(ROOT, 'test', 'fixtures', 'tls')
const CA = join(TLS, 'ca.pem')
const schema = JSON.parse(readFileSync(join(ROOT, 'schemas', 'doctor.schema.json'), 'utf8'))
const validate = new Ajv2020({strict: true, allErrors: true}).compile(schema)
const ALL = ['bfly', 'node', 'config', 'profile', 'api-url', 'issuer', 'proxy', 'ca', 'dns', 'tcp', 'tls', 'http', 'clock', 'oauth', 'credentials', 'token', 'rate-limit', 'keychain', 'circuits']

interface Checked {
  code: number | null
  stdout: string
  stderr: string
  checks: Record<string, {status: string; detail: string; remedy: string | null}>
}

/** The whole report, every time: valid against the schema, every check present, no stack trace. */
function report(r: {code: number | null; stdout: string; stderr: string}): Checked {
  const body = JSON.parse(r.stdout)
  assert.ok(validate(body), JSON.stringify(validate.errors))
  assert.deepEqual(body.checks.map((c: {name: string}) => c.name), ALL)
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
  return {...r, checks: Object.fromEntries(body.checks.map((c: {name: string}) => [c.name, c]))}
}

async function doctor(env: Record<string, string>, extra: string[] = []): Promise<Checked> {
  return report(await runCli(['doctor', '--json', ...extra], {env: {BFLY_CONFIG_DIR: tempConfigDir(), ...env}}))
}

/** A loopback API whose answers the test shapes. */
function fakeApi(handler: (req: IncomingMessage, res: ServerResponse) => void, tls?: {cert: string; key: string}): Promise<{url: string; port: number; server: Server}> {
  const server = tls ? createHttps({cert: readFileSync(join(TLS, tls.cert)), key: readFileSync(join(TLS, tls.key))}, handler) : createHttp(handler)
  return new Promise((done) => server.listen(0, '127.0.0.1', () => {
    const {port} = server.address() as {port: number}
    done({url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`, port, server})
  }))
}

const answer = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  const text = JSON.stringify(body)
  res.writeHead(status, {'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers})
  res.end(text)
}

const jwt = (claims: object) => ['eyJhbGciOiJub25lIn0', Buffer.from(JSON.stringify(claims)).toString('base64url'), 'c2ln'].join('.')

describe('bfly doctor', () => {
  const servers: Server[] = []
  let sandbox: {apiUrl: string; demoTokens: {admin: string}; close(): Promise<void>}
  before(async () => {
    const {startSandbox} = await import(pathToFileURL(join(ROOT, 'dist', 'sandbox', 'index.js')).href)
    sandbox = await startSandbox({insecureDemoTokens: true, quiet: true, capsules: 20})
  })
  after(async () => {
    await sandbox.close()
    for (const s of servers) s.closeAllConnections?.(), s.close()
  })

  test('against the sandbox with a valid token: every check passes or is skipped, exit 0, quickly; the token is never printed', async () => {
    const started = performance.now()
    const r = await doctor({BFLY_API_URL: sandbox.apiUrl, BFLY_TOKEN: sandbox.demoTokens.admin}, ['--verbose'])
    const elapsed = performance.now() - started
    assert.equal(r.code, 0, r.stderr)
    for (const [name, c] of Object.entries(r.checks)) assert.ok(c.status === 'pass' || c.status === 'skip', `${name}: ${c.status} ${c.detail}`)
    assert.match(r.checks['api-url'].detail, /from the environment/)
    assert.match(r.checks.issuer.detail, /\/oauth \(discovered from the API\)$/)
    assert.match(r.checks.http.detail, /^HTTP 200, p50 [\d.]+ ms, max [\d.]+ ms over 5 requests$/)
    assert.match(r.checks.oauth.detail, /^OpenID metadata of .*\/oauth; offers browser login, device code/)
    assert.match(r.checks.credentials.detail, /^BFLY_TOKEN .*accepted/)
    assert.match(r.checks['rate-limit'].detail, /^\d+ of 1000 requests left/)
    assert.ok(!r.stdout.includes(sandbox.demoTokens.admin) && !r.stderr.includes(sandbox.demoTokens.admin), 'the token leaked')
    assert.match(r.stderr, /\* → GET .*\/api\/v1\/capsules/, '--verbose traces the requests')
    // Generous: a whole process start included; doctor itself takes well under a second on loopback.
    assert.ok(elapsed < 10_000, `doctor took ${elapsed} ms`)
  })

  test('with a stored login: credentials accepted, the token expiry reported, human output with a tally', async () => {
    const config = tempConfigDir()
    const login = await runCli(['login', '--with-token'], {env: {BFLY_CONFIG_DIR: config, BFLY_API_URL: sandbox.apiUrl}, input: `${sandbox.demoTokens.admin}\n`})
    assert.equal(login.code, 0, login.stderr)
    const r = await runCli(['doctor'], {env: {BFLY_CONFIG_DIR: config, BFLY_API_URL: sandbox.apiUrl}})
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^pass {2}credentials {2}the stored login, in a 0600 file: accepted$/m)
    assert.match(r.stdout, /^pass {2}token {8}access token/m)
    assert.match(r.stdout, /^pass {2}config {7}.*config\.json$/m)
    assert.match(r.stdout, /\n\n0 failures, 0 warnings, \d+ passed, \d+ skipped \(bfly \d+\.\d+\.\d+, [\d.]+ s\)\n$/)
    assert.ok(!r.stdout.includes(sandbox.demoTokens.admin))
  })

  test('not logged in is a warning with the remedy, not a failure, even with the server down', async () => {
    const up = await doctor({BFLY_API_URL: sandbox.apiUrl})
    assert.equal(up.code, 0, up.stderr)
    assert.equal(up.checks.credentials.status, 'warn')
    assert.match(up.checks.credentials.remedy!, /bfly login/)
    const down = await doctor({BFLY_API_URL: 'http://127.0.0.1:9'})
    assert.equal(down.checks.credentials.status, 'warn')
    assert.equal(down.checks.credentials.detail, 'not logged in')
  })

  test('a server that is down: exit 8, the whole report on stdout, what depends on the connection skipped with the reason', async () => {
    const {server, url} = await fakeApi(() => {})
    server.close()
    await new Promise((done) => server.once('close', done))
    const r = await doctor({BFLY_API_URL: url, BFLY_TOKEN: 'tok-down-secret'})
    assert.equal(r.code, 8)
    assert.equal(r.checks.tcp.status, 'fail')
    assert.match(r.checks.tcp.detail, /connection refused/)
    assert.match(r.checks.tcp.remedy!, /service up/)
    for (const name of ['tls', 'http', 'issuer', 'oauth', 'credentials']) assert.equal(r.checks[name].status, 'skip', name)
    assert.equal(r.checks.http.detail, 'no connection')
    assert.match(r.checks.credentials.detail, /^BFLY_TOKEN .*not tried, the API does not answer$/)
    const error = JSON.parse(r.stderr.trim().split('\n').at(-1)!).error
    assert.equal(error.exitCode, 8)
    assert.match(error.message, /tcp/)
    assert.ok(!r.stdout.includes('tok-down-secret') && !r.stderr.includes('tok-down-secret'))
  })

  test('clock skew, low rate-limit headroom, a rejected token, an expired JWT', async () => {
    const {url, server} = await fakeApi((req, res) => {
      const date = new Date(Date.now() + 120_000).toUTCString()
      const limits = {'x-ratelimit-limit': '1000', 'x-ratelimit-remaining': '12', 'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 40), date}
      if (req.url!.startsWith('/.well-known/oauth-protected-resource')) return answer(res, 404, {error: {code: 'NOT_FOUND', message: 'no'}}, {date})
      if (req.headers.authorization === 'Bearer good-secret-value') return answer(res, 200, {data: [], meta: {requestId: 'r'}}, limits)
      answer(res, 401, {error: {code: 'UNAUTHORIZED', message: 'invalid token'}, meta: {requestId: 'req-401'}}, {...limits, 'www-authenticate': 'Bearer error="invalid_token"', 'x-request-id': 'req-401'})
    })
    servers.push(server)
    const good = await doctor({BFLY_API_URL: url, BFLY_TOKEN: 'good-secret-value'})
    assert.equal(good.code, 0, good.stderr)
    assert.equal(good.checks.clock.status, 'warn')
    assert.match(good.checks.clock.detail, /^2 min behind the server$/)
    assert.match(good.checks.clock.remedy!, /NTP/)
    assert.equal(good.checks['rate-limit'].status, 'warn')
    assert.match(good.checks['rate-limit'].detail, /^12 of 1000 requests left/)
    // The API names no issuer, but a static token needs no OAuth: a warning, not a failure.
    assert.equal(good.checks.issuer.status, 'warn')
    assert.match(good.checks.issuer.detail, /BFLY_TOKEN needs no OAuth/)
    assert.equal(good.checks.oauth.status, 'skip')

    const bad = await doctor({BFLY_API_URL: url, BFLY_TOKEN: 'bad-secret-value'})
    assert.equal(bad.code, 8)
    assert.equal(bad.checks.credentials.status, 'fail')
    assert.equal(bad.checks.credentials.detail, 'BFLY_TOKEN (used as is): rejected by the API (401 invalid_token) (request req-401)')
    assert.ok(!bad.stdout.includes('bad-secret-value') && !bad.stderr.includes('bad-secret-value'))

    const token = jwt({sub: 'u', exp: Math.floor(Date.now() / 1000) - 7200})
    const expired = await doctor({BFLY_API_URL: url, BFLY_TOKEN: token})
    assert.equal(expired.code, 8)
    assert.equal(expired.checks.token.status, 'fail')
    assert.match(expired.checks.token.detail, /^BFLY_TOKEN expired 2 h ago/)
    assert.ok(!expired.stdout.includes(token) && !expired.stdout.includes(token.split('.')[1]))
  })

  test('a server that accepts connections and never answers: failures within the --timeout bound, not a hang', async () => {
    const silent = createTcp(() => {})
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done))
    const port = (silent.address() as {port: number}).port
    try {
      const started = performance.now()
      const r = await doctor({BFLY_API_URL: `http://127.0.0.1:${port}`, BFLY_ISSUER: `http://127.0.0.1:${port}/oauth`}, ['--timeout', '500ms'])
      const elapsed = performance.now() - started
      assert.equal(r.code, 8)
      assert.equal(r.checks.tcp.status, 'pass')
      assert.equal(r.checks.http.status, 'fail')
      assert.match(r.checks.http.detail, /timed out after 500 ms/)
      assert.equal(r.checks.issuer.status, 'pass')
      assert.match(r.checks.issuer.detail, /from the environment/)
      assert.equal(r.checks.oauth.status, 'fail')
      assert.match(r.checks.oauth.detail, /^no answer from the issuer http:\/\/127\.0\.0\.1:\d+\/oauth within 500 ms$/)
      assert.ok(elapsed < 8000, `took ${elapsed} ms`)
    } finally {
      silent.close()
    }
  })

  test('TLS with a private CA: untrusted fails with the remedy, --ca-file trusts it, an expired certificate fails, a missing ca-file is a failed check', async () => {
    const ok = await fakeApi((req, res) => answer(res, 200, {data: [], meta: {}}), {cert: 'server.pem', key: 'server.key'})
    const old = await fakeApi((req, res) => answer(res, 200, {data: [], meta: {}}), {cert: 'expired.pem', key: 'expired.key'})
    servers.push(ok.server, old.server)
    const untrusted = await doctor({BFLY_API_URL: ok.url, BFLY_TOKEN: 'tok'})
    assert.equal(untrusted.code, 8)
    assert.equal(untrusted.checks.tls.status, 'fail')
    assert.match(untrusted.checks.tls.detail, /not trusted/)
    assert.match(untrusted.checks.tls.remedy!, /--ca-file/)
    assert.equal(untrusted.checks.http.status, 'skip')

    const trusted = await doctor({BFLY_API_URL: ok.url, BFLY_TOKEN: 'tok'}, ['--ca-file', CA])
    assert.equal(trusted.checks.ca.status, 'pass')
    assert.match(trusted.checks.ca.detail, /\+ ca-file .*ca\.pem \(from the flag, 1 certificate\)$/)
    assert.equal(trusted.checks.tls.status, 'pass', trusted.checks.tls.detail)
    assert.match(trusted.checks.tls.detail, /^TLSv1\.[23], certificate valid for \d+ days; CN=.*, issued by CN=bfly test CA; trusted via Node's bundled roots .*\+ ca-file/)
    assert.equal(trusted.checks.http.status, 'pass', trusted.checks.http.detail)
    assert.equal(trusted.checks.credentials.status, 'pass', trusted.checks.credentials.detail)

    const expired = await doctor({BFLY_API_URL: old.url, BFLY_TOKEN: 'tok'}, ['--ca-file', CA])
    assert.equal(expired.code, 8)
    assert.equal(expired.checks.tls.status, 'fail')
    assert.match(expired.checks.tls.detail, /expired .* ago \(2021-01-01T00:00:00\.000Z\)/)

    const missing = await doctor({BFLY_API_URL: ok.url, BFLY_TOKEN: 'tok'}, ['--ca-file', join(TLS, 'no-such.pem')])
    assert.equal(missing.code, 8)
    assert.equal(missing.checks.ca.status, 'fail')
    assert.match(missing.checks.ca.detail, /no-such\.pem: ENOENT/)
    assert.equal(missing.checks.tls.detail, 'the CAs to trust cannot be read')
  })

  test('through a CONNECT proxy with credentials: the certificate is inspected through the tunnel, the proxy named without its password', async () => {
    const api = await fakeApi((req, res) => answer(res, 200, {data: [], meta: {}}), {cert: 'server.pem', key: 'server.key'})
    servers.push(api.server)
    const target = `api.bfly.test:${api.port}`
    const proxy: TestProxy = await startConnectProxy({routes: {[target]: api.port}, auth: {user: 'alice', password: 'pr0xy-pass-word'}})
    try {
      const withAuth = proxy.url.replace('http://', 'http://alice:pr0xy-pass-word@')
      const r = await doctor({BFLY_API_URL: `https://${target}`, BFLY_TOKEN: 'tok', HTTPS_PROXY: withAuth}, ['--ca-file', CA])
      assert.equal(r.code, 0, JSON.stringify(r.checks, null, 1))
      assert.match(r.checks.proxy.detail, /^http:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:\d+ \(from HTTPS_PROXY\)$/)
      assert.match(r.checks.dns.detail, /\(the proxy\) is an IP address/)
      assert.match(r.checks.tls.detail, /issued by CN=bfly test CA; .* \(through the proxy http:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:\d+\)$/)
      assert.match(r.checks.http.detail, /through the proxy/)
      assert.ok(proxy.seen.filter((s) => s.method === 'CONNECT' && s.target === target).length >= 2, 'TLS and HTTP went through the proxy')
      assert.ok(!r.stdout.includes('pr0xy-pass-word') && !r.stderr.includes('pr0xy-pass-word'))

      const wrong = proxy.url.replace('http://', 'http://alice:wr0ng-pass-word@')
      const refused = await doctor({BFLY_API_URL: `https://${target}`, BFLY_TOKEN: 'tok', HTTPS_PROXY: wrong}, ['--ca-file', CA])
      assert.equal(refused.code, 8)
      assert.equal(refused.checks.tls.status, 'fail')
      assert.match(refused.checks.tls.detail, /^http:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:\d+: the proxy refused the tunnel to api\.bfly\.test:\d+: HTTP 407 Proxy Authentication Required$/)
      assert.match(refused.checks.tls.remedy!, /user and password/)
      assert.equal(refused.checks.http.status, 'skip')
      assert.ok(!refused.stdout.includes('wr0ng-pass-word') && !refused.stderr.includes('wr0ng-pass-word'))
    } finally {
      await proxy.close()
    }
  })

  test('a keychain that never answers: a warning within the bound, and doctor carries on', async () => {
    const hole = await startDbusBlackHole()
    try {
      const started = performance.now()
      const r = await doctor({BFLY_API_URL: sandbox.apiUrl, BFLY_TOKEN: sandbox.demoTokens.admin, BFLY_KEYCHAIN: 'on', DBUS_SESSION_BUS_ADDRESS: hole.address}, ['--timeout', '1s'])
      assert.equal(r.code, 0, JSON.stringify(r.checks, null, 1))
      assert.equal(r.checks.keychain.status, 'warn')
      assert.match(r.checks.keychain.detail, /did not answer within 1 s; logins fall back to a file/)
      assert.ok(performance.now() - started < 8000)
    } finally {
      await hole.close()
    }
  })

  test('an open client circuit for the API host fails with the reset remedy (commands fail fast until then); credentials are still tried', async () => {
    const config = tempConfigDir()
    const {CircuitStore} = await import(pathToFileURL(join(ROOT, 'dist', 'resilience', 'circuit-breaker.js')).href)
    const store = new CircuitStore(join(config, 'state', 'default'))
    const host = new URL(sandbox.apiUrl).host
    for (let i = 0; i < 5; i++) await store.failure(host, 'HTTP 503')
    const r = report(await runCli(['doctor', '--json'], {env: {BFLY_CONFIG_DIR: config, BFLY_API_URL: sandbox.apiUrl, BFLY_TOKEN: sandbox.demoTokens.admin}}))
    assert.equal(r.code, 8)
    assert.equal(r.checks.circuits.status, 'fail')
    assert.match(r.checks.circuits.detail, new RegExp(`^${host.replace('.', '\\.')} open \\(HTTP 503\\), probes again in \\d+ s$`))
    assert.match(r.checks.circuits.remedy!, /bfly circuit reset/)
    // Doctor diagnoses past the breaker: the server itself is fine.
    assert.equal(r.checks.credentials.status, 'pass', r.checks.credentials.detail)
    const after = JSON.parse((await runCli(['circuit', 'status', '--json'], {env: {BFLY_CONFIG_DIR: config, BFLY_API_URL: sandbox.apiUrl}})).stdout)
    assert.equal(JSON.stringify(after).includes('"open"'), true, 'doctor left the circuit as it was')
  })

  test('a broken config file is a failed check, and the rest still reports', async () => {
    const config = tempConfigDir()
    writeFileSync(join(config, 'config.json'), '{not json')
    const r = await doctor({BFLY_CONFIG_DIR: config, BFLY_API_URL: sandbox.apiUrl})
    assert.equal(r.code, 8)
    assert.equal(r.checks.config.status, 'fail')
    assert.match(r.checks.config.detail, /not valid JSON/)
    assert.equal(r.checks.node.status, 'pass')
    assert.equal(r.checks['api-url'].detail, 'the settings could not be read')
  })

  test('human output: one aligned line per check, remedies under the ones that need them, the error on stderr', async () => {
    const r = await runCli(['doctor', '--api-url', 'http://127.0.0.1:9'], {env: {BFLY_CONFIG_DIR: tempConfigDir()}})
    assert.equal(r.code, 8)
    assert.match(r.stdout, /^pass {2}node {9}v\d+/m)
    assert.match(r.stdout, /^FAIL {2}tcp {10}cannot connect to 127\.0\.0\.1:9: connection refused\n {19}-> /m)
    assert.match(r.stdout, /^skip {2}http {9}no connection$/m)
    assert.match(r.stderr, /^Error: 1 check failed: tcp — see the remedy/)
  })

  test('Ctrl-C: exit 130 at once, with the report of what finished on stdout', async () => {
    let arrived!: () => void
    const waiting = new Promise<void>((r) => (arrived = r))
    const {url, server} = await fakeApi(() => arrived())
    servers.push(server)
    const child = spawn(process.execPath, [BIN, 'doctor', '--json', '--timeout', '30s'], {env: cleanEnv({BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: url}), stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const exited = new Promise<number | null>((done) => child.on('close', done))
    await waiting
    const interrupted = performance.now()
    child.kill('SIGINT')
    const code = await exited
    assert.equal(code, 130, stderr)
    assert.ok(performance.now() - interrupted < 5000)
    const r = report({code, stdout, stderr})
    assert.equal(r.checks.tcp.status, 'pass')
    assert.equal(r.checks.http.status, 'skip')
    assert.match(r.checks.http.detail, /interrupted \(Ctrl-C\)/)
    assert.equal(JSON.parse(stderr.trim().split('\n').at(-1)!).error.exitCode, 130)
  })
})
