// The HTTP core: the one got.extend of the project. Every API request goes through it:
// timeouts, retries with full jitter, Retry-After, the shared token bucket, the per-host
// circuit breaker, contract headers, envelope decoding, redacted --verbose trace.
import {randomBytes, randomUUID} from 'node:crypto'
import {performance} from 'node:perf_hooks'
import type {Got, Options, RequestError, Response} from 'got'
import type {Context} from '../context.js'
import {ApiError, BadResponseError, BflyError, CircuitOpenError, Interrupted, RateLimitError, UsageError} from '../errors.js'
import {DEFAULT_BACKOFF, type BackoffPolicy, fullJitterDelay, parseRetryAfter} from '../resilience/backoff.js'
import {CircuitStore} from '../resilience/circuit-breaker.js'
import {sleep} from '../resilience/sleep.js'
import {type ApiClass, parseServerBudget, TokenBucketStore} from '../resilience/token-bucket.js'
import {formatDuration} from '../values.js'
import type {Credentials} from '../auth/credentials.js'
import {type Answer, type CacheState, createHttpCache, type HttpCache} from '../cache/http-cache.js'
import {apiErrorFrom, credentialsAllowed, decodeJson, networkErrorFrom, proxyFailure, proxyFor, redactProxy, trustedCas, tunnelAgent} from './network.js'
import {redactBody, redactHeaders, redactUrl} from './redact.js'

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS'

export interface RequestSpec {
  method?: Method
  /** Path relative to the API base URL (may carry a query string), or an absolute URL on the same origin. */
  path: string
  query?: Record<string, string | number | boolean | undefined>
  json?: unknown
  body?: string
  headers?: Record<string, string>
  idempotencyKey?: string
  apiClass?: ApiClass
  /** Send credentials (default true). */
  auth?: boolean
  /** Return any status and the raw body instead of decoding/throwing (`bfly api`). */
  raw?: boolean
  /**
   * What cancels this request; default: the invocation's Ctrl-C signal. `null` lets it finish:
   * a bulk operation stops starting new items on Ctrl-C but lets the in-flight ones complete.
   */
  signal?: AbortSignal | null
  /**
   * One page of a multi-page walk (`--all`, `--limit`). Such GETs go through the lean
   * transport (page-transport.ts, same rules) and bypass the read cache: a walk of a
   * million items must not fill it, and a stale page could not be told from a fresh one.
   */
  paged?: boolean
  /**
   * For a page of a walk: called once its 2xx response has arrived, before it is decoded, so
   * the walk can ask for the next page while this one is parsed and written. Awaited.
   */
  onReceived?: () => Promise<void> | void
}

export interface Meta {
  requestId?: string
  timestamp?: string
  pagination?: {page: number; size: number; totalElements: number; totalPages: number}
  [key: string]: unknown
}

export interface ApiResponse<T = unknown> {
  status: number
  headers: Record<string, string | string[] | undefined>
  data: T
  meta?: Meta
  requestId: string
  body: string
  /** `Idempotent-Replayed: true`: the server answered a replayed idempotent POST. */
  replayed: boolean
  url: string
  /** Set when the read cache answered (fresh, within --max-age, after a 304, or stale after a failure). */
  cache?: {state: CacheState; ageMs: number}
}

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504])
const RETRY_CODES = new Set(['ETIMEDOUT', 'ECONNRESET', 'EADDRINUSE', 'ECONNREFUSED', 'EPIPE', 'ENOTFOUND', 'ENETUNREACH', 'EAI_AGAIN', 'EHOSTUNREACH', 'ESOCKETTIMEDOUT'])
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'])
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS'])

/** Per logical request; survives got's retries (carried in options.context). */
export interface Attempts {
  requestId: string
  method: string
  host: string
  apiClass: ApiClass
  attempt: number
  startedAt: number
  credentials?: Credentials
  /** Credential values sent, kept only so the read cache can refuse a body that echoes one. */
  secrets?: string[]
  refreshed: boolean
  /** An error of ours raised inside a hook; got wraps it, we rethrow it as is. */
  fatal?: BflyError
  retryAfterTooLongMs?: number
  lastDelayMs?: number
  signal?: AbortSignal
}

export interface ClientDeps {
  ctx: Context
  /** got, loaded when a request needs it (a walk's pages do not). */
  got: () => Promise<Got>
  breaker: CircuitStore
  bucket: TokenBucketStore
  backoff?: BackoffPolicy
  random?: () => number
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  /** The read cache (GETs stored, revalidated, stale fallback; writes invalidate). */
  cache?: HttpCache
}

