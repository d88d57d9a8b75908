// The load engine. The hot path is an undici Pool driven through `dispatch` with a bare
// handler: no response objects, no body streams, no promises per request — got costs ~15×
// the CPU per request, and a probe that is short of CPU measures itself.
//
// Closed model: `concurrency` workers, each sending the next request when the last ends.
// Open model: a fixed schedule (schedule.ts), latency from each request's intended start.
// Every wait is bounded: requests by the timeout, the end of a run by timeout + a grace,
// Ctrl-C by nothing at all (in-flight requests are abandoned and not counted).
import {randomBytes} from 'node:crypto'
import type {Dispatcher} from 'undici'
import {withDefaultCas} from '../api/network.js'
import {evaluateAssertions} from './assertions.js'
import {ErrorClassifier, type TransportErrorKind} from './error-kind.js'
import {createHistogram, type HdrModule, histogramBuckets, LatencyStats, usToMs, EMPTY_LATENCY} from './latency.js'
import {plannedRequests, type ProbePlan} from './plan.js'
import {emptyErrorsByKind, type ErrorsByKind, type ProbeReport, type SeriesPoint} from './report.js'
import {OpenLoop, realTimers, type SchedulerTimers} from './schedule.js'
import {assessSelfCheck, LATE_MS, type ProcessMonitor, startProcessMonitor} from './self-check.js'
import type {Histogram} from 'hdr-histogram-js'

export type Phase = 'warmup' | 'measure' | 'drain'

export interface LiveTick {
  phase: Phase
  /** Since the run started, warmup included. */
  elapsedMs: number
  /** Requests that ended in the last second (warmup included). */
  rps: number
  /** p99 of the last measured second, in ms; null during warmup or without responses. */
  p99: number | null
  /** Measured errors so far. */
  errors: number
  /** Measured requests so far. */
  requests: number
  inFlight: number
}

/** The slice of a dispatcher the engine uses; tests may pass their own. */
export interface ProbeDispatcher {
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean
  close(): Promise<void>
  destroy(): Promise<void>
}

export interface RunOptions {
  /** High-resolution clock in ms (default performance.now). */
  now?: () => number
  /** Wall clock in ms for absolute timestamps (default Date.now). */
  wallClock?: () => number
  timers?: SchedulerTimers
  /** Aborted on Ctrl-C: stop sending, abandon what is in flight, report what finished. */
  signal?: AbortSignal
  /** Once a second, for a live line. */
  onTick?: (tick: LiveTick) => void
  /** Each measured interval's histogram (µs) before it is reset, with epoch-ms bounds (for --hdr-out). */
  onInterval?: (histogram: Histogram, startEpochMs: number, endEpochMs: number) => void
  /** Every transport failure (no response at all), e.g. to explain a run where nothing answered. */
  onTransportError?: (error: Error) => void
  /** Defaults to an undici Pool on the plan's origin. */
  dispatcher?: ProbeDispatcher
  /** Defaults to the installed hdr-histogram-js. */
  hdr?: HdrModule
  /** Defaults to this process's event loop and CPU. */
  monitor?: ProcessMonitor
}

/** Extra time after the last request was due before the run gives up on what is in flight. */
const DRAIN_GRACE_MS = 1000

// undici's older handler interface (onConnect/onHeaders/onData/onComplete): the newer one
// wraps every handler and parses every response's headers into an object we never read.
class Exchange implements Dispatcher.DispatchHandler {
  status = 0
  /** When the request went out (-1: never, e.g. the connection was refused). */
  sentAt = -1
  constructor(
    private readonly run: Run,
    readonly intended: number,
    readonly measured: boolean,
  ) {}

  onConnect(): void {
    this.sentAt = this.run.now()
  }

  onHeaders(statusCode: number): boolean {
    this.status = statusCode
    return true
  }

  onData(): boolean {
    return true
  }

  onComplete(): void {
    this.run.complete(this)
  }

  onError(error: Error): void {
    this.run.fail(this, error)
  }
}

class Run {
  readonly now: () => number
  private readonly wallClock: () => number
  private readonly timers: SchedulerTimers
  private readonly origin: string
  private readonly path: string
  private readonly baseHeaders: string[]
  private readonly classifier = new ErrorClassifier()
  private dispatcher!: ProbeDispatcher
  private monitor!: ProcessMonitor

