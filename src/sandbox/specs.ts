// The small languages of `bfly sandbox` flags: latency and chaos specs, rate limits.
// Parsed strictly: a typo must fail loudly, not silently turn chaos off.
import {UsageError} from '../errors.js'
import {normal, type Random} from './prng.js'

export type LatencySpec =
  | {kind: 'fixed'; ms: number}
  | {kind: 'normal'; meanMs: number; stddevMs: number}
  | {kind: 'bimodal'; fastMs: number; slowMs: number; slowProbability: number}
  | {kind: 'uniform'; minMs: number; maxMs: number}

export type ChaosKind = 'status' | 'reset' | 'hang' | 'html' | 'empty' | 'truncated'

export interface ChaosEntry {
  kind: ChaosKind
  /** For kind 'status': the HTTP status sent (e.g. 503, 429). */
  status?: number
  probability: number
}

export interface RateLimits {
  query: number
  write: number
  admin: number
}

/** The contract's budgets, per minute. */
export const DEFAULT_RATE_LIMITS: RateLimits = {query: 1000, write: 100, admin: 100}

const LATENCY_HELP = 'use fixed:20ms, normal:50ms,10ms (mean, stddev), bimodal:2ms,200ms,0.02 (fast, slow, probability of slow) or uniform:5ms,50ms'
const CHAOS_HELP = 'use comma-separated kind:probability pairs, e.g. "503:0.1,429:0.05,reset:0.01,hang:0.01"; kinds: an HTTP status 400-599, reset, hang, html, empty, truncated'

/** `20ms`, `1.5s`: a unit is required, so `20` cannot be misread as seconds or milliseconds. */
export function parseSpecDuration(text: string, what: string, input = text): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(text.trim())
  if (!match) throw new UsageError(`invalid latency spec "${input}": ${what} "${text}" is not a duration like 20ms or 1.5s`, {hint: LATENCY_HELP})
  const ms = Number(match[1]) * (match[2] === 's' ? 1000 : 1)
  if (ms > 600_000) throw new UsageError(`invalid latency spec "${input}": ${what} "${text}" is more than 10 minutes`, {hint: LATENCY_HELP})
  return ms
}

function parseProbability(text: string, what: string, help: string, label: string, input: string): number {
  const trimmed = text.trim()
  const value = Number(trimmed)
  if (!/^(0|1|0?\.\d+|1\.0+)$/.test(trimmed) || !(value >= 0 && value <= 1)) {
    throw new UsageError(`invalid ${label} spec "${input}": ${what} "${text}" is not a probability from 0 to 1`, {hint: help})
  }
  return value
}

export function parseLatencySpec(input: string): LatencySpec {
  const text = String(input).trim()
  const colon = text.indexOf(':')
  if (colon < 0) throw new UsageError(`invalid latency spec "${input}": missing the distribution name`, {hint: LATENCY_HELP})
  const kind = text.slice(0, colon)
  const args = text.slice(colon + 1).split(',')
  const arity = (n: number) => {
    if (args.length !== n || args.some((a) => a.trim() === '')) {
      throw new UsageError(`invalid latency spec "${input}": ${kind} takes ${n} value${n > 1 ? 's' : ''}`, {hint: LATENCY_HELP})
    }
  }
  switch (kind) {
    case 'fixed': {
      arity(1)
      return {kind, ms: parseSpecDuration(args[0], 'delay', input)}
    }
    case 'normal': {
      arity(2)
      return {kind, meanMs: parseSpecDuration(args[0], 'mean', input), stddevMs: parseSpecDuration(args[1], 'stddev', input)}
    }
    case 'bimodal': {
      arity(3)
      const fastMs = parseSpecDuration(args[0], 'fast delay', input)
      const slowMs = parseSpecDuration(args[1], 'slow delay', input)
      if (slowMs < fastMs) throw new UsageError(`invalid latency spec "${input}": the slow delay is shorter than the fast one`, {hint: LATENCY_HELP})
      return {kind, fastMs, slowMs, slowProbability: parseProbability(args[2], 'probability', LATENCY_HELP, 'latency', input)}
    }
    case 'uniform': {
      arity(2)
      const minMs = parseSpecDuration(args[0], 'minimum', input)
      const maxMs = parseSpecDuration(args[1], 'maximum', input)
      if (maxMs < minMs) throw new UsageError(`invalid latency spec "${input}": the maximum is below the minimum`, {hint: LATENCY_HELP})
      return {kind, minMs, maxMs}
    }
    default:
      throw new UsageError(`invalid latency spec "${input}": unknown distribution "${kind}"`, {hint: LATENCY_HELP})
  }
}

