import {BflyCommand} from '../base-command.js'
import {CheckFailed, Interrupted} from '../errors.js'
import {text, type CommandResult} from '../output/result.js'
import {runDoctor} from '../services/doctor/doctor.js'
import {renderHuman, toJson} from '../services/doctor/report.js'

/** Each network step's bound unless --timeout says otherwise: doctor answers quickly or says what hangs. */
const DEFAULT_TIMEOUT_MS = 5000
const MAX_TIMEOUT_MS = 60_000

export default class Doctor extends BflyCommand<typeof Doctor> {
  static summary = 'Check everything between you and the API; paste the output into a support ticket'
  static description = [
    'Node version; the profile, API URL and issuer in force and where each came from; the proxy and the CAs trusted;',
    'DNS, TCP, TLS (certificate expiry), HTTP reachability and latency; clock skew against the server; OAuth discovery;',
    'credentials and token expiry; the OS keychain; rate-limit headroom; the client circuits.',
    'Each check passes, warns, fails or is skipped (when one it needs failed), with a remedy. Every network step is',
    'bounded by --timeout (default 5s). Exits 8 when a check fails; warnings alone exit 0. Secrets are never printed.',
  ].join('\n')
  static examples = [
    {description: 'Check the default profile', command: '<%= config.bin %> doctor'},
    {description: 'Only what needs attention, for a script', command: '<%= config.bin %> doctor --json | jq -r \'.checks[] | select(.status == "fail" or .status == "warn") | "\\(.name): \\(.detail)"\''},
    {description: 'Another profile, on a slow network', command: '<%= config.bin %> doctor --profile staging --timeout 10s'},
    {description: 'Through a corporate proxy with a private CA', command: 'HTTPS_PROXY=http://proxy.corp:3128 <%= config.bin %> doctor --ca-file ~/corp-ca.pem'},
  ]

  async execute(): Promise<CommandResult> {
    const started = performance.now()
    const settings = await this.ctx.settings().catch(() => undefined)
    const timeoutMs = Math.min(settings?.timeoutMs ?? DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS)
    const checks = await runDoctor(this.ctx, {timeoutMs, samples: 5})
    const elapsed = ((performance.now() - started) / 1000).toFixed(1)
    const io = this.ctx.io
    const human = renderHuman(checks, {color: io.color, paint: (t, s) => io.paint(t, s), footer: `(bfly ${this.ctx.version}, ${elapsed} s)`})
    const failed = checks.filter((c) => c.status === 'fail')
    return text(human, toJson(checks), {
      outcome: () => {
        if (this.ctx.signal.aborted) return new Interrupted('interrupted: the checks that had not finished are marked skip')
        if (failed.length === 0) return undefined
        return new CheckFailed(`${failed.length} check${failed.length === 1 ? '' : 's'} failed: ${failed.map((c) => c.name).join(', ')}`, {hint: 'see the remedy under each failed check'})
      },
    })
  }
}
