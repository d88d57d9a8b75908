import {Flags} from '../vendor/oclif.js'
import {BflyCommand} from '../base-command.js'
import {UsageError} from '../errors.js'
import type {CommandResult} from '../output/result.js'

export default class Sandbox extends BflyCommand<typeof Sandbox> {
  static summary = 'Run a local BUTTERFLY-compatible API and OAuth server'
  static description = `Serves the whole BUTTERFLY API contract with seeded data (capsules, events, integrations, webhooks, plans) and an embedded OAuth 2.0 / OpenID Connect issuer, on loopback. Point bfly at it with the printed export line, then \`bfly login\` as a demo user.

--json prints one line for scripts: {apiUrl, issuer, ciClient:{id,secret}, apiKey, demoUsers, demoTokens?}. --verbose logs every request on stderr. Runs until Ctrl-C or SIGTERM, then closes every connection and flushes --data.

Chaos for trying resilience by hand: --latency fixed:20ms | normal:50ms,10ms | bimodal:2ms,200ms,0.02 | uniform:5ms,50ms, and --chaos "503:0.1,429:0.05,reset:0.01,hang:0.01" (kinds: any status 400-599, reset, hang, html, empty, truncated). Tests script exact faults at POST /__control/faults (loopback only).`
  static examples = [
    '<%= config.bin %> sandbox',
    '<%= config.bin %> sandbox --port 8080 --auto-approve --time-scale 60',
    '<%= config.bin %> sandbox --chaos "503:0.1,reset:0.01" --latency normal:50ms,10ms',
    '<%= config.bin %> sandbox --data ./sandbox.db --json',
  ]
  static flags = {
    port: Flags.integer({char: 'p', description: 'port to listen on (0 = a random free port)', default: 0, min: 0, max: 65535}),
    host: Flags.string({description: 'interface to listen on; anything but loopback needs --expose', default: '127.0.0.1'}),
    expose: Flags.boolean({description: 'allow a non-loopback --host (anyone who can reach it can use it)'}),
    seed: Flags.integer({description: 'seed of the generated data, chaos and drift', default: 1}),
    data: Flags.string({description: 'keep state in this SQLite file across restarts (default: in memory)'}),
    'time-scale': Flags.string({description: 'simulated time speed: 60 = a minute per second (webhook retries, integration drift, plan steps)', default: '1'}),
    latency: Flags.string({description: 'added latency: fixed:20ms, normal:50ms,10ms, bimodal:2ms,200ms,0.02 or uniform:5ms,50ms'}),
    chaos: Flags.string({description: 'random failures: kind:probability pairs, e.g. "503:0.1,429:0.05,reset:0.01,hang:0.01"'}),
    'auto-approve': Flags.boolean({description: 'approve device logins as the demo user without a browser'}),
    'insecure-demo-tokens': Flags.boolean({description: 'accept the static demo tokens sbx_demo_admin and sbx_demo_read (never on a shared machine)'}),
    'rate-limit': Flags.string({description: 'per-minute budgets: off, one number, or query=1000,write=100,admin=100 (the default)'}),
  }

  /** Stopping on Ctrl-C or SIGTERM is how this command is meant to end: exit 0, not 130. */
  override async run(): Promise<void> {
    await this.execute()
  }

  async execute(): Promise<CommandResult> {
    const {startSandbox, parseRateLimitSpec} = await import('../sandbox/index.js')
    const timeScale = Number(this.flags['time-scale'])
    if (!/^\d+(\.\d+)?$/.test(this.flags['time-scale'].trim()) || !(timeScale > 0)) {
      throw new UsageError(`invalid --time-scale "${this.flags['time-scale']}": use a number above 0, e.g. 60 for a minute per second`)
    }
    const io = this.ctx.io
    const sandbox = await startSandbox({
      port: this.flags.port,
      host: this.flags.host,
      expose: this.flags.expose,
      seed: this.flags.seed,
      dataFile: this.flags.data,
      timeScale,
      latency: this.flags.latency,
      chaos: this.flags.chaos,
      autoApprove: this.flags['auto-approve'],
      insecureDemoTokens: this.flags['insecure-demo-tokens'],
      rateLimits: this.flags['rate-limit'] === undefined ? undefined : parseRateLimitSpec(this.flags['rate-limit']),
      logRequests: this.flags.verbose ? (line) => io.err(io.paint(line, 'dim')) : undefined,
    })
    try {
      if (this.ctx.json) {
        await io.out(JSON.stringify({
          apiUrl: sandbox.apiUrl,
          issuer: sandbox.issuer,
          ciClient: sandbox.ciClient,
          apiKey: sandbox.apiKey,
          cliClientId: sandbox.cliClientId,
          demoUsers: sandbox.demoUsers,
          ...(sandbox.insecureDemoTokens ? {demoTokens: sandbox.demoTokens} : {}),
        }) + '\n')
      } else {
        const b = (s: string) => io.paint(s, 'bold')
        const lines = [
          `${b('BUTTERFLY sandbox')} is running`,
          `  API URL      ${sandbox.apiUrl}`,
          `  Issuer       ${sandbox.issuer}`,
          `  Demo users   ${sandbox.demoUsers.map((u) => `${u.username} / ${u.password}`).join(', ')}  (${sandbox.demoUsers[1]?.username ?? 'viewer'} has read scopes only)`,
          `  CI client    ${sandbox.ciClient.id} / ${sandbox.ciClient.secret}  (client_secret_basic)`,
          `  API key      ${sandbox.apiKey}  (X-API-Key)`,
          ...(sandbox.insecureDemoTokens ? [`  Demo tokens  ${sandbox.demoTokens.admin} (every scope), ${sandbox.demoTokens.read} (read scopes)`] : []),
          '',
          `  export BFLY_API_URL=${sandbox.apiUrl}`,
          '',
        ]
        await io.out(lines.join('\n') + '\n')
        const notes = [
          this.flags['auto-approve'] ? `device logins are approved as ${sandbox.demoUsers[0].username}` : 'approve logins in the browser as a demo user',
          timeScale !== 1 ? `time runs ${timeScale}× faster` : undefined,
          this.flags.chaos ? `chaos ${this.flags.chaos}` : undefined,
          this.flags.latency ? `latency ${this.flags.latency}` : undefined,
          this.flags.data ? `state kept in ${this.flags.data}` : undefined,
        ].filter(Boolean)
        io.err(io.paint(`${notes.join('; ')}. Press Ctrl-C to stop.`, 'dim'))
      }
      await new Promise<void>((resolve) => {
        if (this.signal.aborted) resolve()
        else this.signal.addEventListener('abort', () => resolve(), {once: true})
      })
    } finally {
      await sandbox.close()
    }
    if (!this.ctx.json) io.err('sandbox stopped')
  }
}
