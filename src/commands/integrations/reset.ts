import {Args} from '../../vendor/oclif.js'
import {BflyCommand} from '../../base-command.js'
import {yesFlag} from '../../flags.js'
import {object, type CommandResult} from '../../output/result.js'
import {describeReset} from '../../services/integrations/columns.js'
import {resetIntegrationCircuit} from '../../services/integrations/integrations.js'
import {opaqueId} from '../../services/ids.js'

export default class IntegrationsReset extends BflyCommand<typeof IntegrationsReset> {
  static summary = "Reset an integration's circuit breaker on the platform"
  static description = 'Closes the circuit so the platform sends traffic to the integration again. An admin action: asks for confirmation on a terminal and needs --yes elsewhere.'
  static examples = ['<%= config.bin %> integrations reset WeatherAPI', '<%= config.bin %> integrations reset WeatherAPI --yes --json']
  static args = {name: Args.string({description: 'integration name, as `integrations status` shows it', required: true})}
  static flags = {yes: yesFlag}

  async execute(): Promise<CommandResult> {
    const name = opaqueId('integration name', this.args.name)
    await this.confirm(`Reset the circuit of ${name}? The platform will send it traffic again.`, `reset the circuit of ${name}`)
    return object(await resetIntegrationCircuit(this.ctx, name), {human: describeReset})
  }
}