  // statistics
  private total!: LatencyStats
  private interval!: LatencyStats
  private sendDelay!: LatencyStats
  private scheduleLag!: LatencyStats
  private readonly statuses = new Map<number, number>()
  private readonly errorsByKind: ErrorsByKind = emptyErrorsByKind()
  private errors = 0
  private measuredEnded = 0
  private late = 0
  private readonly series: SeriesPoint[] = []
  private readonly lagPerSecond: number[] = []
  private intervalErrors = 0
  private intervalEnded = 0
  private intervalLagSum = 0
  private intervalLagCount = 0
  private liveEnded = 0

  // progress
  private startAt = 0
  private startEpoch = 0
  private measureAt = 0
  private intervalStart = 0
  private stopAt = Number.POSITIVE_INFINITY
  private sendingEndedAt: number | undefined
  private lastEndAt: number | undefined
  private inFlight = 0
  private dispatched = 0
  private measuredDispatched = 0
  private seq = 0
  private sendingDone = false
  private cancelled = false
  private interrupted = false
  private finished = false
  private loop: OpenLoop | undefined
  private tickTimer: unknown
  private stopTimer: unknown
  private drainTimer: unknown
  private resolve!: (report: ProbeReport) => void
  private reject!: (error: unknown) => void

  constructor(
    private readonly plan: ProbePlan,
    private readonly options: RunOptions,
  ) {
    this.now = options.now ?? (() => performance.now())
    this.wallClock = options.wallClock ?? Date.now
    this.timers = options.timers ?? realTimers
    const url = new URL(plan.url)
    this.origin = url.origin
    this.path = url.pathname + url.search
    this.baseHeaders = []
    for (const [name, value] of Object.entries(plan.headers)) this.baseHeaders.push(name, value)
  }

  async start(): Promise<ProbeReport> {
    const hdr = this.options.hdr ?? ((await import('hdr-histogram-js')) as unknown as {default: HdrModule}).default
    this.total = new LatencyStats(createHistogram(hdr))
    this.interval = new LatencyStats(createHistogram(hdr))
    this.sendDelay = new LatencyStats(createHistogram(hdr))
    this.scheduleLag = new LatencyStats(createHistogram(hdr))
    this.dispatcher = this.options.dispatcher ?? (await this.createPool())
    const signal = this.options.signal
    if (signal?.aborted) this.cancelled = this.interrupted = true
    return new Promise<ProbeReport>((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
      signal?.addEventListener('abort', this.onAbort, {once: true})
      try {
        this.begin()
      } catch (error) {
        this.teardown()
        reject(error)
      }
    })
  }

  private async createPool(): Promise<ProbeDispatcher> {
    const {Pool, ProxyAgent} = await import('undici')
    const {plan} = this
    const options = {
      connections: plan.connections,
      pipelining: 1,
      headersTimeout: plan.timeoutMs,
      bodyTimeout: plan.timeoutMs,
      connectTimeout: plan.timeoutMs,
      keepAliveTimeout: 30_000,
    }
    const ca = plan.ca ? withDefaultCas(plan.ca) : undefined
    if (plan.proxy !== undefined) {
      // The same pool options apply to the pool the agent keeps for the target behind the proxy;
      // the CAs verify the target and an https:// proxy alike.
      return new ProxyAgent({uri: plan.proxy, ...options, ...(ca ? {requestTls: {ca}, proxyTls: {ca}} : {})})
    }
    return new Pool(this.origin, {...options, ...(ca ? {connect: {ca}} : {})})
  }

