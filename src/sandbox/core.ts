// What the route handlers share: the store, the clock, the simulations and the event bus.
// Built once per sandbox; nothing here is module state.
import {iso, type SandboxClock} from './clock.js'
import type {IdempotencyStore} from './idempotency.js'
import type {PlanRunner} from './plan-runner.js'
import type {Capsule, PlatformEvent} from './records.js'
import {Derived, type Store} from './store.js'
import {newId, type WebhookDispatcher} from './webhook-dispatcher.js'
import type {ApiScope} from './records.js'
import type {ApiClass} from './rate-limit.js'
import type {Identity} from './api-auth.js'
import type {IncomingMessage} from 'node:http'
import type {Pagination, Reply} from './wire.js'

export interface Core {
  store: Store
  clock: SandboxClock
  seed: number
  dispatcher: WebhookDispatcher
  plans: PlanRunner
  idempotency: IdempotencyStore
  capsuleViews: CapsuleViews
  eventViews: EventViews
  /** Record a platform event and hand it to the webhooks that subscribe to it. */
  publish(type: string, scopeId: string | null, data: Record<string, unknown>): PlatformEvent
}

export interface ApiRequest {
  method: string
  path: string
  query: URLSearchParams
  params: Record<string, string>
  headers: IncomingMessage['headers']
  requestId: string
  identity: Identity
  body: unknown
}

export type ApiHandler = (req: ApiRequest) => Reply | Promise<Reply>

export interface ApiRoute {
  method: string
  pattern: string
  scope: ApiScope
  apiClass: ApiClass
  /** /api/v1 responses are enveloped; operational endpoints answer bare documents. */
  envelope: boolean
  handler: ApiHandler
}

export type {Pagination}

type SortKey<T> = (item: T) => number | string

/** Sorted copies of a collection, one per sort key, rebuilt after writes only. */
class SortedViews<T extends {id: string}> {
  private readonly views = new Map<string, Derived<T[]>>()
  private readonly source: {version: number; values(): IterableIterator<T>}
  private readonly keys: Record<string, SortKey<T>>

  constructor(source: {version: number; values(): IterableIterator<T>}, keys: Record<string, SortKey<T>>) {
    this.source = source
    this.keys = keys
  }

  sorted(field: string, direction: 'asc' | 'desc'): T[] {
    const key = `${field},${direction}`
    let view = this.views.get(key)
    if (!view) {
      const keyOf = this.keys[field]
      view = new Derived(this.source, () => {
        const decorated = [...this.source.values()].map((item) => ({key: keyOf(item), item}))
        // Ties broken by id, so pages are stable between identical requests.
        decorated.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.item.id < b.item.id ? -1 : a.item.id > b.item.id ? 1 : 0))
        const items = decorated.map((d) => d.item)
        if (direction === 'desc') items.reverse()
        return items
      })
      this.views.set(key, view)
    }
    return view.get()
  }
}

const byTime = <T>(get: (item: T) => string): SortKey<T> => (item) => Date.parse(get(item))

export const CAPSULE_SORT_FIELDS = ['timestamp', 'createdAt', 'id', 'scopeId', 'version', 'resolution'] as const
export const EVENT_SORT_FIELDS = ['timestamp', 'type', 'id'] as const

export type CapsuleViews = SortedViews<Capsule>
export type EventViews = SortedViews<PlatformEvent>

export function capsuleViews(store: Store): CapsuleViews {
  return new SortedViews(store.capsules, {
    timestamp: byTime((c) => c.timestamp),
    createdAt: byTime((c) => c.createdAt),
    id: (c) => c.id,
    scopeId: (c) => c.scopeId,
    version: (c) => c.version,
    resolution: (c) => c.resolution,
  })
}

export function eventViews(store: Store): EventViews {
  return new SortedViews(store.events, {
    timestamp: byTime((e) => e.timestamp),
    type: (e) => e.type,
    id: (e) => e.id,
  })
}

export function createPublisher(store: Store, clock: SandboxClock, dispatcher: () => WebhookDispatcher) {
  return (type: string, scopeId: string | null, data: Record<string, unknown>): PlatformEvent => {
    const event = store.events.set({id: newId('evt_', 12), type, scopeId, timestamp: iso(clock.now()), data})
    dispatcher().publish(event)
    return event
  }
}
