import type {IO} from '../../output/io.js'
import type {Column} from '../../output/result.js'
import type {RetryReport, RetryTarget} from './retry.js'
import type {Delivery, Webhook} from './webhooks.js'

type Style = 'red' | 'green' | 'yellow' | 'dim' | undefined

export const deliveryStatusStyle = (value: string): Style =>
  value === 'delivered' ? 'green' : value === 'pending' ? 'yellow' : value === 'failed' || value === 'dead_lettered' ? 'red' : undefined

const yesNo = (value: unknown) => (value === undefined || value === null ? undefined : value ? 'yes' : 'no')

export const webhookColumns: Column<Webhook>[] = [
  {key: 'id', header: 'ID', get: (w) => w.id},
  {key: 'name', header: 'NAME', get: (w) => w.name},
  {key: 'url', header: 'URL', get: (w) => w.url},
  {key: 'events', header: 'EVENTS', get: (w) => (Array.isArray(w.events) ? w.events.join(',') : w.events)},
  {key: 'active', header: 'ACTIVE', get: (w) => yesNo(w.is_active), paint: (v) => (v === 'no' ? 'dim' : undefined)},
  {key: 'healthy', header: 'HEALTHY', get: (w) => yesNo(w.is_healthy), paint: (v) => (v === 'yes' ? 'green' : v === 'no' ? 'red' : undefined)},
]

const attempts = (d: Pick<Delivery, 'attempts' | 'max_attempts'>) =>
  d.attempts === undefined ? undefined : d.max_attempts === undefined ? String(d.attempts) : `${d.attempts}/${d.max_attempts}`

export const deliveryColumns: Column<Delivery>[] = [
  {key: 'id', header: 'ID', get: (d) => d.id},
  {key: 'event', header: 'EVENT', get: (d) => d.event_type},
  {key: 'status', header: 'STATUS', get: (d) => d.status, paint: deliveryStatusStyle},
  {key: 'attempts', header: 'ATTEMPTS', get: attempts},
  {key: 'code', header: 'HTTP', get: (d) => d.response_status_code},
  {key: 'lastAttempt', header: 'LAST ATTEMPT', get: (d) => d.last_attempt_at, time: true},
  {key: 'nextAttempt', header: 'NEXT ATTEMPT', get: (d) => d.next_attempt_at, time: true},
  {key: 'error', header: 'ERROR', get: (d) => d.error},
  {key: 'created', header: 'CREATED', get: (d) => d.created_at, time: true},
  {key: 'webhook', header: 'WEBHOOK', get: (d) => d.webhook_id},
  {key: 'duration', header: 'DURATION', get: (d) => (typeof d.duration_ms === 'number' ? `${d.duration_ms} ms` : undefined)},
]
export const defaultDeliveryColumns = ['id', 'event', 'status', 'attempts', 'code', 'lastAttempt', 'nextAttempt', 'error']

export const deliveryFields: Column<Delivery>[] = [
  {key: 'id', header: 'ID', get: (d) => d.id},
  {key: 'webhook', header: 'Webhook', get: (d) => d.webhook_id},
  {key: 'event', header: 'Event', get: (d) => d.event_type},
  {key: 'status', header: 'Status', get: (d) => d.status, paint: deliveryStatusStyle},
  {key: 'attempts', header: 'Attempts', get: attempts},
  {key: 'code', header: 'HTTP status', get: (d) => d.response_status_code},
  {key: 'duration', header: 'Duration', get: (d) => (typeof d.duration_ms === 'number' ? `${d.duration_ms} ms` : undefined)},
  {key: 'error', header: 'Error', get: (d) => d.error},
  {key: 'lastAttempt', header: 'Last attempt', get: (d) => d.last_attempt_at, time: true},
  {key: 'created', header: 'Created', get: (d) => d.created_at, time: true},
]

/** Rows of a table a human reads on a terminal, tab-separated rows in a pipe. */
function rows(io: IO, table: Array<[string, string, string]>): string {
  if (!io.stdoutIsTTY) return table.map((r) => r.join('\t')).join('\n')
  const w0 = Math.max(...table.map((r) => r[0].length))
  const w1 = Math.max(...table.map((r) => r[1].length))
  const style = (v: string): Style => (v === 'retried' ? 'green' : v === 'skipped' || v === 'would retry' ? 'yellow' : v === 'failed' ? 'red' : v === 'not started' ? 'dim' : undefined)
  return table
    .map(([a, b, c]) => {
      const s = style(a)
      const first = s ? io.paint(a.padEnd(w0), s) : a.padEnd(w0)
      return `${first}  ${b.padEnd(w1)}  ${c}`.trimEnd()
    })
    .join('\n')
}

/** The per-item report: retried / skipped with the reason / failed with the error / not started. */
export function retryReportText(io: IO, report: RetryReport): string {
  const table: Array<[string, string, string]> = [
    ...report.retried.map((r): [string, string, string] => ['retried', r.id, [r.queued_at ? `queued ${r.queued_at}` : 'queued', r.attempts !== undefined ? `after ${r.attempts} attempt${r.attempts === 1 ? '' : 's'}` : ''].filter(Boolean).join(' ')]),
    ...report.skipped.map((s): [string, string, string] => ['skipped', s.id, s.reason]),
    ...report.failed.map((f): [string, string, string] => ['failed', f.id, `${f.error}${f.requestId ? ` (request ${f.requestId})` : ''}`]),
    ...report.notStarted.map((id): [string, string, string] => ['not started', id, '']),
  ]
  return table.length === 0 ? 'nothing to retry' : rows(io, table)
}

export function dryRunText(io: IO, targets: RetryTarget[]): string {
  if (targets.length === 0) return 'nothing to retry'
  return rows(io, targets.map((t): [string, string, string] => [
    t.skip ? 'skipped' : 'would retry',
    t.id,
    t.skip ?? [t.event_type, t.status, t.attempts !== undefined ? `${t.attempts} attempts` : '', t.last_attempt_at ? `last ${t.last_attempt_at}` : ''].filter(Boolean).join(', '),
  ]))
}
