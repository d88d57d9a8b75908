import {Args} from '../vendor/oclif.js'
import {BflyCommand} from '../base-command.js'
import {listOutputFlags, pageFlags, timeRangeFlags} from '../flags.js'
import {list, type CommandResult} from '../output/result.js'
import {capsuleColumns, capsuleDefaultColumns} from '../services/capsules/columns.js'
import {listHistory} from '../services/history/history.js'

export default class History extends BflyCommand<typeof History> {
  static summary = 'Capsule history across scopes, or of one entity; newest first'
  static description = `Paging as in \`capsules list\`: one page by default, --all to walk and stream every page, --limit N to stop after N.
Sort fields: timestamp, createdAt, id, scopeId, version, resolution (default timestamp,desc).`
  static examples = [
    '<%= config.bin %> history rim:entity:finance:EURUSD --from 2h',
    '<%= config.bin %> history --all --json > history.json',
  ]
  static args = {scopeId: Args.string({description: 'the entity, rim:{nodeType}:{namespace}:{localId}; omitted: every scope'})}
  static flags = {...timeRangeFlags, ...pageFlags, ...listOutputFlags}

  async execute(): Promise<CommandResult> {
    const walk = listHistory(this.ctx, this.args.scopeId, this.flags)
    return list(walk.items, capsuleColumns, {defaultColumns: capsuleDefaultColumns, progress: walk.progress, summary: walk.summary})
  }
}
