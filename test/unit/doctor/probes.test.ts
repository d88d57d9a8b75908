// Doctor's network probes against loopback servers the test starts: TCP refused, a TLS
// handshake described whether trusted or not, a CONNECT tunnel (and a proxy refusing one),
// sampling that stops once its time budget is spent, and a signal that stops each probe.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {createServer as createHttps, type Server} from 'node:https'
import {createServer as createTcp} from 'node:net'
import {join, resolve} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {connectTcp, inspectTls, sample, tunnel} from '../../../dist/services/doctor/probes.js'
import {withDefaultCas} from '../../../dist/api/network.js'
import {startConnectProxy, type TestProxy} from '../../helpers/connect-proxy.ts'

const TLS = resolve(import.meta.dirname, '..', '..', 'fixtures', 'tls')
const live = () => new AbortController().signal

describe('doctor probes', () => {
  let tlsServer: Server
  let port: number
  let proxy: TestProxy
  before(async () => {
    tlsServer = createHttps({cert: readFileSync(join(TLS, 'server.pem')), key: readFileSync(join(TLS, 'server.key'))}, (_req, res) => res.end('{}'))
    await new Promise<void>((done) => tlsServer.listen(0, '127.0.0.1', done))
    port = (tlsServer.address() as {port: number}).port
    proxy = await startConnectProxy({routes: {[`api.bfly.test:${port}`]: port}, auth: {user: 'u', password: 'p@ss'}})
  })
  after(async () => {
    tlsServer.closeAllConnections()
    tlsServer.close()
    await proxy.close()
  })

  test('tcp: refused is said in words', async () => {
    const closed = createTcp()
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done))
    const free = (closed.address() as {port: number}).port
    await new Promise((done) => closed.close(done))
    await assert.rejects(connectTcp('127.0.0.1', free, live()), {message: 'connection refused', code: 'ECONNREFUSED'})
    assert.ok((await connectTcp('127.0.0.1', port, live())) >= 0)
  })

  test('tls: an untrusted certificate is still described; with the test CA it is trusted', async () => {
    const untrusted = await inspectTls({host: '127.0.0.1', port}, live())
    assert.equal(untrusted.authorized, false)
    assert.match(untrusted.authorizationError!, /SELF_SIGNED|UNABLE_TO/)
    assert.equal(untrusted.issuer, 'CN=bfly test CA')
    assert.ok(Date.parse(untrusted.validTo!) > Date.now())
    const trusted = await inspectTls({host: '127.0.0.1', port, ca: withDefaultCas(readFileSync(join(TLS, 'ca.pem')))}, live())
    assert.equal(trusted.authorized, true, trusted.authorizationError)
    assert.match(trusted.protocol!, /^TLSv1\.[23]$/)
  })

  test('tunnel: through the proxy with its Basic credentials; a wrong password is a 407 in words', async () => {
    const good = new URL(proxy.url.replace('http://', 'http://u:p%40ss@'))
    const socket = await tunnel(good, `api.bfly.test:${port}`, live())
    const facts = await inspectTls({host: 'api.bfly.test', port, socket, ca: withDefaultCas(readFileSync(join(TLS, 'ca.pem')))}, live())
    assert.equal(facts.authorized, true, facts.authorizationError)
    assert.equal(facts.identityError, undefined)
    assert.equal(proxy.seen.at(-1)!.proxyAuthorization, `Basic ${Buffer.from('u:p@ss').toString('base64')}`)
    const wrong = new URL(proxy.url.replace('http://', 'http://u:nope@'))
    await assert.rejects(tunnel(wrong, `api.bfly.test:${port}`, live()), {message: `the proxy refused the tunnel to api.bfly.test:${port}: HTTP 407 Proxy Authentication Required`})
  })

  test('sample: stops once half the budget is spent, keeping what was measured', async () => {
    let calls = 0
    let clock = 0
    const getter = {get: async () => {
      calls++
      clock += 300
      return {status: 200, headers: {}, at: 0, ms: 300}
    }}
    const answers = await sample(getter, new URL('http://127.0.0.1/'), {count: 5, budgetMs: 1000, clock: () => clock}, live())
    assert.equal(answers.length, 2)
    assert.equal(calls, 2)
    clock = 0
    assert.equal((await sample(getter, new URL('http://127.0.0.1/'), {count: 5, budgetMs: 60_000, clock: () => clock}, live())).length, 5)
  })

  test('a probe stops when its signal aborts', async () => {
    const silent = createTcp(() => {})
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done))
    const silentPort = (silent.address() as {port: number}).port
    try {
      const stop = new AbortController()
      const handshake = inspectTls({host: '127.0.0.1', port: silentPort}, stop.signal)
      setImmediate(() => stop.abort())
      await assert.rejects(handshake)
    } finally {
      silent.close()
    }
  })
})
