import {Flags} from '../../vendor/oclif.js'
import {BflyCommand} from '../../base-command.js'
import {listOutputFlags} from '../../flags.js'
import {list, type CommandResult} from '../../output/result.js'
import {integrationColumns} from '../../services/integrations/columns.js'
import {FAIL_ON, failOnCheck, integrationsStatus, parseFailOn} from '../../services/integrations/integrations.js'

export default class IntegrationsStatus extends BflyCommand<typeof IntegrationsStatus> {
  static summary = 'Show every integration: status, circuit state, error rate'
  static description = 'With --fail-on, exits 8 after printing the table when an integration is degraded (or worse), unhealthy, or has its circuit open: a one-line CI smoke check.'
  static examples = [
    '<%= config.bin %> integrations status',
    '<%= config.bin %> integrations status --fail-on unhealthy --fail-on open',
    '<%= config.bin %> integrations status --json | jq -r \'.[] | select(.circuit_state=="open") | .name\'',
  ]
  static flags = {
    ...listOutputFlags,
    'fail-on': Flags.string({
      description: `exit 8 when any integration is ${FAIL_ON.join('|')} (degraded means degraded or worse; repeat or comma-separate)`,
      multiple: true,
    }),
  }

  async execute(): Promise<CommandResult> {
    const failOn = parseFailOn(this.flags['fail-on'])
    const integrations = await integrationsStatus(this.ctx)
    return list(integrations, integrationColumns, {outcome: () => failOnCheck(integrations, failOn)})
  }
}
