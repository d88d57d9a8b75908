// Simulated plan executions and their progress stream (contract §3, Plans). Each step emits
// STEP_STARTED, STEP_PROGRESS 25/50/75/100, then STEP_COMPLETED (or STEP_FAILED and
// PLAN_FAILED); a successful plan ends with PLAN_COMPLETED. Steps take simulated time.
// Messages are kept per execution, so a watcher that connects late gets the whole story.
import {iso, type SandboxClock} from './clock.js'
import {newId} from './webhook-dispatcher.js'

export interface PlanDef {
  id: string
  name: string
  steps: string[]
  /** The step that fails, for plans that demonstrate failure. */
  failsAt?: string
  artifacts: string[]
}

export const PLANS: readonly PlanDef[] = [
  {id: 'plan_123', name: 'Evaluate and publish signals', steps: ['evaluate-conditions', 'fetch-capsules', 'compute-signals', 'publish-artifacts'], artifacts: ['signals.json', 'report.html']},
  {id: 'plan_nightly_rebalance', name: 'Nightly portfolio rebalance', steps: ['snapshot-positions', 'evaluate-conditions', 'optimise-weights', 'stage-orders', 'publish-artifacts'], artifacts: ['orders.csv', 'rebalance-report.html']},
  {id: 'plan_broken', name: 'Refresh market data (fails)', steps: ['evaluate-conditions', 'fetch-market-data', 'compute-signals'], failsAt: 'fetch-market-data', artifacts: []},
]

export type PlanMessage = {type: string; planId: string; executionId: string; timestamp: string} & Record<string, unknown>

export type ExecutionStatus = 'RUNNING' | 'SUCCESS' | 'FAILED'

export interface Execution {
  executionId: string
  planId: string
  status: ExecutionStatus
  startedAt: string
  finishedAt?: string
  messages: PlanMessage[]
}

type Listener = (message: PlanMessage, done: boolean) => void

export interface PlanRunnerOptions {
  clock: SandboxClock
  /** Simulated duration of one step. */
  stepMs?: number
  /** Platform events (plan.completed / plan.failed), for webhooks. */
  onFinished?: (execution: Execution) => void
}

export class PlanRunner {
  private readonly options: PlanRunnerOptions
  private readonly executions = new Map<string, Execution>()
  private readonly latestByPlan = new Map<string, string>()
  private readonly listeners = new Map<string, Set<Listener>>()
  /** Watchers that connected before any execution of the plan: they get the next one. */
  private readonly waiting = new Map<string, Set<Listener>>()
  private readonly timers = new Set<NodeJS.Timeout>()

  constructor(options: PlanRunnerOptions) {
    this.options = options
  }

  plan(id: string): PlanDef | undefined {
    return PLANS.find((p) => p.id === id)
  }

  get(executionId: string): Execution | undefined {
    return this.executions.get(executionId)
  }

  latest(planId: string): Execution | undefined {
    const id = this.latestByPlan.get(planId)
    return id ? this.executions.get(id) : undefined
  }

  execute(plan: PlanDef): Execution {
    const {clock} = this.options
    const execution: Execution = {executionId: newId('exe_', 10), planId: plan.id, status: 'RUNNING', startedAt: iso(clock.now()), messages: []}
    this.executions.set(execution.executionId, execution)
    this.latestByPlan.set(plan.id, execution.executionId)
    const waiting = this.waiting.get(plan.id)
    if (waiting) {
      this.listeners.set(execution.executionId, new Set(waiting))
      this.waiting.delete(plan.id)
    }
    const script = this.script(plan)
    const tickMs = Math.max(1, clock.wall((this.options.stepMs ?? 600) / 4))
    let index = 0
    const next = () => {
      const item = script[index++]
      if (!item) return
      this.emit(execution, item)
      if (index < script.length) this.schedule(next, tickMs)
    }
    // The first message goes out on the next tick, after the 202 is on its way.
    this.schedule(next, 0)
    return execution
  }

  /**
   * Follow an execution: replays what happened so far, then streams. Without an execution id,
   * follows the plan's latest one, or waits for its next one. Returns the unsubscribe function.
   */
  watch(planId: string, executionId: string | undefined, listener: Listener): () => void {
    const execution = executionId ? this.executions.get(executionId) : this.latest(planId)
    if (!execution) {
      const set = this.waiting.get(planId) ?? new Set()
      set.add(listener)
      this.waiting.set(planId, set)
      return () => set.delete(listener)
    }
    const finished = execution.status !== 'RUNNING'
    execution.messages.forEach((message, i) => listener(message, finished && i === execution.messages.length - 1))
    if (finished) return () => {}
    const set = this.listeners.get(execution.executionId) ?? new Set()
    set.add(listener)
    this.listeners.set(execution.executionId, set)
    return () => set.delete(listener)
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
  }

  private schedule(fn: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      fn()
    }, ms)
    this.timers.add(timer)
  }

  private script(plan: PlanDef): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = []
    for (const [i, step] of plan.steps.entries()) {
      out.push({type: 'STEP_STARTED', step, progress: 0})
      const fails = plan.failsAt === step
      for (const progress of fails ? [25, 50] : [25, 50, 75, 100]) out.push({type: 'STEP_PROGRESS', step, progress})
      if (fails) {
        const error = `${step}: upstream WeatherAPI returned 503 after 3 attempts`
        out.push({type: 'STEP_FAILED', step, error})
        out.push({type: 'PLAN_FAILED', status: 'FAILED', error: `step ${step} failed: ${error}`})
        return out
      }
      out.push({type: 'STEP_COMPLETED', step, progress: 100, result: {step: i + 1, of: plan.steps.length, ok: true}})
    }
    out.push({type: 'PLAN_COMPLETED', status: 'SUCCESS', artifacts: plan.artifacts.map((name) => ({name, url: `/artifacts/${plan.id}/${name}`}))})
    return out
  }

  private emit(execution: Execution, item: Record<string, unknown>): void {
    const message = {...item, planId: execution.planId, executionId: execution.executionId, timestamp: iso(this.options.clock.now())} as PlanMessage
    execution.messages.push(message)
    const done = message.type === 'PLAN_COMPLETED' || message.type === 'PLAN_FAILED'
    if (done) {
      execution.status = message.type === 'PLAN_COMPLETED' ? 'SUCCESS' : 'FAILED'
      execution.finishedAt = message.timestamp
    }
    for (const listener of this.listeners.get(execution.executionId) ?? []) listener(message, done)
    if (done) {
      this.listeners.delete(execution.executionId)
      this.options.onFinished?.(execution)
    }
  }
}
