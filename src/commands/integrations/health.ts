import {Args} from '../../vendor/oclif.js'
import {BflyCommand} from '../../base-command.js'
import {object, type CommandResult} from '../../output/result.js'
import {healthFields} from '../../services/integrations/columns.js'
import {integrationHealth} from '../../services/integrations/integrations.js'

export default class IntegrationsHealth extends BflyCommand<typeof IntegrationsHealth> {
  static summary = 'Show the health of one integration: latency p50/p99, success rate, last error'
  static examples = ['<%= config.bin %> integrations health GitHubAPI', '<%= config.bin %> integrations health GitHubAPI --json']
  static args = {name: Args.string({description: 'integration name, as `integrations status` shows it', required: true})}

  async execute(): Promise<CommandResult> {
    return object(await integrationHealth(this.ctx, this.args.name), {fields: healthFields})
  }
}