  private begin(): void {
    const {plan} = this
    this.monitor = this.options.monitor ?? startProcessMonitor(this.now)
    this.startAt = this.now()
    this.startEpoch = this.wallClock()
    this.measureAt = this.startAt + plan.warmupMs
    this.intervalStart = this.measureAt
    if (plan.durationMs !== undefined) this.stopAt = this.measureAt + plan.durationMs
    this.scheduleTick(this.startAt)
    if (this.cancelled) return this.stopSending()
    const total = plan.model === 'open' ? plannedRequests(plan) : 0
    // The latest moment to send: the end of the plan (closed), or its last due time plus one
    // timeout (open: a request overdue by more than that is not worth sending; it is reported unsent).
    const hardStop = plan.model === 'open' ? this.startAt + (total * 1000) / plan.rate! + plan.timeoutMs : this.stopAt
    if (Number.isFinite(hardStop)) {
      this.stopTimer = this.timers.setTimeout(() => {
        this.stopTimer = undefined
        this.stopSending()
      }, Math.max(0, hardStop - this.now()))
    }
    if (plan.model === 'open') {
      const warmupCount = Math.ceil((plan.warmupMs * plan.rate!) / 1000)
      this.loop = new OpenLoop({
        rate: plan.rate!,
        startAt: this.startAt,
        total,
        now: this.now,
        timers: this.timers,
        hasCapacity: () => this.inFlight < plan.connections,
        send: (index, intendedAt, now, fromBacklog) => {
          const measured = index >= warmupCount
          if (measured && !fromBacklog) {
            const lagMs = now - intendedAt
            this.scheduleLag.record(Math.round(lagMs * 1000))
            this.intervalLagSum += lagMs
            this.intervalLagCount++
          }
          this.send(intendedAt, measured)
        },
        onDone: () => this.stopSending(),
      })
      this.loop.start()
    } else {
      for (let i = 0; i < plan.concurrency! && !this.sendingDone; i++) this.next(this.now())
    }
  }

  /** Closed model: one worker's next request, unless the run is over. */
  private next(now: number): void {
    if (this.sendingDone) return
    if (now >= this.stopAt) return this.stopSending()
    const measured = now >= this.measureAt
    if (measured && this.plan.requests !== undefined && this.measuredDispatched >= this.plan.requests) return this.stopSending()
    this.send(now, measured)
  }

  private send(intended: number, measured: boolean): void {
    this.inFlight++
    this.dispatched++
    if (measured) this.measuredDispatched++
    let headers = this.baseHeaders
    if (this.plan.requestIdPrefix !== undefined || this.plan.traceId !== undefined) {
      const n = ++this.seq
      headers = this.baseHeaders.slice()
      if (this.plan.requestIdPrefix !== undefined) headers.push('x-request-id', `${this.plan.requestIdPrefix}-${n}`)
      // A new span per request in the run's trace: a per-run random half and a counter.
      if (this.plan.traceId !== undefined) headers.push('traceparent', `00-${this.plan.traceId}-${this.spanPrefix}${(n >>> 0).toString(16).padStart(8, '0')}-01`)
    }
    this.dispatcher.dispatch({origin: this.origin, method: this.plan.method as Dispatcher.HttpMethod, path: this.path, headers, body: this.plan.body ?? null}, new Exchange(this, intended, measured))
  }

  private readonly spanPrefix = randomBytes(4).toString('hex')

