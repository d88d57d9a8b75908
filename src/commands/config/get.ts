import {Args, Flags} from '../../vendor/oclif.js'
import {BflyCommand} from '../../base-command.js'
import {object, type CommandResult} from '../../output/result.js'
import {configGet} from '../../services/config/config.js'

export default class ConfigGet extends BflyCommand<typeof ConfigGet> {
  static summary = 'Print the effective value of a setting'
  static examples = ['<%= config.bin %> config get api-url', '<%= config.bin %> config get api-url --show-origin']
  static args = {key: Args.string({description: 'setting name (see `bfly config list`)', required: true})}
  static flags = {'show-origin': Flags.boolean({description: 'also say where the value came from (flag, env, profile, default)'})}

  async execute(): Promise<CommandResult> {
    const row = await configGet(this.ctx, this.args.key)
    return object(row, {human: (r) => (this.flags['show-origin'] ? `${r.value ?? ''}\t${r.origin}` : r.value ?? '')})
  }
}
