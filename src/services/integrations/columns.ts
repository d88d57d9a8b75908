import type {Column} from '../../output/result.js'
import type {CircuitReset, Integration, IntegrationHealth} from './integrations.js'

type Style = 'red' | 'green' | 'yellow' | undefined

export const statusStyle = (value: string): Style => (value === 'healthy' ? 'green' : value === 'degraded' ? 'yellow' : value === 'unhealthy' ? 'red' : undefined)
export const circuitStyle = (value: string): Style => (value === 'closed' ? 'green' : value === 'half-open' ? 'yellow' : value === 'open' ? 'red' : undefined)

/** A 0..1 rate as a percentage with one decimal. */
export function percent(rate: unknown): string | undefined {
  return typeof rate === 'number' && Number.isFinite(rate) ? `${(rate * 100).toFixed(1)}%` : undefined
}

export function millis(value: unknown): string | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? `${Math.round(value)} ms` : undefined
}

export const integrationColumns: Column<Integration>[] = [
  {key: 'name', header: 'NAME', get: (i) => i.name},
  {key: 'type', header: 'TYPE', get: (i) => i.type},
  {key: 'status', header: 'STATUS', get: (i) => i.status, paint: statusStyle},
  {key: 'circuit', header: 'CIRCUIT', get: (i) => i.circuit_state, paint: circuitStyle},
  {key: 'errorRate', header: 'ERROR RATE', get: (i) => percent(i.error_rate)},
]

export const healthFields: Column<IntegrationHealth>[] = [
  {key: 'name', header: 'Name', get: (h) => h.name},
  {key: 'status', header: 'Status', get: (h) => h.status, paint: statusStyle},
  {key: 'circuit', header: 'Circuit', get: (h) => h.circuit_state, paint: circuitStyle},
  {key: 'latencyP50', header: 'Latency p50', get: (h) => millis(h.latency_p50)},
  {key: 'latencyP99', header: 'Latency p99', get: (h) => millis(h.latency_p99)},
  {key: 'successRate', header: 'Success rate', get: (h) => percent(h.success_rate)},
  {key: 'lastError', header: 'Last error', get: (h) => h.last_error},
]

export function describeReset(r: CircuitReset): string {
  return `${r.name}: circuit ${r.previous_state} → ${r.circuit_state}${r.reset_at ? ` (reset at ${r.reset_at})` : ''}`
}
