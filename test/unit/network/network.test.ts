// The proxy and certificate rules every HTTP path shares (src/api/network.ts).
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {describe, test} from 'node:test'
import {X509Certificate} from 'node:crypto'
import {networkErrorFrom, proxyErrorFrom, proxyFailure, proxyFor, readCaFile, withDefaultCas} from '../../../dist/api/network.js'

const TLS = resolve(import.meta.dirname, '..', '..', 'fixtures', 'tls')
const P = 'http://proxy.corp:3128'

describe('proxyFor', () => {
  const url = (u: string) => new URL(u)

  test('HTTPS_PROXY for https (HTTP_PROXY as a fallback), HTTP_PROXY only for http; lower case too', () => {
    assert.equal(proxyFor(url('https://api.example.com'), {HTTPS_PROXY: P}), P)
    assert.equal(proxyFor(url('https://api.example.com'), {https_proxy: P}), P)
    assert.equal(proxyFor(url('https://api.example.com'), {HTTP_PROXY: P}), P)
    assert.equal(proxyFor(url('wss://api.example.com/ws'), {HTTPS_PROXY: P}), P)
    assert.equal(proxyFor(url('http://api.example.com'), {http_proxy: P}), P)
    assert.equal(proxyFor(url('http://api.example.com'), {HTTPS_PROXY: P}), undefined)
    assert.equal(proxyFor(url('https://api.example.com'), {}), undefined)
    // An empty upper-case variable does not hide the lower-case one.
    assert.equal(proxyFor(url('https://api.example.com'), {HTTPS_PROXY: '', https_proxy: P}), P)
  })

  test('loopback is never proxied', () => {
    for (const u of ['https://127.0.0.1:8443', 'http://localhost:3000', 'https://[::1]:1', 'https://app.localhost']) {
      assert.equal(proxyFor(url(u), {HTTPS_PROXY: P, HTTP_PROXY: P}), undefined, u)
    }
  })

  test('NO_PROXY: *, hosts, suffixes with or without a dot or *., ports, IPs; either case, commas or spaces', () => {
    const through = (u: string, noProxy: string, key = 'NO_PROXY') => proxyFor(url(u), {HTTPS_PROXY: P, HTTP_PROXY: P, [key]: noProxy}) !== undefined
    assert.equal(through('https://a.example.com', '*'), false)
    assert.equal(through('https://api.example.com', 'api.example.com'), false)
    assert.equal(through('https://API.Example.com', 'api.EXAMPLE.com'), false)
    assert.equal(through('https://api.example.com', 'example.com'), false)
    assert.equal(through('https://example.com', '.example.com'), false)
    assert.equal(through('https://deep.api.example.com', '.example.com', 'no_proxy'), false)
    assert.equal(through('https://api.example.com', '*.example.com'), false)
    assert.equal(through('https://notexample.com', 'example.com'), true, 'a suffix matches at a dot only')
    assert.equal(through('https://api.example.com:8443', 'api.example.com:8443'), false)
    assert.equal(through('https://api.example.com:8443', 'api.example.com:443'), true)
    assert.equal(through('https://api.example.com', 'api.example.com:443'), false, 'the default port counts')
    assert.equal(through('http://api.example.com', 'api.example.com:80'), false)
    assert.equal(through('https://10.1.2.3', '10.1.2.3'), false)
    assert.equal(through('https://[2001:db8::1]:8443', '[2001:db8::1]:8443'), false)
    assert.equal(through('https://b.corp', 'a.corp b.corp'), false)
    assert.equal(through('https://b.corp', ' a.corp , b.corp '), false)
    assert.equal(through('https://c.corp', 'a.corp,b.corp'), true)
  })

  test('a proxy without a scheme is http://; a bad one is a usage error that does not repeat the value', () => {
    assert.equal(proxyFor(url('https://api.example.com'), {HTTPS_PROXY: 'proxy.corp:3128'}), 'http://proxy.corp:3128')
    assert.throws(() => proxyFor(url('https://api.example.com'), {HTTPS_PROXY: 'http://user:pa ss@[bad'}), (e: Error & {exitCode: number}) => {
      assert.equal(e.exitCode, 2)
      assert.match(e.message, /^HTTPS_PROXY is not a URL$/)
      return true
    })
    assert.throws(() => proxyFor(url('https://api.example.com'), {https_proxy: 'socks5://127.0.0.1:1080'}), /https_proxy names a socks5 proxy/)
  })
})

