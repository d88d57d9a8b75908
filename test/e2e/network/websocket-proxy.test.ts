// The plans WebSocket (wss) through an HTTPS proxy with a private CA: the sandbox behind a TLS
// front, reachable only as api.bfly.test through the proxy.
import assert from 'node:assert/strict'
import {join, resolve} from 'node:path'
import {after, before, test} from 'node:test'
import {pathToFileURL} from 'node:url'
import {runCli, tempConfigDir} from '../../helpers/cli.ts'
import {startConnectProxy, type TestProxy} from '../../helpers/connect-proxy.ts'
import {startTlsFront} from '../../helpers/tls-front.ts'

const ROOT = resolve(import.meta.dirname, '..', '..', '..')
const CA = join(ROOT, 'test', 'fixtures', 'tls', 'ca.pem')

let sandbox: {apiUrl: string; demoTokens: {admin: string}; close(): Promise<void>}
let front: {port: number; close(): Promise<void>}
let proxy: TestProxy
let guarded: TestProxy

before(async () => {
  const {startSandbox} = await import(pathToFileURL(join(ROOT, 'dist', 'sandbox', 'index.js')).href)
  sandbox = await startSandbox({insecureDemoTokens: true, quiet: true, capsules: 10, timeScale: 600})
  front = await startTlsFront(Number(new URL(sandbox.apiUrl).port))
  proxy = await startConnectProxy({routes: {[`api.bfly.test:${front.port}`]: front.port}})
  guarded = await startConnectProxy({routes: {[`api.bfly.test:${front.port}`]: front.port}, auth: {user: 'carol', password: 'ws-pr0xy-pw'}})
})
after(async () => {
  await proxy.close()
  await guarded.close()
  await front.close()
  await sandbox.close()
})

test('plans execute --watch: the POST and the wss stream both go through the proxy, trusting the ca-file', async () => {
  const r = await runCli(['plans', 'execute', 'plan_123', '--watch', '--json', '--ca-file', CA], {
    env: {BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: `https://api.bfly.test:${front.port}`, BFLY_TOKEN: sandbox.demoTokens.admin, HTTPS_PROXY: proxy.url},
    timeoutMs: 60_000,
  })
  assert.equal(r.code, 0, r.stderr)
  const events = r.stdout.trim().split('\n').map((line) => JSON.parse(line))
  assert.ok(events.length > 1, r.stdout)
  assert.ok(events.some((e) => /COMPLETED|FAILED/.test(String(e.type ?? e.status))), r.stdout)
  const tunnels = proxy.seen.filter((s) => s.method === 'CONNECT' && s.target === `api.bfly.test:${front.port}`)
  assert.ok(tunnels.length >= 2, `expected the POST and the WebSocket to tunnel, saw ${tunnels.length}`)
})

test('plans watch: a proxy that demands credentials, or a certificate not trusted, ends the watch at once (exit 7, one line), no reconnect loop', async () => {
  const env = (extra: Record<string, string>) => ({BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: `https://api.bfly.test:${front.port}`, BFLY_TOKEN: sandbox.demoTokens.admin, ...extra})
  const from = guarded.seen.length
  const [refused, untrusted] = await Promise.all([
    runCli(['plans', 'watch', 'plan_123', '--ca-file', CA], {env: env({HTTPS_PROXY: guarded.url}), timeoutMs: 15_000}),
    runCli(['plans', 'watch', 'plan_123'], {env: env({HTTPS_PROXY: proxy.url}), timeoutMs: 15_000}),
  ])
  assert.equal(refused.code, 7, refused.stderr)
  assert.match(refused.stderr, new RegExp(`^Error: the proxy http://127\\.0\\.0\\.1:\\d+ refused the tunnel to api\\.bfly\\.test:${front.port}: HTTP 407 Proxy Authentication Required`))
  assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr)
  assert.equal(guarded.seen.length - from, 1, 'one attempt, no reconnects')
  assert.equal(untrusted.code, 7, untrusted.stderr)
  assert.match(untrusted.stderr, new RegExp(`^Error: the certificate of api\\.bfly\\.test:${front.port} is not signed by a trusted certificate authority`))
})