export function defaultApiClass(method: string, path: string): ApiClass {
  if (/^\/?integrations\/[^/]+\/circuit\//.test(path)) return 'admin'
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS' ? 'query' : 'write'
}

/** got has no default timeout: every phase gets one, and --timeout bounds the whole request. */
export function requestTimeouts(timeoutMs: number | undefined): Options['timeout'] {
  return timeoutMs === undefined
    ? {lookup: 10_000, connect: 10_000, secureConnect: 10_000, send: 30_000, response: 30_000, request: 120_000}
    : {request: timeoutMs}
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v[0] : v
}

export class ApiClient {
  readonly baseUrl: URL
  private readonly ctx: Context
  private gotPromise?: Promise<Got>
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>
  /** The ca-file's certificates with the default roots, for the API and for an https proxy. */
  private readonly cas?: string[]
  private pages?: Promise<typeof import('./page-transport.js')>
  private pageRules?: import('./page-transport.js').AttemptRules<Attempts>
  /** Span ids are cut from a pool of random bytes: one CSPRNG call per 64 requests, not per request. */
  private spanPool?: Buffer
  private spanOffset = 0
  /** The proxy agents of walks, kept for the next page (see walkAgent). */
  private readonly walkAgents = new Map<string, Promise<Options['agent']>>()

  constructor(
    baseUrl: string,
    private readonly deps: ClientDeps,
    private readonly options: {retries: number; maxRetryAfterMs: number; timeoutMs?: number; caFile?: string},
  ) {
    this.baseUrl = new URL(baseUrl.endsWith('/') ? baseUrl : baseUrl + '/')
    this.ctx = deps.ctx
    this.sleep = deps.sleep ?? sleep
    this.cas = trustedCas(options.caFile)
  }

  get host(): string {
    return this.baseUrl.host
  }

  breaker(): CircuitStore {
    return this.deps.breaker
  }

  private client(): Promise<Got> {
    this.gotPromise ??= this.deps.got().then((got) => this.extend(got))
    return this.gotPromise
  }

  private extend(got: Got): Got {
    const state = (options: {context: Record<string, unknown>}) => options.context.bfly as Attempts
    return got.extend({
      timeout: requestTimeouts(this.options.timeoutMs),
      ...(this.cas ? {https: {certificateAuthority: this.cas}} : {}),
      responseType: 'text',
      throwHttpErrors: true,
      followRedirect: true,
      maxRedirects: 5,
      headers: this.defaultHeaders(),
      retry: {
        limit: this.options.retries,
        methods: ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'POST', 'PATCH'],
        statusCodes: [...RETRY_STATUS],
        errorCodes: [...RETRY_CODES],
        calculateDelay: async ({attemptCount, error, retryAfter, computedValue}) => {
          // retryWithMergedOptions (the 401 → refresh → retry hook) surfaces as a RetryError: always honoured.
          if (error.name === 'RetryError') return computedValue
          const idempotencyKey = Boolean(headerValue(error.options.headers as never, 'idempotency-key'))
          return this.retryDelay(state(error.options as never), attemptCount, error, retryAfter, idempotencyKey)
        },
      },
      hooks: {
        beforeRequest: [
          async (options) => {
            const target = options.url instanceof URL ? options.url : new URL(String(options.url))
            await this.beforeAttempt(state(options as never), target, options.headers as Record<string, string>, options.body)
          },
        ],
        afterResponse: [
          async (response, retryWithMergedOptions) => {
            const st = state(response.request.options as never)
            const refreshed = await this.afterAttempt(st, response)
            return refreshed ? retryWithMergedOptions({headers: await st.credentials!.headers()}) : response
          },
        ],
        beforeRedirect: [
          (options, response) => {
            const to = options.url instanceof URL ? options.url : new URL(String(options.url))
            this.beforeRedirect(new URL(response.url), to, options.headers as Record<string, unknown>)
          },
        ],
      },
    })
  }

  /** Sent with every request, whichever transport carries it. */
  private defaultHeaders(): Record<string, string> {
    return {
      'user-agent': `bfly/${this.ctx.version} (${process.platform}; node/${process.versions.node})`,
      accept: 'application/json',
      'x-correlation-id': this.ctx.correlationId,
    }
  }

  /**
   * The delay before retry `attemptCount` (0: give up), where got's own retry rules (limit,
   * methods, status codes, error codes, a Retry-After within the request timeout) allow one.
   * A failure without a response counts against the circuit.
   */
  private async retryDelay(st: Attempts, attemptCount: number, error: {name: string; code?: string; message: string; response?: {statusCode: number}}, retryAfter: number | undefined, idempotencyKey: boolean): Promise<number> {
    const {ctx} = this
    if (st.fatal) return 0
    const response = error.response
    // A proxy that refuses or is down says nothing about the API: its circuit stays as it is.
    if (!response && !proxyFailure(error)) await this.deps.breaker.failure(st.host, error.code ?? error.message)
    if (attemptCount > this.options.retries) return 0
    const method = st.method
    const idempotent = IDEMPOTENT.has(method) || ((method === 'POST' || method === 'PATCH') && idempotencyKey)
    if (!idempotent) return 0
    const retryable = response ? RETRY_STATUS.has(response.statusCode) : RETRY_CODES.has(error.code ?? '') || error.name === 'TimeoutError'
    if (!retryable) return 0
    let delay: number
    if (retryAfter !== undefined && response) {
      if (retryAfter > this.options.maxRetryAfterMs) {
        st.retryAfterTooLongMs = retryAfter
        return 0
      }
      delay = Math.max(1, retryAfter)
    } else delay = fullJitterDelay(attemptCount, this.deps.backoff ?? DEFAULT_BACKOFF, this.deps.random ?? Math.random)
    st.lastDelayMs = delay
    const reason = response ? `HTTP ${response.statusCode}` : error.code ?? error.message
    ctx.trace(`retry ${attemptCount}/${this.options.retries} of ${st.requestId} in ${formatDuration(delay)} (${reason}${retryAfter !== undefined && response ? ', Retry-After' : ''})`)
    return delay
  }

  /** Before every attempt and redirect hop: breaker, bucket, credentials, a new span, the trace. */
  private async beforeAttempt(st: Attempts, target: URL, headers: Record<string, string>, body?: unknown): Promise<void> {
    const {ctx} = this
    st.attempt++
    try {
      const admission = await this.deps.breaker.admit(st.host)
      if (!admission.allowed) throw new CircuitOpenError(st.host, admission.retryInMs)
      if (admission.circuit.state === 'half-open') ctx.trace(`circuit half-open for ${st.host}: sending a probe`)
      const maxWait = this.options.timeoutMs ?? 30_000
      const wait = await this.deps.bucket.take(st.host, st.apiClass, maxWait)
      if (wait > 0) {
        ctx.trace(`${st.apiClass} budget: waiting ${formatDuration(wait)} before ${st.requestId}`)
        await this.sleep(wait, st.signal)
      }
      // Redirects pass through here too: credentials only ever go to the API origin.
      if (st.credentials && target.origin === this.baseUrl.origin) {
        const credentialHeaders = await st.credentials.headers()
        st.secrets = Object.values(credentialHeaders).map((v) => v.replace(/^(Bearer|Basic|DPoP)\s+/i, ''))
        Object.assign(headers, credentialHeaders)
      }
    } catch (error) {
      st.fatal = error instanceof BflyError ? error : new BadResponseError(String((error as Error).message ?? error))
      throw st.fatal
    }
    if (this.spanPool === undefined || this.spanOffset === this.spanPool.length) {
      this.spanPool = randomBytes(512)
      this.spanOffset = 0
    }
    headers.traceparent = `00-${ctx.traceId}-${this.spanPool.toString('hex', this.spanOffset, (this.spanOffset += 8))}-01`
    st.startedAt = performance.now()
    if (ctx.verbose) {
      ctx.trace(`→ ${st.method} ${redactUrl(String(target))} ${st.requestId}${st.attempt > 1 ? ` (attempt ${st.attempt})` : ''}`)
      ctx.trace(`  ${JSON.stringify(redactHeaders(headers))}`)
      if (typeof body === 'string' && body) ctx.trace(`  body ${redactBody(body).slice(0, 2000)}`)
    }
  }

  /**
   * After every final response of an attempt: trace, bucket, breaker. True when a 401 may just
   * mean the access token expired early and one forced refresh worked: send it again.
   */
  private async afterAttempt(st: Attempts, response: {statusCode: number; headers: Record<string, string | string[] | undefined>; url: string}): Promise<boolean> {
    const {ctx} = this
    if (ctx.verbose) {
      const ms = performance.now() - st.startedAt
      ctx.trace(`← ${response.statusCode} ${st.method} ${redactUrl(response.url)} in ${ms.toFixed(1)} ms (${headerValue(response.headers, 'x-request-id') ?? st.requestId})`)
    }
    await this.deps.bucket.observe(st.host, st.apiClass, parseServerBudget(response.headers))
    if (response.statusCode >= 500) await this.deps.breaker.failure(st.host, `HTTP ${response.statusCode}`)
    else await this.deps.breaker.success(st.host)
    if (response.statusCode === 401 && st.credentials?.refresh && !st.refreshed) {
      st.refreshed = true
      ctx.trace('401: refreshing the session once and retrying')
      return st.credentials.refresh()
    }
    return false
  }

  /** got drops Authorization across origins but not X-API-Key or cookies: credentials never follow a redirect elsewhere. */
  private beforeRedirect(from: URL, to: URL, headers: Record<string, unknown>): void {
    if (from.origin === to.origin) return
    for (const name of Object.keys(headers)) {
      if (['authorization', 'x-api-key', 'cookie', 'proxy-authorization'].includes(name.toLowerCase())) delete headers[name]
    }
    this.ctx.trace(`redirect to another origin ${to.origin}: credentials dropped`)
  }

  url(path: string, query?: RequestSpec['query']): URL {
    const url = /^https?:\/\//i.test(path) ? new URL(path) : new URL(path.replace(/^\/+/, ''), this.baseUrl)
    if (url.origin !== this.baseUrl.origin) throw new UsageError(`refusing to send a request to ${url.origin}: not the API origin ${this.baseUrl.origin}`)
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value))
    }
    return url
  }

  async request<T = unknown>(spec: RequestSpec): Promise<ApiResponse<T>> {
    const {ctx} = this
    const method = spec.method ?? 'GET'
    const url = this.url(spec.path, spec.query)
    const auth = spec.auth ?? true
    const credentials = auth ? await ctx.credentials() : undefined
    if (credentials && !credentialsAllowed(url)) {
      throw new UsageError(`refusing to send credentials over plain http to ${url.host}`, {hint: 'use an https:// API URL (plain http is allowed for loopback only)'})
    }
    const st: Attempts = {
      requestId: `req-${randomUUID()}`,
      method,
      host: url.host,
      apiClass: spec.apiClass ?? defaultApiClass(method, url.pathname.slice(this.baseUrl.pathname.length - 1)),
      attempt: 0,
      startedAt: performance.now(),
      credentials,
      refreshed: false,
      signal: spec.signal === undefined ? ctx.signal : spec.signal ?? undefined,
    }
    const headers: Record<string, string> = {'x-request-id': st.requestId, ...spec.headers}
    if (spec.idempotencyKey) headers['idempotency-key'] = spec.idempotencyKey
    let body: string | undefined = spec.body
    if (spec.json !== undefined) {
      body = JSON.stringify(spec.json)
      headers['content-type'] = 'application/json'
    }
    const paged = spec.paged === true && method === 'GET' && !spec.raw
    const read = method === 'GET' && !paged && this.deps.cache
      ? await this.deps.cache.read({
        url,
        headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
        credentialSource: credentials?.source,
        secrets: () => st.secrets ?? [],
      })
      : undefined
    // Fresh by the server's Cache-Control, or young enough for --max-age: no request at all
    // (so no breaker, no rate budget).
    const reused = read?.reuse()
    if (reused) return this.decode<T>(spec, method, url, reused, st.requestId)
    if (read) Object.assign(headers, read.validators())
    const proxy = proxyFor(url, ctx.env)
    const agent = proxy ? await (paged ? this.walkAgent(url, proxy) : proxyAgent(url, proxy, this.cas)) : undefined
    if (proxy) ctx.trace(`through the proxy ${redactProxy(proxy)}`)
    let answer: Answer
    // Ctrl-C aborts the request and any pending retry.
    try {
      if (paged) answer = await this.pagedGet(url, headers, st, agent, spec.onReceived)
      else {
        const response = (await (await this.client())(url, {
          method,
          headers,
          body,
          context: {bfly: st},
          signal: st.signal,
          throwHttpErrors: !spec.raw,
          ...(spec.raw ? {retry: {limit: 0}} : {}),
          ...(agent ? {agent} : {}),
        } as never)) as Response<string>
        answer = {statusCode: response.statusCode, headers: response.headers, body: response.body, url: response.url}
      }
    } catch (error) {
      const failure = this.translate(error as RequestError, st, url)
      // --stale-if-error / fallback: cache — network down, 5xx after the retries, circuit open.
      const stale = read?.fallback(failure)
      if (stale) return this.decode<T>(spec, method, url, stale, st.requestId)
      if (read && failure.status !== undefined) read.settle({statusCode: failure.status, headers: {}, body: '', url: url.href})
      throw failure
    }
    if (read) {
      // `bfly api` gets 5xx back instead of an error; the fallback applies all the same.
      const stale = spec.raw && answer.statusCode >= 500 ? read.fallback(apiErrorFrom(answer.statusCode, answer.body, answer.headers, url.host)) : undefined
      if (stale) return this.decode<T>(spec, method, url, stale, st.requestId)
      answer = read.settle(answer)
    }
    const result = this.decode<T>(spec, method, url, answer, st.requestId)
    // Stored only once it decoded: an HTML page or a truncated body never becomes a fallback.
    read?.commit(answer)
    if (!SAFE.has(method) && answer.statusCode < 400) await this.deps.cache?.written(url, this.baseUrl.pathname, answer.headers)
    return result
  }

  /**
   * The pages of a walk through a proxy share one agent that keeps its connection: one tunnel
   * (CONNECT, and TLS to the API) for the walk instead of one a page. Its idle socket does not
   * keep the process alive (node's agents unref it).
   */
  private walkAgent(url: URL, proxy: string): Promise<Options['agent']> {
    const key = `${proxy} ${url.protocol}//${url.host}`
    let agent = this.walkAgents.get(key)
    if (!agent) {
      agent = proxyAgent(url, proxy, this.cas, true)
      this.walkAgents.set(key, agent)
    }
    return agent
  }

  /** A walk's page through the lean transport, under the rules got's hooks apply (see page-transport.ts). */
  private async pagedGet(url: URL, headers: Record<string, string>, st: Attempts, agent: Options['agent'] | undefined, received?: () => Promise<void> | void): Promise<Answer> {
    this.pages ??= import('./page-transport.js')
    const transport = await this.pages
    const response = await transport.pagedGet({
      url,
      headers: {...this.defaultHeaders(), ...headers, 'accept-encoding': transport.ACCEPT_ENCODING},
      state: st,
      rules: (this.pageRules ??= {
        before: (state, target, sent) => this.beforeAttempt(state, target, sent),
        after: (state, exchange) => this.afterAttempt(state, exchange),
        redirect: (_state, from, to, sent) => this.beforeRedirect(from, to, sent),
        retryDelay: (state, attemptCount, error, retryAfter) => this.retryDelay(state, attemptCount, error, retryAfter, false),
        sleep: this.sleep,
      }),
      retries: this.options.retries,
      retryStatus: RETRY_STATUS,
      retryCodes: RETRY_CODES,
      timeouts: requestTimeouts(this.options.timeoutMs) as import('./page-transport.js').Timeouts,
      agent: (agent?.https ?? agent?.http) as import('node:http').Agent | undefined,
      ca: this.cas,
      signal: st.signal,
      received,
    })
    return {statusCode: response.statusCode, headers: response.headers, body: response.body, url: response.url}
  }

  private decode<T>(spec: RequestSpec, method: string, url: URL, response: Answer, ownRequestId: string): ApiResponse<T> {
    const requestId = headerValue(response.headers, 'x-request-id') ?? ownRequestId
    const replayed = headerValue(response.headers, 'idempotent-replayed') === 'true'
    const base = {status: response.statusCode, headers: response.headers, requestId, body: response.body, replayed, url: response.url, ...(response.cache ? {cache: response.cache} : {})}
    if (spec.raw) return {...base, data: response.body as T}
    if (response.statusCode === 204 || method === 'HEAD' || response.body === '') {
      if (response.body === '' && response.statusCode !== 204 && method !== 'HEAD' && method !== 'DELETE') {
        throw new BadResponseError(`HTTP ${response.statusCode} from ${url.host} with an empty body where JSON was expected`, {status: response.statusCode, requestId})
      }
      return {...base, data: undefined as T}
    }
    const decoded = decodeJson(response.body, headerValue(response.headers, 'content-type'))
    if (decoded.problem) {
      throw new BadResponseError(`unreadable response from ${url.host}: HTTP ${response.statusCode} with ${decoded.problem}`, {status: response.statusCode, requestId})
    }
    // `/api/v1/*` answers in the envelope; the operational endpoints answer bare documents.
    if (/\/api\/v1\//.test(url.pathname)) {
      const envelope = decoded.json as {data?: unknown; meta?: Meta}
      if (!envelope || typeof envelope !== 'object' || !('data' in envelope)) {
        throw new BadResponseError(`unreadable response from ${url.host}: HTTP ${response.statusCode} without the "data" envelope`, {status: response.statusCode, requestId})
      }
      return {...base, data: envelope.data as T, meta: envelope.meta, requestId: envelope.meta?.requestId ?? requestId}
    }
    return {...base, data: decoded.json as T}
  }

  private translate(error: RequestError, st: Attempts, url: URL): BflyError {
    if (st.fatal) return st.fatal
    if (error instanceof BflyError) return error
    if (st.signal?.aborted || error.name === 'AbortError' || error.name === 'CancelError') {
      return new Interrupted(`interrupted: ${st.method} ${url.pathname} did not finish`)
    }
    const cause = error.cause
    if (cause instanceof BflyError) return cause
    const response = error.response as Response<string> | undefined
    if (response) {
      const decoded = apiErrorFrom(response.statusCode, String(response.body ?? ''), response.headers, url.host)
      const retryAfterMs = parseRetryAfter(response.headers['retry-after'])
      const retries = st.attempt - 1
      if (response.statusCode === 429) {
        const wait = st.retryAfterTooLongMs ?? retryAfterMs
        const message = st.retryAfterTooLongMs !== undefined
          ? `rate limited, retry after ${Math.ceil(st.retryAfterTooLongMs / 1000)} s`
          : `rate limited: still 429 after ${retries} ${retries === 1 ? 'retry' : 'retries'}${wait !== undefined ? `, retry after ${Math.ceil(wait / 1000)} s` : ''}`
        return new RateLimitError(message, {requestId: decoded.requestId, retryAfterMs: wait, hint: wait !== undefined ? `retry after ${Math.ceil(wait / 1000)} s` : 'slow down and retry later'})
      }
      if (decoded instanceof ApiError && response.statusCode >= 500) {
        const suffix = st.retryAfterTooLongMs !== undefined
          ? `; the server asks to retry after ${Math.ceil(st.retryAfterTooLongMs / 1000)} s`
          : retries > 0 ? ` (after ${retries} ${retries === 1 ? 'retry' : 'retries'})` : ''
        return new ApiError(`${decoded.message}${suffix}`, {code: decoded.code, status: decoded.status!, requestId: decoded.requestId, details: decoded.details, retryAfterMs})
      }
      if (response.statusCode === 401 && st.credentials && st.credentials.source !== 'env' && st.credentials.source !== 'api-key') {
        return new ApiError(`${decoded.message} (the session was refreshed and still refused)`, {code: decoded.code, status: 401, requestId: decoded.requestId, hint: 'run `bfly login`'})
      }
      return decoded
    }
    const timeout = error.name === 'TimeoutError' ? this.options.timeoutMs : undefined
    return networkErrorFrom({code: error.code === 'ERR_GOT_REQUEST_ERROR' ? (cause as {code?: string})?.code : error.code, message: (cause as Error)?.message ?? error.message}, url.host, timeout, proxyFor(url, this.ctx.env))
  }
}

