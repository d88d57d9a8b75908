import {Args, Flags} from '../../vendor/oclif.js'
import {BflyCommand} from '../../base-command.js'
import {object, stream, type CommandResult} from '../../output/result.js'
import {DEFAULT_WAIT_MS, executePlan, planEndLine, planId, watchPlan, withProgress} from '../../services/plans/plans.js'
import {PlanProgress} from '../../services/plans/progress.js'
import {parseDuration} from '../../values.js'

export default class PlansExecute extends BflyCommand<typeof PlansExecute> {
  static summary = 'Start a plan, and optionally follow it until it ends'
  static description = `Without --watch, prints the execution the platform started. With --watch, subscribes to the plan's stream first, then starts it, so no event is missed; it then behaves as \`bfly plans watch\` (exit 0 completed, 6 failed, 7 not ended within --timeout). With --json --watch the first line is {"type":"EXECUTION_STARTED",…the execution}.`
  static examples = ['<%= config.bin %> plans execute plan_123', '<%= config.bin %> plans execute plan_123 --watch', '<%= config.bin %> plans execute plan_123 --watch --json']
  static args = {id: Args.string({description: 'plan id', required: true})}
  static flags = {
    watch: Flags.boolean({description: 'follow the plan until it ends'}),
  }

  async execute(): Promise<CommandResult> {
    const {ctx, io} = this
    const id = planId(this.args.id)
    if (!this.flags.watch) {
      const execution = await executePlan(ctx, id)
      return object(execution, {
        fields: [
          {key: 'planId', header: 'Plan', get: (e) => e.planId},
          {key: 'executionId', header: 'Execution', get: (e) => e.executionId},
          {key: 'status', header: 'Status', get: (e) => e.status},
        ],
      })
    }
    const progress = PlanProgress.for(io, ctx.json)
    const watch = await watchPlan(ctx, id, {
      maxWaitMs: this.flags.timeout === undefined ? DEFAULT_WAIT_MS : parseDuration(this.flags.timeout, '--timeout'),
      onNote: (note) => (ctx.json ? ctx.warn(note) : progress.note(note)),
      onFirstOpen: async () => {
        const execution = await executePlan(ctx, id)
        if (!ctx.json) progress.note(`started execution ${execution.executionId ?? '?'} of plan ${id} (${execution.status ?? 'RUNNING'})`)
        return {...execution, type: 'EXECUTION_STARTED'}
      },
    })
    return stream(withProgress(watch, progress), (event) => planEndLine(id, event), {outcome: () => watch.outcome()})
  }
}
