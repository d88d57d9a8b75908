import {Args, Flags} from '../../vendor/oclif.js'
import {BflyCommand} from '../../base-command.js'
import {UsageError} from '../../errors.js'
import {yesFlag} from '../../flags.js'
import {object, type CommandResult} from '../../output/result.js'
import {dryRunText, retryReportText} from '../../services/webhooks/columns.js'
import {
  DEFAULT_CONCURRENCY, MAX_CONCURRENCY, resolveTargets, type RetryReport, type RetryTarget, retryDeliveries, retryOutcome, selectTargets, summarize,
} from '../../services/webhooks/retry.js'
import {deliveryId, webhookId} from '../../services/webhooks/webhooks.js'
import {parseTime} from '../../values.js'

export default class WebhooksRetry extends BflyCommand<typeof WebhooksRetry> {
  static summary = 'Retry webhook deliveries: given ids, or in bulk by webhook and status'
  static description = `Each retry carries an Idempotency-Key made of the delivery id and its attempt count, so running the same command twice never replays a delivery twice. Ids given alone carry no attempt count, so they are keyed by the id: a repeat within the server's 24 h replay window is reported as skipped; add --webhook to key them by attempt count. Bulk retries ask for confirmation on a terminal and need --yes elsewhere.

Ctrl-C stops starting new retries, lets the ones in flight finish, prints what was done and what was not, and exits 130; run the same command again to finish. Exits 9 when some retries failed (after the report).

--json prints {"retried":[…],"skipped":[{"id","reason"}],"failed":[{"id","error"}],"notStarted":[…]}; with --dry-run, {"dryRun":true,"wouldRetry":[…]} and nothing is sent.`
  static examples = [
    '<%= config.bin %> webhooks retry dlv_01 dlv_02',
    '<%= config.bin %> webhooks retry --webhook wh_123 --status failed --since 2h --dry-run',
    '<%= config.bin %> webhooks retry --webhook wh_123 --status dead_lettered --concurrency 8 --yes --json',
  ]
  static strict = false
  static args = {deliveryIds: Args.string({description: 'delivery ids (one or many); or select with --webhook and --status'})}
  static flags = {
    webhook: Flags.string({description: 'the webhook whose deliveries to retry (with ids: where to look up their attempt counts)'}),
    status: Flags.string({description: 'bulk: retry the deliveries in this state', options: ['failed', 'dead_lettered']}),
    since: Flags.string({description: 'bulk: only deliveries last attempted since then: RFC 3339 or a duration ago (2h)'}),
    'dry-run': Flags.boolean({description: 'list what would be retried; send nothing'}),
    concurrency: Flags.integer({description: `retries in flight at once (1-${MAX_CONCURRENCY}; paced by the write budget)`, default: DEFAULT_CONCURRENCY, min: 1, max: MAX_CONCURRENCY}),
    yes: yesFlag,
  }

  async execute(): Promise<CommandResult> {
    const {flags, io} = this
    const ids = [...new Set(this.argvList)].map(deliveryId)
    const hook = flags.webhook === undefined ? undefined : webhookId(flags.webhook)
    if (ids.length === 0 && hook === undefined) {
      throw new UsageError('which deliveries? pass delivery ids, or --webhook <id> --status failed|dead_lettered', {hint: 'see `bfly webhooks retry --help`'})
    }
    if (ids.length > 0 && (flags.status !== undefined || flags.since !== undefined)) {
      throw new UsageError('--status and --since select deliveries in bulk: use them with --webhook and no ids')
    }
    if (ids.length === 0 && flags.status === undefined) throw new UsageError('bulk retry needs --status failed or --status dead_lettered')
    const bulk = ids.length === 0
    const since = flags.since === undefined ? undefined : Date.parse(parseTime(flags.since, '--since', this.ctx.now))
    const status = flags.status as 'failed' | 'dead_lettered' | undefined
    const what = bulk ? `${status} deliveries of ${hook}` : `${ids.length} deliver${ids.length === 1 ? 'y' : 'ies'}`
    // Fail before any request when no one can confirm.
    if (bulk && !flags['dry-run'] && !flags.yes && !io.canPrompt()) await this.confirm(`Retry the ${what}?`, `retry the ${what}`)

    let targets: RetryTarget[]
    if (bulk) {
      const spinner = await this.spinner(`listing ${what}…`)
      targets = await selectTargets(this.ctx, {webhookId: hook!, status: status!, since, onPage: (page, n) => spinner.update(`listing ${what}… ${n} after page ${page + 1}`)})
      spinner.stop()
    } else {
      targets = hook === undefined ? ids.map((id) => ({id})) : await resolveTargets(this.ctx, hook, ids)
    }

    if (flags['dry-run']) {
      return object({dryRun: true, wouldRetry: targets}, {human: () => dryRunText(io, targets)})
    }
    const empty: RetryReport = {retried: [], skipped: [], failed: [], notStarted: []}
    if (targets.length === 0) return object(empty, {human: () => `nothing to retry: no ${what}${flags.since ? ` since ${flags.since}` : ''}`})
    if (bulk) {
      const n = targets.length
      await this.confirm(`Retry ${n} ${status} deliver${n === 1 ? 'y' : 'ies'} of ${hook}?`, `retry ${n} deliveries`)
    }

    const api = await this.ctx.api()
    const spinner = await this.spinner(`retrying ${targets.length}…`)
    const run = await retryDeliveries(api, targets, {
      concurrency: flags.concurrency,
      signal: this.signal,
      onSettled: (_result, done, total) => spinner.update(`retrying… ${done}/${total}${this.signal.aborted ? ' (stopping: waiting for the ones in flight)' : ''}`),
    })
    spinner.stop()
    // The totals close the table a human reads; a pipe gets the rows alone.
    const human = (report: RetryReport) => retryReportText(io, report) + (io.stdoutIsTTY ? `\n${summarize(report)}` : '')
    return object(run.report, {human, outcome: () => retryOutcome(run)})
  }
}
