// A stored login in use: the access token is reused until 60 s before it expires, then
// refreshed. Refreshing is single-flight across processes, because refresh tokens rotate:
// two processes redeeming the same one would make the server see a replay and revoke the
// whole grant, logging the user out. So: take the profile's lock, re-read the store (another
// process may have refreshed while we waited), redeem, persist the new refresh token, and only
// then use the new access token.
import {join} from 'node:path'
import type {Context} from '../context.js'
import {AuthError, BadResponseError, NetworkError} from '../errors.js'
import {LockTimeoutError, withLock} from '../resilience/lock.js'
import type {SessionFacts} from '../settings.js'
import {clientCredentialsGrant} from './client-credentials.js'
import {accountName, CredentialStore, type StorageKind, type TokenRecord} from './credential-store.js'
import type {Credentials} from './credentials.js'
import {fetchMetadata, type AuthServerMetadata} from './discovery.js'
import {OAuthError, OAuthHttp} from './oauth-http.js'
import {loginFailure, recordFrom, tokenRequest} from './tokens.js'

/** Refresh this long before the access token expires: clocks drift and requests take time. */
export const REFRESH_MARGIN_MS = 60_000
const LOCK_TIMEOUT_MS = 60_000
/** Longer than any token request may take (30 s), so a slow refresh is never taken for a dead one. */
const LOCK_STALE_MS = 120_000

export function refreshDue(record: TokenRecord, now: number): boolean {
  return record.expiresAt !== undefined && record.expiresAt - REFRESH_MARGIN_MS <= now
}

export function expired(record: TokenRecord, now: number): boolean {
  return record.expiresAt !== undefined && record.expiresAt <= now
}

/** The keychain account of a profile's login; `--with-token` logins may have no issuer. */
export function sessionAccount(profile: string, facts: SessionFacts): string {
  return accountName(profile, facts.issuer ?? 'token')
}

export function createCredentialStore(ctx: Context): CredentialStore {
  return new CredentialStore({configDir: ctx.configDir, env: ctx.env, warn: (m) => ctx.warn(m), trace: (l) => ctx.trace(l)})
}

export function sessionExpired(detail?: string): AuthError {
  return new AuthError(`session expired${detail ? ` (${detail})` : ''}`, {code: 'SESSION_EXPIRED', hint: 'run `bfly login`'})
}

export class Session {
  private refreshing?: Promise<void>
  private metadata?: Promise<AuthServerMetadata>

  private constructor(
    private readonly ctx: Context,
    readonly store: CredentialStore,
    private facts: SessionFacts,
    private current: TokenRecord,
    private storage: StorageKind,
  ) {}

  /** The profile's stored login, or undefined when there is none. */
  static async open(ctx: Context, store: CredentialStore = createCredentialStore(ctx)): Promise<Session | undefined> {
    const facts = (await ctx.store()).session(ctx.profile)
    if (!facts) return undefined
    const found = await store.read(sessionAccount(ctx.profile, facts), facts.storage ?? 'keychain')
    if (!found) return undefined
    return new Session(ctx, store, facts, found.record, found.storage)
  }

  get record(): TokenRecord {
    return this.current
  }

  get where(): StorageKind {
    return this.storage
  }

  get sessionFacts(): SessionFacts {
    return this.facts
  }

  get account(): string {
    return sessionAccount(this.ctx.profile, this.facts)
  }

  /** A usable access token: the stored one, or a refreshed one when it is about to expire. */
  async accessToken(): Promise<string> {
    const record = this.current
    if (!refreshDue(record, this.ctx.now())) return record.accessToken
    if (!this.canRefresh(record)) {
      if (!expired(record, this.ctx.now())) return record.accessToken
      throw sessionExpired('the token cannot be refreshed')
    }
    try {
      await this.refresh()
    } catch (error) {
      // Still valid for a few seconds: a failed early refresh (network) need not fail the command.
      if ((error instanceof NetworkError || error instanceof BadResponseError) && !expired(record, this.ctx.now()) && this.current === record) {
        this.ctx.trace(`refresh failed (${error.message}); using the access token while it lasts`)
        return record.accessToken
      }
      throw error
    }
    return this.current.accessToken
  }

  canRefresh(record: TokenRecord = this.current): boolean {
    if (record.kind === 'client') return Boolean(record.clientId && record.clientSecret)
    return record.kind === 'user' && Boolean(record.refreshToken)
  }

