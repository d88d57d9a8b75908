// Replay of webhook deliveries, one by one or in bulk, safe to interrupt and to run again:
// - every POST carries an Idempotency-Key made of the delivery id and its attempt count, so the
//   same retry is sent at most once however often the command runs (a replay comes back with
//   `Idempotent-Replayed: true` and is reported as skipped); a delivery that failed again since
//   has a higher attempt count, hence a new key, and is retried again as it should be;
// - a bounded pool of workers sends them; the client's token bucket paces them within the
//   write budget shared by every bfly process of the profile;
// - on Ctrl-C no new retry starts, the ones in flight finish (their requests are not cancelled:
//   a cancelled POST may or may not have happened), and the report says which never started.
import {createHash} from 'node:crypto'
import type {ApiClient} from '../../api/client.js'
import type {Context} from '../../context.js'
import {ApiError, BflyError, CircuitOpenError, ExitCode, Interrupted, PartialFailure} from '../../errors.js'
import {segment} from '../ids.js'
import {deliveries, type Delivery} from './webhooks.js'

export interface RetryTarget {
  id: string
  /** Attempts so far, when known (bulk selection, or ids looked up in their webhook). */
  attempts?: number
  status?: string
  event_type?: string
  last_attempt_at?: string | null
  /** Known not to be retried, without asking the server (e.g. not a delivery of that webhook). */
  skip?: string
}

export interface RetriedItem {
  id: string
  status?: string
  attempts?: number
  queued_at?: string
  [key: string]: unknown
}

export interface SkippedItem {
  id: string
  reason: string
  code?: string
  status?: number
}

export interface FailedItem {
  id: string
  error: string
  code?: string
  status?: number
  requestId?: string
}

export interface RetryReport {
  retried: RetriedItem[]
  skipped: SkippedItem[]
  failed: FailedItem[]
  /** Never sent: the run was interrupted, or stopped by an error every further retry would hit. */
  notStarted: string[]
}

export interface RetryRun {
  report: RetryReport
  interrupted: boolean
  /** Why the run stopped early (auth, rate limit, the client's circuit open). */
  fatal?: BflyError
}

export type ItemResult = {kind: 'retried'; item: RetriedItem} | {kind: 'skipped'; item: SkippedItem} | {kind: 'failed'; item: FailedItem}

export const DEFAULT_CONCURRENCY = 4
export const MAX_CONCURRENCY = 16

export function toTarget(delivery: Delivery): RetryTarget {
  return {id: delivery.id, attempts: delivery.attempts, status: delivery.status, event_type: delivery.event_type, last_attempt_at: delivery.last_attempt_at}
}

/** One key per delivery and attempt count: the same retry is never sent twice (1-255 chars). */
export function retryIdempotencyKey(target: Pick<RetryTarget, 'id' | 'attempts'>): string {
  const id = target.id.length > 180 ? createHash('sha256').update(target.id).digest('hex') : target.id
  return target.attempts === undefined ? `bfly-retry-${id}` : `bfly-retry-${id}-attempt-${target.attempts}`
}

/** Errors after which every further retry would fail the same way: stop starting new ones. */
function stopsTheRun(error: BflyError): boolean {
  return error instanceof CircuitOpenError || error.exitCode === ExitCode.Auth || error.exitCode === ExitCode.RateLimited
}

type Poster = Pick<ApiClient, 'request'>

async function retryOne(api: Poster, target: RetryTarget): Promise<{result: ItemResult; error?: BflyError}> {
  if (target.skip) return {result: {kind: 'skipped', item: {id: target.id, reason: target.skip}}}
  try {
    const response = await api.request<RetriedItem>({
      method: 'POST',
      path: `/webhooks/deliveries/${segment(target.id)}/retry`,
      idempotencyKey: retryIdempotencyKey(target),
      // In flight when Ctrl-C comes: let it finish, so we know whether it happened.
      signal: null,
    })
    if (response.replayed) {
      return {result: {kind: 'skipped', item: {id: target.id, reason: 'already retried by an earlier run (the server replayed its answer)', code: 'REPLAYED', status: response.status}}}
    }
    const data = response.data && typeof response.data === 'object' ? response.data : ({} as RetriedItem)
    return {result: {kind: 'retried', item: {...data, id: data.id ?? target.id}}}
  } catch (caught) {
    const error = caught instanceof BflyError ? caught : new BflyError(String((caught as Error)?.message ?? caught), {code: 'INTERNAL', exitCode: ExitCode.Failure})
    // Delivered already, or already pending: nothing to do, not a failure.
    if (error instanceof ApiError && error.status === 409) {
      return {result: {kind: 'skipped', item: {id: target.id, reason: error.message, code: error.code, status: 409}}}
    }
    const item: FailedItem = {id: target.id, error: error.message, code: error.code}
    if (error.status !== undefined) item.status = error.status
    if (error.requestId !== undefined) item.requestId = error.requestId
    return {result: {kind: 'failed', item}, error}
  }
}

