// The live stream of a plan (contract §3, WebSocket /ws/plans/{id}). One state machine fed by
// one inbox: socket events, the PING ticker, the reconnect timer, the overall deadline and
// Ctrl-C all arrive as items, so the order of what happens is the order they are read and a
// fake clock drives every timer in tests.
// - PING every 30 s; a connection that answered nothing since the previous PING is dead (a
//   proxy can drop an idle socket without closing it) and is replaced;
// - a dropped stream reconnects with exponential backoff and full jitter, a bounded number of
//   times in a row; the whole wait is bounded by a deadline;
// - a 401 on the upgrade refreshes the session once; 403/404 end at once with their exit codes;
// - once an execution id is known (from `plans execute`, or the first message that carries
//   one) reconnections ask for that execution (`?executionId=`, ignored by servers that do not
//   know it), messages of another execution are dropped (a server replaying an older run), and
//   a message seen before is not repeated (a server replaying the run from its start).
import {apiErrorFrom, networkErrorFrom, proxyFailure} from '../../api/network.js'
import {BflyError, ExitCode, Interrupted, NetworkError} from '../../errors.js'
import {type BackoffPolicy, fullJitterDelay} from '../../resilience/backoff.js'
import {formatDuration} from '../../values.js'

export interface PlanEvent {
  type: string
  step?: string
  progress?: number
  [key: string]: unknown
}

export interface Timers {
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
  setInterval(fn: () => void, ms: number): unknown
  clearInterval(handle: unknown): void
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
}

/** What a socket reports, normalised (the `ws` adapter lives with the command's wiring). */
export type SocketItem =
  | {kind: 'open'}
  | {kind: 'message'; data: string}
  | {kind: 'http'; status: number; body: string; headers: Record<string, string | string[] | undefined>}
  | {kind: 'error'; error: Error & {code?: string}}
  | {kind: 'close'; code: number; reason: string}

export interface PlanSocket {
  send(data: string): void
  /** A polite close (1000) once the plan ended. */
  close(): void
  /** Drop at once (a dead connection, Ctrl-C). */
  terminate(): void
}

export type Connector = (headers: Record<string, string>, sink: (item: SocketItem) => void, target: {executionId?: string}) => Promise<PlanSocket>

export interface WatchOptions {
  planId: string
  /** host[:port], for messages. */
  host: string
  connect: Connector
  /** Fresh headers for each connection (a refreshed token after a reconnect). */
  headers: () => Promise<Record<string, string>>
  /** Force a token refresh after a 401; true when new credentials are ready. */
  refresh?: () => Promise<boolean>
  timers: Timers
  signal: AbortSignal
  maxWaitMs: number
  pingIntervalMs?: number
  backoff?: BackoffPolicy
  random?: () => number
  /** Failed connections in a row before giving up. */
  maxReconnects?: number
  /** Said on stderr: reconnecting, and why. */
  onNote?: (note: string) => void
  /** Awaited once the first connection is open: subscribe first, then start the plan, so no event is missed. */
  onFirstOpen?: () => Promise<PlanEvent | undefined>
}

export type PlanEnd =
  | {kind: 'completed'; event: PlanEvent}
  | {kind: 'failed'; event: PlanEvent}
  | {kind: 'timeout'}
  | {kind: 'interrupted'}

export const PING_INTERVAL_MS = 30_000
export const RECONNECT_BACKOFF: BackoffPolicy = {baseMs: 1000, factor: 2, capMs: 30_000}
export const MAX_RECONNECTS = 8
/** Messages remembered to drop replays; a plan's story is far shorter. */
const MAX_REMEMBERED = 10_000

type Item = (SocketItem & {serial: number}) | {kind: 'tick'; serial: number} | {kind: 'retry'} | {kind: 'deadline'} | {kind: 'abort'}

const TLS_CODES = /^(CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_TLS|ERR_SSL|HOSTNAME_MISMATCH|ERR_CERT)/

class Inbox<T> {
  private readonly items: T[] = []
  private waiter?: (item: T) => void

