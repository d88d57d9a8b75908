// The transport of the GETs of a multi-page walk (`--all`, `--limit`): node:http(s) driven
// directly, under the same rules as every other request. The client (client.ts) owns those
// rules and runs them through `AttemptRules` exactly where got runs its hooks: circuit breaker
// and token bucket before every attempt and redirect hop, credentials to the API origin only,
// a new span per attempt, the --verbose trace, bucket and breaker after every response, one
// session refresh on a 401, the retry policy and Retry-After, and the same error decoding.
// What is left here is moving bytes: headers, timeouts, redirects, decompression.
//
// Why not got for these: measured with scripts/bench/pagination.js (100,000 capsules, 1000
// pages of 100 from a loopback server, 2 cores), a bare got loop fetching the pages needs
// 1.7-1.9× the CPU of a bare undici loop and peaks at 165-180 MB of RSS (undici: ~100 MB), so
// got alone misses both goals of the walk (≥ 0.8× undici's throughput, ≤ 100 MB). A walk now
// never loads got at all. node:http rather than undici: on the same pages a bare node:http
// loop took 0.9-1.07 s and peaked at ~75 MB, undici 1.05-1.4 s and ~100 MB; node:http is built
// in (~5 ms to load where undici costs ~100 ms of start-up), hpagent's proxy agents are
// node:http agents, and nock sees node:http requests, so command tests cover this path too.
import type {Agent, ClientRequest, IncomingHttpHeaders, IncomingMessage} from 'node:http'
import {createRequire} from 'node:module'
import type {Socket} from 'node:net'

// Required, not imported: the ES module facade of node:http reads every export, and one of
// them loads Node's bundled undici (40-70 ms of start-up for nothing). node:https (with
// node:tls) and node:zlib load when first needed, for an https URL or a compressed body:
// together ~10 ms and ~8 MB of RSS that a walk over plain http without compression never uses.
const require = createRequire(import.meta.url)
const {request: httpRequest} = require('node:http') as typeof import('node:http')
let httpsRequest: typeof import('node:https').request | undefined
const https = () => (httpsRequest ??= (require('node:https') as typeof import('node:https')).request)
let zlibModule: typeof import('node:zlib') | undefined
const loadZlib = () => (zlibModule ??= require('node:zlib') as typeof import('node:zlib'))

/** Phase timeouts in ms, as got's `timeout` option (`send` has nothing to time on a GET). */
export interface Timeouts {
  lookup?: number
  connect?: number
  secureConnect?: number
  response?: number
  request?: number
}

/** One HTTP exchange: the final response of an attempt, body decoded as UTF-8. */
export interface Exchange {
  statusCode: number
  headers: IncomingHttpHeaders
  body: string
  url: string
}

/**
 * A failure in got's shape (name, code, cause, and `response` for an HTTP error status), so
 * that the client's error decoding and retry policy read both transports alike.
 */
export class TransportError extends Error {
  code?: string
  response?: Exchange
  constructor(name: string, message: string, options: {code?: string; cause?: unknown; response?: Exchange} = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = name
    this.code = options.code
    this.response = options.response
  }
}

/** What the client decides around each attempt (got's hooks and retry options, shared). */
export interface AttemptRules<S> {
  /** got's beforeRequest: attempt count, breaker, bucket, credentials, span, trace. Throws to stop. */
  before(state: S, url: URL, headers: Record<string, string>): Promise<void>
  /**
   * got's afterResponse: trace, bucket, breaker, and a 401 answered by one session refresh:
   * resolves true when the request should be sent again with the refreshed credentials.
   */
  after(state: S, response: Exchange): Promise<boolean>
  /** got's beforeRedirect: credentials never follow a redirect to another origin. */
  redirect(state: S, from: URL, to: URL, headers: Record<string, string>): void
  /** got's calculateDelay (called only where got's own retry rules allow a retry): ms, 0 = give up. */
  retryDelay(state: S, attemptCount: number, error: TransportError, retryAfter: number | undefined): Promise<number>
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

export interface PagedGetOptions<S> {
  url: URL
  headers: Record<string, string>
  state: S
  rules: AttemptRules<S>
  retries: number
  retryStatus: ReadonlySet<number>
  retryCodes: ReadonlySet<string>
  timeouts: Timeouts
  agent?: Agent
  ca?: string[]
  signal?: AbortSignal
  /** Told when the final 2xx response has arrived and the rules have seen it, before it is returned. */
  received?: () => Promise<void> | void
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])
const MAX_REDIRECTS = 5
// Node's zlib speaks zstd since the release that bundled the zstd library (22.15, 23.8), which
// is also when process.versions.zstd appeared; decompress() checks again before using it.
const SUPPORTS_ZSTD = typeof process.versions.zstd === 'string'
/** What got asks for (and can decode) by default. */
export const ACCEPT_ENCODING = ['gzip', 'deflate', 'br', ...(SUPPORTS_ZSTD ? ['zstd'] : [])].join(', ')

