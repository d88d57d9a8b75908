// Identifier rules of the contract (§2), checked before any request is sent.
import {UsageError} from './../errors.js'

export const CAPSULE_ID = /^[A-Za-z0-9_-]{1,64}$/
export const SCOPE_ID = /^rim:[A-Za-z0-9_-]+:[A-Za-z0-9_.-]+:[A-Za-z0-9_.~-]+$/

export function capsuleId(id: string): string {
  if (!CAPSULE_ID.test(id)) throw new UsageError(`invalid capsule id "${id}": must match ^[A-Za-z0-9_-]{1,64}$ (e.g. cap_01JD9Z8K2M)`)
  return id
}

export function scopeId(id: string): string {
  if (!SCOPE_ID.test(id)) throw new UsageError(`invalid scope id "${id}": must match rim:{nodeType}:{namespace}:{localId} (e.g. rim:entity:finance:EURUSD)`)
  return id
}

/** An id as one percent-encoded path segment. */
export const segment = (id: string) => encodeURIComponent(id)

/**
 * Ids the contract leaves opaque (webhook, delivery, plan ids, integration names): checked for
 * what cannot be right (empty, whitespace, control characters, absurd length) before anything is sent.
 */
export function opaqueId(kind: string, id: string): string {
  if (!/^[\x21-\x7E]{1,255}$/.test(id)) throw new UsageError(`invalid ${kind} "${id}": 1-255 visible ASCII characters, no spaces`)
  return id
}
