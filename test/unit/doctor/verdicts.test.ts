// Every doctor verdict on facts made up by the test and a fixed clock: thresholds, wording
// users read, and what must never be printed.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {
  apiUrlVerdict,
  caVerdict,
  certificateVerdict,
  circuitVerdict,
  clockVerdict,
  credentialVerdict,
  httpVerdict,
  humanDuration,
  jwtExpiry,
  keychainVerdict,
  median,
  nodeVerdict,
  profileVerdict,
  rateLimitVerdict,
  redactProxy,
  scrub,
  shownUrl,
  tlsVerdict,
  tokenVerdict,
  trustedLabel,
} from '../../../dist/services/doctor/verdicts.js'

const NOW = Date.parse('2026-11-23T10:00:00Z')
const DAY = 86_400_000
const at = (ms: number) => new Date(ms).toUTCString()

describe('doctor verdicts', () => {
  test('node: 22 and newer pass, older fail with a remedy', () => {
    assert.equal(nodeVerdict('v24.1.0', 'linux-x64').status, 'pass')
    assert.equal(nodeVerdict('v22.0.0', 'linux-x64').status, 'pass')
    const old = nodeVerdict('v20.11.1', 'linux-x64')
    assert.equal(old.status, 'fail')
    assert.match(old.remedy!, /22/)
    assert.equal(nodeVerdict('garbage', 'x').status, 'fail')
  })

  test('profile: the default passes; a named profile the config does not know warns (a typo?) and lists the known ones', () => {
    assert.deepEqual(profileVerdict('default', 'default', []), {status: 'pass', detail: 'default (the default)'})
    assert.equal(profileVerdict('staging', 'flag', ['staging']).status, 'pass')
    const typo = profileVerdict('stagin', 'env', ['default', 'staging'])
    assert.equal(typo.status, 'warn')
    assert.match(typo.detail, /^stagin \(from the environment\): nothing is configured/)
    assert.match(typo.remedy!, /known profiles: default, staging/)
  })

  test('api-url: missing fails, plain http to a remote host warns, its origin is named, a password in it is hidden', () => {
    assert.equal(apiUrlVerdict(undefined, 'default', false).status, 'fail')
    assert.deepEqual(apiUrlVerdict('https://api.example.com', 'profile', false), {status: 'pass', detail: 'https://api.example.com (from the profile)'})
    assert.equal(apiUrlVerdict('http://127.0.0.1:8080', 'flag', true).status, 'pass')
    const plain = apiUrlVerdict('http://api.example.com', 'env', false)
    assert.equal(plain.status, 'warn')
    assert.match(plain.remedy!, /https/)
    const withPassword = apiUrlVerdict('https://bob:hunter2@api.example.com', 'env', false)
    assert.doesNotMatch(withPassword.detail, /hunter2|bob/)
    assert.equal(shownUrl('not a url'), '(an unparsable URL)')
  })

  test('ca: the CAs in force and where they came from; an unusable ca-file fails, an unusable NODE_EXTRA_CA_CERTS warns', () => {
    assert.deepEqual(caVerdict({}), {status: 'pass', detail: "Node's bundled roots"})
    const both = caVerdict({caFile: {path: '/c/ca.pem', origin: 'flag', certificates: 1}, nodeExtra: {path: '/etc/extra.pem', certificates: 3}})
    assert.equal(both.detail, "Node's bundled roots + NODE_EXTRA_CA_CERTS /etc/extra.pem, 3 certificates + ca-file /c/ca.pem (from the flag, 1 certificate)")
    const missing = caVerdict({caFile: {path: '/nope.pem', origin: 'profile', error: 'ENOENT'}})
    assert.equal(missing.status, 'fail')
    assert.match(missing.detail, /\/nope\.pem: ENOENT/)
    assert.match(missing.remedy!, /bfly config/)
    assert.equal(caVerdict({caFile: {path: '/empty.pem', origin: 'flag', certificates: 0}}).status, 'fail')
    const ignored = caVerdict({nodeExtra: {path: '/gone.pem', error: 'ENOENT'}})
    assert.equal(ignored.status, 'warn')
    assert.equal(trustedLabel({nodeExtra: {path: '/gone.pem', error: 'ENOENT'}}), "Node's bundled roots")
  })

  test('clock: within 30 s passes, beyond warns either way, no Date header skips', () => {
    assert.equal(clockVerdict(at(NOW), NOW + 400).status, 'pass')
    assert.equal(clockVerdict(at(NOW), NOW + 29_000).status, 'pass')
    assert.equal(clockVerdict(at(NOW), NOW + 31_000).status, 'warn')
    const ahead = clockVerdict(at(NOW), NOW + 120_000)
    assert.equal(ahead.status, 'warn')
    assert.match(ahead.detail, /2 min ahead of the server/)
    assert.match(ahead.remedy!, /NTP/)
    const behind = clockVerdict(at(NOW), NOW - 45_000)
    assert.equal(behind.status, 'warn')
    assert.match(behind.detail, /45 s behind/)
    assert.equal(clockVerdict(undefined, NOW).status, 'skip')
    assert.equal(clockVerdict('not a date', NOW).status, 'skip')
  })

  test('certificate: expired fails, under 14 days warns, otherwise passes; the CA in use is named', () => {
    const expired = certificateVerdict({validTo: at(NOW - DAY), subject: 'CN=api', issuer: 'CN=ca'}, "Node's bundled roots", NOW)
    assert.equal(expired.status, 'fail')
    assert.match(expired.detail, /expired 24 h ago/)
    const soon = certificateVerdict({validTo: at(NOW + 5 * DAY), issuer: 'CN=ca'}, 'ca-file x.pem', NOW)
    assert.equal(soon.status, 'warn')
    assert.match(soon.detail, /expires in 5 days/)
    assert.match(soon.detail, /trusted via ca-file x\.pem/)
    assert.equal(certificateVerdict({validTo: at(NOW + 13.9 * DAY)}, 'roots', NOW).status, 'warn')
    assert.equal(certificateVerdict({validTo: at(NOW + 15 * DAY)}, 'roots', NOW).status, 'pass')
    assert.equal(certificateVerdict({validTo: 'garbage'}, 'roots', NOW).status, 'warn')
  })

  test('tls: on a fake handshake — untrusted fails with the private-CA remedy, a wrong host fails, an expired one fails, a proxy is named', () => {
    const good = {host: 'api.example.com', authorized: true, validTo: at(NOW + 90 * DAY), subject: 'CN=api.example.com', issuer: 'CN=Example CA', protocol: 'TLSv1.3'}
    const pass = tlsVerdict(good, "Node's bundled roots", NOW)
    assert.equal(pass.status, 'pass')
    assert.equal(pass.detail, "TLSv1.3, certificate valid for 90 days; CN=api.example.com, issued by CN=Example CA; trusted via Node's bundled roots")
    const untrusted = tlsVerdict({...good, authorized: false, authorizationError: 'SELF_SIGNED_CERT_IN_CHAIN'}, 'roots', NOW)
    assert.equal(untrusted.status, 'fail')
    assert.match(untrusted.detail, /not trusted: SELF_SIGNED_CERT_IN_CHAIN \(issued by CN=Example CA\); trusted: roots/)
    assert.match(untrusted.remedy!, /--ca-file/)
    const inspected = tlsVerdict({...good, authorized: false, authorizationError: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', viaProxy: 'http://proxy:3128'}, 'roots', NOW)
    assert.match(inspected.detail, /through the proxy http:\/\/proxy:3128/)
    assert.match(inspected.remedy!, /TLS-inspecting proxy/)
    const wrongHost = tlsVerdict({...good, identityError: "Host: api.example.com. is not in the cert's altnames"}, 'roots', NOW)
    assert.equal(wrongHost.status, 'fail')
    assert.match(wrongHost.detail, /does not name api\.example\.com/)
    const expired = tlsVerdict({...good, authorized: false, authorizationError: 'CERT_HAS_EXPIRED', validTo: at(NOW - 2 * DAY)}, 'roots', NOW)
    assert.equal(expired.status, 'fail')
    assert.match(expired.detail, /expired 2 days ago/)
    assert.equal(tlsVerdict({...good, validTo: at(NOW + 3 * DAY)}, 'roots', NOW).status, 'warn')
  })

  test('http: p50 and max over the samples; 5xx fails, a redirect or a slow median warns', () => {
    const ok = httpVerdict({statuses: [200, 200, 200], latenciesMs: [3, 1, 2]})
    assert.deepEqual(ok, {status: 'pass', detail: 'HTTP 200, p50 2.0 ms, max 3.0 ms over 3 requests'})
    assert.match(httpVerdict({statuses: [404], latenciesMs: [5], through: 'the proxy'}).detail, /^HTTP 404 through the proxy, p50 5\.0 ms, max 5\.0 ms over 1 request$/)
    assert.equal(httpVerdict({statuses: [200, 503], latenciesMs: [1, 1]}).status, 'fail')
    assert.equal(httpVerdict({statuses: [301], latenciesMs: [1]}).status, 'warn')
    assert.equal(httpVerdict({statuses: [200, 200, 200], latenciesMs: [2500, 2600, 10]}).status, 'warn')
  })

  test('credentials: accepted passes, 401 fails with the step for its source, 403 warns', () => {
    assert.deepEqual(credentialVerdict('env', 200), {status: 'pass', detail: 'BFLY_TOKEN (used as is): accepted'})
    const rejected = credentialVerdict('keychain', 401, 'Bearer error="invalid_token", resource_metadata="x"')
    assert.equal(rejected.status, 'fail')
    assert.equal(rejected.detail, 'the stored login, in the OS keychain: rejected by the API (401 invalid_token)')
    assert.match(rejected.remedy!, /bfly login/)
    assert.match(credentialVerdict('env', 401).remedy!, /get a new one/)
    assert.match(credentialVerdict('client-credentials', 401).remedy!, /BFLY_CLIENT_SECRET/)
    assert.equal(credentialVerdict('api-key', 403).status, 'warn')
    assert.equal(credentialVerdict('file', 500).status, 'fail')
  })

  test('token: a stored login refreshes itself, a static token does not; JWT expiry is read without verifying', () => {
    assert.match(tokenVerdict(new Date(NOW + 3_600_000).toISOString(), NOW).detail, /valid for 60 min/)
    assert.equal(tokenVerdict(new Date(NOW + 60_000).toISOString(), NOW).status, 'pass')
    assert.equal(tokenVerdict(new Date(NOW - 60_000).toISOString(), NOW).status, 'warn')
    assert.equal(tokenVerdict(undefined, NOW).status, 'pass')
    const staticExpired = tokenVerdict(new Date(NOW - 3 * 3_600_000).toISOString(), NOW, {refreshable: false, label: 'BFLY_TOKEN'})
    assert.equal(staticExpired.status, 'fail')
    assert.match(staticExpired.detail, /^BFLY_TOKEN expired 3 h ago/)
    assert.equal(tokenVerdict(new Date(NOW + 60_000).toISOString(), NOW, {refreshable: false}).status, 'warn')
    const jwt = (claims: object) => ['e30', Buffer.from(JSON.stringify(claims)).toString('base64url'), 'sig'].join('.')
    assert.equal(jwtExpiry(jwt({exp: NOW / 1000})), new Date(NOW).toISOString())
    assert.equal(jwtExpiry(jwt({sub: 'x'})), undefined)
    assert.equal(jwtExpiry('sbx_demo_admin'), undefined)
    assert.equal(jwtExpiry('a.!!!.c'), undefined)
  })

  test('rate limit: under 10 % left warns, headers missing skips', () => {
    const h = (remaining: string, limit = '1000', reset = String((NOW + 30_000) / 1000)) => ({'x-ratelimit-limit': limit, 'x-ratelimit-remaining': remaining, 'x-ratelimit-reset': reset})
    const low = rateLimitVerdict(h('50'), NOW)
    assert.equal(low.status, 'warn')
    assert.equal(low.detail, '50 of 1000 requests left in this window, resets in 30 s')
    assert.equal(rateLimitVerdict(h('100'), NOW).status, 'pass')
    assert.match(rateLimitVerdict(h('100'), NOW, true).detail, /unauthenticated budget/)
    assert.equal(rateLimitVerdict({}, NOW).status, 'skip')
    assert.equal(rateLimitVerdict(h('5', '0'), NOW).status, 'skip')
  })

  test('circuits: open for the API host fails while cooling down; elsewhere, half-open or past the cooldown warns', () => {
    const row = (host: string, state: 'closed' | 'open' | 'half-open', halfOpensAt: number | null = NOW + 60_000) => ({host, state, failures: 5, lastError: 'HTTP 503', halfOpensAt: state === 'open' && halfOpensAt !== null ? new Date(halfOpensAt).toISOString() : null})
    assert.equal(circuitVerdict([], 'api.example.com', NOW).status, 'pass')
    assert.equal(circuitVerdict([row('api.example.com', 'closed')], 'api.example.com', NOW).detail, 'all closed (1 host)')
    const blocking = circuitVerdict([row('api.example.com', 'open')], 'api.example.com', NOW)
    assert.equal(blocking.status, 'fail')
    assert.equal(blocking.detail, 'api.example.com open (HTTP 503), probes again in 60 s')
    assert.match(blocking.remedy!, /bfly circuit reset/)
    assert.equal(circuitVerdict([row('other.example.com', 'open')], 'api.example.com', NOW).status, 'warn')
    assert.equal(circuitVerdict([row('api.example.com', 'half-open')], 'api.example.com', NOW).status, 'warn')
    const cooled = circuitVerdict([row('api.example.com', 'open', NOW - 1000)], 'api.example.com', NOW)
    assert.equal(cooled.status, 'warn')
    assert.match(cooled.detail, /the next request probes it/)
  })

  test('keychain: an answer passes with its time, a refusal or timeout warns with the file fallback', () => {
    assert.deepEqual(keychainVerdict({ok: true, ms: 41.6}), {status: 'pass', detail: 'the OS keychain answered in 42 ms'})
    const down = keychainVerdict({ok: false, reason: 'the OS keychain did not answer within 3 s'})
    assert.equal(down.status, 'warn')
    assert.match(down.detail, /within 3 s; logins fall back to a file/)
  })

  test('a proxy is named without its credentials; scrub removes every known secret from details and remedies', () => {
    assert.equal(redactProxy('http://alice:s3cret@proxy.corp:3128'), 'http://***:***@proxy.corp:3128')
    assert.equal(redactProxy('http://proxy.corp:3128/'), 'http://proxy.corp:3128')
    assert.equal(redactProxy('::nonsense::'), '(an unparsable proxy URL)')
    const checks = [{name: 'x', status: 'fail' as const, detail: 'server said: bad token tok_12345 (tok_12345)', remedy: 'not tok_12345'}, {name: 'y', status: 'pass' as const, detail: 'fine'}]
    assert.deepEqual(scrub(checks, ['tok_12345', '', 'ab']), [
      {name: 'x', status: 'fail', detail: 'server said: bad token *** (***)', remedy: 'not ***'},
      {name: 'y', status: 'pass', detail: 'fine'},
    ])
  })

  test('helpers', () => {
    assert.equal(median([5, 1, 3]), 3)
    assert.equal(median([4, 1, 3, 2]), 2.5)
    assert.equal(humanDuration(1500), '2 s')
    assert.equal(humanDuration(3 * DAY), '3 days')
  })
})
