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

before(async () => {
  const {startSandbox} = await import(pathToFileURL(join(ROOT, 'dist', 'sandbox', 'index.js')).href)
  sandbox = await startSandbox({insecureDemoTokens: true, quiet: true, capsules: 10, timeScale: 600})
  front = await startTlsFront(Number(new URL(sandbox.apiUrl).port))
  proxy = await startConnectProxy({routes: {[`api.bfly.test:${front.port}`]: front.port}})
})
after(async () => {
  await proxy.close()
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
