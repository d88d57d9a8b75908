// Parsing of the value kinds cli-spec defines: durations, times, rates. Pure functions.
import {UsageError} from './errors.js'

const UNITS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}

/** `250ms`, `10s`, `5m`, `2h`, `7d`; a bare number means seconds. Returns milliseconds. */
export function parseDuration(input: string, name = 'duration'): number {
  const text = String(input).trim()
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text)
  if (!match) {
    throw new UsageError(`invalid ${name} "${input}": use a number of seconds or 250ms, 10s, 5m, 2h, 7d`)
  }
  const ms = Number(match[1]) * UNITS[match[2] ?? 's']
  if (!Number.isFinite(ms)) throw new UsageError(`invalid ${name} "${input}"`)
  return Math.round(ms)
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return s % 60 ? `${m}m${s % 60}s` : `${m}m`
  const h = Math.floor(m / 60)
  return m % 60 ? `${h}h${m % 60}m` : `${h}h`
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

/** RFC 3339, or a duration meaning that long ago. Returns an RFC 3339 UTC string. */
export function parseTime(input: string, name: string, now: () => number = Date.now): string {
  const text = String(input).trim()
  if (text.toLowerCase() === 'now') return new Date(now()).toISOString().replace('.000Z', 'Z')
  if (RFC3339.test(text)) {
    const t = Date.parse(text)
    // Date.parse rolls 2025-02-30 over into March instead of refusing it.
    const [year, month, day] = text.slice(0, 10).split('-').map(Number)
    const calendar = new Date(Date.UTC(year, month - 1, day))
    if (Number.isNaN(t) || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) {
      throw new UsageError(`invalid ${name} "${input}": not a real date`)
    }
    return new Date(t).toISOString().replace('.000Z', 'Z')
  }
  if (/^\d+(\.\d+)?(ms|s|m|h|d)?$/.test(text)) {
    return new Date(now() - parseDuration(text, name)).toISOString().replace('.000Z', 'Z')
  }
  throw new UsageError(`invalid ${name} "${input}": use RFC 3339 (2025-12-03T10:00:00Z) or a duration ago (30m, 2h, 7d), or now`)
}

/** `50` or `50/s`: requests per second. */
export function parseRate(input: string): number {
  const match = /^(\d+(?:\.\d+)?)(?:\/s)?$/.exec(String(input).trim())
  if (!match || Number(match[1]) <= 0) throw new UsageError(`invalid rate "${input}": use requests per second, e.g. 50 or 50/s`)
  return Number(match[1])
}

export function parseIntInRange(input: string | number, name: string, min: number, max: number): number {
  const n = typeof input === 'number' ? input : Number(String(input).trim())
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`invalid ${name} "${input}": must be a whole number from ${min} to ${max}`)
  }
  return n
}