export interface RetryOptions {
  concurrency: number
  signal: AbortSignal
  /** Told as each item settles (progress on a terminal). */
  onSettled?: (result: ItemResult, done: number, total: number) => void
}

export async function retryDeliveries(api: Poster, targets: RetryTarget[], options: RetryOptions): Promise<RetryRun> {
  const results: (ItemResult | undefined)[] = new Array(targets.length)
  let next = 0
  let done = 0
  let fatal: BflyError | undefined
  const worker = async () => {
    while (!options.signal.aborted && !fatal) {
      const index = next++
      if (index >= targets.length) return
      const {result, error} = await retryOne(api, targets[index])
      results[index] = result
      if (error && stopsTheRun(error)) fatal ??= error
      options.onSettled?.(result, ++done, targets.length)
    }
  }
  const workers = Math.max(1, Math.min(options.concurrency, targets.length))
  await Promise.all(Array.from({length: workers}, worker))
  const report: RetryReport = {retried: [], skipped: [], failed: [], notStarted: []}
  targets.forEach((target, index) => {
    const result = results[index]
    if (!result) report.notStarted.push(target.id)
    else if (result.kind === 'retried') report.retried.push(result.item)
    else if (result.kind === 'skipped') report.skipped.push(result.item)
    else report.failed.push(result.item)
  })
  return {report, interrupted: options.signal.aborted, fatal}
}

export function summarize(report: RetryReport): string {
  const parts = [`${report.retried.length} retried`, `${report.skipped.length} skipped`, `${report.failed.length} failed`]
  if (report.notStarted.length > 0) parts.push(`${report.notStarted.length} not started`)
  return parts.join(', ')
}

/** How the command ends once the report is out: 130 interrupted, the stopping error, 9 partial, or 0. */
export function retryOutcome(run: RetryRun): BflyError | undefined {
  const {report} = run
  if (run.interrupted) {
    return new Interrupted(`interrupted: ${summarize(report)} — run the same command again to finish; nothing is retried twice`)
  }
  if (run.fatal) {
    if (report.notStarted.length > 0) {
      run.fatal.hint = `${report.notStarted.length} not started; fix this and run the same command again${run.fatal.hint ? `; ${run.fatal.hint}` : ''}`
    }
    return run.fatal
  }
  if (report.failed.length > 0) {
    const total = report.retried.length + report.skipped.length + report.failed.length
    return new PartialFailure(`${report.failed.length} of ${total} retr${total === 1 ? 'y' : 'ies'} failed (${summarize(report)})`, {
      hint: 'the report says which and why; running the same command again retries only what is still failed',
    })
  }
  return undefined
}

export interface Selection {
  webhookId: string
  status: 'failed' | 'dead_lettered'
  since?: number
  onPage?: (page: number, fetched: number) => void
}

/**
 * Everything to retry, collected before the first POST: retrying moves deliveries out of the
 * status being listed, which would shift the pages still to walk and skip some.
 */
export async function selectTargets(ctx: Context, selection: Selection): Promise<RetryTarget[]> {
  const out: RetryTarget[] = []
  for await (const delivery of deliveries(ctx, {webhookId: selection.webhookId, status: selection.status, since: selection.since, all: true, onPage: selection.onPage})) {
    out.push(toTarget(delivery))
  }
  return out
}

/** Ids given by hand, looked up in their webhook for the attempt count their keys need. */
export async function resolveTargets(ctx: Context, hook: string, ids: string[]): Promise<RetryTarget[]> {
  const wanted = new Map<string, RetryTarget | undefined>(ids.map((id) => [id, undefined]))
  let missing = ids.length
  for await (const delivery of deliveries(ctx, {webhookId: hook, all: true})) {
    if (wanted.has(delivery.id) && wanted.get(delivery.id) === undefined) {
      wanted.set(delivery.id, toTarget(delivery))
      if (--missing === 0) break
    }
  }
  return ids.map((id) => wanted.get(id) ?? {id, skip: `not a delivery of webhook ${hook}`})
}
