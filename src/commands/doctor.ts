import {BflyCommand} from '../base-command.js'
import {CheckFailed} from '../errors.js'
import {text, type CommandResult} from '../output/result.js'
import {runDoctor} from '../services/doctor/doctor.js'
import type {Check} from '../services/doctor/verdicts.js'

export default class Doctor extends BflyCommand<typeof Doctor> {
  static summary = 'Check everything between you and the API; paste the output into a support ticket'
  static description = [
    'Node version; the profile, API URL and issuer in force and where each came from; DNS, TCP, TLS (certificate expiry, CA in use),',
    'HTTP reachability and latency; the proxy; clock skew against the server; OAuth discovery; credentials and token expiry;',
    'the OS keychain; rate-limit headroom; the client circuits. Each check passes, warns or fails with a remedy.',
    'Exits 8 when a check fails (warnings alone exit 0). Secrets are never printed.',
  ].join('\n')
  static examples = [
    '<%= config.bin %> doctor',
    '<%= config.bin %> doctor --json | jq -r \'.checks[] | select(.status != "pass") | "\\(.name): \\(.detail)"\'',
    '<%= config.bin %> doctor --profile staging --timeout 3s',
  ]

  async execute(): Promise<CommandResult> {
    const settings = await this.ctx.settings().catch(() => undefined)
    const timeoutMs = Math.min(settings?.timeoutMs ?? 5000, 30_000)
    const checks = await runDoctor(this.ctx, {timeoutMs, samples: 5})
    const failed = checks.filter((c) => c.status === 'fail')
    return text(this.human(checks), {checks: checks.map(({name, status, detail, remedy}) => ({name, status, detail, remedy: remedy ?? null}))}, {
      outcome: () => (failed.length > 0 ? new CheckFailed(`${failed.length} check${failed.length === 1 ? '' : 's'} failed: ${failed.map((c) => c.name).join(', ')}`) : undefined),
    })
  }

  private human(checks: Check[]): string {
    const io = this.ctx.io
    const width = Math.max(...checks.map((c) => c.name.length))
    const mark: Record<Check['status'], string> = {
      pass: io.paint('pass', 'green'),
      warn: io.paint('warn', 'yellow'),
      fail: io.paint('FAIL', 'red'),
      skip: io.paint('skip', 'dim'),
    }
    const lines: string[] = []
    for (const c of checks) {
      lines.push(`${mark[c.status]}  ${c.name.padEnd(width)}  ${c.detail}`)
      if (c.remedy && c.status !== 'pass') lines.push(`${' '.repeat(6 + width + 2)}${io.paint(`→ ${c.remedy}`, 'dim')}`)
    }
    return lines.join('\n')
  }
}
