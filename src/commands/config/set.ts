import {Args} from '../../vendor/oclif.js'
import {BflyCommand} from '../../base-command.js'
import {object, type CommandResult} from '../../output/result.js'
import {configSet} from '../../services/config/config.js'

export default class ConfigSet extends BflyCommand<typeof ConfigSet> {
  static summary = 'Store a setting in the profile'
  static examples = ['<%= config.bin %> config set api-url https://butterfly.example.com', '<%= config.bin %> config set retries 5 --profile staging']
  static args = {
    key: Args.string({description: 'setting name (see `bfly config list`)', required: true}),
    value: Args.string({description: 'value', required: true}),
  }

  async execute(): Promise<CommandResult> {
    const row = await configSet(this.ctx, this.args.key, this.args.value)
    this.ctx.io.err(`set ${row.key} for profile ${this.ctx.profile}`)
    return this.ctx.json ? object(row) : undefined
  }
}
