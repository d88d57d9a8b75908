import assert from 'node:assert/strict'
import {test} from 'node:test'
import {networkErrorFrom, proxyFor, redactProxy, withDefaultCas} from '../../../dist/api/network.js'
import {rootCertificates} from 'node:tls'

test('a proxy refusing the tunnel (hpagent and undici wording) names the proxy without its password', () => {
  for (const message of ['Bad response: 407', 'Proxy response (407) !== 200 when HTTP Tunneling']) {
    const e = networkErrorFrom({message}, 'api.example.com:443', undefined, 'http://alice:pw@proxy.corp:3128')
    assert.equal(e.exitCode, 7)
    assert.equal(e.message, 'the proxy http://***:***@proxy.corp:3128 refused the tunnel to api.example.com:443: HTTP 407 Proxy Authentication Required')
    assert.match(e.hint!, /user and password/)
  }
  const forbidden = networkErrorFrom({message: 'Bad response: 403'}, 'api.example.com:443', undefined, 'http://proxy.corp:3128')
  assert.match(forbidden.message, /HTTP 403$/)
  assert.match(forbidden.hint!, /NO_PROXY/)
  const down = networkErrorFrom({code: 'ECONNREFUSED', message: 'connect ECONNREFUSED'}, 'api.example.com', undefined, 'http://u:p@proxy.corp:3128')
  assert.equal(down.message, 'connection refused by the proxy http://***:***@proxy.corp:3128 (on the way to api.example.com)')
})

test('NO_PROXY: suffixes, exact hosts, ports, * and either case of the variables', () => {
  const env = {https_proxy: 'http://proxy:3128', no_proxy: 'exact.example.com, .corp:8443'}
  assert.equal(proxyFor(new URL('https://api.example.com'), env), 'http://proxy:3128')
  assert.equal(proxyFor(new URL('https://exact.example.com'), env), undefined)
  assert.equal(proxyFor(new URL('https://a.corp:8443'), env), undefined)
  assert.equal(proxyFor(new URL('https://a.corp'), env), 'http://proxy:3128', 'another port goes through the proxy')
  assert.equal(proxyFor(new URL('https://api.example.com'), {HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '*'}), undefined)
})

test('a ca-file adds to the default roots instead of replacing them', () => {
  const cas = withDefaultCas(Buffer.from('-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n'))
  assert.ok(cas.length > rootCertificates.length)
  assert.ok(cas.includes(rootCertificates[0]))
  assert.match(cas.at(-1)!, /TEST/)
  assert.equal(redactProxy('http://proxy:3128'), 'http://proxy:3128')
})
