// Four simulated upstream integrations whose health drifts with simulated time. Two are
// healthy, WeatherAPI is degraded with a half-open circuit, NotificationService is
// unhealthy with an open circuit. A circuit reset closes the circuit; a still-failing
// integration trips it again after a few simulated minutes, as a real breaker would.
import {iso, type SandboxClock} from './clock.js'
import {stableUnit} from './prng.js'
import type {IntegrationState} from './records.js'

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy'
export type CircuitState = 'closed' | 'open' | 'half-open'

export interface IntegrationDef {
  name: string
  type: string
  status: HealthStatus
  /** The circuit state while nobody intervenes. */
  circuit: CircuitState
  errorRate: number
  /** Drift amplitude of the error rate, kept inside the status band. */
  errorJitter: number
  latencyP50: number
  latencyP99: number
  lastError: string | null
  /** Simulated time after a reset until the breaker trips again (failing integrations only). */
  retripAfterMs?: number
}

export const INTEGRATIONS: readonly IntegrationDef[] = [
  {name: 'GitHubAPI', type: 'rest', status: 'healthy', circuit: 'closed', errorRate: 0.02, errorJitter: 0.015, latencyP50: 120, latencyP99: 450, lastError: null},
  {name: 'StripeAPI', type: 'rest', status: 'healthy', circuit: 'closed', errorRate: 0.005, errorJitter: 0.005, latencyP50: 180, latencyP99: 620, lastError: null},
  {name: 'WeatherAPI', type: 'rest', status: 'degraded', circuit: 'half-open', errorRate: 0.15, errorJitter: 0.08, latencyP50: 340, latencyP99: 2400, lastError: 'upstream returned 503 Service Unavailable', retripAfterMs: 10 * 60_000},
  {name: 'NotificationService', type: 'webhook', status: 'unhealthy', circuit: 'open', errorRate: 0.62, errorJitter: 0.15, latencyP50: 900, latencyP99: 5000, lastError: 'timed out after 5000 ms', retripAfterMs: 3 * 60_000},
]

const BUCKET_MS = 60_000

export interface IntegrationView {
  name: string
  type: string
  status: HealthStatus
  circuit_state: CircuitState
  error_rate: number
  latency_p50: number
  latency_p99: number
  success_rate: number
  last_error: string | null
  last_checked_at: string
}

/** The integration as seen now: drift per simulated minute, deterministic in (seed, minute). */
export function viewIntegration(def: IntegrationDef, state: IntegrationState | undefined, clock: SandboxClock, seed: number): IntegrationView {
  const sim = clock.simElapsed()
  const bucket = Math.floor(sim / BUCKET_MS)
  const wobble = (label: string) => stableUnit(seed, `${def.name}:${label}:${bucket}`) * 2 - 1
  const errorRate = Math.min(1, Math.max(0, def.errorRate + wobble('err') * def.errorJitter))
  const latency = 1 + wobble('lat') * 0.1
  return {
    name: def.name,
    type: def.type,
    status: def.status,
    circuit_state: circuitState(def, state, clock),
    error_rate: Number(errorRate.toFixed(3)),
    latency_p50: Math.round(def.latencyP50 * latency),
    latency_p99: Math.round(def.latencyP99 * latency),
    success_rate: Number((1 - errorRate).toFixed(3)),
    last_error: def.lastError,
    last_checked_at: iso(clock.now() - (Math.floor(sim) % 15_000) / clock.timeScale),
  }
}

export function circuitState(def: IntegrationDef, state: IntegrationState | undefined, clock: SandboxClock): CircuitState {
  if (state?.resetAt === undefined) return def.circuit
  if (def.circuit === 'closed') return 'closed'
  const simSinceReset = (clock.now() - state.resetAt) * clock.timeScale
  return simSinceReset < (def.retripAfterMs ?? Infinity) ? 'closed' : def.circuit
}
