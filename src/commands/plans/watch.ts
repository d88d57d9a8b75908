import {Args} from '../../vendor/oclif.js'
import {BflyCommand} from '../../base-command.js'
import {stream, type CommandResult} from '../../output/result.js'
import {DEFAULT_WAIT_MS, planEndLine, planId, watchPlan, withProgress} from '../../services/plans/plans.js'
import {PlanProgress} from '../../services/plans/progress.js'
import {formatDuration, parseDuration} from '../../values.js'

export default class PlansWatch extends BflyCommand<typeof PlansWatch> {
  static summary = 'Follow a running plan until it ends'
  static description = `Streams the plan's events over its WebSocket: per-step progress on stderr, how it ended on stdout; with --json every event as one JSON object per line. Reconnects with backoff if the stream drops. Exits 0 when the plan completes, 6 when it fails, 7 when it has not ended within --timeout (default ${formatDuration(DEFAULT_WAIT_MS)}).`
  static examples = ['<%= config.bin %> plans watch plan_123', '<%= config.bin %> plans watch plan_123 --json --timeout 10m | jq -c \'select(.type=="STEP_COMPLETED")\'']
  static args = {id: Args.string({description: 'plan id', required: true})}

  async execute(): Promise<CommandResult> {
    const {ctx, io} = this
    const id = planId(this.args.id)
    const progress = PlanProgress.for(io, ctx.json)
    const watch = await watchPlan(ctx, id, {
      maxWaitMs: this.flags.timeout === undefined ? DEFAULT_WAIT_MS : parseDuration(this.flags.timeout, '--timeout'),
      onNote: (note) => (ctx.json ? ctx.warn(note) : progress.note(note)),
    })
    return stream(withProgress(watch, progress), (event) => planEndLine(id, event), {outcome: () => watch.outcome()})
  }
}
