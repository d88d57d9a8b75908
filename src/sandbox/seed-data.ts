// Deterministic demo data: the same seed gives the same ids, payloads and delivery history.
// Times are laid out backwards from the start time (minute-aligned), so "the last hour"
// always has data; inject `now` to pin them too.
import {iso} from './clock.js'
import {base32, createRandom, deriveSeed, pick, type Random} from './prng.js'
import type {Capsule, Delivery, PlatformEvent, Webhook} from './records.js'
import {MAX_ATTEMPTS, RETRY_DELAYS_MS} from './retry-schedule.js'
import type {Store} from './store.js'
import {INTEGRATIONS} from './integrations-sim.js'

export interface SeedOptions {
  seed: number
  capsules: number
  /** Wall-clock start time (ms): the newest seeded record is just before it. */
  now: number
  timeScale: number
  /** Origin of the sandbox itself: seeded webhooks deliver to its built-in sink. */
  sinkOrigin: string
}

interface ScopeProfile {
  scopeId: string
  resolution: number
  payload: (r: Random, k: number) => Record<string, unknown>
}

const round = (n: number, digits: number) => Number(n.toFixed(digits))

export const SEEDED_SCOPES: readonly ScopeProfile[] = [
  {scopeId: 'rim:entity:finance:EURUSD', resolution: 60, payload: (r, k) => ({price: round(1.08 + Math.sin(k / 9) * 0.004 + r() * 0.001, 4), regime: pick(r, ['calm', 'calm', 'trending', 'volatile']), volume: Math.round(1000 + r() * 9000)})},
  {scopeId: 'rim:entity:finance:GBPUSD', resolution: 60, payload: (r, k) => ({price: round(1.26 + Math.sin(k / 7) * 0.005 + r() * 0.001, 4), regime: pick(r, ['calm', 'trending', 'volatile']), volume: Math.round(800 + r() * 7000)})},
  {scopeId: 'rim:entity:finance:USDJPY', resolution: 300, payload: (r, k) => ({price: round(149.5 + Math.sin(k / 11) * 0.8 + r() * 0.1, 3), regime: pick(r, ['calm', 'trending']), volume: Math.round(500 + r() * 5000)})},
  {scopeId: 'rim:entity:crypto:BTCUSD', resolution: 300, payload: (r, k) => ({price: round(97_000 + Math.sin(k / 5) * 1500 + r() * 300, 2), regime: pick(r, ['volatile', 'volatile', 'trending']), volume: round(10 + r() * 90, 3)})},
  {scopeId: 'rim:entity:weather:LONDON', resolution: 900, payload: (r, k) => ({temperatureC: round(8 + Math.sin(k / 12) * 4 + r(), 1), windKph: Math.round(5 + r() * 30), condition: pick(r, ['rain', 'cloudy', 'cloudy', 'clear'])})},
  {scopeId: 'rim:entity:weather:NEW-YORK', resolution: 900, payload: (r, k) => ({temperatureC: round(4 + Math.sin(k / 12) * 5 + r(), 1), windKph: Math.round(5 + r() * 40), condition: pick(r, ['snow', 'cloudy', 'clear'])})},
  {scopeId: 'rim:region:supply.chain:EU-WEST', resolution: 3600, payload: (r) => ({backlog: Math.round(100 + r() * 400), leadTimeDays: round(3 + r() * 9, 1), risk: pick(r, ['low', 'medium', 'high'])})},
  {scopeId: 'rim:actor:central.bank:ECB~rates', resolution: 3600, payload: (r) => ({rate: round(3 + r() * 0.5, 2), stance: pick(r, ['hold', 'hold', 'cut', 'hike'])})},
]

/** The contract's example capsule id names the first seeded capsule, so examples work as written. */
export const FIRST_CAPSULE_ID = 'cap_01JD9Z8K2M'