describe('proxy failures', () => {
  test('named after the proxy without its credentials: 407 (two remedies), 403, 5xx, unreachable; exit 7', () => {
    const auth = proxyErrorFrom({message: 'Bad response: 407'}, 'http://alice:s3cret@proxy.corp:3128', 'api.example.com:443')
    assert.equal(auth.code, 'PROXY_AUTH_REQUIRED')
    assert.equal(auth.exitCode, 7)
    assert.equal(auth.message, 'the proxy http://***:***@proxy.corp:3128 refused the tunnel to api.example.com:443: HTTP 407 Proxy Authentication Required')
    assert.match(auth.hint!, /check the user and password/)
    assert.match(proxyErrorFrom({message: 'Proxy response (407) !== 200 when HTTP Tunneling'}, P, 'h:443').hint!, /HTTPS_PROXY=http:\/\/user:password@host:port/)
    assert.match(proxyErrorFrom({message: 'Bad response: 403'}, P, 'h:443').message, /refused the tunnel to h:443: HTTP 403$/)
    const bad = proxyErrorFrom({message: 'Bad response: 502'}, P, 'h:443')
    assert.match(bad.message, /could not open a tunnel to h:443: HTTP 502$/)
    assert.match(bad.hint!, /could not reach the host/)
    const refused = proxyErrorFrom({code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 10.0.0.1:3128'}, P, 'h:443')
    assert.equal(refused.code, 'PROXY_UNREACHABLE')
    assert.equal(refused.message, 'connection refused by the proxy http://proxy.corp:3128 (on the way to h:443)')
    assert.match(proxyErrorFrom({code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND proxy.corp'}, P, 'h:443').message, /^could not resolve the proxy/)
    assert.match(proxyErrorFrom({message: 'Proxy timeout'}, P, 'h:443').message, /did not answer in time/)
  })

  test('networkErrorFrom with the proxy in use hands connection failures to it, and TLS ones to the target', () => {
    assert.equal(networkErrorFrom({code: 'ENOTFOUND', message: ''}, 'h:443', undefined, P).code, 'PROXY_UNREACHABLE')
    assert.equal(networkErrorFrom({code: 'ENOTFOUND', message: ''}, 'h:443').code, 'DNS_ERROR')
    assert.match(networkErrorFrom({code: 'CERT_HAS_EXPIRED', message: ''}, 'h:443', undefined, P).message, /^the certificate of h:443/)
  })

  test('proxyFailure finds a proxy error however deep it is wrapped, and nothing else', () => {
    const inner = proxyErrorFrom({message: 'Bad response: 407'}, P, 'h:443')
    assert.equal(proxyFailure(new Error('wrapper', {cause: inner})), inner)
    assert.equal(proxyFailure(inner), inner)
    assert.equal(proxyFailure(networkErrorFrom({code: 'ECONNREFUSED', message: ''}, 'h')), undefined)
    assert.equal(proxyFailure(undefined), undefined)
  })
})

describe('TLS failures', () => {
  test('each kind says what is wrong and the remedy that fits it', () => {
    const untrusted = networkErrorFrom({code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', message: 'unable to verify the first certificate'}, 'api.example.com:443')
    assert.equal(untrusted.code, 'TLS_ERROR')
    assert.equal(untrusted.exitCode, 7)
    assert.match(untrusted.message, /^the certificate of api\.example\.com:443 is not signed by a trusted certificate authority/)
    assert.match(untrusted.hint!, /--ca-file .*NODE_EXTRA_CA_CERTS/)
    for (const code of ['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY']) {
      assert.match(networkErrorFrom({code, message: ''}, 'h').hint!, /--ca-file/, code)
    }
    const expired = networkErrorFrom({code: 'CERT_HAS_EXPIRED', message: 'certificate has expired'}, 'h:443')
    assert.match(expired.message, /has expired/)
    assert.doesNotMatch(expired.hint!, /--ca-file/)
    const mismatch = networkErrorFrom({code: 'ERR_TLS_CERT_ALTNAME_INVALID', message: "Hostname/IP does not match certificate's altnames: Host: h. is not in the cert's altnames: DNS:other.example"}, 'h:443')
    assert.equal(mismatch.message, 'the certificate of h:443 is not for that host name (it names DNS:other.example)')
    assert.match(networkErrorFrom({code: 'ERR_SSL_WRONG_VERSION_NUMBER', message: 'wrong version number'}, 'h:80').hint!, /http:\/\//)
  })
})

describe('ca-file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bfly-ca-'))

  test('PEM and DER are read as PEM; a file without a certificate or missing is a usage error', () => {
    const pem = readFileSync(join(TLS, 'ca.pem'), 'utf8')
    assert.equal(new X509Certificate(readCaFile(join(TLS, 'ca.pem'))).subject, 'CN=bfly test CA')
    const der = join(dir, 'ca.der')
    writeFileSync(der, new X509Certificate(pem).raw)
    assert.equal(new X509Certificate(readCaFile(der)).subject, 'CN=bfly test CA')
    const bundle = join(dir, 'bundle.pem')
    writeFileSync(bundle, `# two CAs\n${pem}\n${readFileSync(join(TLS, 'server.pem'), 'utf8')}`)
    assert.equal(readCaFile(bundle).match(/BEGIN CERTIFICATE/g)!.length, 2)
    const key = join(TLS, 'ca.key')
    assert.throws(() => readCaFile(key), (e: Error & {exitCode: number}) => e.exitCode === 2 && /holds no certificate/.test(e.message))
    assert.throws(() => readCaFile(join(dir, 'missing.pem')), (e: Error & {exitCode: number}) => e.exitCode === 2 && /cannot read --ca-file/.test(e.message))
  })

  test('trusted in addition to the default roots, never instead of them', () => {
    const cas = withDefaultCas(readCaFile(join(TLS, 'ca.pem')))
    assert.ok(cas.length > 100, 'the bundled roots are kept')
    assert.ok(cas.at(-1)!.includes('BEGIN CERTIFICATE'))
  })
})
