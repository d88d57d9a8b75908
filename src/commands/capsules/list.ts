import {Flags} from '../../vendor/oclif.js'
import {BflyCommand} from '../../base-command.js'
import {listOutputFlags, pageFlags, timeRangeFlags} from '../../flags.js'
import {list, type CommandResult} from '../../output/result.js'
import {listCapsules} from '../../services/capsules/capsules.js'
import {capsuleColumns, capsuleDefaultColumns} from '../../services/capsules/columns.js'

export default class CapsulesList extends BflyCommand<typeof CapsulesList> {
  static summary = 'List capsules, one page or all of them'
  static description = `Without --all or --limit, one page is shown (--page N, 0-based; --size up to 100) and stderr says where the rest is.
--all walks every page and streams: --json writes the array item by item, --ndjson a line per item, a pipe gets tab-separated rows as they come. Items that shift between pages while data changes are shown once.
Sort fields: timestamp, createdAt, id, scopeId, version, resolution. Times: RFC 3339 or a duration ago (30m, 2h, 7d).`
  static examples = [
    '<%= config.bin %> capsules list --scope-id rim:entity:finance:EURUSD --from 7d',
    '<%= config.bin %> capsules list --all --ndjson | jq -c .payload',
    '<%= config.bin %> capsules list --sort timestamp,desc --limit 50 --columns id,timestamp',
  ]
  static flags = {
    'scope-id': Flags.string({description: 'only this scope, rim:{nodeType}:{namespace}:{localId}'}),
    ...timeRangeFlags,
    ...pageFlags,
    ...listOutputFlags,
  }

  async execute(): Promise<CommandResult> {
    const walk = listCapsules(this.ctx, {...this.flags, scopeId: this.flags['scope-id']})
    return list(walk.items, capsuleColumns, {defaultColumns: capsuleDefaultColumns, progress: walk.progress, summary: walk.summary})
  }
}
