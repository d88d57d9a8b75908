// The open model's clock: request i is due at startAt + i / rate, whatever the responses do.
// A request that cannot go out on time (every connection busy) stays due and goes out the
// moment a connection frees up; its latency still counts from its intended time, so a stalled
// server shows up in the tail instead of silently slowing the probe down (coordinated
// omission). The backlog is a counter, not a queue: memory stays flat however far behind.
//
// Timers wake up to about a millisecond late, which would be measured as server latency; so
// the loop sleeps until shortly before a due time and polls with setImmediate for the rest,
// which keeps the event loop serving responses while it waits.

export interface SchedulerTimers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
  setImmediate(fn: () => void): unknown
  clearImmediate(handle: unknown): void
}

export const realTimers: SchedulerTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  setImmediate: (fn) => setImmediate(fn),
  clearImmediate: (handle) => clearImmediate(handle as NodeJS.Immediate),
}

export interface OpenLoopOptions {
  /** Requests per second. */
  rate: number
  /** Intended time of request 0, on the `now` clock (ms). */
  startAt: number
  /** Planned requests: indices 0 … total − 1. */
  total: number
  now: () => number
  timers: SchedulerTimers
  /** Poll instead of sleeping when the next due time is this close (ms). */
  spinMs?: number
  /** Whether a request can go out now (a connection is free). */
  hasCapacity: () => boolean
  /** Send request `index`; `fromBacklog` when it waited for capacity rather than for its time. */
  send: (index: number, intendedAt: number, now: number, fromBacklog: boolean) => void
  /** Every planned request has been handed to `send`. */
  onDone: () => void
}

export class OpenLoop {
  /** Requests handed to `send` so far; the next one due has this index. */
  sent = 0
  /** Wall time spent polling for a due time (CPU the self-check should not blame on the work). */
  spinMs = 0
  /** Requests that were due while no connection was free. */
  waitedForCapacity = 0
  private readonly intervalMs: number
  private readonly spinWindow: number
  private timer: unknown
  private immediate: unknown
  private spinSince: number | undefined
  private waiting = false
  /** Requests below this index were due while every connection was busy. */
  private waitedUpTo = 0
  private stopped = false
  private done = false

  constructor(private readonly options: OpenLoopOptions) {
    this.intervalMs = 1000 / options.rate
    this.spinWindow = options.spinMs ?? 1.5
  }

  intendedAt(index: number): number {
    return this.options.startAt + index * this.intervalMs
  }

  start(): void {
    this.pump()
  }

  /** Stop sending (end of run, Ctrl-C); what is due and unsent stays unsent. */
  stop(): void {
    this.stopped = true
    this.clear()
  }

  /** Requests whose time has come but which have not been sent. */
  backlog(now: number): number {
    if (this.sent >= this.options.total) return 0
    const due = Math.min(this.options.total, Math.floor((now - this.options.startAt) / this.intervalMs) + 1)
    return Math.max(0, due - this.sent)
  }

  /** A request finished, so a connection is free: send what is overdue right away. */
  release(): void {
    if (this.waiting && !this.stopped) {
      this.waiting = false
      this.pump(true)
    }
  }

  private clear(): void {
    if (this.timer !== undefined) this.options.timers.clearTimeout(this.timer)
    if (this.immediate !== undefined) this.options.timers.clearImmediate(this.immediate)
    this.timer = undefined
    this.immediate = undefined
  }

  private readonly pump = (released?: boolean): void => {
    this.timer = undefined
    this.immediate = undefined
    if (this.stopped || this.done) return
    const {total, now: clock, hasCapacity, send} = this.options
    const now = clock()
    // Everything due by now was due while no connection was free.
    if (released === true) this.waitedUpTo = Math.max(this.waitedUpTo, this.sent + this.backlog(now))
    while (this.sent < total) {
      const at = this.intendedAt(this.sent)
      if (at > now) break
      if (this.spinSince !== undefined) {
        this.spinMs += now - this.spinSince
        this.spinSince = undefined
      }
      if (!hasCapacity()) {
        this.waitedUpTo = Math.max(this.waitedUpTo, this.sent + this.backlog(now))
        this.waiting = true
        return
      }
      const fromBacklog = this.sent < this.waitedUpTo
      if (fromBacklog) this.waitedForCapacity++
      send(this.sent++, at, now, fromBacklog)
      if (this.stopped) return
    }
    if (this.sent >= total) {
      this.done = true
      this.options.onDone()
      return
    }
    const wait = this.intendedAt(this.sent) - now
    if (wait > this.spinWindow + 1) {
      this.timer = this.options.timers.setTimeout(this.pump, Math.floor(wait - this.spinWindow))
    } else {
      this.spinSince ??= now
      this.immediate = this.options.timers.setImmediate(this.pump)
    }
  }
}
