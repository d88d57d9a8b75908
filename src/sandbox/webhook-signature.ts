// Signatures on outgoing deliveries (contract §3, Webhooks):
// X-Webhook-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>.
import {createHmac, timingSafeEqual} from 'node:crypto'

export function signPayload(secret: string, timestampSeconds: number, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')
}

export function signatureHeaders(secret: string, timestampSeconds: number, body: string): Record<string, string> {
  return {
    'x-webhook-timestamp': String(timestampSeconds),
    'x-webhook-signature': signPayload(secret, timestampSeconds, body),
  }
}

/** What a receiver does; used by the sandbox's own sink and by tests. */
export function verifySignature(secret: string, timestamp: string, body: string, signature: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  if (!/^\d+$/.test(timestamp) || Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) return false
  const expected = Buffer.from(signPayload(secret, Number(timestamp), body))
  const given = Buffer.from(signature)
  return expected.length === given.length && timingSafeEqual(expected, given)
}
