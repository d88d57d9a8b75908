import {Flags} from '../../vendor/oclif.js'
import {BflyCommand} from '../../base-command.js'
import {CheckFailed, UsageError} from '../../errors.js'
import {object, type CommandResult} from '../../output/result.js'
import {readBody} from '../../services/webhooks/body.js'
import {DEFAULT_TOLERANCE_MS, secretFromEnv, verifySignature} from '../../services/webhooks/signature.js'
import {parseDuration} from '../../values.js'

export default class WebhooksVerify extends BflyCommand<typeof WebhooksVerify> {
  static summary = 'Verify the signature of a webhook delivery'
  static description = `Checks X-Webhook-Signature (sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>) in constant time, and that X-Webhook-Timestamp is within the tolerance of this machine's clock. The body is read raw from --file or stdin: verify the exact bytes received. The secret is only ever read from the environment variable named by --secret-env.

Exits 0 when valid, 8 when invalid or stale (with the reason).`
  static examples = [
    'WEBHOOK_SECRET=whsec_… <%= config.bin %> webhooks verify --secret-env WEBHOOK_SECRET --timestamp 1733220000 --signature sha256=5d41… --file body.json',
    'cat body.json | <%= config.bin %> webhooks verify --secret-env WEBHOOK_SECRET --timestamp "$TS" --signature "$SIG" --json',
  ]
  static flags = {
    'secret-env': Flags.string({description: 'name of the environment variable holding the signing secret', required: true}),
    timestamp: Flags.string({description: 'X-Webhook-Timestamp of the delivery (Unix seconds)', required: true}),
    signature: Flags.string({description: 'X-Webhook-Signature of the delivery (sha256=<hex>)', required: true}),
    file: Flags.string({description: 'file holding the raw body (default: stdin)'}),
    tolerance: Flags.string({description: 'largest accepted distance between the timestamp and this clock', default: `${DEFAULT_TOLERANCE_MS / 1000}s`}),
  }

  async execute(): Promise<CommandResult> {
    const {flags} = this
    const secret = secretFromEnv(this.ctx.env, flags['secret-env'])
    const toleranceMs = parseDuration(flags.tolerance, '--tolerance')
    if (flags.file === undefined && this.io.stdinIsTTY) throw new UsageError('no body: pass --file F or pipe the raw body on stdin')
    const body = await readBody(flags.file ?? this.io.streams.stdin)
    const verdict = verifySignature({secret, timestamp: flags.timestamp, signature: flags.signature, body, toleranceMs, now: this.ctx.now()})
    const data = {valid: verdict.valid, ...(verdict.reason ? {reason: verdict.reason} : {}), timestamp: flags.timestamp, ageSeconds: verdict.ageSeconds ?? null, bytes: body.length}
    return object(data, {
      human: (d) => (d.valid ? `valid (signed ${d.ageSeconds} s ago)` : 'invalid'),
      outcome: () => (verdict.valid ? undefined : new CheckFailed(`webhook signature check failed: ${verdict.reason}`, {code: 'SIGNATURE_INVALID'})),
    })
  }
}