  /** Refresh now, unless another process already replaced the token we hold. */
  refresh(): Promise<void> {
    const seen = this.current.accessToken
    this.refreshing ??= this.ctx.mustFinish(this.refreshUnderLock(seen)).finally(() => {
      this.refreshing = undefined
    })
    return this.refreshing
  }

  private async refreshUnderLock(seen: string): Promise<void> {
    const lock = join(this.ctx.stateDir, 'session-refresh.lock')
    await withLock(
      lock,
      async () => {
        const latest = await this.store.read(this.account, this.storage)
        if (!latest) throw sessionExpired('the stored login is gone')
        this.storage = latest.storage
        // Someone else redeemed the refresh token while we waited: theirs is the live token.
        if (latest.record.accessToken !== seen && !expired(latest.record, this.ctx.now())) {
          this.ctx.trace('the session was refreshed by another bfly process; using its token')
          this.current = latest.record
          return
        }
        await this.redeem(latest.record)
      },
      {timeoutMs: LOCK_TIMEOUT_MS, staleMs: LOCK_STALE_MS},
    ).catch((error: Error) => {
      if (error instanceof LockTimeoutError) {
        throw new AuthError('another bfly process is still refreshing the session', {code: 'REFRESH_BUSY', hint: 'try again in a moment'})
      }
      throw error
    })
  }

  private async redeem(record: TokenRecord): Promise<void> {
    const http = await OAuthHttp.create(this.ctx)
    const issuer = this.facts.issuer
    if (!issuer) throw sessionExpired('the token cannot be refreshed')
    this.metadata ??= fetchMetadata(http, issuer)
    const metadata = await this.metadata
    const settings = await this.ctx.settings()
    const clientId = record.clientId ?? this.facts.clientId ?? settings.clientId
    let next: TokenRecord
    this.ctx.trace(`refreshing the session at ${new URL(metadata.token_endpoint).host}`)
    if (record.kind === 'client') {
      const tokens = await clientCredentialsGrant(http, metadata, {clientId, clientSecret: record.clientSecret!}, {asked: record.scope}, this.ctx.now).catch(async (error: unknown) => {
        if (error instanceof AuthError && error.code === 'INVALID_CLIENT') await this.end()
        throw error
      })
      next = recordFrom(tokens, 'client', {clientId, clientSecret: record.clientSecret, scope: record.scope})
    } else {
      if (!record.refreshToken) throw sessionExpired('no refresh token')
      let tokens
      try {
        tokens = await tokenRequest(http, metadata, {grant_type: 'refresh_token', refresh_token: record.refreshToken, client_id: clientId}, this.ctx.now, {uninterruptible: true})
      } catch (error) {
        if (error instanceof OAuthError) {
          if (error.error === 'invalid_grant') {
            // The grant ended (expired, revoked, or a replay was detected): nothing stored can help any more.
            await this.end()
            throw sessionExpired()
          }
          throw loginFailure(error, {issuer, clientId, grant: 'refresh'})
        }
        throw error
      }
      next = recordFrom(tokens, 'user', {clientId, previousRefreshToken: record.refreshToken, scope: record.scope})
    }
    // Persist before use: if we crashed after using the new token but before storing the
    // rotated refresh token, the next run would replay the old one.
    this.storage = await this.store.write(this.account, next, this.storage)
    this.facts = {...this.facts, expiresAt: next.expiresAt ? new Date(next.expiresAt).toISOString() : undefined, storage: this.storage, scopes: next.scope ? next.scope.split(' ').filter(Boolean) : this.facts.scopes}
    const profiles = await this.ctx.store()
    await profiles.setSession(this.ctx.profile, this.facts)
    this.current = next
  }

  /** Forget the login locally (tokens and facts). Returns false when the keychain could not be reached. */
  async end(): Promise<boolean> {
    const removed = await this.store.remove(this.account)
    const profiles = await this.ctx.store()
    await profiles.setSession(this.ctx.profile, undefined)
    return removed
  }

  credentials(): Credentials {
    return {
      source: this.storage,
      headers: async () => ({authorization: `Bearer ${await this.accessToken()}`}),
      refresh: async () => {
        if (!this.canRefresh()) return false
        const before = this.current.accessToken
        await this.refresh()
        return this.current.accessToken !== before
      },
    }
  }
}

export async function loadCredentials(ctx: Context): Promise<Credentials | undefined> {
  const session = await Session.open(ctx)
  return session?.credentials()
}
