// Is the probe itself the bottleneck? A load generator that is short of CPU or whose event
// loop lags measures its own delays and reports them as the server's. Three signals: the
// event loop's lag (perf_hooks), the CPU the process used, and (open model) how late the
// scheduler handed requests out, including whether that lateness grew during the run.
import {monitorEventLoopDelay} from 'node:perf_hooks'

export interface ProcessSample {
  eventLoopDelayMs: {p99: number; max: number}
  /** CPU time over wall time, percent of one core. */
  cpuPercent: number
}

export interface ProcessMonitor {
  finish(): ProcessSample
}

export function startProcessMonitor(now: () => number): ProcessMonitor {
  const delay = monitorEventLoopDelay({resolution: 10})
  delay.enable()
  const cpu = process.cpuUsage()
  const start = now()
  return {
    finish() {
      delay.disable()
      const used = process.cpuUsage(cpu)
      const wallMs = Math.max(1, now() - start)
      // The monitor's own timer resolution is reported as delay; subtract it.
      const lag = (ns: number) => Math.max(0, Math.round(ns / 1e3 - 10_000) / 1e3)
      return {
        eventLoopDelayMs: {p99: lag(delay.percentile(99) || 0), max: lag(delay.max || 0)},
        cpuPercent: Math.round(((used.user + used.system) / 1000 / wallMs) * 1000) / 10,
      }
    },
  }
}

export interface SelfCheckInput {
  model: 'open' | 'closed'
  process: ProcessSample
  /** Wall time the open-model scheduler spent polling for due times (counted as CPU, is not work). */
  spinMs: number
  wallMs: number
  /** Open model: how late requests were handed to the HTTP client when a connection was free. */
  scheduleLagMs?: {p99: number; max: number}
  /** Open model: mean schedule lag per second of the run, to tell a steady lag from a growing one. */
  lagPerSecondMs?: number[]
  /** Open model: send delay (actual − intended start), whatever its cause. */
  sendDelayMs?: {p50: number; p99: number; max: number} | null
  /** Open model: requests sent more than LATE_MS after their intended time. */
  late?: number
  measured: number
  /** Open model: requests that were due while every connection was busy. */
  waitedForConnection?: number
  connections: number
  /** Open model: planned requests never sent (interrupted, or the end came first). */
  unsent?: number
  /** Stopped by Ctrl-C: unsent requests are expected then. */
  interrupted?: boolean
}

export interface SelfCheck {
  /** False when the numbers may describe the probe rather than the server. */
  ok: boolean
  verdict: string
  warnings: string[]
  eventLoopDelayMs: {p99: number; max: number}
  cpuPercent: number
  sendDelayMs: {p50: number; p99: number; max: number} | null
  scheduleLagMs: {p99: number; max: number} | null
  lateRequests: number | null
  waitedForConnection: number | null
  unsent: number | null
}

export const LATE_MS = 10
const LOOP_LAG_MS = 50
const CPU_PERCENT = 90
const SCHEDULE_LAG_MS = 10
const MIN_WALL_MS = 1000

function growing(series: readonly number[]): {from: number; to: number} | undefined {
  if (series.length < 3) return undefined
  const third = Math.max(1, Math.floor(series.length / 3))
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  const from = mean(series.slice(0, third))
  const to = mean(series.slice(-third))
  // Steadily worse, and by enough to matter next to a millisecond-level latency.
  if (to > 3 * from + 2 && to > 5) return {from, to}
  return undefined
}

const round = (n: number) => Math.round(n * 1000) / 1000

export function assessSelfCheck(input: SelfCheckInput): SelfCheck {
  const client: string[] = []
  const other: string[] = []
  const {process: sample} = input
  // Under a second, start-up work (compiling, connecting) dominates both measures.
  const judgeProcess = input.wallMs >= MIN_WALL_MS
  if (judgeProcess && sample.eventLoopDelayMs.p99 > LOOP_LAG_MS) {
    client.push(`the probe's event loop lagged (p99 ${round(sample.eventLoopDelayMs.p99)} ms)`)
  }
  const spinPercent = (input.spinMs / Math.max(1, input.wallMs)) * 100
  const workPercent = Math.max(0, sample.cpuPercent - spinPercent)
  if (judgeProcess && workPercent > CPU_PERCENT) client.push(`the probe used ${Math.round(workPercent)}% of a CPU core`)
  if (input.scheduleLagMs && input.scheduleLagMs.p99 > SCHEDULE_LAG_MS) {
    client.push(`requests left up to ${round(input.scheduleLagMs.p99)} ms after their time (p99) with connections free`)
  }
  const trend = input.lagPerSecondMs ? growing(input.lagPerSecondMs) : undefined
  if (trend) client.push(`the scheduler's lag grew from ${round(trend.from)} ms to ${round(trend.to)} ms`)
  if (input.model === 'open' && input.measured > 0 && (input.late ?? 0) > input.measured * 0.01) {
    const share = Math.round(((input.late ?? 0) / input.measured) * 1000) / 10
    const cause = (input.waitedForConnection ?? 0) > 0
      ? `all ${input.connections} connections were busy for ${input.waitedForConnection} of them (raise --connections, or the server is slower than the rate)`
      : 'the probe could not keep up'
    other.push(`the rate was not kept: ${share}% of requests went out more than ${LATE_MS} ms late; ${cause}`)
  }
  if ((input.unsent ?? 0) > 0 && !input.interrupted) other.push(`${input.unsent} planned requests were never sent (sending stops one --timeout after the planned end)`)
  const ok = client.length === 0
  const verdict = ok
    ? 'the probe kept up: the figures describe the server'
    : `the probe may be the bottleneck (${client.join('; ')}): the figures describe the client as much as the server`
  return {
    ok,
    verdict,
    warnings: [...(ok ? [] : [verdict]), ...other],
    eventLoopDelayMs: sample.eventLoopDelayMs,
    cpuPercent: sample.cpuPercent,
    sendDelayMs: input.sendDelayMs ?? null,
    scheduleLagMs: input.scheduleLagMs ?? null,
    lateRequests: input.model === 'open' ? input.late ?? 0 : null,
    waitedForConnection: input.model === 'open' ? input.waitedForConnection ?? 0 : null,
    unsent: input.model === 'open' ? input.unsent ?? 0 : null,
  }
}
