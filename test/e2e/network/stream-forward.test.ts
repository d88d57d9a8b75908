// The paths beside the HTTP client: the plans WebSocket (wss through a CONNECT tunnel, to the
// sandbox behind a TLS front signed by the test CA) and the forward of `webhooks listen`
// (plain http as an absolute-URI request to the proxy, https through a tunnel).
import assert from 'node:assert/strict'
import {type ChildProcess, spawn} from 'node:child_process'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {pathToFileURL} from 'node:url'
import {BIN, cleanEnv, ROOT, runCli, tempConfigDir} from '../../helpers/cli.ts'
import {startConnectProxy, type ConnectProxy} from '../../helpers/connect-proxy.ts'
import {startServer, json, type TestServer} from '../../helpers/api-server.ts'
import {CA_FILE, startHttpsServer, startTlsFront, type RunningServer} from '../../helpers/test-ca.ts'

interface Sandbox {
  apiUrl: string
  demoTokens: {admin: string}
  close(): Promise<void>
}

describe('the plans WebSocket and the webhook forward through a proxy', () => {
  let sandbox: Sandbox
  let front: RunningServer
  let proxy: ConnectProxy
  let guarded: ConnectProxy
  before(async () => {
    const {startSandbox} = await import(pathToFileURL(join(ROOT, 'dist', 'sandbox', 'index.js')).href)
    sandbox = await startSandbox({insecureDemoTokens: true, quiet: true, rateLimits: false, timeScale: 60, capsules: 10})
    front = await startTlsFront(Number(new URL(sandbox.apiUrl).port))
    ;[proxy, guarded] = await Promise.all([startConnectProxy(), startConnectProxy({credentials: 'carol:ws-pr0xy-pw'})])
  })
  after(async () => {
    await Promise.all([front?.close(), proxy?.close(), guarded?.close()])
    await sandbox?.close()
  })

  test('plans execute --watch over wss:// through HTTPS_PROXY with --ca-file: to PLAN_COMPLETED, every connection tunnelled', async () => {
    const from = proxy.seen.length
    const env = {BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: front.url, BFLY_TOKEN: sandbox.demoTokens.admin, HTTPS_PROXY: proxy.url}
    const r = await runCli(['plans', 'execute', 'plan_123', '--watch', '--json', '--verbose', '--ca-file', CA_FILE], {env})
    assert.equal(r.code, 0, r.stderr)
    const events = r.stdout.trim().split('\n').map((line) => JSON.parse(line))
    assert.equal(events.at(-1).type, 'PLAN_COMPLETED')
    assert.match(r.stderr, /plan stream through the proxy http:\/\/127\.0\.0\.1:\d+/)
    assert.match(r.stderr, /← 101 .*stream open/)
    const tunnels = proxy.seen.slice(from)
    assert.ok(tunnels.length >= 2, `the POST and the WebSocket each tunnel: ${JSON.stringify(tunnels)}`)
    assert.ok(tunnels.every((s) => s.method === 'CONNECT' && s.target === `api.bfly.test:${front.port}` && s.status === 200))
  })

  test('plans watch: a proxy demanding credentials ends the watch at once (exit 7, names the proxy), no reconnect loop', async () => {
    const from = guarded.seen.length
    const env = {BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: front.url, BFLY_TOKEN: sandbox.demoTokens.admin, HTTPS_PROXY: guarded.url}
    const r = await runCli(['plans', 'watch', 'plan_123', '--ca-file', CA_FILE], {env, timeoutMs: 15_000})
    assert.equal(r.code, 7, r.stderr)
    assert.doesNotMatch(r.stderr, /\n\s+at /)
    assert.match(r.stderr, new RegExp(`the proxy http://127\\.0\\.0\\.1:${guarded.port} refused the tunnel to api\\.bfly\\.test:${front.port}: HTTP 407`))
    assert.equal(guarded.seen.length - from, 1, 'one attempt')
  })

  test('plans watch without the CA: exit 7 naming the host, not a reconnect loop', async () => {
    const env = {BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: front.url, BFLY_TOKEN: sandbox.demoTokens.admin, HTTPS_PROXY: proxy.url}
    const r = await runCli(['plans', 'watch', 'plan_123'], {env, timeoutMs: 15_000})
    assert.equal(r.code, 7, r.stderr)
    assert.match(r.stderr, new RegExp(`the certificate of api\\.bfly\\.test:${front.port} is not signed by a trusted certificate authority`))
  })

  describe('webhooks listen --forward-to', () => {
    let plain: TestServer
    let secure: RunningServer & {seen: string[]}
    const children = new Set<ChildProcess>()
    before(async () => {
      plain = await startServer()
      plain.fallback = json(202, {})
      const seen: string[] = []
      const server = await startHttpsServer((req: IncomingMessage, res: ServerResponse) => {
        seen.push(`${req.method} ${req.url} ${req.headers['x-webhook-id']}`)
        req.resume()
        req.on('end', () => res.writeHead(204).end())
      })
      secure = {...server, seen}
    })
    after(async () => {
      for (const child of children) child.kill('SIGKILL')
      await Promise.all([plain.close(), secure.close()])
    })

    /** Starts a listener that forwards one delivery, sends it, and returns what the listener printed. */
    async function forwardOne(forwardTo: string, env: Record<string, string>, extra: string[] = []): Promise<{code: number | null; event: any}> {
      const child = spawn(process.execPath, [BIN, 'webhooks', 'listen', '--port', '0', '--json', '--max-events', '1', '--forward-to', forwardTo, ...extra], {env: cleanEnv({BFLY_CONFIG_DIR: tempConfigDir(), ...env})})
      children.add(child)
      let stdout = ''
      let stderr = ''
      child.stdout!.on('data', (d) => (stdout += d))
      const exit = new Promise<number | null>((resolve) => child.on('close', resolve))
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line: ${stderr}`)), 15_000)
        child.stderr!.on('data', (d) => {
          stderr += d
          const m = /"listening":"([^"]+)"/.exec(stderr)
          if (m) {
            clearTimeout(timer)
            resolve(m[1])
          }
        })
        child.on('close', () => reject(new Error(`exited early: ${stderr}`)))
      })
      const sent = await fetch(url + 'hooks', {method: 'POST', headers: {'content-type': 'application/json', 'x-webhook-id': 'dlv_net'}, body: '{"id":"evt_net","type":"order.created"}'})
      assert.equal(sent.status, 200)
      const code = await exit
      children.delete(child)
      return {code, event: JSON.parse(stdout.trim().split('\n')[0])}
    }

    test('plain http: an absolute-URI request to HTTP_PROXY; https: a tunnel through HTTPS_PROXY verified with --ca-file', async () => {
      const from = proxy.seen.length
      const plainPort = new URL(plain.url).port
      const [viaHttp, viaTunnel] = await Promise.all([
        forwardOne(`http://app.bfly.test:${plainPort}/local/hooks`, {HTTP_PROXY: proxy.url}),
        forwardOne(`https://api.bfly.test:${secure.port}/local/hooks`, {HTTPS_PROXY: proxy.url}, ['--ca-file', CA_FILE]),
      ])
      assert.equal(viaHttp.code, 0)
      assert.equal(viaHttp.event.forward.status, 202, JSON.stringify(viaHttp.event))
      assert.equal(viaTunnel.code, 0)
      assert.equal(viaTunnel.event.forward.status, 204, JSON.stringify(viaTunnel.event))
      assert.deepEqual(proxy.seen.slice(from).map((s) => `${s.method} ${s.target} ${s.status}`).sort(), [
        `CONNECT api.bfly.test:${secure.port} 200`,
        `POST http://app.bfly.test:${plainPort}/local/hooks 200`,
      ])
      assert.equal(plain.requests.at(-1)!.url, '/local/hooks')
      assert.equal(plain.requests.at(-1)!.headers['x-webhook-id'], 'dlv_net')
      assert.deepEqual(secure.seen, ['POST /local/hooks dlv_net'])
    })
  })
})