/** got's reading of Retry-After: whole seconds or an HTTP date; anything else is ignored. */
export function retryAfterMs(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value
  if (text === undefined) return undefined
  let ms: number | undefined
  if (/^\d+$/.test(text)) ms = Number(text) * 1000
  else if (Number.isNaN(Number(text))) {
    // asctime dates carry no zone but mean UTC (RFC 9110 §5.6.7)
    const date = /^\w{3} \w{3} [\d ]\d \d{2}:\d{2}:\d{2} \d{4}$/.test(text) ? `${text} GMT` : text
    ms = Date.parse(date) - now
  }
  if (ms === undefined || Number.isNaN(ms)) return undefined
  return Math.max(0, ms)
}

/**
 * GET with got's semantics: follows up to five redirects, retries what got would retry
 * (`retries` times, with the delays the rules give), throws a TransportError otherwise.
 */
export async function pagedGet<S>(options: PagedGetOptions<S>): Promise<Exchange> {
  const {rules, state} = options
  // The longest Retry-After still honoured, as got reckons it (its retry.maxRetryAfter is unset).
  const longestRetryAfter = options.timeouts.request ?? Infinity
  let retryCount = 0
  // got clears the afterResponse hooks for the attempts that follow a session refresh.
  let afterHooks = true
  for (;;) {
    let error: TransportError
    let refresh = false
    try {
      const response = await follow(options)
      if (afterHooks) refresh = await rules.after(state, response)
      if (!refresh) {
        if (response.statusCode >= 200 && response.statusCode <= 299) {
          await options.received?.()
          return response
        }
        if (response.statusCode === 304) return response
        error = new TransportError('HTTPError', `Request failed with status code ${response.statusCode}`, {code: 'ERR_NON_2XX_3XX_RESPONSE', response})
      } else error = new TransportError('RetryError', 'Retrying')
    } catch (caught) {
      if (!(caught instanceof TransportError)) throw caught
      error = caught
    }
    if (options.signal?.aborted) throw abortError(options.signal)
    const attemptCount = retryCount + 1
    let delay = 0
    if (refresh) {
      afterHooks = false
      delay = 1
    } else {
      const status = error.response?.statusCode
      const retryAfter = error.response ? retryAfterMs(error.response.headers['retry-after']) : undefined
      const allowed =
        attemptCount <= options.retries &&
        ((error.code !== undefined && options.retryCodes.has(error.code)) || (status !== undefined && options.retryStatus.has(status))) &&
        !(status !== undefined && retryAfter !== undefined && retryAfter > longestRetryAfter) &&
        status !== 413
      if (allowed) delay = await rules.retryDelay(state, attemptCount, error, retryAfter)
    }
    // Node turns a timer past 2^31-1 ms into 1 ms: got gives up instead, so does this.
    if (!delay || delay > 2_147_483_647) throw error
    try {
      await rules.sleep(delay, options.signal)
    } catch {
      throw abortError(options.signal)
    }
    retryCount++
  }
}

function abortError(signal?: AbortSignal): TransportError {
  return new TransportError('AbortError', 'This operation was aborted', {code: 'ABORT_ERR', cause: signal?.reason})
}

/** One attempt: the request and the redirects it leads to, each hop admitted by the rules. */
async function follow<S>(options: PagedGetOptions<S>): Promise<Exchange> {
  let url = options.url
  const headers = {...options.headers}
  for (let hops = 0; ; hops++) {
    await options.rules.before(options.state, url, headers)
    const response = await exchange(url, headers, options)
    const location = response.headers.location
    if (!REDIRECTS.has(response.statusCode) || !location) return response
    if (hops >= MAX_REDIRECTS) throw new TransportError('MaxRedirectsError', `Redirected ${MAX_REDIRECTS} times. Aborting.`, {code: 'ERR_TOO_MANY_REDIRECTS'})
    const next = new URL(Buffer.from(location, 'binary').toString(), url)
    options.rules.redirect(options.state, url, next, headers)
    url = next
  }
}

/**
 * The requests in flight under each signal, behind one abort listener per signal. Handing the
 * signal to http.request instead adds and removes an EventTarget listener on every request:
 * measured, ~60 µs a request, a tenth of the CPU a bare node:http loop spends on a page.
 */
const inFlight = new WeakMap<AbortSignal, Set<() => void>>()

function onAbort(signal: AbortSignal, abort: () => void): () => void {
  let aborts = inFlight.get(signal)
  if (!aborts) {
    const set = new Set<() => void>()
    aborts = set
    inFlight.set(signal, set)
    signal.addEventListener('abort', () => {
      for (const fn of [...set]) fn()
      set.clear()
    }, {once: true})
  }
  const set = aborts
  set.add(abort)
  return () => set.delete(abort)
}

