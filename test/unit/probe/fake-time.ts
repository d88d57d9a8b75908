// A fake clock with timers for the scheduler and the engine: time moves only when a test
// advances it, so timing is checked exactly and nothing sleeps.
import type {SchedulerTimers} from '../../../dist/probe/schedule.js'

interface Task {
  at: number
  seq: number
  fn: () => void
  immediate: boolean
  cancelled: boolean
}

export class FakeTime implements SchedulerTimers {
  now = 0
  /** Added to every timer's due time: real timers wake up late. */
  lateness = 0
  private seq = 0
  private tasks: Task[] = []

  readonly clock = (): number => this.now

  setTimeout(fn: () => void, ms: number): unknown {
    const task = {at: this.now + Math.max(0, ms) + this.lateness, seq: this.seq++, fn, immediate: false, cancelled: false}
    this.tasks.push(task)
    return task
  }

  clearTimeout(handle: unknown): void {
    if (handle) (handle as Task).cancelled = true
  }

  setImmediate(fn: () => void): unknown {
    // An event-loop turn costs a little time, so polling loops move the clock forward.
    const task = {at: this.now + 0.01, seq: this.seq++, fn, immediate: true, cancelled: false}
    this.tasks.push(task)
    return task
  }

  clearImmediate(handle: unknown): void {
    this.clearTimeout(handle)
  }

  /** Run everything due up to `now + ms`, in time order, moving the clock to each task. */
  advance(ms: number): void {
    const until = this.now + ms
    for (;;) {
      this.tasks = this.tasks.filter((t) => !t.cancelled)
      this.tasks.sort((a, b) => a.at - b.at || a.seq - b.seq)
      const next = this.tasks[0]
      if (!next || next.at > until) break
      this.tasks.shift()
      this.now = Math.max(this.now, next.at)
      next.fn()
    }
    this.now = until
  }

  pending(): number {
    return this.tasks.filter((t) => !t.cancelled).length
  }
}
