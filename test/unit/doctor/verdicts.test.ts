import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {certificateVerdict, circuitVerdict, clockVerdict, humanDuration, median, nodeVerdict, rateLimitVerdict, redactProxy, tokenVerdict} from '../../../dist/services/doctor/verdicts.js'

const NOW = Date.parse('2026-11-23T10:00:00Z')
const DAY = 86_400_000

describe('doctor verdicts', () => {
  test('node: 22 and newer pass, older fail with a remedy', () => {
    assert.equal(nodeVerdict('v24.1.0', 'linux-x64').status, 'pass')
    assert.equal(nodeVerdict('v22.0.0', 'linux-x64').status, 'pass')
    const old = nodeVerdict('v20.11.1', 'linux-x64')
    assert.equal(old.status, 'fail')
    assert.match(old.remedy!, /22/)
  })

  test('clock: within 30 s passes, beyond warns either way, no Date header skips', () => {
    assert.equal(clockVerdict(new Date(NOW).toUTCString(), NOW + 400).status, 'pass')
    assert.equal(clockVerdict(new Date(NOW).toUTCString(), NOW + 29_000).status, 'pass')
    const ahead = clockVerdict(new Date(NOW).toUTCString(), NOW + 120_000)
    assert.equal(ahead.status, 'warn')
    assert.match(ahead.detail, /2 min ahead of the server/)
    assert.match(ahead.remedy!, /NTP/)
    const behind = clockVerdict(new Date(NOW).toUTCString(), NOW - 45_000)
    assert.equal(behind.status, 'warn')
    assert.match(behind.detail, /45 s behind/)
    assert.equal(clockVerdict(undefined, NOW).status, 'skip')
    assert.equal(clockVerdict('not a date', NOW).status, 'skip')
  })

  test('certificate: expired fails, under 14 days warns, otherwise passes; the CA in use is named', () => {
    const at = (ms: number) => new Date(ms).toUTCString()
    const expired = certificateVerdict({validTo: at(NOW - DAY), subject: 'CN=api', issuer: 'CN=ca'}, 'Node\'s bundled roots', NOW)
    assert.equal(expired.status, 'fail')
    assert.match(expired.detail, /expired 24 h ago/)
    const soon = certificateVerdict({validTo: at(NOW + 5 * DAY), issuer: 'CN=ca'}, 'ca-file x.pem', NOW)
    assert.equal(soon.status, 'warn')
    assert.match(soon.detail, /expires in 5 days/)
    assert.match(soon.detail, /trusted via ca-file x\.pem/)
    assert.equal(certificateVerdict({validTo: at(NOW + 15 * DAY)}, 'roots', NOW).status, 'pass')
    assert.equal(certificateVerdict({validTo: 'garbage'}, 'roots', NOW).status, 'warn')
  })

  test('rate limit: under 10 % left warns, headers missing skips', () => {
    const h = (remaining: string, limit = '1000', reset = String((NOW + 30_000) / 1000)) => ({'x-ratelimit-limit': limit, 'x-ratelimit-remaining': remaining, 'x-ratelimit-reset': reset})
    const low = rateLimitVerdict(h('50'), NOW)
    assert.equal(low.status, 'warn')
    assert.equal(low.detail, '50 of 1000 requests left in this window, resets in 30 s')
    assert.equal(rateLimitVerdict(h('100'), NOW).status, 'pass')
    assert.equal(rateLimitVerdict({}, NOW).status, 'skip')
    assert.equal(rateLimitVerdict(h('5', '0'), NOW).status, 'skip')
  })

  test('token: valid passes, expired warns (the next command refreshes it)', () => {
    assert.match(tokenVerdict(new Date(NOW + 3_600_000).toISOString(), NOW).detail, /valid for 60 min/)
    assert.equal(tokenVerdict(new Date(NOW - 60_000).toISOString(), NOW).status, 'warn')
    assert.equal(tokenVerdict(undefined, NOW).status, 'pass')
  })

  test('circuits: open for the API host fails, elsewhere or half-open warns, none passes', () => {
    const row = (host: string, state: 'closed' | 'open' | 'half-open') => ({host, state, failures: 5, lastError: 'HTTP 503', halfOpensAt: state === 'open' ? '2026-11-23T10:01:00Z' : null})
    assert.equal(circuitVerdict([], 'api.example.com').status, 'pass')
    assert.equal(circuitVerdict([row('api.example.com', 'closed')], 'api.example.com').status, 'pass')
    const blocking = circuitVerdict([row('api.example.com', 'open')], 'api.example.com')
    assert.equal(blocking.status, 'fail')
    assert.match(blocking.detail, /api\.example\.com open \(HTTP 503\), probes again at 2026-11-23T10:01:00Z/)
    assert.match(blocking.remedy!, /bfly circuit reset/)
    assert.equal(circuitVerdict([row('other.example.com', 'open')], 'api.example.com').status, 'warn')
    assert.equal(circuitVerdict([row('api.example.com', 'half-open')], 'api.example.com').status, 'warn')
  })

  test('a proxy is named without its credentials', () => {
    assert.equal(redactProxy('http://alice:s3cret@proxy.corp:3128'), 'http://***:***@proxy.corp:3128')
    assert.equal(redactProxy('http://proxy.corp:3128/'), 'http://proxy.corp:3128')
    assert.equal(redactProxy('::nonsense::'), '(an unparsable proxy URL)')
  })

  test('helpers', () => {
    assert.equal(median([5, 1, 3]), 3)
    assert.equal(median([4, 1, 3, 2]), 2.5)
    assert.equal(humanDuration(1500), '2 s')
    assert.equal(humanDuration(3 * DAY), '3 days')
  })
})