  complete(exchange: Exchange): void {
    this.inFlight--
    if (this.cancelled) return this.maybeFinish()
    const end = this.now()
    this.liveEnded++
    if (exchange.measured) {
      const us = Math.max(0, Math.round((end - exchange.intended) * 1000))
      const status = exchange.status
      this.measuredEnded++
      this.intervalEnded++
      this.lastEndAt = end
      this.total.record(us)
      this.interval.record(us)
      this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1)
      if (status >= 400) {
        this.errors++
        this.intervalErrors++
        if (status === 429) this.errorsByKind.rateLimited++
        else this.errorsByKind.http++
      }
      if (this.loop !== undefined && exchange.sentAt >= 0) this.recordSendDelay(exchange)
    }
    if (this.loop !== undefined) this.loop.release()
    else this.next(end)
    this.maybeFinish()
  }

  fail(exchange: Exchange, error: Error): void {
    this.inFlight--
    if (this.cancelled) return this.maybeFinish()
    this.liveEnded++
    this.options.onTransportError?.(error)
    if (exchange.measured) {
      const kind: TransportErrorKind = this.classifier.kindOf(error as Error & {code?: string})
      this.measuredEnded++
      this.intervalEnded++
      this.lastEndAt = this.now()
      this.errors++
      this.intervalErrors++
      this.errorsByKind[kind]++
      if (exchange.sentAt >= 0 && this.loop !== undefined) this.recordSendDelay(exchange)
    }
    // A failure can be reported synchronously from inside dispatch; continue on a fresh stack.
    this.timers.setImmediate(() => {
      if (this.loop !== undefined) this.loop.release()
      else this.next(this.now())
      this.maybeFinish()
    })
  }

  private recordSendDelay(exchange: Exchange): void {
    const delayMs = exchange.sentAt - exchange.intended
    if (delayMs > LATE_MS) this.late++
    this.sendDelay.record(Math.max(0, Math.round(delayMs * 1000)))
  }

  private stopSending(): void {
    if (this.sendingDone) return
    this.sendingDone = true
    this.sendingEndedAt = this.now()
    this.loop?.stop()
    if (this.stopTimer !== undefined) this.timers.clearTimeout(this.stopTimer)
    this.stopTimer = undefined
    // Bounded drain: whatever has not ended by then is abandoned.
    this.drainTimer = this.timers.setTimeout(() => {
      this.drainTimer = undefined
      this.cancelled = true
      void this.dispatcher.destroy().catch(() => {})
      this.finish()
    }, this.plan.timeoutMs + DRAIN_GRACE_MS)
    this.maybeFinish()
  }

  private readonly onAbort = (): void => {
    if (this.finished) return
    this.cancelled = true
    this.interrupted = true
    this.stopSending()
    void this.dispatcher.destroy().catch(() => {})
    this.finish()
  }

  private maybeFinish(): void {
    if (this.sendingDone && this.inFlight === 0) this.finish()
  }

  /** Ticks on whole seconds since measurement started (and once a second during warmup). */
  private scheduleTick(boundary: number): void {
    const next = boundary < this.measureAt ? Math.min(this.measureAt, boundary + 1000) : this.measureAt + (Math.floor((boundary - this.measureAt) / 1000 + 1e-6) + 1) * 1000
    this.nextTickAt = next
    this.tickTimer = this.timers.setTimeout(this.tick, Math.max(0, next - this.now()))
  }

  private nextTickAt = 0

  private readonly tick = (): void => {
    this.tickTimer = undefined
    if (this.finished) return
    // Timers may fire a little early or late: the boundary, not the clock, decides which second this was.
    const boundary = this.nextTickAt
    const now = this.now()
    const measuring = boundary >= this.measureAt
    if (measuring && boundary > this.measureAt) this.closeInterval(now)
    this.options.onTick?.({
      phase: this.sendingDone ? 'drain' : boundary > this.measureAt ? 'measure' : 'warmup',
      elapsedMs: now - this.startAt,
      rps: this.liveEnded,
      p99: measuring && this.series.length > 0 ? this.series.at(-1)!.p99 : null,
      errors: this.errors,
      requests: this.measuredEnded,
      inFlight: this.inFlight,
    })
    this.liveEnded = 0
    this.scheduleTick(boundary)
  }

  private closeInterval(end: number): void {
    const seconds = (end - this.intervalStart) / 1000
    const stats = this.interval
    this.series.push({
      t: Math.round(((end - this.measureAt) / 1000) * 1000) / 1000,
      requests: this.intervalEnded,
      rps: Math.round((this.intervalEnded / seconds) * 10) / 10,
      p50: stats.count > 0 ? usToMs(stats.percentileUs(50)) : null,
      p99: stats.count > 0 ? usToMs(stats.percentileUs(99)) : null,
      errors: this.intervalErrors,
    })
    if (this.loop !== undefined) this.lagPerSecond.push(this.intervalLagCount > 0 ? this.intervalLagSum / this.intervalLagCount : 0)
    if (this.options.onInterval && stats.count > 0) {
      const epoch = (t: number) => this.startEpoch + (t - this.startAt)
      this.options.onInterval(stats.histogram, epoch(this.intervalStart), epoch(end))
    }
    stats.reset()
    this.intervalEnded = 0
    this.intervalErrors = 0
    this.intervalLagSum = 0
    this.intervalLagCount = 0
    this.intervalStart = end
  }

  private teardown(): void {
    this.options.signal?.removeEventListener('abort', this.onAbort)
    this.loop?.stop()
    if (this.tickTimer !== undefined) this.timers.clearTimeout(this.tickTimer)
    if (this.stopTimer !== undefined) this.timers.clearTimeout(this.stopTimer)
    if (this.drainTimer !== undefined) this.timers.clearTimeout(this.drainTimer)
    this.tickTimer = undefined
    this.stopTimer = undefined
    this.drainTimer = undefined
  }

  private finish(): void {
    if (this.finished) return
    this.finished = true
    this.teardown()
    const now = this.now()
    const sample = this.monitor.finish()
    if (now > this.intervalStart && (this.intervalEnded > 0 || this.series.length === 0) && now >= this.measureAt) this.closeInterval(now)
    const close = this.cancelled ? this.dispatcher.destroy() : this.dispatcher.close()
    // Closing waits for idle sockets only; it must not hold the report back.
    void close.catch(() => {})
    try {
      this.resolve(this.report(now, sample))
    } catch (error) {
      this.reject(error)
    }
  }

  private report(now: number, sample: ReturnType<ProcessMonitor['finish']>): ProbeReport {
    const {plan} = this
    const open = plan.model === 'open'
    // The measured span: the schedule (open model) or until sending stopped (closed, timed),
    // so a slow last response does not dilute the throughput; a closed run of N requests
    // lasts until its last one ended.
    const plannedEnd = open ? this.startAt + (plannedRequests(plan) * 1000) / plan.rate! : Number.POSITIVE_INFINITY
    const sendingEnd = this.sendingEndedAt ?? now
    const end = open ? (this.interrupted ? Math.min(sendingEnd, plannedEnd) : plannedEnd) : plan.requests !== undefined && !this.cancelled ? this.lastEndAt ?? sendingEnd : sendingEnd
    const durationMs = Math.max(0, end - this.measureAt)
    const requests = this.measuredEnded
    const latency = this.total.summaryMs()
    const statusCodes: Record<string, number> = {}
    for (const [status, count] of [...this.statuses].sort((a, b) => a[0] - b[0])) statusCodes[String(status)] = count
    const sendDelay = this.sendDelay.count > 0
      ? {p50: usToMs(this.sendDelay.percentileUs(50)), p99: usToMs(this.sendDelay.percentileUs(99)), max: usToMs(this.sendDelay.max)}
      : null
    const measuredPlanned = open ? plannedRequests(plan) - Math.ceil((plan.warmupMs * plan.rate!) / 1000) : 0
    const selfCheck = assessSelfCheck({
      model: plan.model,
      process: sample,
      spinMs: this.loop?.spinMs ?? 0,
      wallMs: now - this.startAt,
      scheduleLagMs: open && this.scheduleLag.count > 0 ? {p99: usToMs(this.scheduleLag.percentileUs(99)), max: usToMs(this.scheduleLag.max)} : undefined,
      lagPerSecondMs: open ? this.lagPerSecond : undefined,
      sendDelayMs: open ? sendDelay : undefined,
      late: open ? this.late : undefined,
      measured: requests,
      waitedForConnection: this.loop?.waitedForCapacity,
      connections: plan.connections,
      unsent: open ? Math.max(0, measuredPlanned - this.measuredDispatched) : undefined,
      interrupted: this.interrupted,
    })
    const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits
    const throughput = durationMs > 0 ? round((requests / durationMs) * 1000, 2) : 0
    const errorRate = requests > 0 ? round(this.errors / requests, 6) : 0
    const latencyMs = latency ?? {...EMPTY_LATENCY}
    return {
      model: plan.model,
      rate: plan.rate ?? null,
      concurrency: plan.concurrency ?? null,
      requests,
      durationMs: Math.round(durationMs),
      throughput,
      errors: this.errors,
      errorRate,
      statusCodes,
      latencyMs,
      histogram: histogramBuckets(this.total),
      assertions: evaluateAssertions(plan.assertions, {
        latencyMs,
        errorRate,
        errors: this.errors,
        throughput,
        requests,
        rateLimited: this.errorsByKind.rateLimited,
      }),
      errorsByKind: this.errorsByKind,
      series: this.series,
      selfCheck,
    }
  }
}

/** Run a plan to its end (or Ctrl-C) and report. Never throws for failed requests: they are data. */
export function runProbe(plan: ProbePlan, options: RunOptions = {}): Promise<ProbeReport> {
  return new Run(plan, options).start()
}
