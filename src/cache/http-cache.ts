// The read cache as the HTTP client uses it: GETs are looked up, revalidated with their
// validators, stored when HTTP allows, and stand in — loudly — when the API cannot answer.
//
// Why not got's own `cache` option (cacheable-request + a Keyv store), which the issue
// suggested trying first: measured against got 16.1 / cacheable-request 13 / http-cache-
// semantics 4.3 (scripts/bench/cache.js), it breaks what this cache is for.
//  - A 5xx (or 401/403) answering a revalidation deletes the stored entry, so after the
//    retries there is nothing left to fall back on: stale-if-error cannot work.
//  - On a plain miss the response's `statusCode` is not passed to the cache policy, which
//    then assumes 200: a 503 error body is stored, replacing the good answer.
//  - Its lookup runs after got's beforeRequest hooks and its hits still run afterResponse:
//    an open circuit refuses an answer that needs no request, a cache hit counts as a
//    breaker success (closing a half-open circuit without the server being reached), and
//    cached rate-limit headers feed the token bucket.
//  - Keys are method + URL only (no identity, profile or Accept); Keyv serializes bodies as
//    base64 JSON and every 304 rewrites the whole body. With a 1 MB answer on loopback, as
//    ratios to a plain GET: 304 ≈ 3.9× (this cache ≈ 1.1×), fresh hit ≈ 1.5× (≈ 0.2×), miss
//    and store ≈ 5× (≈ 2.5×); and Keyv warns on stderr about leaked listeners past ~100
//    requests in one process (a long --all walk).
// So the RFC 9111 rules live here (freshness.ts, a few dozen lines with a fake-clock test),
// got still does the network part with its retries and hooks, and SQLite does the storage.
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import type {CredentialSource} from '../auth/credentials.js'
import type {Context} from '../context.js'
import {ApiError, type BflyError, CircuitOpenError, NetworkError} from '../errors.js'
import type {SessionFacts} from '../settings.js'
import {formatDuration, parseDuration} from '../values.js'
import {currentAgeMs, type Headers, header, parseCacheControl, reuseWithoutRequest, staleIfErrorAllows} from './freshness.js'
import {invalidatedBy} from './invalidation.js'
import {credentialIdentity, entryKey, hasSecretQuery, normalizeUrl, partitionOf} from './keys.js'
import {CACHE_FILE, type CacheEntry, CacheStore} from './store.js'

/** How the answer was obtained, when the cache had a hand in it. */
export type CacheState = 'fresh' | 'max-age' | 'revalidated' | 'stale'

/** A response as the client decodes it, from the network or from the cache. */
export interface Answer {
  statusCode: number
  headers: Headers
  body: string
  url: string
  cache?: {state: CacheState; ageMs: number}
}

export interface StaleNotice {
  message: string
  ageMs: number
  url: string
  cause: string
}

export interface HttpCacheOptions {
  /** The profile's state dir; the cache file lives there. */
  stateDir: string
  profile: string
  env: NodeJS.ProcessEnv
  now: () => number
  trace: (line: string) => void
  /** Says on stderr that an answer came from the cache because the API failed. */
  notice: (notice: StaleNotice) => void
  /** A problem worth one line on stderr (the cache cannot be opened while a flag needs it). */
  warn: (message: string) => void
  /** The stored login's non-secret facts (who is logged in). */
  session: () => Promise<SessionFacts | undefined>
  /** `--max-age`: accept a stored answer this young without a request. */
  maxAgeMs?: number
  /** `--stale-if-error` / `fallback: cache`: how old an answer may stand in for a failed request. */
  staleIfErrorMs?: number
  maxBytes?: number
}

/** Never stored: secrets, connection details, and facts that were only true on the wire (the encoding of a body we keep decoded, the rate budget). */
const DROPPED_HEADERS = /^(authorization|proxy-authorization|x-api-key|cookie|set-cookie|connection|keep-alive|proxy-connection|transfer-encoding|te|trailer|upgrade|content-encoding|content-length|age|x-ratelimit-.*|retry-after)$/
/** Vary on these is already covered by the identity partition; their values are secret. */
const SECRET_REQUEST_HEADERS = new Set(['authorization', 'proxy-authorization', 'x-api-key', 'cookie'])
/** A body that looks like it carries credentials is not kept, whatever the server says. */
const SECRET_BODY = /"(access_token|refresh_token|id_token|client_secret|password)"\s*:|"whsec_/

