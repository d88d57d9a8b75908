// `bfly cache status|clear`: what the read cache of a profile holds, and emptying it.
import {existsSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import type {Context} from '../context.js'
import {formatDuration} from '../values.js'
import {currentAgeMs, freshnessLifetimeMs, header} from './freshness.js'
import {CACHE_FILE, CacheStore, DEFAULT_MAX_BYTES} from './store.js'

export interface CacheItem {
  url: string
  status: number
  sizeBytes: number
  ageMs: number
  fresh: boolean
  validator: 'etag' | 'last-modified' | null
  storedAt: string
  lastUsedAt: string
}

export interface CacheStatus {
  profile: string
  path: string
  entries: number
  sizeBytes: number
  maxBytes: number
  items: CacheItem[]
}

export interface CacheCleared {
  profiles: string[]
  entries: number
  sizeBytes: number
}

/** Binary units: the bound is 50 MiB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  let value = bytes
  let unit = ''
  for (const u of ['KiB', 'MiB', 'GiB']) {
    value /= 1024
    unit = u
    if (value < 1024) break
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${unit}`
}

async function withStore<T>(path: string, fn: (store: CacheStore) => T): Promise<T | undefined> {
  // Looking must not create: no file means an empty cache.
  if (!existsSync(path)) return undefined
  const store = await CacheStore.open(path)
  try {
    return fn(store)
  } finally {
    store.close()
  }
}

export async function cacheStatus(ctx: Context): Promise<CacheStatus> {
  const path = join(ctx.stateDir, CACHE_FILE)
  const now = ctx.now()
  const found = await withStore(path, (store) => ({totals: store.totals(), rows: store.list(), maxBytes: store.maxBytes}))
  const items = (found?.rows ?? []).map((row): CacheItem => {
    const ageMs = currentAgeMs(row.headers, row, now)
    return {
      url: row.url,
      status: row.status,
      sizeBytes: row.size,
      ageMs,
      fresh: ageMs < freshnessLifetimeMs(row.headers),
      validator: header(row.headers, 'etag') ? 'etag' : header(row.headers, 'last-modified') ? 'last-modified' : null,
      storedAt: new Date(row.responseTime).toISOString(),
      lastUsedAt: new Date(row.accessedAt).toISOString(),
    }
  })
  return {
    profile: ctx.profile,
    path,
    entries: found?.totals.entries ?? 0,
    sizeBytes: found?.totals.bytes ?? 0,
    maxBytes: found?.maxBytes ?? DEFAULT_MAX_BYTES,
    items,
  }
}

export function describeStatus(status: CacheStatus): string {
  const lines = [
    `Cache of profile ${status.profile}: ${status.path}`,
    `${formatBytes(status.sizeBytes)} of ${formatBytes(status.maxBytes)}, ${status.entries} ${status.entries === 1 ? 'entry' : 'entries'}`,
  ]
  if (status.items.length > 0) {
    const rows = status.items.map((i) => [formatDuration(i.ageMs), i.fresh ? 'fresh' : 'stale', formatBytes(i.sizeBytes), i.validator ?? '-', i.url])
    const head = ['AGE', 'STATE', 'SIZE', 'VALIDATOR', 'URL']
    const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)))
    const line = (cells: string[]) => cells.map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ')
    lines.push('', line(head), ...rows.map(line))
  }
  return lines.join('\n') + '\n'
}

/** Empties the cache of this profile, or of every profile. */
export async function clearCache(ctx: Context, allProfiles: boolean): Promise<CacheCleared> {
  const stateRoot = join(ctx.configDir, 'state')
  const profiles = allProfiles
    ? (existsSync(stateRoot) ? readdirSync(stateRoot, {withFileTypes: true}).filter((d) => d.isDirectory()).map((d) => d.name).sort() : [])
    : [ctx.profile]
  const cleared: CacheCleared = {profiles: [], entries: 0, sizeBytes: 0}
  for (const profile of profiles) {
    const result = await withStore(join(stateRoot, profile, CACHE_FILE), (store) => {
      const {bytes} = store.totals()
      return {entries: store.clear(), bytes}
    })
    if (!result) continue
    cleared.profiles.push(profile)
    cleared.entries += result.entries
    cleared.sizeBytes += result.bytes
  }
  return cleared
}
