// The sandbox's state: collections of records keyed by id, each write mirrored to the
// persistence layer when there is one. Derived views (sorted lists) are rebuilt lazily when
// a collection's version changes, so a read-heavy load pays for sorting once per write.
import type {Persistence} from './persistence.js'
import type {Capsule, Delivery, IntegrationState, PlatformEvent, Webhook} from './records.js'

export class Collection<T extends {id: string}> {
  readonly kind: string
  private readonly items = new Map<string, T>()
  private readonly persistence?: Persistence
  /** Bumped on every change; caches compare it. */
  version = 0

  constructor(kind: string, persistence?: Persistence) {
    this.kind = kind
    this.persistence = persistence
  }

  get size(): number {
    return this.items.size
  }

  get(id: string): T | undefined {
    return this.items.get(id)
  }

  has(id: string): boolean {
    return this.items.has(id)
  }

  values(): IterableIterator<T> {
    return this.items.values()
  }

  set(item: T): T {
    this.items.set(item.id, item)
    this.version++
    this.persistence?.put(this.kind, item.id, item)
    return item
  }

  delete(id: string): boolean {
    const had = this.items.delete(id)
    if (had) {
      this.version++
      this.persistence?.remove(this.kind, id)
    }
    return had
  }

  /** Fill from storage without writing back. */
  hydrate(items: Iterable<T>): void {
    for (const item of items) this.items.set(item.id, item)
    this.version++
  }
}

/** A value derived from a collection, recomputed only after the collection changed. */
export class Derived<T> {
  private cachedVersion = -1
  private value!: T
  private readonly source: {version: number}
  private readonly compute: () => T

  constructor(source: {version: number}, compute: () => T) {
    this.source = source
    this.compute = compute
  }

  get(): T {
    if (this.cachedVersion !== this.source.version) {
      this.value = this.compute()
      this.cachedVersion = this.source.version
    }
    return this.value
  }
}

export interface Store {
  capsules: Collection<Capsule>
  events: Collection<PlatformEvent>
  webhooks: Collection<Webhook>
  deliveries: Collection<Delivery>
  integrations: Collection<IntegrationState>
  persistence?: Persistence
}

export function createStore(persistence?: Persistence): Store {
  return {
    capsules: new Collection<Capsule>('capsule', persistence),
    events: new Collection<PlatformEvent>('event', persistence),
    webhooks: new Collection<Webhook>('webhook', persistence),
    deliveries: new Collection<Delivery>('delivery', persistence),
    integrations: new Collection<IntegrationState>('integration', persistence),
    persistence,
  }
}

/** Load every collection from storage; false when the storage has never been seeded. */
export function hydrateStore(store: Store): boolean {
  const p = store.persistence
  if (!p || p.getMeta('seeded') !== 'yes') return false
  store.capsules.hydrate(p.load('capsule') as Capsule[])
  store.events.hydrate(p.load('event') as PlatformEvent[])
  store.webhooks.hydrate(p.load('webhook') as Webhook[])
  store.deliveries.hydrate(p.load('delivery') as Delivery[])
  store.integrations.hydrate(p.load('integration') as IntegrationState[])
  return true
}
