// Plans (contract §3): POST execute answers 202 at once; progress streams over the
// WebSocket /ws/plans/{id} (see plan-socket.ts).
import type {ApiRoute, Core} from '../core.js'
import {notFound} from '../wire.js'
import {PLANS} from '../plan-runner.js'
import {CAPSULE_ID, Problems} from '../validation.js'

export function planRoutes(core: Core): ApiRoute[] {
  return [
    {
      method: 'GET', pattern: '/api/v1/plans', scope: 'plans:execute', apiClass: 'query', envelope: true,
      handler: () => ({status: 200, data: PLANS.map((p) => ({id: p.id, name: p.name, steps: p.steps, lastExecution: summary(core, p.id)}))}),
    },
    {
      method: 'POST', pattern: '/api/v1/plans/:id/execute', scope: 'plans:execute', apiClass: 'write', envelope: true,
      handler: (req) => {
        const id = req.params.id
        if (!CAPSULE_ID.test(id)) {
          const problems = new Problems()
          problems.add('id', 'must match pattern ^[A-Za-z0-9_-]{1,64}$')
          problems.throwIfAny()
        }
        const plan = core.plans.plan(id)
        if (!plan) throw notFound(`plan ${id} not found`)
        const execution = core.plans.execute(plan)
        return {status: 202, data: {planId: plan.id, executionId: execution.executionId, status: execution.status, startedAt: execution.startedAt}, headers: {location: `/ws/plans/${encodeURIComponent(plan.id)}`}}
      },
    },
  ]
}

function summary(core: Core, planId: string) {
  const e = core.plans.latest(planId)
  return e ? {executionId: e.executionId, status: e.status, startedAt: e.startedAt, finishedAt: e.finishedAt ?? null} : null
}
