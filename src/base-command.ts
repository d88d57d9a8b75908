// BflyCommand: global flags, the context built once, rendering of what run returns, and
// the one mapping of every error (ours, oclif's, bugs) to an exit code and a message.
import {Command, type Interfaces} from './vendor/oclif.js'
import {Context, type GlobalFlags} from './context.js'
import {BflyError, errorToJson, errorToLine, ExitCode, Interrupted, UsageError} from './errors.js'
import {globalFlags, withOptionalValues} from './flags.js'
import {IO, type IOStreams} from './output/io.js'
import {confirm} from './output/prompt.js'
import {render} from './output/render.js'
import type {CommandResult} from './output/result.js'
import {type Spinner, startSpinner} from './output/spinner.js'
import {suggest} from './suggest.js'

export type FlagsOf<T extends typeof Command> = Interfaces.InferredFlags<(typeof BflyCommand)['baseFlags'] & T['flags']>
export type ArgsOf<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/** oclif's own failures (unknown flag, missing argument, bad option) become usage errors. */
export function normalizeError(error: unknown, flagNames: string[] = []): BflyError {
  if (error instanceof BflyError) return error
  const e = error as {message?: string; oclif?: {exit?: number}; code?: string; name?: string}
  if (e?.oclif?.exit === ExitCode.Usage || /^(Nonexistent flag|Unexpected argument|Missing required|Expected|Parsing --|Invalid )/i.test(e?.message ?? '')) {
    const message = String(e.message ?? 'invalid usage')
      .replace(/\n\s*See more help with --help\s*$/i, '')
      .replace(/^Parsing --([\w-]+)\s*\n\s*/i, '--$1: ')
      .split('\n').map((l) => l.trim()).filter(Boolean).join(' ')
    const unknownFlag = /^Nonexistent flags?: --?([\w-]+)/i.exec(message)
    const guess = unknownFlag ? suggest(unknownFlag[1], flagNames) : undefined
    return new UsageError(message, {hint: guess ? `did you mean --${guess}? (see --help)` : 'see --help'})
  }
  if (e?.name === 'AbortError') return new Interrupted()
  return new BflyError(`unexpected error: ${e?.message ?? String(error)}`, {code: 'INTERNAL', exitCode: ExitCode.Failure, hint: 'run again with --verbose for details; this is a bug worth reporting', cause: error})
}

/** Print an error the documented way: one JSON line with --json, one human line otherwise. */
export function reportError(io: IO, error: BflyError, options: {json: boolean; verbose: boolean}): void {
  if (options.json) {
    io.err(JSON.stringify(errorToJson(error)))
  } else {
    io.err(`${io.paint('Error', 'red')}: ${errorToLine(error)}`)
  }
  if (options.verbose || process.env.DEBUG) {
    const cause = (error.cause as Error | undefined) ?? error
    if (cause.stack) io.err(cause.stack)
  }
}

/** Process streams, swappable so in-process command tests capture output without touching process.stdout. */
export const processStreams = {
  current: () => ({stdout: process.stdout, stderr: process.stderr, stdin: process.stdin}) as IOStreams,
}

export abstract class BflyCommand<T extends typeof Command = typeof Command> extends Command {
  static baseFlags = globalFlags

  protected flags!: FlagsOf<T>
  protected args!: ArgsOf<T>
  /** Every positional argument, for commands that take many (`static strict = false`). */
  protected argvList: string[] = []
  protected ctx!: Context
  private readonly abort = new AbortController()
  private readonly spinners = new Set<Spinner>()
  private sigintCount = 0
  private lastSignalAt = 0
  private readonly onSigint = () => {
    // conf's atomic writer (when-exit) re-raises the first signal to itself after its cleanup;
    // that echo arrives within milliseconds and is not the user's second Ctrl-C.
    const now = Date.now()
    if (this.sigintCount > 0 && now - this.lastSignalAt < 250) return
    this.lastSignalAt = now
    this.sigintCount++
    if (this.sigintCount > 1) process.exit(ExitCode.Interrupted)
    this.abort.abort()
  }

  /** Aborted on Ctrl-C: long work stops starting new things and reports what finished. */
  protected get signal(): AbortSignal {
    return this.abort.signal
  }

  protected get io(): IO {
    return this.ctx.io
  }

  public override async init(): Promise<void> {
    await super.init()
    process.on('SIGINT', this.onSigint)
    process.on('SIGTERM', this.onSigint)
    const {flags, args, argv} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (this.ctor as typeof BflyCommand).baseFlags,
      args: this.ctor.args,
      strict: this.ctor.strict,
    }, withOptionalValues(this.argv))
    this.flags = flags as FlagsOf<T>
    this.args = args as ArgsOf<T>
    this.argvList = (argv as unknown[]).map(String)
    const io = new IO(processStreams.current(), process.env, {noColor: Boolean((flags as GlobalFlags)['no-color'])})
    this.ctx = new Context({
      io,
      env: process.env,
      flags: flags as GlobalFlags,
      configDir: process.env.BFLY_CONFIG_DIR || this.config.configDir,
      version: this.config.version,
      signal: this.abort.signal,
    })
  }

  /** Do the work and return data; never print it. */
  abstract execute(): Promise<CommandResult>

  async run(): Promise<void> {
    const result = await this.execute()
    const flags = this.flags as GlobalFlags
    await render(this.ctx.io, result, {
      json: Boolean(flags.json),
      ndjson: Boolean(flags.ndjson),
      columns: typeof flags.columns === 'string' ? flags.columns.split(',').map((c) => c.trim()).filter(Boolean) : undefined,
      signal: this.signal,
    })
    const outcome = result ? result.outcome?.() : undefined
    if (outcome instanceof BflyError) throw outcome
    if (this.signal.aborted && outcome !== 'complete') throw new Interrupted()
  }

  /** A spinner on stderr where a human watches; stopped automatically when the command ends. */
  protected async spinner(text: string): Promise<Spinner> {
    const spinner = await startSpinner(this.ctx.io, text, {json: this.ctx.json})
    const tracked: Spinner = {update: spinner.update, stop: (final) => (this.spinners.delete(tracked), spinner.stop(final))}
    this.spinners.add(tracked)
    return tracked
  }

  protected async confirm(question: string, what: string): Promise<void> {
    await confirm(this.ctx.io, question, {yes: Boolean((this.flags as {yes?: boolean}).yes), what, signal: this.signal})
  }

  protected override async catch(error: Error & {oclif?: {exit?: number}; code?: string}): Promise<void> {
    // this.exit(n) inside a command: not an error, just the code.
    if (error?.code === 'EEXIT' && typeof error.oclif?.exit === 'number') {
      process.exitCode = error.oclif.exit
      return
    }
    for (const spinner of [...this.spinners]) spinner.stop()
    const normalized = normalizeError(error, Object.keys({...this.ctor.baseFlags, ...this.ctor.flags}))
    const io = this.ctx?.io ?? new IO(processStreams.current(), process.env)
    const json = this.ctx ? this.ctx.json : this.argv.includes('--json')
    const verbose = this.ctx ? this.ctx.verbose : this.argv.includes('--verbose')
    reportError(io, normalized, {json, verbose})
    process.exitCode = normalized.exitCode
  }

  protected override async finally(error: Error | undefined): Promise<void> {
    for (const spinner of [...this.spinners]) spinner.stop()
    // Still listening: a second Ctrl-C exits at once even while this waits.
    await this.ctx?.finishPending()
    process.off('SIGINT', this.onSigint)
    process.off('SIGTERM', this.onSigint)
    return super.finally(error)
  }
}
