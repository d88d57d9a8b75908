import {Args} from '../../vendor/oclif.js'
import {BflyCommand} from '../../base-command.js'
import {getCapsule} from '../../services/capsules/capsules.js'
import {capsuleFields} from '../../services/capsules/columns.js'
import {object, type CommandResult} from '../../output/result.js'

export default class CapsulesGet extends BflyCommand<typeof CapsulesGet> {
  static summary = 'Show one capsule'
  static examples = ['<%= config.bin %> capsules get cap_01JD9Z8K2M', '<%= config.bin %> capsules get cap_01JD9Z8K2M --json | jq .payload']
  static args = {id: Args.string({description: 'capsule id (^[A-Za-z0-9_-]{1,64}$)', required: true})}

  async execute(): Promise<CommandResult> {
    return object(await getCapsule(this.ctx, this.args.id), {fields: capsuleFields})
  }
}
