// Delivery signatures: sha256=HMAC(secret, timestamp + "." + body), checked against a
// value computed independently here.
import assert from 'node:assert/strict'
import {createHmac} from 'node:crypto'
import {test} from 'node:test'
import {signatureHeaders, signPayload, verifySignature} from '../../../dist/sandbox/webhook-signature.js'

const secret = 'whsec_test'
const body = '{"id":"evt_1","type":"capsule.created"}'

test('signs timestamp.body with HMAC-SHA256, hex, sha256= prefix', () => {
  const expected = 'sha256=' + createHmac('sha256', secret).update(`1733220000.${body}`).digest('hex')
  assert.equal(signPayload(secret, 1733220000, body), expected)
  assert.deepEqual(signatureHeaders(secret, 1733220000, body), {'x-webhook-timestamp': '1733220000', 'x-webhook-signature': expected})
})

test('verification rejects a changed body, another secret, and stale timestamps', () => {
  const sig = signPayload(secret, 1000, body)
  assert.equal(verifySignature(secret, '1000', body, sig, 1100), true)
  assert.equal(verifySignature(secret, '1000', body + ' ', sig, 1100), false)
  assert.equal(verifySignature('whsec_other', '1000', body, sig, 1100), false)
  assert.equal(verifySignature(secret, '1000', body, sig, 1301), false)
  assert.equal(verifySignature(secret, '1000', body, sig, 699), false)
  assert.equal(verifySignature(secret, 'abc', body, sig, 1000), false)
})
