// Per-step progress of a plan on stderr. On a terminal: one bar per step, redrawn in place.
// Elsewhere (a log, CI): one line per step start, end or failure, none per percent.
import type {IO} from '../../output/io.js'
import {errorText, type PlanEvent} from './plan-stream.js'

interface Step {
  name: string
  state: 'running' | 'done' | 'failed'
  progress: number
  error?: string
}

const BAR = 24

export class PlanProgress {
  private readonly steps = new Map<string, Step>()
  private drawn = 0

  constructor(private readonly io: IO, private readonly mode: 'bars' | 'lines' | 'off') {}

  static for(io: IO, json: boolean): PlanProgress {
    return new PlanProgress(io, json ? 'off' : io.interactiveProgress(false) ? 'bars' : 'lines')
  }

  update(event: PlanEvent): void {
    if (this.mode === 'off' || !/^STEP_/.test(event.type)) return
    const name = String(event.step ?? '?')
    const step = this.steps.get(name) ?? {name, state: 'running', progress: 0}
    this.steps.set(name, step)
    switch (event.type) {
      case 'STEP_STARTED':
        step.state = 'running'
        step.progress = 0
        if (this.mode === 'lines') this.io.err(`▸ ${name} started`)
        break
      case 'STEP_PROGRESS':
        if (typeof event.progress === 'number' && Number.isFinite(event.progress)) step.progress = Math.max(0, Math.min(100, event.progress))
        break
      case 'STEP_COMPLETED':
        step.state = 'done'
        step.progress = 100
        if (this.mode === 'lines') this.io.err(`✔ ${name} completed`)
        break
      case 'STEP_FAILED':
        step.state = 'failed'
        step.error = errorText(event.error)
        if (this.mode === 'lines') this.io.err(`✖ ${name} failed: ${step.error}`)
        break
      default:
        return
    }
    if (this.mode === 'bars') this.redraw()
  }

  /** A line above the bars (reconnecting, warnings). */
  note(text: string): void {
    if (this.mode === 'off') return
    if (this.mode === 'bars') {
      this.clear()
      this.io.err(this.io.paint(text, 'yellow'))
      this.redraw()
    } else this.io.err(text)
  }

  private clear(): void {
    if (this.drawn > 0) this.io.streams.stderr.write(`\u001B[${this.drawn}A\u001B[0J`)
    this.drawn = 0
  }

  private redraw(): void {
    this.clear()
    const width = Math.max(...[...this.steps.keys()].map((k) => k.length))
    const lines = [...this.steps.values()].map((s) => {
      const filled = Math.round((s.progress / 100) * BAR)
      const bar = '█'.repeat(filled) + '░'.repeat(BAR - filled)
      const icon = s.state === 'done' ? this.io.paint('✔', 'green') : s.state === 'failed' ? this.io.paint('✖', 'red') : this.io.paint('▸', 'cyan')
      // A line wider than the terminal wraps, and the cursor-up of the next redraw misses it.
      const room = (this.io.streams.stderr.columns ?? 80) - width - BAR - 14
      const error = s.error && s.error.length > room ? s.error.slice(0, Math.max(0, room - 1)) + '…' : s.error
      const tail = s.state === 'failed' ? this.io.paint(`failed: ${error}`, 'red') : `${String(Math.round(s.progress)).padStart(3)}%`
      return `${icon} ${s.name.padEnd(width)} ${bar} ${tail}`
    })
    this.io.streams.stderr.write(lines.map((l) => l + '\n').join(''))
    this.drawn = lines.length
  }
}
