import {Flags} from '../vendor/oclif.js'
import {BflyCommand} from '../base-command.js'
import {object, type CommandResult} from '../output/result.js'
import {describeStatus} from '../services/auth/status.js'
import {login} from '../services/auth/login.js'

export default class Login extends BflyCommand<typeof Login> {
  static summary = 'Log in to the BUTTERFLY API and keep the session in the OS keychain'
  static description = `Discovers the authorization server from the API (or --issuer) and logs in with the browser
(authorization code + PKCE, a listener on 127.0.0.1), or with a code to enter on another device
(the default over SSH, in CI and without a display). The refresh token goes to the OS keychain,
or to a file readable only by you when there is no keychain (BFLY_KEYCHAIN=off forces the file).
For CI: --client-credentials with BFLY_CLIENT_ID and BFLY_CLIENT_SECRET (the secret is never a flag).`
  static examples = [
    '<%= config.bin %> login',
    '<%= config.bin %> login --device',
    '<%= config.bin %> login --web --no-browser',
    '<%= config.bin %> login --scopes "capsules:read history:read"',
    'BFLY_CLIENT_ID=ci BFLY_CLIENT_SECRET=… <%= config.bin %> login --client-credentials',
    '<%= config.bin %> login --with-token < token.txt',
  ]
  static flags = {
    device: Flags.boolean({description: 'log in with a code entered on another device (RFC 8628)', exclusive: ['web', 'client-credentials', 'with-token']}),
    web: Flags.boolean({description: 'log in with the browser on this machine', exclusive: ['device', 'client-credentials', 'with-token']}),
    'no-browser': Flags.boolean({description: 'print the login URL instead of opening a browser'}),
    scopes: Flags.string({description: 'scopes to ask for, space separated (default: all the API offers)'}),
    'client-credentials': Flags.boolean({description: 'log in as a confidential client (CI): BFLY_CLIENT_ID, secret from BFLY_CLIENT_SECRET or a prompt', exclusive: ['with-token']}),
    'client-id': Flags.string({description: 'client id for --client-credentials (default: $BFLY_CLIENT_ID)', dependsOn: ['client-credentials']}),
    'with-token': Flags.boolean({description: 'read an access token from stdin and store it'}),
    issuer: Flags.string({description: 'OAuth issuer URL (default: discovered from the API; also $BFLY_ISSUER)'}),
  }

  async execute(): Promise<CommandResult> {
    const status = await login(this.ctx, {
      flow: this.flags.device ? 'device' : this.flags.web ? 'web' : undefined,
      noBrowser: this.flags['no-browser'],
      scopes: this.flags.scopes,
      clientCredentials: this.flags['client-credentials'],
      clientId: this.flags['client-id'],
      withToken: this.flags['with-token'],
    })
    if (!this.ctx.json) {
      const where = status.storage === 'keychain' ? 'the OS keychain' : 'a file readable only by you'
      this.io.err(`${this.io.paint('✓', 'green')} Logged in${status.subject ? ` as ${status.subject}` : ''} (profile ${status.profile}); the session is kept in ${where}`)
      return
    }
    return object(status, {human: (s) => describeStatus(s, this.ctx.now())})
  }
}
