import {Args} from '../../vendor/oclif.js'
import {BflyCommand} from '../../base-command.js'
import {yesFlag} from '../../flags.js'
import {object, type CommandResult} from '../../output/result.js'
import {deleteCapsule} from '../../services/capsules/capsules.js'
import {capsuleId} from '../../services/ids.js'

export default class CapsulesDelete extends BflyCommand<typeof CapsulesDelete> {
  static summary = 'Delete a capsule'
  static description = 'Asks for confirmation on a terminal; elsewhere (scripts, CI) --yes is required and nothing is sent without it.'
  static examples = ['<%= config.bin %> capsules delete cap_01JD9Z8K2M', '<%= config.bin %> capsules delete cap_01JD9Z8K2M --yes --json']
  static args = {id: Args.string({description: 'capsule id (^[A-Za-z0-9_-]{1,64}$)', required: true})}
  static flags = {yes: yesFlag}

  async execute(): Promise<CommandResult> {
    const id = capsuleId(this.args.id)
    await this.confirm(`Delete capsule ${id}? This cannot be undone.`, `delete capsule ${id}`)
    return object(await deleteCapsule(this.ctx, id), {human: (d) => `deleted capsule ${d.id}`})
  }
}
