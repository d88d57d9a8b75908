// `bfly integrations`: the platform's integrations, their health and their circuit breakers
// (the operational endpoints answer bare documents, not the /api/v1 envelope).
import {randomUUID} from 'node:crypto'
import type {Context} from '../../context.js'
import {ApiError, BadResponseError, CheckFailed, UsageError} from '../../errors.js'
import {opaqueId, segment} from '../ids.js'

export type IntegrationStatus = 'healthy' | 'degraded' | 'unhealthy'
export type CircuitState = 'closed' | 'open' | 'half-open'

export interface Integration {
  name: string
  type?: string
  status: IntegrationStatus | string
  circuit_state: CircuitState | string
  error_rate?: number
  [key: string]: unknown
}

export interface IntegrationHealth {
  name: string
  status: IntegrationStatus | string
  circuit_state: CircuitState | string
  latency_p50?: number | null
  latency_p99?: number | null
  success_rate?: number | null
  last_error?: string | null
  [key: string]: unknown
}

export interface CircuitReset {
  name: string
  previous_state: CircuitState | string
  circuit_state: CircuitState | string
  reset_at?: string
  [key: string]: unknown
}

export const FAIL_ON = ['degraded', 'unhealthy', 'open'] as const
export type FailOn = (typeof FAIL_ON)[number]

/** Why an integration fails the checks asked for, or undefined when it passes them. */
export function offence(integration: Integration, failOn: readonly FailOn[]): string | undefined {
  const reasons: string[] = []
  // `degraded` is a threshold: degraded or worse.
  if (failOn.includes('degraded') && (integration.status === 'degraded' || integration.status === 'unhealthy')) reasons.push(integration.status)
  else if (failOn.includes('unhealthy') && integration.status === 'unhealthy') reasons.push('unhealthy')
  if (failOn.includes('open') && integration.circuit_state === 'open') reasons.push('circuit open')
  return reasons.length > 0 ? reasons.join(', ') : undefined
}

/** The check behind `--fail-on`: exit 8 naming every offender, or nothing. */
export function failOnCheck(integrations: Integration[], failOn: readonly FailOn[]): CheckFailed | undefined {
  if (failOn.length === 0) return undefined
  const offenders = integrations.flatMap((i) => {
    const why = offence(i, failOn)
    return why ? [`${i.name} (${why})`] : []
  })
  if (offenders.length === 0) return undefined
  const n = offenders.length
  return new CheckFailed(`${n} integration${n === 1 ? '' : 's'} failed --fail-on ${failOn.join(',')}: ${offenders.join(', ')}`, {
    code: 'INTEGRATIONS_UNHEALTHY',
    hint: 'inspect one with `bfly integrations health <name>`',
  })
}

export function parseFailOn(values: string[] | undefined): FailOn[] {
  const out: FailOn[] = []
  for (const raw of values ?? []) {
    for (const value of raw.split(',').map((v) => v.trim()).filter(Boolean)) {
      if (!(FAIL_ON as readonly string[]).includes(value)) throw new UsageError(`invalid --fail-on "${value}": choose from ${FAIL_ON.join(', ')}`)
      if (!out.includes(value as FailOn)) out.push(value as FailOn)
    }
  }
  return out
}

export async function integrationsStatus(ctx: Context): Promise<Integration[]> {
  const api = await ctx.api()
  const response = await api.request<{integrations?: unknown}>({path: '/integrations/status'})
  const list = response.data?.integrations
  if (!Array.isArray(list)) {
    throw new BadResponseError(`unreadable response from ${api.host}: /integrations/status without an "integrations" list`, {requestId: response.requestId})
  }
  return list as Integration[]
}

function withNameHint(error: unknown, name: string): unknown {
  if (error instanceof ApiError && error.status === 404) {
    error.hint = `no integration named "${name}"; \`bfly integrations status\` lists them (names are case-sensitive)`
  }
  return error
}

export async function integrationHealth(ctx: Context, name: string): Promise<IntegrationHealth> {
  opaqueId('integration name', name)
  const api = await ctx.api()
  try {
    const response = await api.request<IntegrationHealth>({path: `/integrations/${segment(name)}/health`})
    return response.data
  } catch (error) {
    throw withNameHint(error, name)
  }
}

export async function resetIntegrationCircuit(ctx: Context, name: string): Promise<CircuitReset> {
  opaqueId('integration name', name)
  const api = await ctx.api()
  try {
    // The key makes a retried POST (after a reset connection) safe where the server honours it.
    const response = await api.request<CircuitReset>({
      method: 'POST',
      path: `/integrations/${segment(name)}/circuit/reset`,
      apiClass: 'admin',
      idempotencyKey: `bfly-circuit-reset-${randomUUID()}`,
    })
    return response.data
  } catch (error) {
    throw withNameHint(error, name)
  }
}
