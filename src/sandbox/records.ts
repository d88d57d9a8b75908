// The shapes the sandbox stores and serves, as the contract names them (§3). Fields a
// client never sees (secrets, scheduling internals) are stripped by the public* functions.

export interface Capsule {
  id: string
  scopeId: string
  timestamp: string
  resolution: number
  version: number
  payload: Record<string, unknown>
  createdAt: string
}

export interface PlatformEvent {
  id: string
  type: string
  scopeId: string | null
  timestamp: string
  data: Record<string, unknown>
}

export interface Webhook {
  id: string
  name: string
  url: string
  events: string[]
  is_active: boolean
  is_healthy: boolean
  created_at: string
  updated_at: string
  /** Never served after creation. */
  secret: string
  /** Seeded endpoints point at the sandbox's own sink; their origin follows the current port. */
  seeded?: boolean
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'dead_lettered'

export interface Delivery {
  id: string
  webhook_id: string
  event_type: string
  event_id: string
  status: DeliveryStatus
  attempts: number
  max_attempts: number
  last_attempt_at: string | null
  next_attempt_at: string | null
  response_status_code: number | null
  duration_ms: number | null
  error: string | null
  created_at: string
  queued_at?: string
  /** The exact JSON body every attempt sends (signed anew with each attempt's timestamp). */
  body: string
  /** Wall-clock due time of the next automatic attempt, in milliseconds. */
  next_attempt_ms?: number
}

export interface IntegrationState {
  id: string
  /** Wall-clock time of the last circuit reset. */
  resetAt?: number
}

export const API_SCOPES = [
  'capsules:read',
  'capsules:write',
  'history:read',
  'events:read',
  'integrations:read',
  'integrations:admin',
  'webhooks:read',
  'webhooks:write',
  'plans:execute',
] as const

export type ApiScope = (typeof API_SCOPES)[number]

export const READ_SCOPES: readonly ApiScope[] = API_SCOPES.filter((s) => s.endsWith(':read'))

/** Everything RFC 9728 metadata lists, OIDC scopes first (contract §1). */
export const SCOPES_SUPPORTED = ['openid', 'offline_access', ...API_SCOPES]

export function publicWebhook(w: Webhook): Omit<Webhook, 'secret' | 'seeded'> {
  const {secret: _secret, seeded: _seeded, ...rest} = w
  return rest
}

export function publicDelivery(d: Delivery): Omit<Delivery, 'body' | 'next_attempt_ms'> {
  const {body: _body, next_attempt_ms: _next, ...rest} = d
  return rest
}
