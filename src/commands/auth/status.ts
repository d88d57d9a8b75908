import {BflyCommand} from '../../base-command.js'
import {AuthError} from '../../errors.js'
import {object, type CommandResult} from '../../output/result.js'
import {authStatus, describeStatus} from '../../services/auth/status.js'

export default class AuthStatus extends BflyCommand<typeof AuthStatus> {
  static summary = 'Show the login of the profile (never the token)'
  static description = 'Exits 3 when the profile is not logged in, so scripts can test for a login.'
  static examples = ['<%= config.bin %> auth status', '<%= config.bin %> auth status --json | jq .expiresAt']
  private loggedIn = false

  async execute(): Promise<CommandResult> {
    const status = await authStatus(this.ctx)
    this.loggedIn = status.loggedIn
    return object(status, {human: (s) => describeStatus(s, this.ctx.now())})
  }

  async run(): Promise<void> {
    await super.run()
    // The status is data (printed); being logged out is still exit 3 for scripts.
    if (!this.loggedIn) throw new AuthError('not logged in — run `bfly login`', {hint: 'or set BFLY_TOKEN / BUTTERFLY_API_KEY for scripts'})
  }
}
