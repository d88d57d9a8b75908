import {Flags} from '../../vendor/oclif.js'
import {BflyCommand} from '../../base-command.js'
import {object, type CommandResult} from '../../output/result.js'
import {circuitReset} from '../../services/circuit/circuit.js'

export default class CircuitReset extends BflyCommand<typeof CircuitReset> {
  static summary = "Close the client's circuit breaker for a host"
  static examples = ['<%= config.bin %> circuit reset', '<%= config.bin %> circuit reset --host api.example.com', '<%= config.bin %> circuit reset --all']
  static flags = {
    host: Flags.string({description: 'API host (host[:port]); default: the configured API URL'}),
    all: Flags.boolean({description: 'reset every host', exclusive: ['host']}),
  }

  async execute(): Promise<CommandResult> {
    const reset = await circuitReset(this.ctx, this.flags.host, this.flags.all)
    return object({reset}, {human: (d) => (d.reset.length === 0 ? 'no open circuit to reset' : d.reset.map((h) => `circuit closed for ${h}`).join('\n'))})
  }
}
