import {BflyCommand} from '../../base-command.js'
import {listOutputFlags} from '../../flags.js'
import {list, type CommandResult} from '../../output/result.js'
import {webhookColumns} from '../../services/webhooks/columns.js'
import {listWebhooks} from '../../services/webhooks/webhooks.js'

export default class WebhooksList extends BflyCommand<typeof WebhooksList> {
  static summary = 'List webhook endpoints'
  static examples = ['<%= config.bin %> webhooks list', '<%= config.bin %> webhooks list --json | jq -r \'.[] | select(.is_healthy|not) | .id\'']
  static flags = {...listOutputFlags}

  async execute(): Promise<CommandResult> {
    return list(await listWebhooks(this.ctx), webhookColumns)
  }
}
