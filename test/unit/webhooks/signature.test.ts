import assert from 'node:assert/strict'
import {createHmac} from 'node:crypto'
import {describe, test} from 'node:test'
import {secretFromEnv, signatureFor, verifySignature} from '../../../dist/services/webhooks/signature.js'

const secret = 'whsec_test_secret'
const body = Buffer.from('{"id":"evt_1","type":"order.created","data":{"amount":42}}')
const ts = '1733220000'
const now = 1733220000 * 1000 + 12_000
// Computed independently of the code under test.
const good = 'sha256=' + createHmac('sha256', secret).update(`${ts}.${body.toString()}`).digest('hex')

describe('webhook signatures', () => {
  test('signatureFor matches an independent HMAC over timestamp + "." + raw body', () => {
    assert.equal(signatureFor(secret, ts, body), good)
  })

  const cases: Array<{name: string; input: Partial<Parameters<typeof verifySignature>[0]>; valid: boolean; reason?: RegExp}> = [
    {name: 'valid', input: {}, valid: true},
    {name: 'valid with upper-case hex', input: {signature: good.toUpperCase().replace('SHA256=', 'sha256=')}, valid: true},
    {name: 'one of several signatures (secret rotation)', input: {signature: `sha256=${'0'.repeat(64)}, ${good}`}, valid: true},
    {name: 'wrong secret', input: {secret: 'whsec_other'}, valid: false, reason: /does not match/},
    {name: 'body changed by one byte', input: {body: Buffer.from(body.toString().replace('42', '43'))}, valid: false, reason: /does not match/},
    {name: 'body re-serialised (whitespace)', input: {body: Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 1))}, valid: false, reason: /does not match/},
    {name: 'timestamp changed', input: {timestamp: '1733220001'}, valid: false, reason: /does not match/},
    {name: 'stale: 301 s old', input: {now: 1733220000 * 1000 + 301_000}, valid: false, reason: /stale timestamp: 301 s old, beyond the 300 s tolerance/},
    {name: 'exactly at the tolerance', input: {now: 1733220000 * 1000 + 300_000}, valid: true},
    {name: 'in the future', input: {now: 1733220000 * 1000 - 400_000}, valid: false, reason: /400 s in the future/},
    {name: 'custom tolerance', input: {now: 1733220000 * 1000 + 301_000, toleranceMs: 600_000}, valid: true},
    {name: 'malformed signature', input: {signature: 'v1=abc'}, valid: false, reason: /malformed signature/},
    {name: 'short hex', input: {signature: 'sha256=abcd'}, valid: false, reason: /malformed signature/},
    {name: 'missing signature', input: {signature: undefined}, valid: false, reason: /no signature/},
    {name: 'missing timestamp', input: {timestamp: undefined}, valid: false, reason: /no timestamp/},
    {name: 'timestamp in milliseconds is not Unix seconds', input: {timestamp: '1733220000000x'}, valid: false, reason: /malformed timestamp/},
  ]
  for (const c of cases) {
    test(c.name, () => {
      const verdict = verifySignature({secret, timestamp: ts, signature: good, body, now, ...c.input})
      assert.equal(verdict.valid, c.valid, verdict.reason)
      if (c.reason) assert.match(verdict.reason ?? '', c.reason)
    })
  }

  test('a forged signature is rejected before the clock is judged', () => {
    const verdict = verifySignature({secret, timestamp: ts, signature: `sha256=${'a'.repeat(64)}`, body, now: now + 10_000_000})
    assert.match(verdict.reason ?? '', /does not match/)
  })

  test('the secret comes only from a named environment variable', () => {
    assert.equal(secretFromEnv({WEBHOOK_SECRET: 's3'}, 'WEBHOOK_SECRET'), 's3')
    assert.throws(() => secretFromEnv({}, 'WEBHOOK_SECRET'), (e: {exitCode: number; message: string}) => e.exitCode === 2 && /not set/.test(e.message))
    assert.throws(() => secretFromEnv({}, 'whsec_abc-123'), (e: {exitCode: number; message: string}) => e.exitCode === 2 && /not the secret itself/.test(e.message))
  })
})
