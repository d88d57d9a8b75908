// The forward of `webhooks listen` is an outgoing request like any other: plain http goes to
// HTTP_PROXY as an absolute-URI request, https through a CONNECT tunnel verified with the
// ca-file. The app's host names (app.bfly.test, api.bfly.test) only the test proxy can reach.
import assert from 'node:assert/strict'
import type {ChildProcess} from 'node:child_process'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {after, before, describe, test} from 'node:test'
import {startCli} from '../../helpers/auth-cli.ts'
import {tempConfigDir} from '../../helpers/cli.ts'
import {startConnectProxy, type TestProxy} from '../../helpers/connect-proxy.ts'
import {startServer, json, type TestServer} from '../../helpers/api-server.ts'
import {CA_FILE, startHttpsServer, type RunningServer} from '../../helpers/test-ca.ts'

describe('webhooks listen --forward-to through a proxy', () => {
  let proxy: TestProxy
  let plain: TestServer
  let secure: RunningServer & {seen: string[]}
  const children = new Set<ChildProcess>()
  before(async () => {
    proxy = await startConnectProxy()
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
    await Promise.all([proxy.close(), plain.close(), secure.close()])
  })

  /** Starts a listener that forwards one delivery, sends it, and returns what the listener printed. */
  async function forwardOne(forwardTo: string, env: Record<string, string>, extra: string[] = []): Promise<{code: number | null; event: any}> {
    const cli = startCli(['webhooks', 'listen', '--port', '0', '--json', '--max-events', '1', '--forward-to', forwardTo, ...extra], {env: {BFLY_CONFIG_DIR: tempConfigDir(), ...env}})
    children.add(cli.child)
    const [, url] = await cli.waitForStderr(/"listening":"([^"]+)"/, 15_000)
    const sent = await fetch(url + 'hooks', {method: 'POST', headers: {'content-type': 'application/json', 'x-webhook-id': 'dlv_net'}, body: '{"id":"evt_net","type":"order.created"}'})
    assert.equal(sent.status, 200)
    const {code, stdout} = await cli.done
    children.delete(cli.child)
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
