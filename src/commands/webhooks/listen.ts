import {Flags} from '../../vendor/oclif.js'
import {BflyCommand} from '../../base-command.js'
import {UsageError} from '../../errors.js'
import {stream, type CommandResult} from '../../output/result.js'
import {deliveryLine, describeSummary, type ReceivedDelivery, WebhookListener} from '../../services/webhooks/listener.js'
import {DEFAULT_TOLERANCE_MS, secretFromEnv} from '../../services/webhooks/signature.js'
import {parseDuration} from '../../values.js'

export default class WebhooksListen extends BflyCommand<typeof WebhooksListen> {
  static summary = 'Receive webhook deliveries locally: verify, print, and optionally forward them'
  static description = `Starts a receiver on 127.0.0.1 and prints each delivery as it arrives (one JSON object per line with --json). With --secret-env it checks every signature and answers 400 to a bad one; otherwise it answers 200. With --forward-to it passes the raw body and the signature headers on to a local app.

Register the printed URL as a webhook endpoint (POST /webhooks), then trigger a delivery with \`bfly webhooks test <id>\`. Runs until Ctrl-C (exit 0, a summary on stderr), or until --max-events or --timeout.`
  static examples = [
    'WEBHOOK_SECRET=whsec_… <%= config.bin %> webhooks listen --port 8787 --secret-env WEBHOOK_SECRET',
    '<%= config.bin %> webhooks listen --secret-env WEBHOOK_SECRET --forward-to http://localhost:3000/hooks',
    '<%= config.bin %> webhooks listen --port 0 --max-events 1 --timeout 2m --json',
  ]
  static flags = {
    port: Flags.integer({description: 'port on 127.0.0.1 (0: any free port, printed at start)', default: 0, min: 0, max: 65_535}),
    'secret-env': Flags.string({description: 'name of the environment variable holding the signing secret; without it deliveries are not verified'}),
    tolerance: Flags.string({description: 'largest accepted distance between a delivery timestamp and this clock', default: `${DEFAULT_TOLERANCE_MS / 1000}s`}),
    'forward-to': Flags.string({description: 'forward each verified delivery to this URL (e.g. http://localhost:3000/hooks)'}),
    'forward-timeout': Flags.string({description: 'how long the local app may take to answer a forwarded delivery', default: '10s'}),
    'max-events': Flags.integer({description: 'stop after this many deliveries', min: 1}),
  }

  async execute(): Promise<CommandResult> {
    const {flags, io, ctx} = this
    const secret = flags['secret-env'] === undefined ? undefined : secretFromEnv(ctx.env, flags['secret-env'])
    let forwardTo: URL | undefined
    if (flags['forward-to'] !== undefined) {
      try {
        forwardTo = new URL(flags['forward-to'])
      } catch {
        throw new UsageError(`invalid --forward-to "${flags['forward-to']}": an http(s) URL`)
      }
      if (forwardTo.protocol !== 'http:' && forwardTo.protocol !== 'https:') throw new UsageError(`invalid --forward-to "${flags['forward-to']}": an http(s) URL`)
    }
    // The forward is an outgoing request like any other: the same proxy and CA rules.
    const {proxyFor, trustedCas} = await import('../../api/network.js')
    const caFile = forwardTo?.protocol === 'https:' ? (await ctx.settings()).caFile : undefined
    const listener = await WebhookListener.start({
      port: flags.port,
      secret,
      toleranceMs: parseDuration(flags.tolerance, '--tolerance'),
      forwardTo,
      forwardTimeoutMs: parseDuration(flags['forward-timeout'], '--forward-timeout'),
      forwardProxy: forwardTo ? proxyFor(forwardTo, ctx.env) : undefined,
      forwardCa: trustedCas(caFile),
      maxEvents: flags['max-events'],
      // For a listener --timeout bounds how long it listens (it sends no API request).
      durationMs: flags.timeout === undefined ? undefined : parseDuration(flags.timeout, '--timeout'),
      signal: this.signal,
      now: ctx.now,
    })
    if (ctx.json) io.err(JSON.stringify({listening: listener.url, verifying: secret !== undefined}))
    else io.err(`Listening on ${io.paint(listener.url, 'bold')} — register it as a webhook URL; Ctrl-C to stop`)
    if (secret === undefined) ctx.warn('no --secret-env: signatures are not verified')
    async function* deliveries(): AsyncGenerator<ReceivedDelivery> {
      yield* listener.events()
      io.err(ctx.json ? JSON.stringify({summary: listener.summary}) : describeSummary(listener.summary))
    }
    // Ctrl-C is how a listener is meant to stop: exit 0.
    return stream(deliveries(), (event) => deliveryLine(event, (text, style) => io.paint(text, style)), {outcome: () => 'complete'})
  }
}
