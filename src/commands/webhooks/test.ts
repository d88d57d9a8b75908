import {Args} from '../../vendor/oclif.js'
import {BflyCommand} from '../../base-command.js'
import {object, type CommandResult} from '../../output/result.js'
import {deliveryFields} from '../../services/webhooks/columns.js'
import {testWebhook} from '../../services/webhooks/webhooks.js'

export default class WebhooksTest extends BflyCommand<typeof WebhooksTest> {
  static summary = 'Send a webhook.test event to a webhook endpoint'
  static description = 'Prints the delivery the platform created; follow it with `bfly webhooks deliveries <webhookId>`, or receive it locally with `bfly webhooks listen`.'
  static examples = ['<%= config.bin %> webhooks test wh_123', '<%= config.bin %> webhooks test wh_123 --json | jq -r .id']
  static args = {webhookId: Args.string({description: 'webhook id', required: true})}

  async execute(): Promise<CommandResult> {
    return object(await testWebhook(this.ctx, this.args.webhookId), {fields: deliveryFields})
  }
}
