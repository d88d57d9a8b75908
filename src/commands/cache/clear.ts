import {Flags} from '../../vendor/oclif.js'
import {BflyCommand} from '../../base-command.js'
import {clearCache, formatBytes} from '../../cache/maintenance.js'
import {object, type CommandResult} from '../../output/result.js'

export default class CacheClear extends BflyCommand<typeof CacheClear> {
  static summary = 'Empty the read cache of the profile'
  static examples = ['<%= config.bin %> cache clear', '<%= config.bin %> cache clear --all-profiles']
  static flags = {
    'all-profiles': Flags.boolean({description: 'empty the cache of every profile'}),
  }

  async execute(): Promise<CommandResult> {
    const cleared = await clearCache(this.ctx, this.flags['all-profiles'])
    return object(cleared, {
      human: (c) => `Removed ${c.entries} cached ${c.entries === 1 ? 'answer' : 'answers'} (${formatBytes(c.sizeBytes)})${c.profiles.length > 1 ? ` from ${c.profiles.length} profiles` : ''}\n`,
    })
  }
}
