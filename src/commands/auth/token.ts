import {BflyCommand} from '../../base-command.js'
import {text, type CommandResult} from '../../output/result.js'
import {accessToken} from '../../services/auth/token.js'

export default class AuthToken extends BflyCommand<typeof AuthToken> {
  static summary = 'Print a valid access token (refreshed if needed)'
  static description = 'The one command that prints a token: for tools that need it, e.g. curl. Keep it out of logs.'
  static examples = ['curl -H "Authorization: Bearer $(<%= config.bin %> auth token)" https://butterfly.example.com/api/v1/capsules']

  async execute(): Promise<CommandResult> {
    const token = await accessToken(this.ctx)
    return text(token, {token})
  }
}
