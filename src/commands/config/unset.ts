import {Args} from '../../vendor/oclif.js'
import {BflyCommand} from '../../base-command.js'
import {object, type CommandResult} from '../../output/result.js'
import {configUnset} from '../../services/config/config.js'

export default class ConfigUnset extends BflyCommand<typeof ConfigUnset> {
  static summary = 'Remove a setting from the profile'
  static examples = ['<%= config.bin %> config unset timeout']
  static args = {key: Args.string({description: 'setting name', required: true})}

  async execute(): Promise<CommandResult> {
    const result = await configUnset(this.ctx, this.args.key)
    this.ctx.io.err(result.removed ? `unset ${result.key} for profile ${this.ctx.profile}` : `${result.key} was not set for profile ${this.ctx.profile}`)
    return this.ctx.json ? object(result) : undefined
  }
}
