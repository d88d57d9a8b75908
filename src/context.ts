// Everything a command needs, built once per invocation by the base command and passed
// down: streams, environment, clock, profile, settings, the API client. Nothing here is
// module state, so tests build their own.
import {randomBytes, randomUUID} from 'node:crypto'
import {join} from 'node:path'
import {UsageError} from './errors.js'
import type {IO} from './output/io.js'
import {ProfileStore, type Resolved, resolveSetting, SETTINGS, validateProfileName} from './settings.js'
import {parseDuration} from './values.js'
import type {ApiClient} from './api/client.js'
import type {Credentials} from './auth/credentials.js'

export interface GlobalFlags {
  profile?: string
  'api-url'?: string
  json?: boolean
  ndjson?: boolean
  verbose?: boolean
  timeout?: string
  retries?: number
  'correlation-id'?: string
  'no-color'?: boolean
  columns?: string
  [key: string]: unknown
}

export interface ContextOptions {
  io: IO
  env: NodeJS.ProcessEnv
  flags: GlobalFlags
  configDir: string
  version: string
  signal: AbortSignal
  now?: () => number
}

export interface EffectiveSettings {
  apiUrl?: string
  issuer?: string
  clientId: string
  scopes?: string
  timeoutMs?: number
  retries: number
  maxRetryAfterMs: number
  fallback: 'none' | 'cache'
  cacheTtlMs: number
  breaker: {failureThreshold: number; cooldownMs: number; successThreshold: number}
  caFile?: string
  origins: Record<string, Resolved>
}

export class Context {
  readonly io: IO
  readonly env: NodeJS.ProcessEnv
  readonly flags: GlobalFlags
  readonly configDir: string
  readonly profile: string
  readonly profileOrigin: 'flag' | 'env' | 'default'
  readonly version: string
  readonly signal: AbortSignal
  readonly now: () => number
  readonly correlationId: string
  /** One W3C trace per invocation; each request gets its own span. */
  readonly traceId: string
  private storePromise?: Promise<ProfileStore>
  private settingsPromise?: Promise<EffectiveSettings>
  private apiPromise?: Promise<ApiClient>
  private credentialsPromise?: Promise<Credentials>
  private readonly unfinished = new Set<Promise<unknown>>()

  constructor(options: ContextOptions) {
    this.io = options.io
    this.env = options.env
    this.flags = options.flags
    this.configDir = options.configDir
    this.version = options.version
    this.signal = options.signal
    this.now = options.now ?? Date.now
    if (options.flags.profile) {
      this.profile = validateProfileName(options.flags.profile)
      this.profileOrigin = 'flag'
    } else if (options.env.BFLY_PROFILE) {
      this.profile = validateProfileName(options.env.BFLY_PROFILE)
      this.profileOrigin = 'env'
    } else {
      this.profile = 'default'
      this.profileOrigin = 'default'
    }
    const correlation = options.flags['correlation-id']
    if (correlation !== undefined && !/^[\x21-\x7E]{1,128}$/.test(correlation)) {
      throw new UsageError('invalid --correlation-id: 1-128 visible ASCII characters')
    }
    this.correlationId = correlation ?? `cor-${randomUUID()}`
    this.traceId = randomBytes(16).toString('hex')
  }

  get verbose(): boolean {
    return Boolean(this.flags.verbose)
  }

  get json(): boolean {
    return Boolean(this.flags.json)
  }

  /** A line of the --verbose trace on stderr (callers redact). */
  trace(line: string): void {
    if (this.verbose) this.io.err(this.io.paint(`* ${line}`, 'dim'))
  }

  warn(message: string): void {
    if (this.json) this.io.err(JSON.stringify({warning: message}))
    else this.io.err(`${this.io.paint('warning', 'yellow')}: ${message}`)
  }

  /** Where state shared by the invocations of one profile lives (breakers, buckets, locks). */
  get stateDir(): string {
    return join(this.configDir, 'state', this.profile)
  }

  store(): Promise<ProfileStore> {
    this.storePromise ??= ProfileStore.open(this.configDir)
    return this.storePromise
  }

  settings(): Promise<EffectiveSettings> {
    this.settingsPromise ??= this.resolveSettings()
    return this.settingsPromise
  }

  private async resolveSettings(): Promise<EffectiveSettings> {
    const store = await this.store()
    const sources = {flags: this.flags as Record<string, unknown>, env: this.env, profile: store.settings(this.profile)}
    const origins: Record<string, Resolved> = {}
    for (const spec of SETTINGS) {
      const resolved = resolveSetting(spec.key, sources)
      if (resolved.value !== undefined && resolved.origin !== 'default') spec.validate(resolved.value)
      origins[spec.key] = resolved
    }
    const value = (key: string) => origins[key].value
    return {
      apiUrl: value('api-url')?.replace(/\/+$/, ''),
      issuer: value('issuer'),
      clientId: value('client-id') ?? 'bfly-cli',
      scopes: value('scopes'),
      timeoutMs: value('timeout') === undefined ? undefined : parseDuration(value('timeout')!, 'timeout'),
      retries: Number(value('retries') ?? 3),
      maxRetryAfterMs: parseDuration(value('max-retry-after') ?? '30s', 'max-retry-after'),
      fallback: (value('fallback') ?? 'none') as 'none' | 'cache',
      cacheTtlMs: parseDuration(value('cache-ttl') ?? '15m', 'cache-ttl'),
      breaker: {
        failureThreshold: Number(value('circuit-failure-threshold') ?? 5),
        cooldownMs: parseDuration(value('circuit-cooldown') ?? '60s', 'circuit-cooldown'),
        successThreshold: Number(value('circuit-success-threshold') ?? 2),
      },
      caFile: value('ca-file'),
      origins,
    }
  }

  async apiUrl(): Promise<string> {
    const {apiUrl} = await this.settings()
    if (!apiUrl) {
      throw new UsageError('no API URL configured', {hint: 'pass --api-url, set BFLY_API_URL, or run `bfly config set api-url https://…`'})
    }
    return apiUrl
  }

  credentials(): Promise<Credentials> {
    this.credentialsPromise ??= import('./auth/credentials.js').then((m) => m.resolveCredentials(this))
    return this.credentialsPromise
  }

  /**
   * Work that must complete even after Ctrl-C, e.g. storing a refresh token the server has
   * just rotated (losing it would end the session). The command waits for it before exiting.
   */
  mustFinish<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(() => {}, () => {})
    this.unfinished.add(settled)
    void settled.then(() => this.unfinished.delete(settled))
    return work
  }

  /** Resolves when everything passed to mustFinish has settled. */
  async finishPending(): Promise<void> {
    await Promise.all([...this.unfinished])
  }

  /** Forget resolved credentials (after login/logout within one invocation). */
  resetCredentials(): void {
    this.credentialsPromise = undefined
  }

  api(): Promise<ApiClient> {
    this.apiPromise ??= import('./api/client.js').then((m) => m.createApiClient(this))
    return this.apiPromise
  }
}
