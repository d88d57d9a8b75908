// Runs doctor's checks: each starts as soon as what it needs has finished, independent ones
// side by side; each is bounded; one that throws is a failure with its message (never a stack
// trace); one whose prerequisite failed is skipped with the reason; Ctrl-C turns whatever has
// not finished into a skip. Results come back in the order the steps are declared.
import type {Check, Verdict} from './verdicts.js'

export interface Step {
  name: string
  /**
   * Steps that must pass or warn first. When one fails, this one is skipped with the reason
   * given here; when one was skipped, this one is skipped for the same reason.
   */
  needs?: Record<string, string>
  /** Steps whose facts this one reads: they finish first, whatever their verdict. */
  after?: string[]
  /** This step's bound in ms (default: the runner's); 0 for none (local facts only). */
  boundMs?: number
  /** The signal aborts when the bound passes or on Ctrl-C: stop the I/O. */
  run(signal: AbortSignal): Promise<Verdict>
  /** What the step waits on, to name it when the bound passes (e.g. "the issuer https://…"). */
  awaiting?(): string
  /** Adjusts the final verdict, whatever produced it (the step, its bound, a crash). */
  settle?(verdict: Verdict): Verdict
}

export interface RunOptions {
  boundMs: number
  /** Ctrl-C. */
  signal: AbortSignal
  /** The next step for an error that escaped a step (typed errors carry a hint). */
  remedyOf?: (error: unknown) => string | undefined
}

const message = (error: unknown) => {
  const text = error instanceof Error ? error.message : String(error)
  return text.trim() === '' ? (error instanceof Error ? error.name : 'unknown error') : text
}

const seconds = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`)

export async function runSteps(steps: Step[], options: RunOptions): Promise<Check[]> {
  const byName = new Map(steps.map((s) => [s.name, s]))
  const started = new Map<string, Promise<Check>>()

  const result = (name: string): Promise<Check> => {
    let promise = started.get(name)
    if (!promise) {
      const step = byName.get(name)
      if (!step) throw new Error(`doctor step "${name}" is not declared`)
      promise = start(step)
      started.set(name, promise)
    }
    return promise
  }

  const start = async (step: Step): Promise<Check> => {
    // Let every step be registered before any waits on another.
    await Promise.resolve()
    const needs = Object.entries(step.needs ?? {})
    const [needed] = await Promise.all([Promise.all(needs.map(([name]) => result(name))), Promise.all((step.after ?? []).map(result))])
    if (options.signal.aborted) return {name: step.name, status: 'skip', detail: 'interrupted (Ctrl-C) before it ran'}
    // A failed prerequisite gives this step's own reason; a skipped one passes its root cause on.
    const failed = needed.findIndex((c) => c.status === 'fail')
    if (failed >= 0) return {name: step.name, status: 'skip', detail: needs[failed][1]}
    const skipped = needed.find((c) => c.status === 'skip')
    if (skipped) return {name: step.name, status: 'skip', detail: skipped.detail}
    const raw = await bounded(step, step.boundMs ?? options.boundMs, options)
    const verdict = step.settle ? step.settle(raw) : raw
    return {name: step.name, status: verdict.status, detail: verdict.detail || '(no detail)', ...(verdict.remedy ? {remedy: verdict.remedy} : {})}
  }

  return Promise.all(steps.map((s) => result(s.name)))
}

function bounded(step: Step, boundMs: number, options: RunOptions): Promise<Verdict> {
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  let onCtrlC: (() => void) | undefined
  const limit = new Promise<Verdict>((resolve) => {
    onCtrlC = () => {
      resolve({status: 'skip', detail: 'interrupted (Ctrl-C) before it finished'})
      controller.abort()
    }
    options.signal.addEventListener('abort', onCtrlC, {once: true})
    if (boundMs > 0) {
      timer = setTimeout(() => {
        const what = step.awaiting?.()
        resolve({status: 'fail', detail: `no answer${what ? ` from ${what}` : ''} within ${seconds(boundMs)}`, remedy: 'something on the way does not answer; on a slow network raise --timeout'})
        controller.abort()
      }, boundMs)
    }
  })
  const work = (async () => step.run(controller.signal))().catch((error: unknown): Verdict => ({
    status: 'fail',
    detail: message(error),
    ...(options.remedyOf?.(error) ? {remedy: options.remedyOf(error)} : {}),
  }))
  return Promise.race([limit, work]).finally(() => {
    clearTimeout(timer)
    options.signal.removeEventListener('abort', onCtrlC!)
  })
}
