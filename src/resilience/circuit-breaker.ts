// The client's own circuit breaker, one per API host, persisted in the state directory so
// that it spans invocations: a CI loop against a dead API stops hammering it.
// closed --[failureThreshold consecutive failures]--> open --[cooldown]--> half-open
// half-open --[successThreshold successes]--> closed; half-open --[any failure]--> open.
// Only 5xx, network errors and timeouts count as failures, never 4xx.
import {join} from 'node:path'
import {readJsonFile, writeFileAtomic} from './atomic-file.js'
import {withLock} from './lock.js'

export type CircuitState = 'closed' | 'open' | 'half-open'

export interface BreakerConfig {
  failureThreshold: number
  cooldownMs: number
  successThreshold: number
  /** How long a half-open probe may be in flight before another process may probe. */
  probeTimeoutMs: number
}

export const DEFAULT_BREAKER: BreakerConfig = {failureThreshold: 5, cooldownMs: 60_000, successThreshold: 2, probeTimeoutMs: 60_000}

export interface HostCircuit {
  state: CircuitState
  failures: number
  successes: number
  openedAt?: number
  nextProbeAt?: number
  probeUntil?: number
  lastError?: string
  updatedAt: number
}

export type Admission = {allowed: true; circuit: HostCircuit} | {allowed: false; circuit: HostCircuit; retryInMs: number}

export function closedCircuit(now: number): HostCircuit {
  return {state: 'closed', failures: 0, successes: 0, updatedAt: now}
}

/** May a request be sent now? Moves open → half-open once the cooldown is over (one probe at a time). */
export function admit(current: HostCircuit | undefined, config: BreakerConfig, now: number): Admission {
  const circuit = current ?? closedCircuit(now)
  if (circuit.state === 'closed') return {allowed: true, circuit}
  if (circuit.state === 'open') {
    const nextProbeAt = circuit.nextProbeAt ?? now
    if (now < nextProbeAt) return {allowed: false, circuit, retryInMs: nextProbeAt - now}
    return {allowed: true, circuit: {...circuit, state: 'half-open', successes: 0, probeUntil: now + config.probeTimeoutMs, updatedAt: now}}
  }
  // half-open: one probe in flight at a time
  if (circuit.probeUntil !== undefined && now < circuit.probeUntil) {
    return {allowed: false, circuit, retryInMs: circuit.probeUntil - now}
  }
  return {allowed: true, circuit: {...circuit, probeUntil: now + config.probeTimeoutMs, updatedAt: now}}
}

export function onSuccess(current: HostCircuit | undefined, config: BreakerConfig, now: number): HostCircuit {
  const circuit = current ?? closedCircuit(now)
  if (circuit.state === 'half-open') {
    const successes = circuit.successes + 1
    if (successes >= config.successThreshold) return closedCircuit(now)
    return {...circuit, successes, probeUntil: undefined, updatedAt: now}
  }
  if (circuit.state === 'open') return circuit
  return circuit.failures === 0 ? circuit : {...circuit, failures: 0, updatedAt: now}
}

export function onFailure(current: HostCircuit | undefined, config: BreakerConfig, now: number, reason?: string): HostCircuit {
  const circuit = current ?? closedCircuit(now)
  const open = (failures: number): HostCircuit => ({
    state: 'open',
    failures,
    successes: 0,
    openedAt: now,
    nextProbeAt: now + config.cooldownMs,
    lastError: reason ?? circuit.lastError,
    updatedAt: now,
  })
  if (circuit.state === 'half-open') return open(circuit.failures + 1)
  if (circuit.state === 'open') return {...circuit, lastError: reason ?? circuit.lastError, updatedAt: now}
  const failures = circuit.failures + 1
  if (failures >= config.failureThreshold) return open(failures)
  return {...circuit, failures, lastError: reason ?? circuit.lastError, updatedAt: now}
}

interface BreakerFile {
  hosts: Record<string, HostCircuit>
}

/** The persisted breakers of one profile: every change is read-modify-write under a file lock. */
export class CircuitStore {
  private readonly file: string
  private readonly lockFile: string

  constructor(
    stateDir: string,
    private readonly config: BreakerConfig = DEFAULT_BREAKER,
    private readonly now: () => number = Date.now,
  ) {
    this.file = join(stateDir, 'circuits.json')
    this.lockFile = join(stateDir, 'circuits.lock')
  }

  async list(): Promise<Record<string, HostCircuit>> {
    return (await readJsonFile<BreakerFile>(this.file, {hosts: {}})).hosts ?? {}
  }

  async get(host: string): Promise<HostCircuit | undefined> {
    return (await this.list())[host]
  }

  /** Fast path without the lock when the host is closed and clean (the common case). */
  async admit(host: string): Promise<Admission> {
    const current = await this.get(host)
    if (current === undefined || (current.state === 'closed')) return {allowed: true, circuit: current ?? closedCircuit(this.now())}
    return this.update(host, (c) => admit(c, this.config, this.now()))
  }

  async success(host: string): Promise<HostCircuit> {
    const current = await this.get(host)
    if (current === undefined || (current.state === 'closed' && current.failures === 0)) return current ?? closedCircuit(this.now())
    return (await this.update(host, (c) => ({circuit: onSuccess(c, this.config, this.now())}))).circuit
  }

  async failure(host: string, reason?: string): Promise<HostCircuit> {
    return (await this.update(host, (c) => ({circuit: onFailure(c, this.config, this.now(), reason)}))).circuit
  }

  /** Close the circuit of one host, or of every host. Returns the hosts that were reset. */
  async reset(host?: string): Promise<string[]> {
    return withLock(this.lockFile, async () => {
      const data = await readJsonFile<BreakerFile>(this.file, {hosts: {}})
      const hosts = host === undefined ? Object.keys(data.hosts ?? {}) : [host].filter((h) => data.hosts?.[h] !== undefined)
      for (const h of hosts) delete data.hosts[h]
      await writeFileAtomic(this.file, JSON.stringify(data))
      return hosts
    })
  }

  private async update<T extends {circuit: HostCircuit}>(host: string, change: (c: HostCircuit | undefined) => T): Promise<T> {
    return withLock(this.lockFile, async () => {
      const data = await readJsonFile<BreakerFile>(this.file, {hosts: {}})
      data.hosts ??= {}
      const result = change(data.hosts[host])
      data.hosts[host] = result.circuit
      await writeFileAtomic(this.file, JSON.stringify(data))
      return result
    })
  }
}