function storedHeaders(headers: Headers): Headers {
  const hopByHop = new Set((header(headers, 'connection') ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean))
  const out: Headers = {}
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase()
    if (value === undefined || DROPPED_HEADERS.test(lower) || hopByHop.has(lower)) continue
    out[lower] = value
  }
  return out
}

function varyNames(headers: Headers): string[] | '*' {
  const vary = header(headers, 'vary')
  if (!vary) return []
  const names = vary.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)
  return names.includes('*') ? '*' : names.filter((n) => !SECRET_REQUEST_HEADERS.has(n))
}

/** Why a failure may be answered from the cache: network, 5xx after retries, open circuit. Never 4xx. */
export function fallbackCause(error: BflyError): string | undefined {
  if (error instanceof CircuitOpenError) return `circuit open for ${error.host}`
  if (error instanceof NetworkError) return error.message
  if (error instanceof ApiError && (error.status ?? 0) >= 500) return /^HTTP \d/.test(error.message) ? error.message : `HTTP ${error.status}: ${error.message}`
  return undefined
}

/** One GET through the cache. */
export class CachedRead {
  private entry?: CacheEntry
  private requestTime = 0

  constructor(
    private readonly cache: HttpCache,
    private readonly store: CacheStore,
    readonly key: string,
    readonly partition: string,
    readonly url: URL,
    private readonly requestHeaders: Record<string, string>,
    private readonly secrets: () => string[],
  ) {
    try {
      const entry = store.get(key)
      if (entry && this.varyMatches(entry)) this.entry = entry
    } catch (error) {
      cache.problem(error)
    }
  }

  private varyMatches(entry: CacheEntry): boolean {
    return Object.entries(entry.vary).every(([name, value]) => (this.requestHeaders[name] ?? '') === value)
  }

  private answerFromEntry(state: CacheState): Answer {
    const entry = this.entry!
    const ageMs = currentAgeMs(entry.headers, entry, this.cache.now())
    return {
      statusCode: entry.status,
      // RFC 9111 §5.1: an answer from a cache says how old it is.
      headers: {...entry.headers, age: String(Math.floor(ageMs / 1000))},
      body: Buffer.from(entry.body).toString('utf8'),
      url: entry.url,
      cache: {state, ageMs},
    }
  }

  /** An answer that needs no request at all: fresh by the server's word, or young enough for --max-age. */
  reuse(): Answer | undefined {
    if (!this.entry) return undefined
    const reuse = reuseWithoutRequest(this.entry, this.cache.now(), this.cache.options.maxAgeMs)
    if (!reuse) return undefined
    const answer = this.answerFromEntry(reuse)
    this.cache.options.trace(`cache: ${reuse === 'fresh' ? 'fresh' : 'within --max-age'}, ${formatDuration(answer.cache!.ageMs)} old, no request for ${this.url.pathname}`)
    return answer
  }

  /** If-None-Match / If-Modified-Since from the stored answer: a 304 then costs no body. */
  validators(): Record<string, string> {
    this.requestTime = this.cache.now()
    const out: Record<string, string> = {}
    if (!this.entry) return out
    const etag = header(this.entry.headers, 'etag')
    const lastModified = header(this.entry.headers, 'last-modified')
    if (etag) out['if-none-match'] = etag
    if (lastModified) out['if-modified-since'] = lastModified
    if (etag || lastModified) this.cache.options.trace(`cache: revalidating ${this.url.pathname} (${etag ? `If-None-Match ${etag}` : `If-Modified-Since ${lastModified}`})`)
    return out
  }