/** A single request and its whole body; redirects' bodies are skipped unread. */
function exchange<S>(url: URL, headers: Record<string, string>, options: PagedGetOptions<S>): Promise<Exchange> {
  const {timeouts} = options
  return new Promise<Exchange>((resolve, reject) => {
    const timers: NodeJS.Timeout[] = []
    let settled = false
    let req: ClientRequest
    let unlisten = () => {}
    const finish = (error: TransportError | undefined, response?: Exchange) => {
      if (settled) return
      settled = true
      unlisten()
      for (const timer of timers) clearTimeout(timer)
      if (error) {
        req.destroy()
        reject(error)
      } else resolve(response!)
    }
    const fail = (error: NodeJS.ErrnoException) => {
      if (error.name === 'AbortError') finish(new TransportError('AbortError', error.message, {code: 'ABORT_ERR', cause: error}))
      else finish(new TransportError('RequestError', error.message, {code: error.code, cause: error}))
    }
    const time = (event: string, ms: number | undefined): (() => void) => {
      if (ms === undefined || !Number.isFinite(ms) || ms > 2_147_483_647) return () => {}
      const timer = setTimeout(() => finish(new TransportError('TimeoutError', `Timeout awaiting '${event}' for ${ms}ms`, {code: 'ETIMEDOUT'})), ms)
      timer.unref()
      timers.push(timer)
      return () => clearTimeout(timer)
    }
    time('request', timeouts.request)
    const send = url.protocol === 'https:' ? https() : httpRequest
    try {
      req = send(url, {method: 'GET', headers, agent: options.agent, ...(options.ca ? {ca: options.ca} : {})})
    } catch (error) {
      reject(new TransportError('RequestError', (error as Error).message, {code: (error as NodeJS.ErrnoException).code, cause: error}))
      return
    }
    const {signal} = options
    if (signal) {
      if (signal.aborted) return finish(abortError(signal))
      unlisten = onAbort(signal, () => finish(abortError(signal)))
    }
    req.on('error', fail)
    req.on('socket', (socket: Socket) => {
      if (!socket.connecting) return
      const lookupDone = time('lookup', timeouts.lookup)
      let connectDone = () => {}
      socket.once('lookup', () => {
        lookupDone()
        connectDone = time('connect', timeouts.connect)
      })
      socket.once('connect', () => {
        lookupDone()
        connectDone()
        if (url.protocol === 'https:') socket.once('secureConnect', time('secureConnect', timeouts.secureConnect))
      })
    })
    let awaitingResponse = () => {}
    req.once('finish', () => {
      awaitingResponse = time('response', timeouts.response)
    })
    req.once('response', (res: IncomingMessage) => {
      awaitingResponse()
      const statusCode = res.statusCode ?? 0
      const meta = {statusCode, headers: res.headers, url: url.href}
      if (REDIRECTS.has(statusCode) && res.headers.location) {
        res.resume()
        finish(undefined, {...meta, body: ''})
        return
      }
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('error', fail)
      // The connection closed before the whole body arrived.
      res.on('close', () => {
        if (!res.complete) fail(Object.assign(new Error('aborted'), {code: 'ECONNRESET'}))
      })
      res.on('end', () => {
        const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)
        const coding = res.headers['content-encoding']
        if (coding === undefined) return finish(undefined, {...meta, body: raw.toString('utf8')})
        decompress(raw, coding, statusCode).then(
          (body) => finish(undefined, {...meta, body: body.toString('utf8')}),
          (error: NodeJS.ErrnoException) => fail(error),
        )
      })
    })
    req.end()
  })
}

/** got's decompress option: gzip, deflate (zlib-wrapped or raw), br, zstd. */
function decompress(raw: Buffer, encoding: string | undefined, statusCode: number): Promise<Buffer> {
  const coding = (encoding ?? '').trim().toLowerCase()
  if (!coding || coding === 'identity' || raw.length === 0 || statusCode === 204 || statusCode === 304) return Promise.resolve(raw)
  const zlib = loadZlib()
  const run = (fn: (buffer: Buffer, callback: (error: Error | null, result: Buffer) => void) => void) =>
    new Promise<Buffer>((resolve, reject) => fn(raw, (error, result) => (error ? reject(error) : resolve(result))))
  if (coding === 'gzip' || coding === 'x-gzip') return run(zlib.gunzip)
  // "deflate" should be zlib-wrapped (RFC 9110 §8.4.1.2); some servers send it raw.
  if (coding === 'deflate') return run((raw[0] & 0x0f) === 0x08 ? zlib.inflate : zlib.inflateRaw)
  if (coding === 'br') return run(zlib.brotliDecompress)
  const zstd = (zlib as {zstdDecompress?: typeof zlib.gunzip}).zstdDecompress
  if (coding === 'zstd' && zstd) return run(zstd)
  return Promise.resolve(raw)
}
