import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {parseDuration, parseRate, parseTime, parseIntInRange, formatDuration} from '../../../dist/values.js'
import {redactBody, redactHeaders, redactUrl} from '../../../dist/api/redact.js'
import {apiErrorFrom, decodeJson, isLoopbackHost, proxyFor} from '../../../dist/api/network.js'
import {errorToJson, errorToLine, ApiError, exitCodeForStatus} from '../../../dist/errors.js'

describe('values', () => {
  test('durations', () => {
    assert.equal(parseDuration('250ms'), 250)
    assert.equal(parseDuration('10s'), 10_000)
    assert.equal(parseDuration('5m'), 300_000)
    assert.equal(parseDuration('2h'), 7_200_000)
    assert.equal(parseDuration('7d'), 604_800_000)
    assert.equal(parseDuration('3'), 3000)
    for (const bad of ['', '5x', '-1s', 'ten']) assert.throws(() => parseDuration(bad), (e: {exitCode: number}) => e.exitCode === 2)
    assert.equal(formatDuration(192_000), '3m12s')
  })
  test('times: RFC 3339 or a duration ago', () => {
    const now = () => Date.parse('2025-12-03T10:00:00Z')
    assert.equal(parseTime('2025-12-03T10:00:00Z', 'from'), '2025-12-03T10:00:00Z')
    assert.equal(parseTime('2025-12-03T12:00:00+02:00', 'from'), '2025-12-03T10:00:00Z')
    assert.equal(parseTime('2h', 'from', now), '2025-12-03T08:00:00Z')
    assert.equal(parseTime('now', 'timestamp', () => Date.parse('2025-12-03T10:00:00.123Z')), '2025-12-03T10:00:00.123Z')
    assert.equal(parseTime('NOW', 'timestamp', now), '2025-12-03T10:00:00Z')
    assert.throws(() => parseTime('yesterday', 'from'), /RFC 3339/)
    assert.throws(() => parseTime('2025-13-45T10:00:00Z', 'from'), /not a real date/)
  })
  test('rates and ranges', () => {
    assert.equal(parseRate('50'), 50)
    assert.equal(parseRate('50/s'), 50)
    assert.throws(() => parseRate('0'))
    assert.throws(() => parseRate('fast'))
    assert.equal(parseIntInRange('100', 'size', 1, 100), 100)
    assert.throws(() => parseIntInRange('101', 'size', 1, 100), /from 1 to 100/)
  })
})

describe('redaction', () => {
  test('headers', () => {
    const out = redactHeaders({Authorization: 'Bearer abc.def', 'X-API-Key': 'k', Cookie: 'a=b', accept: 'application/json'})
    assert.deepEqual(out, {Authorization: 'Bearer [REDACTED]', 'X-API-Key': '[REDACTED]', Cookie: '[REDACTED]', accept: 'application/json'})
  })
  test('query strings and bodies', () => {
    assert.equal(redactUrl('https://a.example/cb?code=xyz&state=s1&access_token=t'), 'https://a.example/cb?code=[REDACTED]&state=s1&access_token=[REDACTED]')
    assert.equal(redactBody('grant_type=refresh_token&refresh_token=rt1&client_secret=cs'), 'grant_type=refresh_token&refresh_token=[REDACTED]&client_secret=[REDACTED]')
    assert.equal(redactBody('{"access_token":"at","expires_in":3600}'), '{"access_token":"[REDACTED]","expires_in":3600}')
    assert.match(redactBody('{"access_token":"at","trunc'), /"access_token":"\[REDACTED\]/)
  })
})

describe('response decoding', () => {
  test('what a proxy sends instead of JSON', () => {
    assert.match(decodeJson('<html>x</html>', 'text/html').problem!, /HTML page/)
    assert.match(decodeJson('', 'application/json').problem!, /empty body/)
    assert.match(decodeJson('{"data":', 'application/json').problem!, /truncated/)
    assert.deepEqual(decodeJson('{"a":1}', undefined).json, {a: 1})
  })
  test('the error envelope with details and request id', () => {
    const e = apiErrorFrom(400, JSON.stringify({error: {code: 'VALIDATION_ERROR', message: 'Invalid request parameters', details: [{field: 'scopeId', message: 'must match pattern'}]}, meta: {requestId: 'req-1'}}), {}, 'h')
    assert.equal(e.exitCode, 2)
    assert.equal(errorToLine(e), 'Invalid request parameters: scopeId must match pattern (request req-1)')
    assert.deepEqual(errorToJson(e).error.details, [{field: 'scopeId', message: 'must match pattern'}])
  })
  test('exit codes by status', () => {
    assert.deepEqual([400, 401, 403, 404, 409, 429, 500, 502, 418].map(exitCodeForStatus), [2, 3, 3, 4, 6, 5, 6, 6, 1])
    assert.equal(new ApiError('x', {code: 'CONFLICT', status: 409}).exitCode, 6)
  })
})

describe('network facts', () => {
  test('loopback', () => {
    assert.ok(isLoopbackHost('127.0.0.1'))
    assert.ok(isLoopbackHost('127.8.9.1'))
    assert.ok(isLoopbackHost('[::1]'))
    assert.ok(isLoopbackHost('localhost'))
    assert.ok(!isLoopbackHost('128.0.0.1'))
    assert.ok(!isLoopbackHost('localhost.example.com'))
  })
  test('proxies and NO_PROXY', () => {
    const env = {HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'internal.example.com,.corp,127.0.0.1:8080'}
    assert.equal(proxyFor(new URL('https://api.example.com'), env), 'http://proxy:3128')
    assert.equal(proxyFor(new URL('https://internal.example.com'), env), undefined)
    assert.equal(proxyFor(new URL('https://x.corp'), env), undefined)
    assert.equal(proxyFor(new URL('http://api.example.com'), env), undefined, 'no HTTP_PROXY for http')
    assert.equal(proxyFor(new URL('https://a.b'), {https_proxy: 'http://p:1', no_proxy: '*'}), undefined)
  })
})
