// Integrations (contract §3, operational): bare documents; errors still use the envelope.
import {iso} from '../clock.js'
import type {ApiRoute, Core} from '../core.js'
import {notFound} from '../wire.js'
import {circuitState, INTEGRATIONS, viewIntegration, type IntegrationDef} from '../integrations-sim.js'

function find(name: string): IntegrationDef {
  const def = INTEGRATIONS.find((i) => i.name === name)
  if (!def) throw notFound(`integration ${name} not found; known: ${INTEGRATIONS.map((i) => i.name).join(', ')}`)
  return def
}

export function integrationRoutes(core: Core): ApiRoute[] {
  const view = (def: IntegrationDef) => viewIntegration(def, core.store.integrations.get(def.name), core.clock, core.seed)
  return [
    {
      method: 'GET', pattern: '/integrations/status', scope: 'integrations:read', apiClass: 'query', envelope: false,
      handler: () => ({
        status: 200,
        data: {integrations: INTEGRATIONS.map((def) => {
          const v = view(def)
          return {name: v.name, type: v.type, status: v.status, circuit_state: v.circuit_state, error_rate: v.error_rate}
        })},
      }),
    },
    {
      method: 'GET', pattern: '/integrations/:name/health', scope: 'integrations:read', apiClass: 'query', envelope: false,
      handler: (req) => {
        const v = view(find(req.params.name))
        return {
          status: 200,
          data: {name: v.name, type: v.type, status: v.status, circuit_state: v.circuit_state, latency_p50: v.latency_p50, latency_p99: v.latency_p99, success_rate: v.success_rate, error_rate: v.error_rate, last_error: v.last_error, last_checked_at: v.last_checked_at},
        }
      },
    },
    {
      method: 'POST', pattern: '/integrations/:name/circuit/reset', scope: 'integrations:admin', apiClass: 'admin', envelope: false,
      handler: (req) => {
        const def = find(req.params.name)
        const previous = circuitState(def, core.store.integrations.get(def.name), core.clock)
        const now = core.clock.now()
        core.store.integrations.set({id: def.name, resetAt: now})
        core.publish('integration.circuit_reset', null, {integration: def.name, previous_state: previous})
        return {status: 200, data: {name: def.name, previous_state: previous, circuit_state: 'closed', reset_at: iso(now)}}
      },
    },
  ]
}
