import {Args, Flags} from '../../vendor/oclif.js'
import {BflyCommand} from '../../base-command.js'
import {listOutputFlags} from '../../flags.js'
import {list, type CommandResult} from '../../output/result.js'
import {defaultDeliveryColumns, deliveryColumns} from '../../services/webhooks/columns.js'
import {deliveries, deliveryStatus, DELIVERY_STATUSES, webhookId} from '../../services/webhooks/webhooks.js'
import {parseTime} from '../../values.js'

export default class WebhooksDeliveries extends BflyCommand<typeof WebhooksDeliveries> {
  static summary = 'List the deliveries of a webhook'
  static examples = [
    '<%= config.bin %> webhooks deliveries wh_123 --status failed',
    '<%= config.bin %> webhooks deliveries wh_123 --status dead_lettered --since 2h --all --ndjson',
  ]
  static args = {webhookId: Args.string({description: 'webhook id', required: true})}
  static flags = {
    ...listOutputFlags,
    status: Flags.string({description: `only deliveries in this state (${DELIVERY_STATUSES.join('|')})`}),
    since: Flags.string({description: 'only deliveries last attempted (or created) since then: RFC 3339 or a duration ago (2h)'}),
    all: Flags.boolean({description: 'walk every page'}),
    limit: Flags.integer({description: 'stop after N deliveries (walks pages as needed)', min: 1}),
    page: Flags.integer({description: 'first page, 0-based', min: 0}),
    size: Flags.integer({description: 'page size (1-100)', min: 1, max: 100}),
  }

  async execute(): Promise<CommandResult> {
    const {flags} = this
    const hook = webhookId(this.args.webhookId)
    const status = flags.status === undefined ? undefined : deliveryStatus(flags.status)
    const since = flags.since === undefined ? undefined : Date.parse(parseTime(flags.since, '--since', this.ctx.now))
    let lastPage: number | undefined
    const items = deliveries(this.ctx, {
      webhookId: hook,
      status,
      since,
      all: flags.all,
      limit: flags.limit,
      page: flags.page,
      size: flags.size,
      onPage: (page) => (lastPage = page),
    })
    return list(items, deliveryColumns, {
      defaultColumns: defaultDeliveryColumns,
      progress: () => (lastPage === undefined ? 'no page finished' : `stopped after page ${lastPage}; resume with --page ${lastPage + 1}`),
    })
  }
}