  push(item: T): void {
    const waiter = this.waiter
    if (waiter) {
      this.waiter = undefined
      waiter(item)
    } else this.items.push(item)
  }

  next(): Promise<T> {
    const item = this.items.shift()
    if (item !== undefined) return Promise.resolve(item)
    return new Promise((resolve) => (this.waiter = resolve))
  }
}

export function errorText(error: unknown): string {
  if (typeof error === 'string') return error
  if (error && typeof error === 'object' && typeof (error as {message?: unknown}).message === 'string') return (error as {message: string}).message
  return error === undefined ? 'no reason given' : JSON.stringify(error)
}

export class PlanWatch {
  end?: PlanEnd
  private readonly inbox = new Inbox<Item>()
  private executionId?: string

  constructor(private readonly options: WatchOptions) {}

  /** Every event the server sends but PONG, until the plan ends, the deadline, or Ctrl-C. */
  async *events(): AsyncGenerator<PlanEvent> {
    const o = this.options
    const t = o.timers
    const pingEvery = o.pingIntervalMs ?? PING_INTERVAL_MS
    const maxReconnects = o.maxReconnects ?? MAX_RECONNECTS
    const push = (item: Item) => this.inbox.push(item)
    const onAbort = () => push({kind: 'abort'})
    const deadline = t.setTimeout(() => push({kind: 'deadline'}), o.maxWaitMs)
    o.signal.addEventListener('abort', onAbort, {once: true})
    if (o.signal.aborted) push({kind: 'abort'})

    let socket: PlanSocket | undefined
    let serial = 0
    /** The current connection already ended (its later error/close items are echoes). */
    let ended = false
    let open = false
    let ticker: unknown
    let retryTimer: unknown
    let failures = 0
    let refreshed = false
    let started = false
    let lastHeardAt = 0
    let lastPingAt: number | undefined
    let quietReconnects = 0
    const seen = new Set<string>()

    const drop = () => {
      if (ticker !== undefined) t.clearInterval(ticker)
      ticker = undefined
      ended = true
      open = false
      socket?.terminate()
      socket = undefined
    }
    const connect = async () => {
      const mine = ++serial
      ended = false
      open = false
      lastPingAt = undefined
      socket = await o.connect(await o.headers(), (item) => push({...item, serial: mine}), {executionId: this.executionId})
    }
    const reconnectLater = (problem: string) => {
      drop()
      failures++
      if (failures > maxReconnects) {
        throw new NetworkError(`lost the stream of plan ${o.planId} from ${o.host}: ${problem} (${maxReconnects} reconnects failed)`, {
          code: 'STREAM_LOST',
          hint: `the plan may still be running: \`bfly plans watch ${o.planId}\``,
        })
      }
      const delay = fullJitterDelay(failures, o.backoff ?? RECONNECT_BACKOFF, o.random)
      o.onNote?.(`${problem}; reconnecting in ${formatDuration(delay)} (${failures}/${maxReconnects})`)
      retryTimer = t.setTimeout(() => push({kind: 'retry'}), delay)
    }

    try {
      await connect()
      for (;;) {
        const item = await this.inbox.next()
        if (item.kind === 'abort') {
          this.end = {kind: 'interrupted'}
          return
        }
        if (item.kind === 'deadline') {
          this.end = {kind: 'timeout'}
          return
        }
        if (item.kind === 'retry') {
          retryTimer = undefined
          await connect()
          continue
        }
        if (item.serial !== serial || ended) continue
        switch (item.kind) {
          case 'open': {
            open = true
            lastHeardAt = t.now()
            const current = serial
            ticker = t.setInterval(() => push({kind: 'tick', serial: current}), pingEvery)
            if (!started) {
              started = true
              const first = await o.onFirstOpen?.()
              if (first) {
                if (typeof first.executionId === 'string') this.executionId = first.executionId
                yield first
              }
            }
            break
          }
          case 'tick': {
            if (!open) break
            // Nothing heard since the last PING, not even its PONG: the connection is dead.
            if (lastPingAt !== undefined && lastHeardAt < lastPingAt) {
              reconnectLater(`no answer to PING within ${formatDuration(pingEvery)}`)
              break
            }
            lastPingAt = t.now()
            socket?.send(JSON.stringify({type: 'PING'}))
            break
          }
          case 'message': {
            lastHeardAt = t.now()
            failures = 0
            let event: PlanEvent
            try {
              event = JSON.parse(item.data) as PlanEvent
            } catch {
              o.onNote?.(`ignored a message that is not JSON: ${item.data.slice(0, 80)}`)
              break
            }
            if (!event || typeof event !== 'object' || typeof event.type !== 'string') {
              o.onNote?.(`ignored a message without a type: ${item.data.slice(0, 80)}`)
              break
            }
            if (event.type === 'PONG') break
            if (typeof event.executionId === 'string') {
              if (this.executionId === undefined) this.executionId = event.executionId
              else if (event.executionId !== this.executionId) {
                // This connection follows another run (a server following the plan's latest
                // one): ask for ours at once, a few times at most.
                if (quietReconnects++ < 3) {
                  drop()
                  await connect()
                }
                break
              }
            }
            if (seen.has(item.data)) break
            if (seen.size < MAX_REMEMBERED) seen.add(item.data)
            yield event
            if (event.type === 'PLAN_COMPLETED' || event.type === 'PLAN_FAILED') {
              this.end = event.type === 'PLAN_COMPLETED' ? {kind: 'completed', event} : {kind: 'failed', event}
              ended = true
              socket?.close()
              socket = undefined
              return
            }
            break
          }
          case 'http': {
            drop()
            if (item.status === 401 && o.refresh && !refreshed) {
              refreshed = true
              o.onNote?.('401 on the stream: refreshing the session once')
              if (await o.refresh()) {
                await connect()
                break
              }
            }
            if (item.status === 408 || item.status === 429 || item.status >= 500) {
              reconnectLater(`HTTP ${item.status} on the upgrade`)
              break
            }
            const error = apiErrorFrom(item.status, item.body, item.headers, o.host)
            if (item.status === 404 && error instanceof BflyError) error.hint = `no plan "${o.planId}" (or no stream for it) at ${o.host}`
            throw error
          }
          case 'error': {
            const code = item.error.code ?? ''
            if (TLS_CODES.test(code)) throw networkErrorFrom({code, message: item.error.message}, o.host)
            // A proxy that refuses the tunnel or is down will not change its mind on a reconnect.
            const proxy = proxyFailure(item.error)
            if (proxy) throw proxy
            reconnectLater(open ? `stream error: ${item.error.message}` : `cannot connect: ${code || item.error.message}`)
            break
          }
          case 'close': {
            reconnectLater(`stream closed (${item.code}${item.reason ? ` ${item.reason}` : ''}) before the plan ended`)
            break
          }
        }
      }
    } finally {
      t.clearTimeout(deadline)
      if (retryTimer !== undefined) t.clearTimeout(retryTimer)
      o.signal.removeEventListener('abort', onAbort)
      if (ticker !== undefined) t.clearInterval(ticker)
      if (socket) drop()
    }
  }

  /** How the command ends: 0 completed, 6 failed, 7 no end within the wait, 130 Ctrl-C. */
  outcome(): BflyError | undefined {
    const id = this.options.planId
    const end = this.end
    if (!end || end.kind === 'completed') return undefined
    if (end.kind === 'failed') {
      return new BflyError(`plan ${id} failed: ${errorText(end.event.error)}`, {code: 'PLAN_FAILED', exitCode: ExitCode.Service, hint: 'the failed step is reported above'})
    }
    if (end.kind === 'timeout') {
      return new BflyError(`plan ${id} did not finish within ${formatDuration(this.options.maxWaitMs)}`, {
        code: 'TIMEOUT',
        exitCode: ExitCode.Network,
        hint: `it may still be running: \`bfly plans watch ${id}\`, or raise --timeout`,
      })
    }
    return new Interrupted(`interrupted: stopped watching plan ${id}; it keeps running on the platform (\`bfly plans watch ${id}\`)`)
  }
}
