// One object owns stdout, stderr, TTY and colour decisions (as gh's iostreams does).
// stdout carries data only; progress, warnings and errors go to stderr.

export interface IOStreams {
  stdout: NodeJS.WritableStream & {isTTY?: boolean; columns?: number}
  stderr: NodeJS.WritableStream & {isTTY?: boolean; columns?: number}
  stdin: NodeJS.ReadableStream & {isTTY?: boolean}
}

export class IO {
  readonly stdoutIsTTY: boolean
  readonly stderrIsTTY: boolean
  readonly stdinIsTTY: boolean
  readonly color: boolean
  readonly isCI: boolean
  private stdoutBroken = false

  constructor(
    readonly streams: IOStreams,
    readonly env: NodeJS.ProcessEnv,
    options: {noColor?: boolean} = {},
  ) {
    this.stdoutIsTTY = Boolean(streams.stdout.isTTY)
    this.stderrIsTTY = Boolean(streams.stderr.isTTY)
    this.stdinIsTTY = Boolean(streams.stdin.isTTY)
    this.isCI = Boolean(env.CI) && env.CI !== 'false' && env.CI !== '0'
    const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false'
    const disabled = options.noColor === true || (env.NO_COLOR !== undefined && env.NO_COLOR !== '') || env.TERM === 'dumb'
    this.color = !disabled && (forced || this.stdoutIsTTY)
    // `bfly … | head` closes the pipe early: that is not an error worth a stack trace.
    streams.stdout.on?.('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') this.stdoutBroken = true
    })
  }

  get columns(): number {
    return this.streams.stdout.columns ?? 120
  }

  get stdoutClosed(): boolean {
    return this.stdoutBroken
  }

  /** Write data to stdout, waiting for the pipe to drain so memory stays flat. */
  async out(text: string): Promise<void> {
    if (this.stdoutBroken) return
    if (!this.streams.stdout.write(text)) await this.drained()
  }

  /**
   * Resolves once stdout takes more, fails or closes, and leaves no listener behind (racing
   * events.once() for 'drain' and 'error' left an 'error' listener per wait: a slow reader
   * of a long walk got a MaxListenersExceededWarning and a leak).
   */
  private drained(): Promise<void> {
    const stdout = this.streams.stdout
    return new Promise((resolve) => {
      const done = () => {
        stdout.off('drain', done)
        stdout.off('error', done)
        stdout.off('close', done)
        resolve()
      }
      stdout.on('drain', done)
      stdout.on('error', done)
      stdout.on('close', done)
    })
  }

  err(line: string): void {
    this.streams.stderr.write(line.endsWith('\n') ? line : line + '\n')
  }

  /** Spinners and live progress: only on a terminal with a width, never with --json or in CI. */
  interactiveProgress(json: boolean): boolean {
    return this.stderrIsTTY && !json && !this.isCI && Boolean(this.streams.stderr.columns)
  }

  /** Whether we may ask the user a question (confirmation prompts). */
  canPrompt(): boolean {
    return this.stdinIsTTY && this.stderrIsTTY && !this.isCI
  }

  paint(text: string, style: 'red' | 'green' | 'yellow' | 'dim' | 'bold' | 'cyan'): string {
    if (!this.color) return text
    const codes: Record<typeof style, [number, number]> = {red: [31, 39], green: [32, 39], yellow: [33, 39], dim: [2, 22], bold: [1, 22], cyan: [36, 39]}
    const [open, close] = codes[style]
    return `\u001B[${open}m${text}\u001B[${close}m`
  }
}