/** got's agent option for `url` through `proxy` (see tunnelAgent). */
export async function proxyAgent(url: URL, proxy: string, ca?: string[], keepAlive = false): Promise<Options['agent']> {
  const agent = await tunnelAgent(url, proxy, ca, keepAlive)
  return url.protocol === 'https:' ? {https: agent as import('node:https').Agent} : {http: agent}
}

export async function createApiClient(ctx: Context): Promise<ApiClient> {
  const settings = await ctx.settings()
  const baseUrl = await ctx.apiUrl()
  const breaker = new CircuitStore(ctx.stateDir, {...settings.breaker, probeTimeoutMs: settings.timeoutMs ?? 60_000}, ctx.now)
  const bucket = new TokenBucketStore(ctx.stateDir, undefined, ctx.now)
  const backoff = ctx.env.BFLY_RETRY_BASE_MS ? {...DEFAULT_BACKOFF, baseMs: Math.max(1, Number(ctx.env.BFLY_RETRY_BASE_MS) || 1000)} : DEFAULT_BACKOFF
  const cache = await createHttpCache(ctx)
  return new ApiClient(baseUrl, {ctx, got: async () => (await import('../vendor/got.js')).default, breaker, bucket, backoff, cache}, {
    retries: settings.retries,
    maxRetryAfterMs: settings.maxRetryAfterMs,
    timeoutMs: settings.timeoutMs,
    caFile: settings.caFile,
  })
}
