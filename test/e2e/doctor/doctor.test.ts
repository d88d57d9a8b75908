// `bfly doctor` as a user runs it: against the sandbox, a server that is down, a server whose
// clock is off or whose budget is nearly spent, a TLS server with a private CA (trusted or
// not, expired), a rejected token and an open client circuit. The JSON is checked against
// its published schema; secrets never appear in the output.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {createServer as createHttp, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {createServer as createHttps} from 'node:https'
import {join, resolve} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {pathToFileURL} from 'node:url'
import {Ajv2020} from 'ajv/dist/2020.js'
import {runCli, tempConfigDir} from '../../helpers/cli.ts'

const ROOT = resolve(import.meta.dirname, '..', '..', '..')
const TLS = join(ROOT, 'test', 'fixtures', 'tls')
const schema = JSON.parse(readFileSync(join(ROOT, 'schemas', 'doctor.schema.json'), 'utf8'))
const validate = new Ajv2020({strict: true, allErrors: true}).compile(schema)

interface Checked {
  code: number | null
  stdout: string
  stderr: string
  checks: Record<string, {status: string; detail: string; remedy: string | null}>
}

async function doctor(env: Record<string, string>, extra: string[] = []): Promise<Checked> {
  const r = await runCli(['doctor', '--json', ...extra], {env: {BFLY_CONFIG_DIR: tempConfigDir(), ...env}})
  const body = JSON.parse(r.stdout)
  assert.ok(validate(body), JSON.stringify(validate.errors))
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
  return {...r, checks: Object.fromEntries(body.checks.map((c: {name: string}) => [c.name, c]))}
}

