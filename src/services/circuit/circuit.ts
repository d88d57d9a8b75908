// `bfly circuit`: the client's own breakers of this profile, one per API host.
import type {Context} from '../../context.js'
import {UsageError} from '../../errors.js'
import {CircuitStore, DEFAULT_BREAKER, type HostCircuit} from '../../resilience/circuit-breaker.js'

export interface CircuitRow {
  host: string
  state: HostCircuit['state']
  failures: number
  lastError: string | null
  openedAt: string | null
  halfOpensAt: string | null
}

async function store(ctx: Context): Promise<CircuitStore> {
  const settings = await ctx.settings()
  return new CircuitStore(ctx.stateDir, {...DEFAULT_BREAKER, ...settings.breaker}, ctx.now)
}

export async function circuitStatus(ctx: Context): Promise<CircuitRow[]> {
  const hosts = await (await store(ctx)).list()
  const iso = (ms?: number) => (ms === undefined ? null : new Date(ms).toISOString())
  return Object.entries(hosts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([host, c]) => ({
      host,
      state: c.state,
      failures: c.failures,
      lastError: c.lastError ?? null,
      openedAt: c.state === 'closed' ? null : iso(c.openedAt),
      halfOpensAt: c.state === 'open' ? iso(c.nextProbeAt) : null,
    }))
}

/** Close the breaker of one host (or all). Returns the hosts that were reset. */
export async function circuitReset(ctx: Context, host: string | undefined, all: boolean): Promise<string[]> {
  let target = host
  if (!target && !all) {
    const apiUrl = (await ctx.settings()).apiUrl
    if (!apiUrl) throw new UsageError('which host? pass --host H, --all, or configure an API URL')
    target = new URL(apiUrl).host
  }
  return (await store(ctx)).reset(all ? undefined : target)
}
