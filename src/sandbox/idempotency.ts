// Idempotency-Key (contract §2): a replay within 24 h returns the first response with
// `Idempotent-Replayed: true`; the same key with a different request is 409 CONFLICT.
// Keys are per client, so two users cannot collide.
import {createHash} from 'node:crypto'

export interface StoredResponse {
  status: number
  body: unknown
  headers: Record<string, string>
}

type Entry = {fingerprint: string; expiresAt: number; response?: StoredResponse}

export type Begin =
  | {kind: 'new'}
  | {kind: 'replay'; response: StoredResponse}
  | {kind: 'conflict'; message: string}

export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000

export class IdempotencyStore {
  private readonly entries = new Map<string, Entry>()
  private readonly now: () => number
  private readonly ttlMs: number

  constructor(now: () => number, ttlMs = IDEMPOTENCY_TTL_MS) {
    this.now = now
    this.ttlMs = ttlMs
  }

  static fingerprint(method: string, path: string, body: Buffer): string {
    return createHash('sha256').update(method).update('\u0000').update(path).update('\u0000').update(body).digest('hex')
  }

  begin(client: string, key: string, fingerprint: string): Begin {
    const id = `${client}\u0000${key}`
    const now = this.now()
    const entry = this.entries.get(id)
    if (entry && entry.expiresAt > now) {
      if (entry.fingerprint !== fingerprint) return {kind: 'conflict', message: 'Idempotency-Key was already used with a different request'}
      if (!entry.response) return {kind: 'conflict', message: 'a request with this Idempotency-Key is still in progress'}
      return {kind: 'replay', response: entry.response}
    }
    this.entries.set(id, {fingerprint, expiresAt: now + this.ttlMs})
    if (this.entries.size > 100_000) this.sweep(now)
    return {kind: 'new'}
  }

  complete(client: string, key: string, response: StoredResponse): void {
    const entry = this.entries.get(`${client}\u0000${key}`)
    if (entry) entry.response = response
  }

  /** The request did not produce a response worth replaying (a server error): forget the key. */
  abandon(client: string, key: string): void {
    this.entries.delete(`${client}\u0000${key}`)
  }

  private sweep(now: number): void {
    for (const [id, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(id)
  }
}
