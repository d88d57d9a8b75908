// Webhook signatures (contract §3): `X-Webhook-Signature: sha256=<hex HMAC-SHA256(secret,
// timestamp + "." + raw body)>` with `X-Webhook-Timestamp: <unix seconds>`; receivers reject
// timestamps more than 300 s from their clock. Pure functions: the clock is passed in.
import {createHmac, timingSafeEqual} from 'node:crypto'
import {UsageError} from '../../errors.js'

export const DEFAULT_TOLERANCE_MS = 300_000

export function signatureFor(secret: string, timestamp: string, body: Buffer | string): string {
  const mac = createHmac('sha256', secret)
  mac.update(`${timestamp}.`)
  mac.update(body)
  return `sha256=${mac.digest('hex')}`
}

export interface VerifyInput {
  secret: string
  timestamp: string | undefined
  signature: string | undefined
  body: Buffer
  toleranceMs?: number
  now: number
}

export interface Verdict {
  valid: boolean
  /** Why not, in words a user can act on. */
  reason?: string
  /** Seconds between the timestamp and our clock (positive: in the past). */
  ageSeconds?: number
}

/**
 * Checks the signature first (a forged request learns nothing about the clock), then the age.
 * Several comma-separated `sha256=` values are accepted, any one matching, so a sender can sign
 * with an old and a new secret while it rotates them.
 */
export function verifySignature(input: VerifyInput): Verdict {
  const tolerance = input.toleranceMs ?? DEFAULT_TOLERANCE_MS
  if (input.timestamp === undefined || input.timestamp.trim() === '') return {valid: false, reason: 'no timestamp (X-Webhook-Timestamp)'}
  const timestamp = input.timestamp.trim()
  if (!/^\d{1,12}$/.test(timestamp)) return {valid: false, reason: `malformed timestamp "${timestamp.slice(0, 40)}": expected Unix seconds`}
  if (input.signature === undefined || input.signature.trim() === '') return {valid: false, reason: 'no signature (X-Webhook-Signature)'}
  const candidates = input.signature.split(',').map((s) => s.trim()).filter(Boolean)
  const digests: Buffer[] = []
  for (const candidate of candidates) {
    const match = /^sha256=([0-9a-fA-F]{64})$/.exec(candidate)
    if (match) digests.push(Buffer.from(match[1], 'hex'))
  }
  if (digests.length === 0) return {valid: false, reason: 'malformed signature: expected sha256=<64 hex digits>'}
  const expected = Buffer.from(signatureFor(input.secret, timestamp, input.body).slice('sha256='.length), 'hex')
  // Every candidate is compared (no early exit), each in constant time.
  let matched = false
  for (const digest of digests) matched = timingSafeEqual(digest, expected) || matched
  const ageSeconds = Math.round(input.now / 1000 - Number(timestamp))
  if (!matched) return {valid: false, reason: 'signature does not match (wrong secret, or the body was changed: verify the raw bytes as received)', ageSeconds}
  if (Math.abs(ageSeconds) * 1000 > tolerance) {
    const when = ageSeconds >= 0 ? `${ageSeconds} s old` : `${-ageSeconds} s in the future`
    return {valid: false, reason: `stale timestamp: ${when}, beyond the ${Math.round(tolerance / 1000)} s tolerance (a replay, or a wrong clock)`, ageSeconds}
  }
  return {valid: true, ageSeconds}
}

/** The signing secret, only ever from the environment variable the user names (never argv). */
export function secretFromEnv(env: NodeJS.ProcessEnv, name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new UsageError(`invalid --secret-env "${name}": the name of an environment variable (e.g. WEBHOOK_SECRET), not the secret itself`)
  }
  const value = env[name]
  if (value === undefined || value === '') {
    throw new UsageError(`environment variable ${name} is not set`, {hint: `export ${name}=whsec_… (the secret shown once when the webhook was created)`})
  }
  return value
}
