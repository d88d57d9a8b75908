import {BflyCommand} from '../../base-command.js'
import {listOutputFlags} from '../../flags.js'
import {list, type CommandResult} from '../../output/result.js'
import {circuitStatus, type CircuitRow} from '../../services/circuit/circuit.js'

export default class CircuitStatus extends BflyCommand<typeof CircuitStatus> {
  static summary = "Show the client's circuit breaker of every API host"
  static description = 'bfly stops sending to a host after 5 consecutive failures (5xx, network errors, timeouts) and probes it again after 60 s. The state is shared by every bfly invocation of the profile.'
  static examples = ['<%= config.bin %> circuit status', '<%= config.bin %> circuit status --json']
  static flags = {...listOutputFlags}

  async execute(): Promise<CommandResult> {
    const rows = await circuitStatus(this.ctx)
    return list<CircuitRow>(rows, [
      {key: 'host', header: 'HOST', get: (r) => r.host},
      {key: 'state', header: 'STATE', get: (r) => r.state, paint: (v) => (v === 'open' ? 'red' : v === 'half-open' ? 'yellow' : 'green')},
      {key: 'failures', header: 'FAILURES', get: (r) => r.failures},
      {key: 'lastError', header: 'LAST ERROR', get: (r) => r.lastError},
      {key: 'halfOpensAt', header: 'HALF-OPENS AT', get: (r) => r.halfOpensAt, time: true},
    ])
  }
}
