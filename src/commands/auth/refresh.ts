import {BflyCommand} from '../../base-command.js'
import {object, type CommandResult} from '../../output/result.js'
import {describeStatus} from '../../services/auth/status.js'
import {refreshSession} from '../../services/auth/token.js'

export default class AuthRefresh extends BflyCommand<typeof AuthRefresh> {
  static summary = 'Refresh the session now'
  static description = 'Redeems the refresh token (single-flight with every other bfly process of the profile) and stores the new tokens.'
  static examples = ['<%= config.bin %> auth refresh']

  async execute(): Promise<CommandResult> {
    const status = await refreshSession(this.ctx)
    if (!this.ctx.json) {
      this.io.err(`Session refreshed; the access token expires ${status.expiresAt ?? 'when the server decides'}`)
      return
    }
    return object(status, {human: (s) => describeStatus(s, this.ctx.now())})
  }
}
