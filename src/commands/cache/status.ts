import {BflyCommand} from '../../base-command.js'
import {cacheStatus, describeStatus} from '../../cache/maintenance.js'
import {object, type CommandResult} from '../../output/result.js'

export default class CacheStatus extends BflyCommand<typeof CacheStatus> {
  static summary = "Show the read cache of the profile: size, bound and entries"
  static description = `GET answers are kept per profile, API host and login in the state directory, honouring the API's Cache-Control, ETag and Last-Modified.
Reads stay fresh by default: a stored answer is used without asking the API only while the API says it is fresh, or within --max-age.
With --stale-if-error (or \`bfly config set fallback cache\`) a stored answer stands in, with a warning, when the API is down.`
  static examples = ['<%= config.bin %> cache status', '<%= config.bin %> cache status --json | jq .sizeBytes']

  async execute(): Promise<CommandResult> {
    return object(await cacheStatus(this.ctx), {human: describeStatus})
  }
}