export function seedStore(store: Store, options: SeedOptions): void {
  const random = createRandom(deriveSeed(options.seed, 'data'))
  const anchor = Math.floor(options.now / 60_000) * 60_000
  const usedIds = new Set<string>()
  const newId = (prefix: string, length: number) => {
    for (;;) {
      const id = `${prefix}${base32(random, length)}`
      if (!usedIds.has(id)) {
        usedIds.add(id)
        return id
      }
    }
  }
  usedIds.add(FIRST_CAPSULE_ID)

  // Capsules, spread over the scopes, newest just before the start time.
  const perScope = Math.ceil(options.capsules / SEEDED_SCOPES.length)
  const capsules: Capsule[] = []
  const events: PlatformEvent[] = []
  let made = 0
  for (let k = 0; k < perScope && made < options.capsules; k++) {
    for (const profile of SEEDED_SCOPES) {
      if (made >= options.capsules) break
      const t = anchor - (perScope - k) * profile.resolution * 1000
      const id = made === 0 ? FIRST_CAPSULE_ID : newId('cap_01', 8)
      const capsule: Capsule = {
        id,
        scopeId: profile.scopeId,
        timestamp: iso(t),
        resolution: profile.resolution,
        version: 1 + Math.floor(random() * 4),
        payload: profile.payload(random, k),
        createdAt: iso(t + 2000),
      }
      capsules.push(capsule)
      events.push({id: newId('evt_', 12), type: 'capsule.created', scopeId: capsule.scopeId, timestamp: capsule.createdAt, data: {capsuleId: id, version: capsule.version}})
      made++
    }
  }

  // Operational events, the last day.
  const opsEvents: PlatformEvent[] = []
  const opsTypes = ['integration.circuit_opened', 'integration.circuit_reset', 'plan.failed', 'plan.completed'] as const
  for (let i = 0; i < 40; i++) {
    const type = opsTypes[i % opsTypes.length]
    const t = anchor - (i + 1) * 35 * 60_000
    const data: Record<string, unknown> = type.startsWith('integration')
      ? {integration: pick(random, ['NotificationService', 'WeatherAPI']), failures: 5 + Math.floor(random() * 10)}
      : {planId: pick(random, ['plan_123', 'plan_nightly_rebalance', 'plan_broken']), executionId: newId('exe_', 10)}
    opsEvents.push({id: newId('evt_', 12), type, scopeId: null, timestamp: iso(t), data})
  }
  events.push(...opsEvents)
  for (const c of capsules) store.capsules.set(c)
  for (const e of events) store.events.set(e)

  // Two webhooks: one healthy, one flaky partner whose history has every delivery status.
  const feed: Webhook = {
    id: newId('wh_', 10),
    name: 'Capsule feed',
    url: `${options.sinkOrigin}/__sink/capsule-feed`,
    events: ['capsule.created', 'capsule.deleted'],
    is_active: true,
    is_healthy: true,
    created_at: iso(anchor - 30 * 86_400_000),
    updated_at: iso(anchor - 30 * 86_400_000),
    secret: `whsec_${base32(random, 32)}`,
    seeded: true,
  }
  const partner: Webhook = {
    id: newId('wh_', 10),
    name: 'Partner alerts',
    url: `${options.sinkOrigin}/__sink/partner-alerts?fail=0.6`,
    events: ['integration.circuit_opened', 'integration.circuit_reset', 'plan.failed', 'plan.completed'],
    is_active: true,
    is_healthy: false,
    created_at: iso(anchor - 20 * 86_400_000),
    updated_at: iso(anchor - 2 * 86_400_000),
    secret: `whsec_${base32(random, 32)}`,
    seeded: true,
  }
  store.webhooks.set(feed)
  store.webhooks.set(partner)

  const bodyOf = (e: PlatformEvent) => JSON.stringify({id: e.id, type: e.type, created_at: e.timestamp, data: {...e.data, ...(e.scopeId ? {scopeId: e.scopeId} : {})}})
  const delivery = (webhook: Webhook, event: PlatformEvent, fields: Partial<Delivery>): Delivery => ({
    id: newId('dlv_', 12),
    webhook_id: webhook.id,
    event_type: event.type,
    event_id: event.id,
    status: 'delivered',
    attempts: 1,
    max_attempts: MAX_ATTEMPTS,
    last_attempt_at: event.timestamp,
    next_attempt_at: null,
    response_status_code: 200,
    duration_ms: 20 + Math.round(random() * 180),
    error: null,
    created_at: event.timestamp,
    body: bodyOf(event),
    ...fields,
  })
  const scheduled = (attempts: number, offsetMs: number) => {
    const due = anchor + offsetMs + RETRY_DELAYS_MS[attempts - 1] / options.timeScale
    return {next_attempt_at: iso(due), next_attempt_ms: due}
  }

  const recentCapsuleEvents = events.filter((e) => e.type === 'capsule.created').sort((a, b) => (a.timestamp < b.timestamp ? 1 : -1)).slice(0, 40)
  recentCapsuleEvents.forEach((event, i) => {
    if (i === 3 || i === 17) {
      store.deliveries.set(delivery(feed, event, {attempts: 2 + (i % 2), last_attempt_at: iso(Date.parse(event.timestamp) + 60_000)}))
    } else if (i === 0 || i === 1) {
      const attempts = i + 1
      store.deliveries.set(delivery(feed, event, {status: 'failed', attempts, response_status_code: 500, error: 'upstream returned 500', ...scheduled(attempts, i * 1000)}))
    } else {
      store.deliveries.set(delivery(feed, event, {}))
    }
  })
  opsEvents.slice(0, 30).forEach((event, i) => {
    if (i % 3 === 0) {
      store.deliveries.set(delivery(partner, event, {status: 'dead_lettered', attempts: MAX_ATTEMPTS, response_status_code: 503, error: 'upstream returned 503', duration_ms: 1000 + Math.round(random() * 4000)}))
    } else if (i % 3 === 1) {
      const attempts = 1 + (i % 5)
      const timeout = i % 2 === 0
      store.deliveries.set(delivery(partner, event, {
        status: 'failed',
        attempts,
        response_status_code: timeout ? null : 503,
        duration_ms: timeout ? 10_000 : 150 + Math.round(random() * 300),
        error: timeout ? 'timed out after 10000 ms' : 'upstream returned 503',
        ...scheduled(attempts, i * 1000),
      }))
    } else {
      store.deliveries.set(delivery(partner, event, {}))
    }
  })

  for (const def of INTEGRATIONS) store.integrations.set({id: def.name})
}