/** A loopback API whose answers the test shapes. */
function fakeApi(handler: (req: IncomingMessage, res: ServerResponse) => void, tls?: {cert: string; key: string}): Promise<{url: string; server: Server}> {
  const server = tls ? createHttps({cert: readFileSync(join(TLS, tls.cert)), key: readFileSync(join(TLS, tls.key))}, handler) : createHttp(handler)
  return new Promise((done) => server.listen(0, '127.0.0.1', () => {
    const {port} = server.address() as {port: number}
    done({url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`, server})
  }))
}

const answer = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  const text = JSON.stringify(body)
  res.writeHead(status, {'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers})
  res.end(text)
}

describe('bfly doctor', () => {
  const servers: Server[] = []
  let sandbox: {apiUrl: string; demoTokens: {admin: string}; close(): Promise<void>}
  before(async () => {
    const {startSandbox} = await import(pathToFileURL(join(ROOT, 'dist', 'sandbox', 'index.js')).href)
    sandbox = await startSandbox({insecureDemoTokens: true, quiet: true, capsules: 20})
  })
  after(async () => {
    await sandbox.close()
    for (const s of servers) s.close()
  })

  test('against the sandbox with a valid token: every check passes or is skipped, exit 0; the token is never printed', async () => {
    const r = await doctor({BFLY_API_URL: sandbox.apiUrl, BFLY_TOKEN: sandbox.demoTokens.admin}, ['--verbose'])
    assert.equal(r.code, 0, r.stderr)
    for (const [name, c] of Object.entries(r.checks)) assert.ok(c.status === 'pass' || c.status === 'skip', `${name}: ${c.status} ${c.detail}`)
    for (const name of ['node', 'profile', 'api-url', 'proxy', 'dns', 'tcp', 'tls', 'http', 'clock', 'oauth', 'credentials', 'token', 'rate-limit', 'keychain', 'circuits']) assert.ok(r.checks[name], `${name} is checked`)
    assert.match(r.checks['api-url'].detail, /from the environment/)
    assert.match(r.checks.http.detail, /p50 [\d.]+ ms over 5 requests/)
    assert.match(r.checks.oauth.detail, /\/oauth \(discovered from the API\)/)
    assert.match(r.checks.credentials.detail, /^BFLY_TOKEN .*accepted/)
    assert.ok(!r.stdout.includes(sandbox.demoTokens.admin) && !r.stderr.includes(sandbox.demoTokens.admin), 'the token leaked')
  })

  test('with a stored login: the token expiry is reported', async () => {
    const config = tempConfigDir()
    const login = await runCli(['login', '--with-token'], {env: {BFLY_CONFIG_DIR: config, BFLY_API_URL: sandbox.apiUrl}, input: `${sandbox.demoTokens.admin}\n`})
    assert.equal(login.code, 0, login.stderr)
    const r = await runCli(['doctor'], {env: {BFLY_CONFIG_DIR: config, BFLY_API_URL: sandbox.apiUrl}})
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^pass {2}credentials {2}the stored login, in a 0600 file: accepted$/m)
    assert.match(r.stdout, /^(pass|skip) {2}token /m)
    assert.ok(!r.stdout.includes(sandbox.demoTokens.admin))
  })

  test('not logged in is a warning with the remedy, not a failure', async () => {
    const r = await doctor({BFLY_API_URL: sandbox.apiUrl})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.checks.credentials.status, 'warn')
    assert.match(r.checks.credentials.remedy!, /bfly login/)
  })

  test('a server that is down: exit 8, the whole report on stdout, later checks skipped', async () => {
    const {url, server} = await fakeApi(() => {})
    server.close()
    await new Promise((done) => server.once('close', done))
    const r = await doctor({BFLY_API_URL: url, BFLY_TOKEN: 'tok'})
    assert.equal(r.code, 8)
    assert.equal(r.checks.tcp.status, 'fail')
    assert.match(r.checks.tcp.detail, /connection refused/)
    assert.equal(r.checks.http.status, 'skip')
    assert.equal(r.checks.credentials.status, 'skip')
    assert.match(JSON.parse(r.stderr.trim().split('\n').at(-1)!).error.message, /tcp/)
  })

  test('clock skew, low rate-limit headroom and a rejected token', async () => {
    const {url, server} = await fakeApi((req, res) => {
      const date = new Date(Date.now() + 120_000).toUTCString()
      const limits = {'x-ratelimit-limit': '1000', 'x-ratelimit-remaining': '12', 'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 40), date}
      if (req.url!.startsWith('/.well-known/oauth-protected-resource')) return answer(res, 404, {error: {code: 'NOT_FOUND', message: 'no'}}, {date})
      if (req.headers.authorization === 'Bearer good') return answer(res, 200, {data: [], meta: {requestId: 'r'}}, limits)
      answer(res, 401, {error: {code: 'UNAUTHORIZED', message: 'invalid token'}}, limits)
    })
    servers.push(server)
    const good = await doctor({BFLY_API_URL: url, BFLY_TOKEN: 'good'})
    assert.equal(good.code, 0, good.stderr)
    assert.equal(good.checks.clock.status, 'warn')
    assert.match(good.checks.clock.detail, /2 min behind the server/)
    assert.equal(good.checks['rate-limit'].status, 'warn')
    assert.match(good.checks['rate-limit'].detail, /^12 of 1000 requests left/)
    // Discovery fails, but a static token needs no OAuth: a warning.
    assert.equal(good.checks.oauth.status, 'warn')

    const bad = await doctor({BFLY_API_URL: url, BFLY_TOKEN: 'bad-secret-value'})
    assert.equal(bad.code, 8)
    assert.equal(bad.checks.credentials.status, 'fail')
    assert.match(bad.checks.credentials.detail, /rejected by the API \(401\)/)
    assert.ok(!bad.stdout.includes('bad-secret-value'))
  })

  test('TLS with a private CA: untrusted fails with the remedy, --ca-file trusts it, an expired certificate fails', async () => {
    const ok = await fakeApi((req, res) => answer(res, 200, {data: [], meta: {}}), {cert: 'server.pem', key: 'server.key'})
    const old = await fakeApi((req, res) => answer(res, 200, {data: [], meta: {}}), {cert: 'expired.pem', key: 'expired.key'})
    servers.push(ok.server, old.server)
    const untrusted = await doctor({BFLY_API_URL: ok.url, BFLY_TOKEN: 'tok'})
    assert.equal(untrusted.code, 8)
    assert.equal(untrusted.checks.tls.status, 'fail')
    assert.match(untrusted.checks.tls.detail, /not trusted/)
    assert.match(untrusted.checks.tls.remedy!, /--ca-file/)

    const trusted = await doctor({BFLY_API_URL: ok.url, BFLY_TOKEN: 'tok'}, ['--ca-file', join(TLS, 'ca.pem')])
    assert.equal(trusted.checks.tls.status, 'pass', trusted.checks.tls.detail)
    assert.match(trusted.checks.tls.detail, /issued by CN=bfly test CA; trusted via the system roots and ca-file/)
    assert.equal(trusted.checks.http.status, 'pass', trusted.checks.http.detail)

    const expired = await doctor({BFLY_API_URL: old.url, BFLY_TOKEN: 'tok'}, ['--ca-file', join(TLS, 'ca.pem')])
    assert.equal(expired.code, 8)
    assert.equal(expired.checks.tls.status, 'fail')
    assert.match(expired.checks.tls.detail, /expired .* ago \(2021-01-01T00:00:00\.000Z\)/)
  })

  test('an open client circuit for the API host fails with the reset remedy', async () => {
    const config = tempConfigDir()
    const {CircuitStore} = await import(pathToFileURL(join(ROOT, 'dist', 'resilience', 'circuit-breaker.js')).href)
    const store = new CircuitStore(join(config, 'state', 'default'))
    const host = new URL(sandbox.apiUrl).host
    for (let i = 0; i < 5; i++) await store.failure(host, 'HTTP 503')
    const r = await runCli(['doctor', '--json'], {env: {BFLY_CONFIG_DIR: config, BFLY_API_URL: sandbox.apiUrl, BFLY_TOKEN: sandbox.demoTokens.admin}})
    assert.equal(r.code, 8)
    const circuits = JSON.parse(r.stdout).checks.find((c: {name: string}) => c.name === 'circuits')
    assert.equal(circuits.status, 'fail')
    assert.match(circuits.detail, new RegExp(`${host.replace('.', '\\.')} open \\(HTTP 503\\)`))
    assert.match(circuits.remedy, /bfly circuit reset/)
  })

  test('human output: one line per check, remedies under the ones that need them', async () => {
    const r = await runCli(['doctor', '--api-url', 'http://127.0.0.1:9'], {env: {BFLY_CONFIG_DIR: tempConfigDir()}})
    assert.equal(r.code, 8)
    assert.match(r.stdout, /^pass {2}node +v\d+/m)
    assert.match(r.stdout, /^FAIL {2}tcp +cannot connect to 127\.0\.0\.1:9: connection refused\n +→ /m)
    assert.match(r.stderr, /^Error: \d checks? failed: /)
  })
})