  /** The network's answer: a 304 becomes the stored answer with updated headers. */
  settle(answer: Answer): Answer {
    const status = answer.statusCode
    if (status === 304 && this.entry) {
      const merged: Headers = {...this.entry.headers, ...storedHeaders(answer.headers)}
      const timing = {requestTime: this.requestTime, responseTime: this.cache.now()}
      this.entry = {...this.entry, headers: merged, ...timing}
      this.cache.attempt(() => this.store.refresh(this.key, merged, timing))
      this.cache.options.trace(`cache: 304 Not Modified, using the stored body of ${this.url.pathname}`)
      return this.answerFromEntry('revalidated')
    }
    // 401/403: this identity may no longer see it; 404/410: it is gone. Either way the old
    // answer must not come back later as a fallback.
    if (status === 401 || status === 403) this.cache.authFailed()
    if (status === 401 || status === 403 || status === 404 || status === 410) this.forget()
    return answer
  }

  /** Keeps a decoded 200 when HTTP allows it; forgets the old one when it does not. */
  commit(answer: Answer): void {
    if (answer.cache || answer.statusCode !== 200 || this.cache.isDisabled) return
    const cc = parseCacheControl(header(answer.headers, 'cache-control'))
    const names = varyNames(answer.headers)
    const body = Buffer.from(answer.body, 'utf8')
    const why = cc['no-store'] ? 'no-store' : names === '*' ? 'Vary: *' : this.leaksSecret(answer.body) ? 'the body holds credentials' : undefined
    if (why) {
      this.cache.options.trace(`cache: not storing ${this.url.pathname} (${why})`)
      this.forget()
      return
    }
    const vary = Object.fromEntries((names as string[]).map((n) => [n, this.requestHeaders[n] ?? '']))
    const stored = this.cache.attempt(() => this.store.put({
      key: this.key,
      partition: this.partition,
      host: this.url.host,
      path: this.url.pathname,
      url: normalizeUrl(this.url),
      status: 200,
      headers: storedHeaders(answer.headers),
      vary,
      requestTime: this.requestTime || this.cache.now(),
      responseTime: this.cache.now(),
      body,
    }))
    if (stored === false) this.cache.options.trace(`cache: ${this.url.pathname} is larger than the whole cache, not stored`)
    else if (stored) this.cache.options.trace(`cache: stored ${this.url.pathname} (${body.byteLength} bytes)`)
  }

  private leaksSecret(body: string): boolean {
    if (SECRET_BODY.test(body)) return true
    return this.secrets().some((secret) => secret.length >= 8 && body.includes(secret))
  }

  /** After a failure: an old enough answer stands in, with a notice on stderr. */
  fallback(error: BflyError): Answer | undefined {
    const windowMs = this.cache.options.staleIfErrorMs
    const cause = fallbackCause(error)
    if (windowMs === undefined || !cause || !this.entry || this.cache.isDisabled) return undefined
    if (!staleIfErrorAllows(this.entry, this.cache.now(), windowMs)) {
      const age = currentAgeMs(this.entry.headers, this.entry, this.cache.now())
      this.cache.options.trace(`cache: the stored answer (${formatDuration(age)} old) may not stand in: older than ${formatDuration(windowMs)} or the server forbids it`)
      return undefined
    }
    const answer = this.answerFromEntry('stale')
    this.cache.options.notice({
      message: `served from cache, ${formatDuration(answer.cache!.ageMs)} old: ${cause}`,
      ageMs: answer.cache!.ageMs,
      url: this.url.href,
      cause: error.code,
    })
    return answer
  }

  private forget(): void {
    if (this.entry) this.cache.options.trace(`cache: dropped the stored answer of ${this.url.pathname}`)
    this.entry = undefined
    this.cache.attempt(() => this.store.delete(this.key))
  }
}

export interface ReadRequest {
  url: URL
  /** Request headers as sent (lower-case names), without credentials. */
  headers: Record<string, string>
  credentialSource?: CredentialSource
  /** The credential values sent, only to make sure no body that echoes them is stored. */
  secrets: () => string[]
}

/** Request headers that make the caller's own conditional or partial request: the cache stays out of it. */
const CALLER_CONTROLLED = ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range', 'range', 'cache-control', 'pragma']

export class HttpCache {
  private storePromise?: Promise<CacheStore | undefined>
  private disabled = false
  private reported = false

