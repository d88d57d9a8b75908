import {Flags} from '../../vendor/oclif.js'
import {BflyCommand} from '../../base-command.js'
import {listOutputFlags} from '../../flags.js'
import {list, type CommandResult} from '../../output/result.js'
import {configList, type SettingRow} from '../../services/config/config.js'

export default class ConfigList extends BflyCommand<typeof ConfigList> {
  static summary = 'List every setting with its effective value'
  static examples = ['<%= config.bin %> config list --show-origin', '<%= config.bin %> config list --profile staging --json']
  static flags = {...listOutputFlags, 'show-origin': Flags.boolean({description: 'add the ORIGIN column (flag, env, profile, default)'})}

  async execute(): Promise<CommandResult> {
    const rows = await configList(this.ctx)
    return list<SettingRow>(rows, [
      {key: 'key', header: 'KEY', get: (r) => r.key},
      {key: 'value', header: 'VALUE', get: (r) => r.value},
      {key: 'origin', header: 'ORIGIN', get: (r) => r.origin},
      {key: 'description', header: 'DESCRIPTION', get: (r) => r.description},
    ], {defaultColumns: this.flags['show-origin'] ? ['key', 'value', 'origin'] : ['key', 'value']})
  }
}
