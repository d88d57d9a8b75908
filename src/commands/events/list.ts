import {Flags} from '../../vendor/oclif.js'
import {BflyCommand} from '../../base-command.js'
import {listOutputFlags, pageFlags, timeRangeFlags} from '../../flags.js'
import {list, type CommandResult} from '../../output/result.js'
import {eventColumns} from '../../services/events/columns.js'
import {listEvents} from '../../services/events/events.js'

export default class EventsList extends BflyCommand<typeof EventsList> {
  static summary = 'List platform events, newest first'
  static description = `Paging as in \`capsules list\`: one page by default, --all to walk and stream every page, --limit N to stop after N.
Sort fields: timestamp, type, id (default timestamp,desc).`
  static examples = [
    '<%= config.bin %> events list --type capsule.created --limit 20',
    '<%= config.bin %> events list --type "plan.*" --from 1d --all --ndjson',
  ]
  static flags = {
    type: Flags.string({description: 'only this event type (capsule.created), or a prefix ending in * (capsule.*)'}),
    'scope-id': Flags.string({description: 'only events of this scope'}),
    ...timeRangeFlags,
    ...pageFlags,
    ...listOutputFlags,
  }

  async execute(): Promise<CommandResult> {
    const walk = listEvents(this.ctx, {...this.flags, scopeId: this.flags['scope-id']})
    return list(walk.items, eventColumns, {progress: walk.progress, summary: walk.summary})
  }
}