  constructor(readonly options: HttpCacheOptions) {}

  get path(): string {
    return join(this.options.stateDir, CACHE_FILE)
  }

  now(): number {
    return this.options.now()
  }

  get isDisabled(): boolean {
    return this.disabled
  }

  /** After a 401/403 nothing more is stored or served in this invocation. */
  authFailed(): void {
    if (!this.disabled) this.options.trace('cache: off for the rest of this command after a 401/403')
    this.disabled = true
  }

  /** A cache that cannot be used is a slower bfly, not a broken one. */
  problem(error: unknown): void {
    if (this.reported) return
    this.reported = true
    const message = `the read cache ${this.path} is unavailable: ${(error as Error)?.message ?? error}`
    this.options.trace(message)
    if (this.options.maxAgeMs !== undefined || this.options.staleIfErrorMs !== undefined) this.options.warn(`${message}; answering without it`)
  }

  attempt<T>(fn: () => T): T | undefined {
    try {
      return fn()
    } catch (error) {
      this.problem(error)
      return undefined
    }
  }

  private store(): Promise<CacheStore | undefined> {
    this.storePromise ??= CacheStore.open(this.path, {maxBytes: this.options.maxBytes, now: this.options.now}).catch((error) => {
      this.problem(error)
      return undefined
    })
    return this.storePromise
  }

  /** The cache's view of one GET, or undefined when this request bypasses the cache. */
  async read(request: ReadRequest): Promise<CachedRead | undefined> {
    if (this.disabled || hasSecretQuery(request.url)) return undefined
    if (CALLER_CONTROLLED.some((name) => request.headers[name] !== undefined)) return undefined
    const store = await this.store()
    if (!store) return undefined
    const source = request.credentialSource ?? 'anonymous'
    const session = source === 'keychain' || source === 'file' || source === 'client-credentials' ? await this.options.session() : undefined
    const partition = partitionOf({
      profile: this.options.profile,
      origin: request.url.origin,
      identity: credentialIdentity({source, env: this.options.env, session}),
      accept: request.headers.accept ?? 'application/json',
    })
    const key = entryKey(partition, normalizeUrl(request.url))
    return new CachedRead(this, store, key, partition, request.url, request.headers, request.secrets)
  }

  /** After a successful write: the cached reads it changed go, whoever's they were. */
  async written(url: URL, basePath: string, headers: Headers): Promise<void> {
    // Nothing was ever cached for this profile: no reason to create the file now.
    if (!this.storePromise && !existsSync(this.path)) return
    const store = await this.store()
    if (!store) return
    const {paths, prefixes} = invalidatedBy(url, basePath, headers)
    const removed = this.attempt(() => store.invalidate(url.host, paths, prefixes))
    if (removed) this.options.trace(`cache: the write made ${removed} cached ${removed === 1 ? 'read' : 'reads'} stale`)
  }
}

/** Reads --max-age / --stale-if-error and the profile's fallback settings. */
export async function createHttpCache(ctx: Context): Promise<HttpCache> {
  const settings = await ctx.settings()
  const flag = (name: string) => {
    const value = ctx.flags[name]
    return value === undefined || value === null || value === '' ? undefined : parseDuration(String(value), `--${name}`)
  }
  const maxAgeMs = flag('max-age')
  let staleIfErrorMs = flag('stale-if-error')
  if (staleIfErrorMs === undefined && settings.fallback === 'cache') staleIfErrorMs = settings.cacheTtlMs
  return new HttpCache({
    stateDir: ctx.stateDir,
    profile: ctx.profile,
    env: ctx.env,
    now: ctx.now,
    trace: (line) => ctx.trace(line),
    warn: (message) => ctx.warn(message),
    notice: (notice) => {
      if (ctx.json) ctx.io.err(JSON.stringify({warning: notice.message, cache: {state: 'stale', ageMs: notice.ageMs, url: notice.url, cause: notice.cause}}))
      else ctx.warn(notice.message)
    },
    session: async () => (await ctx.store()).session(ctx.profile),
    maxAgeMs,
    staleIfErrorMs,
  })
}
