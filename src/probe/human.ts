// What a person reads: the live line on stderr while the run goes, and at the end a summary,
// the latency table, a histogram drawn in the terminal, the assertions and the self-check.
import type {IO} from '../output/io.js'
import {parseAssertion} from './assertions.js'
import type {LiveTick} from './engine.js'
import type {ProbeReport} from './report.js'

export interface Target {
  method: string
  url: string
  connections: number
  warmupMs: number
}

const int = (n: number) => Math.round(n).toLocaleString('en-US')
const ms = (n: number | null) => (n === null ? '-' : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n >= 1 ? n.toFixed(2) : n.toFixed(3))
const percent = (ratio: number) => `${(Math.round(ratio * 10000) / 100).toString()}%`

export function liveLine(tick: LiveTick): string {
  const elapsed = `${(tick.elapsedMs / 1000).toFixed(1)}s`
  const phase = tick.phase === 'measure' ? '' : ` ${tick.phase === 'warmup' ? 'warming up' : 'finishing'}`
  const p99 = tick.p99 === null ? '' : `  p99 ${ms(tick.p99)} ms`
  return `${elapsed}${phase}  ${int(tick.rps)} req/s${p99}  errors ${int(tick.errors)}  in flight ${int(tick.inFlight)}`
}

/** A live line on a terminal: rewritten in place once a second, cleared at the end. */
export function liveProgress(io: IO, enabled: boolean): {tick: (t: LiveTick) => void; clear: () => void} {
  if (!enabled) return {tick: () => {}, clear: () => {}}
  let shown = false
  return {
    tick: (t) => {
      io.streams.stderr.write(`\r\u001B[2K${io.paint(liveLine(t), 'dim')}`)
      shown = true
    },
    clear: () => {
      if (shown) io.streams.stderr.write('\r\u001B[2K')
      shown = false
    },
  }
}

function model(report: ProbeReport, target: Target): string {
  const load = report.model === 'open'
    ? `open model, ${report.rate} req/s on a fixed schedule`
    : `closed model, ${report.concurrency} worker${report.concurrency === 1 ? '' : 's'}`
  const warmup = target.warmupMs > 0 ? ` (+${target.warmupMs / 1000} s warmup)` : ''
  return `${target.method} ${target.url}\n${load}, ${target.connections} connection${target.connections === 1 ? '' : 's'}, ${(report.durationMs / 1000).toFixed(1)} s${warmup}`
}

const BAR_WIDTH = 40

/** Buckets as horizontal bars, scaled to the largest; a non-empty bucket always shows. */
export function histogramChart(report: ProbeReport, unicode: boolean): string[] {
  const buckets = report.histogram
  if (buckets.length === 0) return []
  const peak = Math.max(...buckets.map((b) => b.count))
  const labels = buckets.map((b) => `≤ ${b.le} ms`)
  const width = Math.max(...labels.map((l) => l.length))
  const countWidth = Math.max(...buckets.map((b) => int(b.count).length))
  const full = unicode ? '█' : '#'
  return buckets.map((b, i) => {
    const length = b.count === 0 ? 0 : Math.max(1, Math.round((b.count / peak) * BAR_WIDTH))
    return `  ${labels[i].padStart(width)}  ${int(b.count).padStart(countWidth)}  ${full.repeat(length)}`.trimEnd()
  })
}

function actualText(expr: string, actual: number | null): string {
  if (actual === null) return 'none'
  const metric = parseAssertion(expr).metric
  if (metric === 'throughput') return `${actual} req/s`
  if (metric === 'errorRate' || metric === 'errors' || metric === 'requests' || metric === 'rateLimited') return String(actual)
  return `${ms(actual)} ms`
}

export function humanReport(report: ProbeReport, target: Target, io: IO): string {
  const terminal = io.stdoutIsTTY
  const out: string[] = [model(report, target), '']
  const statuses = Object.entries(report.statusCodes).map(([code, n]) => `${code}×${int(n)}`).join(' ') || '-'
  const kinds = Object.entries(report.errorsByKind).filter(([, n]) => n > 0).map(([kind, n]) => `${kind} ${int(n)}`).join(', ')
  out.push(
    `requests    ${int(report.requests)}`,
    `throughput  ${report.throughput.toFixed(1)} req/s`,
    `errors      ${int(report.errors)} (${percent(report.errorRate)})${kinds ? `: ${kinds}` : ''}`,
    `statuses    ${statuses}`,
    '',
  )
  const l = report.latencyMs
  const head = ['min', 'mean', 'stdev', 'p50', 'p75', 'p90', 'p95', 'p99', 'p99.9', 'max']
  const values = [l.min, l.mean, l.stdev, l.p50, l.p75, l.p90, l.p95, l.p99, l.p999, l.max].map(ms)
  const widths = head.map((h, i) => Math.max(h.length, values[i].length))
  out.push(
    'latency (ms, from each request\'s intended start)',
    '  ' + head.map((h, i) => io.paint(h.padStart(widths[i]), 'bold')).join('  '),
    '  ' + values.map((v, i) => v.padStart(widths[i])).join('  '),
  )
  const chart = histogramChart(report, terminal)
  if (chart.length > 0) out.push('', 'latency histogram', ...chart)
  if (report.assertions.length > 0) {
    out.push('', 'assertions')
    for (const a of report.assertions) {
      const mark = a.pass ? io.paint(terminal ? '✓' : 'pass', 'green') : io.paint(terminal ? '✗' : 'FAIL', 'red')
      out.push(`  ${mark} ${a.expr}  (actual ${actualText(a.expr, a.actual)})`)
    }
  }
  const check = report.selfCheck
  out.push('', `self-check: ${check.ok ? io.paint(check.verdict, 'green') : io.paint(check.verdict, 'yellow')}`)
  const details = [`event loop lag p99 ${ms(check.eventLoopDelayMs.p99)} ms`, `CPU ${check.cpuPercent}%`]
  if (check.sendDelayMs) details.push(`send delay p50 ${ms(check.sendDelayMs.p50)} / p99 ${ms(check.sendDelayMs.p99)} / max ${ms(check.sendDelayMs.max)} ms`)
  out.push(`  ${details.join(', ')}`)
  return out.join('\n')
}
