import {Args, Flags} from '../vendor/oclif.js'
import {BflyCommand} from '../base-command.js'
import type {BflyError} from '../errors.js'
import {yesFlag} from '../flags.js'
import type {CommandResult} from '../output/result.js'

const shellQuote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)

export default class Probe extends BflyCommand<typeof Probe> {
  static summary = 'Load-test an endpoint: latency percentiles you can trust, assertions for CI'
  static description = `Closed model (--concurrency C): C workers, each sending the next request when the last ends. Open model (--rate R): a fixed schedule whatever the server does; latency counts from each request's intended start, so a stalled server shows in the tail instead of slowing the probe down.

Latency covers requests that got a response. Errors are statuses of 400 and up (429s also counted apart) and transport failures: timeout, reset, refused, TLS. --timeout bounds each request (default 10s). Ctrl-C stops sending and reports what finished.

--json prints the report with a per-second series and a self-check that says whether the probe itself was the bottleneck; histogram buckets count the requests above the previous bound up to "le" (ms).

A load above the API's published budget to a host other than loopback needs confirmation (--yes when not on a terminal).`
  static examples = [
    '<%= config.bin %> probe /api/v1/capsules --concurrency 20 --duration 30s',
    '<%= config.bin %> probe /api/v1/capsules --rate 50/s --duration 1m --warmup 5s --assert "p99<300ms" --assert "errorRate<0.01"',
    '<%= config.bin %> probe /api/v1/capsules --rate 200 --requests 5000 --json > report.json',
    '<%= config.bin %> probe /api/v1/capsules --rate 50 --duration 5m --export k6 > probe.js',
  ]
  static args = {path: Args.string({description: 'API path, e.g. /api/v1/capsules', required: true})}
  static flags = {
    method: Flags.string({char: 'X', description: 'HTTP method', default: 'GET', options: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']}),
    rate: Flags.string({char: 'r', description: 'open model: requests per second on a fixed schedule (50 or 50/s)', exclusive: ['concurrency']}),
    concurrency: Flags.integer({char: 'c', description: 'closed model: requests in flight (default 10)', min: 1, exclusive: ['rate']}),
    connections: Flags.integer({description: 'most connections to open (default: the concurrency; 100 with --rate)', min: 1}),
    duration: Flags.string({char: 'd', description: 'how long to measure, e.g. 30s (default 10s)', exclusive: ['requests']}),
    requests: Flags.integer({char: 'n', description: 'how many requests to measure', min: 1, exclusive: ['duration']}),
    warmup: Flags.string({description: 'send for this long first, excluded from the statistics, e.g. 2s'}),
    header: Flags.string({char: 'H', description: 'extra request header "K: V"', multiple: true}),
    body: Flags.string({description: 'JSON request body, or @file'}),
    assert: Flags.string({description: 'check the result, e.g. "p99<300ms", "errorRate<0.01", "throughput>=200" (exit 8 if one fails)', multiple: true}),
    export: Flags.string({description: 'write the equivalent script for k6 or artillery instead of running', options: ['k6', 'artillery']}),
    'hdr-out': Flags.string({description: 'write the HdrHistogram interval log (µs) to this file'}),
    yes: yesFlag,
  }

  private failure?: BflyError

  async execute(): Promise<CommandResult> {
    const {probe} = await import('../probe/service.js')
    const outcome = await probe(this.ctx, {
      path: this.args.path,
      method: this.flags.method,
      rate: this.flags.rate,
      concurrency: this.flags.concurrency,
      connections: this.flags.connections,
      duration: this.flags.duration,
      requests: this.flags.requests,
      warmup: this.flags.warmup,
      headers: this.flags.header ?? [],
      body: this.flags.body,
      asserts: this.flags.assert ?? [],
      export: this.flags.export as 'k6' | 'artillery' | undefined,
      hdrOut: this.flags['hdr-out'],
      commandLine: ['bfly', 'probe', ...this.argv].map(shellQuote).join(' '),
    }, {confirm: (question, what) => this.confirm(question, what)})
    this.failure = outcome.failure
    return outcome.result
  }

  /** The report is data even when an assertion failed: print it, then exit 8. */
  override async run(): Promise<void> {
    await super.run()
    if (this.failure) throw this.failure
  }
}
