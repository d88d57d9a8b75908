// Time in the sandbox. Wall-clock timestamps come from `now` (injectable); the simulated
// world (webhook retry schedule, integration drift, plan steps) runs `timeScale` times
// faster, so `--time-scale 60` turns the 1m/5m/30m retry schedule into seconds.

export interface SandboxClock {
  /** Wall-clock milliseconds; every timestamp the API shows comes from here. */
  now(): number
  readonly timeScale: number
  readonly startedAt: number
  /** Milliseconds of simulated time since start (elapsed wall time × timeScale). */
  simElapsed(): number
  /** How long a simulated duration takes in wall-clock milliseconds. */
  wall(simMs: number): number
}

export function createClock(now: () => number = Date.now, timeScale = 1): SandboxClock {
  if (!(Number.isFinite(timeScale) && timeScale > 0)) throw new RangeError(`timeScale must be a positive number, got ${timeScale}`)
  const startedAt = now()
  return {
    now,
    timeScale,
    startedAt,
    simElapsed: () => (now() - startedAt) * timeScale,
    wall: (simMs) => simMs / timeScale,
  }
}

/** RFC 3339 UTC with second precision, the contract's format (2025-12-03T10:00:00Z). */
export function iso(ms: number): string {
  const text = new Date(ms).toISOString()
  return text.slice(0, 19) + 'Z'
}
