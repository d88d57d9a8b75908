import {Flags} from '../vendor/oclif.js'
import {BflyCommand} from '../base-command.js'
import {Context} from '../context.js'
import {object, type CommandResult} from '../output/result.js'
import {logout} from '../services/auth/logout.js'

export default class Logout extends BflyCommand<typeof Logout> {
  static summary = 'Log out: revoke the session at the issuer and remove it from this machine'
  static description = 'Revokes the refresh token when the authorization server offers revocation (RFC 7009), then removes the tokens from the keychain and the file. Works offline: the login is removed locally and a warning says it could not be revoked.'
  static examples = ['<%= config.bin %> logout', '<%= config.bin %> logout --profile staging', '<%= config.bin %> logout --all']
  static flags = {
    all: Flags.boolean({description: 'log out of every profile'}),
  }

  async execute(): Promise<CommandResult> {
    const ctx = this.ctx
    const outcomes = await logout(ctx, {
      all: this.flags.all,
      forProfile: (profile) =>
        new Context({io: ctx.io, env: ctx.env, flags: {...ctx.flags, profile}, configDir: ctx.configDir, version: ctx.version, signal: ctx.signal, now: ctx.now}),
    })
    if (!ctx.json) {
      if (outcomes.length === 0) this.io.err(this.flags.all ? 'No profile is logged in.' : `Not logged in (profile ${ctx.profile}).`)
      for (const o of outcomes) this.io.err(`Logged out of profile ${o.profile}${o.revoked ? ' (revoked at the issuer)' : ''}`)
      return
    }
    return object({loggedOut: outcomes})
  }
}
