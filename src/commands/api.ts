import {Args, Flags} from '../vendor/oclif.js'
import {BflyCommand} from '../base-command.js'
import {callApi} from '../services/api/call.js'
import type {CommandResult} from '../output/result.js'

export default class Api extends BflyCommand<typeof Api> {
  static summary = 'Make an authenticated request to the BUTTERFLY API'
  static description = `Like \`gh api\`: the path is relative to the API URL. With -f fields and no -X, the method is POST with a JSON body.
The response body is printed as is; --paginate walks envelope pages and prints one JSON array.`
  static examples = [
    '<%= config.bin %> api /api/v1/capsules/cap_01JD9Z8K2M',
    '<%= config.bin %> api /api/v1/capsules --paginate -f scopeId=rim:entity:finance:EURUSD -X GET',
    '<%= config.bin %> api /webhooks -X POST --input webhook.json',
    '<%= config.bin %> api /integrations/status --include',
  ]
  static args = {path: Args.string({description: 'API path, e.g. /api/v1/capsules', required: true})}
  static flags = {
    method: Flags.string({char: 'X', description: 'HTTP method (default GET, or POST with fields/input)', options: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']}),
    header: Flags.string({char: 'H', description: 'extra request header "K: V"', multiple: true}),
    field: Flags.string({char: 'f', description: 'key=value: a JSON body field (or a query parameter with GET)', multiple: true}),
    input: Flags.string({description: 'request body from a file, or - for stdin'}),
    paginate: Flags.boolean({description: 'walk every page of an envelope list and print one JSON array'}),
    include: Flags.boolean({char: 'i', description: 'print the status line and response headers (to stderr) before the body'}),
    'idempotency-key': Flags.string({description: 'Idempotency-Key header (makes a POST safe to retry)'}),
  }

  async execute(): Promise<CommandResult> {
    return callApi(this.ctx, {
      path: this.args.path,
      method: this.flags.method,
      headers: this.flags.header ?? [],
      fields: this.flags.field ?? [],
      input: this.flags.input,
      paginate: this.flags.paginate,
      include: this.flags.include,
      idempotencyKey: this.flags['idempotency-key'],
    })
  }
}
