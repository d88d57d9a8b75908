// Storage for oidc-provider's models (browser logins, grants, codes, tokens), owned by one sandbox
// (no shared module state), optionally persisted with --data so logins survive a restart.
// The API asks it whether an access token's jti is still recorded: that is how revocation,
// logout and refresh-token reuse detection (which revokes the whole grant) reach JWT access
// tokens, which the provider itself never stores.
import type {Persistence} from './persistence.js'

interface Stored {
  model: string
  id: string
  payload: Record<string, any>
  /** Wall-clock ms; undefined = no expiry. */
  expiresAt?: number
}

const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'ClientCredentials'])
const KIND = 'oauth'

export class OAuthStorage {
  private readonly entries = new Map<string, Stored>()
  private readonly byUserCode = new Map<string, string>()
  private readonly byUid = new Map<string, string>()
  private readonly byGrant = new Map<string, Set<string>>()
  private readonly persistence?: Persistence
  private readonly now: () => number

  constructor(options: {persistence?: Persistence; now?: () => number} = {}) {
    this.persistence = options.persistence
    this.now = options.now ?? Date.now
    if (this.persistence) {
      for (const stored of this.persistence.load(KIND) as Stored[]) {
        if (stored.expiresAt !== undefined && stored.expiresAt <= this.now()) {
          this.persistence.remove(KIND, key(stored.model, stored.id))
          continue
        }
        this.index(stored)
      }
    }
  }

  /** The adapter factory oidc-provider calls once per model name. */
  adapterFactory(): (model: string) => ModelAdapter {
    return (model: string) => new ModelAdapter(model, this)
  }

  find(model: string, id: string): Record<string, any> | undefined {
    const stored = this.entries.get(key(model, id))
    if (!stored) return undefined
    if (stored.expiresAt !== undefined && stored.expiresAt <= this.now()) {
      this.remove(model, id)
      return undefined
    }
    return stored.payload
  }

  findByUserCode(model: string, userCode: string) {
    const id = this.byUserCode.get(userCode)
    return id === undefined ? undefined : this.find(model, id)
  }

  findByUid(model: string, uid: string) {
    const id = this.byUid.get(uid)
    return id === undefined ? undefined : this.find(model, id)
  }

  upsert(model: string, id: string, payload: Record<string, any>, expiresIn?: number): void {
    const previous = this.entries.get(key(model, id))
    if (previous) this.unindex(previous)
    const stored: Stored = {model, id, payload, expiresAt: typeof expiresIn === 'number' ? this.now() + expiresIn * 1000 : undefined}
    this.index(stored)
    this.persistence?.put(KIND, key(model, id), stored)
  }

  consume(model: string, id: string): void {
    const stored = this.entries.get(key(model, id))
    if (!stored) return
    stored.payload.consumed = Math.floor(this.now() / 1000)
    this.persistence?.put(KIND, key(model, id), stored)
  }

  remove(model: string, id: string): void {
    const stored = this.entries.get(key(model, id))
    if (!stored) return
    this.unindex(stored)
    this.persistence?.remove(KIND, key(model, id))
  }

  revokeByGrantId(grantId: string): void {
    const members = this.byGrant.get(grantId)
    if (!members) return
    for (const k of [...members]) {
      const stored = this.entries.get(k)
      if (stored) this.remove(stored.model, stored.id)
    }
    this.byGrant.delete(grantId)
  }

  /** Is this access token (by jti) still stored, unexpired and unrevoked? */
  accessTokenLive(jti: string): boolean {
    return this.find('AccessToken', jti) !== undefined || this.find('ClientCredentials', jti) !== undefined
  }

  private index(stored: Stored): void {
    const k = key(stored.model, stored.id)
    this.entries.set(k, stored)
    const {userCode, uid, grantId} = stored.payload
    if (userCode) this.byUserCode.set(userCode, stored.id)
    if (stored.model === 'Session' && uid) this.byUid.set(uid, stored.id)
    if (GRANTABLE.has(stored.model) && grantId) {
      const set = this.byGrant.get(grantId) ?? new Set()
      set.add(k)
      this.byGrant.set(grantId, set)
    }
  }

  private unindex(stored: Stored): void {
    const k = key(stored.model, stored.id)
    this.entries.delete(k)
    const {userCode, uid, grantId} = stored.payload
    if (userCode && this.byUserCode.get(userCode) === stored.id) this.byUserCode.delete(userCode)
    if (uid && this.byUid.get(uid) === stored.id) this.byUid.delete(uid)
    if (grantId) this.byGrant.get(grantId)?.delete(k)
  }
}

const key = (model: string, id: string) => `${model}:${id}`

/** The adapter interface oidc-provider expects, one instance per model. */
export class ModelAdapter {
  private readonly model: string
  private readonly storage: OAuthStorage

  constructor(model: string, storage: OAuthStorage) {
    this.model = model
    this.storage = storage
  }

  async upsert(id: string, payload: Record<string, any>, expiresIn?: number) {
    this.storage.upsert(this.model, id, payload, expiresIn)
  }

  async find(id: string) {
    return this.storage.find(this.model, id)
  }

  async findByUserCode(userCode: string) {
    return this.storage.findByUserCode(this.model, userCode)
  }

  async findByUid(uid: string) {
    return this.storage.findByUid(this.model, uid)
  }

  async consume(id: string) {
    this.storage.consume(this.model, id)
  }

  async destroy(id: string) {
    this.storage.remove(this.model, id)
  }

  async revokeByGrantId(grantId: string) {
    this.storage.revokeByGrantId(grantId)
  }
}