/** One delay drawn from the distribution, in milliseconds, never negative. */
export function sampleLatency(spec: LatencySpec, random: Random): number {
  switch (spec.kind) {
    case 'fixed':
      return spec.ms
    case 'normal':
      return Math.max(0, normal(random, spec.meanMs, spec.stddevMs))
    case 'bimodal':
      return random() < spec.slowProbability ? spec.slowMs : spec.fastMs
    case 'uniform':
      return spec.minMs + random() * (spec.maxMs - spec.minMs)
  }
}

const NAMED_KINDS = new Set<ChaosKind>(['reset', 'hang', 'html', 'empty', 'truncated'])

export function parseChaosSpec(input: string): ChaosEntry[] {
  const text = String(input).trim()
  if (text === '') throw new UsageError('invalid chaos spec "": it is empty', {hint: CHAOS_HELP})
  const entries: ChaosEntry[] = []
  const seen = new Set<string>()
  for (const part of text.split(',')) {
    const match = /^\s*([a-z0-9]+)\s*:\s*(\S+)\s*$/.exec(part)
    if (!match) throw new UsageError(`invalid chaos spec "${input}": "${part}" is not kind:probability`, {hint: CHAOS_HELP})
    const [, name, probabilityText] = match
    if (seen.has(name)) throw new UsageError(`invalid chaos spec "${input}": "${name}" appears twice`, {hint: CHAOS_HELP})
    seen.add(name)
    const probability = parseProbability(probabilityText, `probability of ${name}`, CHAOS_HELP, 'chaos', input)
    if (/^\d{3}$/.test(name)) {
      const status = Number(name)
      if (status < 400 || status > 599) throw new UsageError(`invalid chaos spec "${input}": status ${name} is not an error status (400-599)`, {hint: CHAOS_HELP})
      entries.push({kind: 'status', status, probability})
    } else if (NAMED_KINDS.has(name as ChaosKind)) {
      entries.push({kind: name as ChaosKind, probability})
    } else {
      throw new UsageError(`invalid chaos spec "${input}": unknown kind "${name}"`, {hint: CHAOS_HELP})
    }
  }
  const total = entries.reduce((sum, e) => sum + e.probability, 0)
  if (total > 1 + 1e-9) throw new UsageError(`invalid chaos spec "${input}": the probabilities add up to ${Number(total.toFixed(6))}, more than 1`, {hint: CHAOS_HELP})
  return entries
}

/** Which chaos outcome (if any) a request gets: one draw, so probabilities are exact. */
export function drawChaos(entries: readonly ChaosEntry[], random: Random): ChaosEntry | undefined {
  if (entries.length === 0) return undefined
  let r = random()
  for (const entry of entries) {
    if (r < entry.probability) return entry
    r -= entry.probability
  }
  return undefined
}

const RATE_HELP = 'use off, one number for every class (1000), or query=1000,write=100,admin=100 (per minute)'

/** `off`, `500` (every class), or `query=1000,write=100,admin=100` (unnamed classes keep the contract's budget). */
export function parseRateLimitSpec(input: string): false | RateLimits {
  const text = String(input).trim()
  if (text === 'off' || text === 'false' || text === 'none') return false
  const count = (value: string, what: string) => {
    if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || Number(value) > 10_000_000) {
      throw new UsageError(`invalid rate limit "${input}": ${what} "${value}" is not a whole number of requests per minute (1 or more)`, {hint: RATE_HELP})
    }
    return Number(value)
  }
  if (/^\d+$/.test(text)) {
    const n = count(text, 'budget')
    return {query: n, write: n, admin: n}
  }
  const limits: RateLimits = {...DEFAULT_RATE_LIMITS}
  for (const part of text.split(',')) {
    const match = /^\s*(query|write|admin)\s*=\s*(.*)$/.exec(part)
    if (!match) throw new UsageError(`invalid rate limit "${input}": "${part}" is not query=N, write=N or admin=N`, {hint: RATE_HELP})
    limits[match[1] as keyof RateLimits] = count(match[2], match[1])
  }
  return limits
}
