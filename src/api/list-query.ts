// The query of a list command (contract §2: page, size, sort, from/to), checked before any
// request is sent so that a typo costs nothing and exits 2 naming the rule it broke.
import {UsageError} from '../errors.js'
import {parseIntInRange, parseTime} from '../values.js'
import type {ApiClient, Meta} from './client.js'
import {paginatePages} from './paginate.js'

export interface ListQueryInput {
  page?: string
  size?: string
  all?: boolean
  limit?: string
  sort?: string
  from?: string
  to?: string
}

export interface ListQuery {
  /** Extra query parameters for the server (sort, from, to), undefined ones left out. */
  query: Record<string, string | undefined>
  /** Page size to ask for; undefined leaves the server's default (one page only). */
  size?: number
  startPage: number
  limit?: number
  /** One page only: neither --all nor --limit. */
  single: boolean
  all: boolean
}

/** Largest page of the contract; a walk asks for it unless told otherwise (fewer round trips). */
export const MAX_PAGE_SIZE = 100

export function parseSort(input: string, fields: readonly string[]): string {
  const match = /^\s*([A-Za-z][A-Za-z0-9_]*)\s*(?:,\s*(asc|desc)\s*)?$/i.exec(input)
  const rule = `use field,asc|desc with field one of ${fields.join(', ')}`
  if (!match) throw new UsageError(`invalid --sort "${input}": ${rule}`)
  const field = fields.find((f) => f.toLowerCase() === match[1].toLowerCase())
  if (!field) throw new UsageError(`invalid --sort "${input}": unknown field "${match[1]}"; ${rule}`)
  return match[2] ? `${field},${match[2].toLowerCase()}` : field
}

/** `--from` and `--to` as RFC 3339 UTC; `--from` must come before `--to`. */
export function parseTimeRange(input: {from?: string; to?: string}, now: () => number = Date.now): {from?: string; to?: string} {
  const from = input.from === undefined ? undefined : parseTime(input.from, '--from', now)
  const to = input.to === undefined ? undefined : parseTime(input.to, '--to', now)
  if (from !== undefined && to !== undefined && Date.parse(from) >= Date.parse(to)) {
    throw new UsageError(`--from (${from}) must be before --to (${to}): the range is from inclusive, to exclusive`)
  }
  return {from, to}
}

export function parseListQuery(input: ListQueryInput, options: {sortFields: readonly string[]; now?: () => number}): ListQuery {
  const size = input.size === undefined ? undefined : parseIntInRange(input.size, '--size', 1, MAX_PAGE_SIZE)
  const startPage = input.page === undefined ? 0 : parseIntInRange(input.page, '--page', 0, 10_000_000)
  const limit = input.limit === undefined ? undefined : parseIntInRange(input.limit, '--limit', 1, Number.MAX_SAFE_INTEGER)
  const sort = input.sort === undefined ? undefined : parseSort(input.sort, options.sortFields)
  const {from, to} = parseTimeRange(input, options.now)
  const all = Boolean(input.all)
  const single = !all && limit === undefined
  return {
    query: {sort, from, to},
    size: size ?? (single ? undefined : Math.min(MAX_PAGE_SIZE, all ? MAX_PAGE_SIZE : limit!)),
    startPage,
    limit,
    single,
    all,
  }
}

/**
 * The flags that continue a walk from `page`: what a failed or interrupted walk prints. The
 * time range is spelled out absolute, since a relative `--from 2h` would mean another instant.
 */
export function resumeFlags(q: ListQuery, page: number, fetched: number): string {
  const parts = [`--page ${page}`]
  if (q.query.from !== undefined) parts.push(`--from ${q.query.from}`)
  if (q.query.to !== undefined) parts.push(`--to ${q.query.to}`)
  if (q.size !== undefined) parts.push(`--size ${q.size}`)
  if (q.all && q.limit === undefined) parts.push('--all')
  if (q.limit !== undefined) parts.push(`--limit ${Math.max(1, q.limit - fetched)}`)
  return parts.join(' ')
}

export interface Walk<T> {
  /**
   * Streams the items; every page goes through the HTTP core (retry, bucket, breaker). Also
   * hands them over a page at a time (`batches()`), which the renderer prefers. One pass only.
   */
  items: AsyncIterable<T> & {batches(): AsyncIterable<T[]>}
  /** How far the walk got and how to go on: said when it is interrupted. */
  progress: () => string
  /** For humans once the list is complete: where the rest is, when there is more. */
  summary: () => string | undefined
}

export interface WalkOptions {
  path: string
  /** Filters of the command (scopeId, type); undefined ones are left out. */
  filters?: Record<string, string | undefined>
  /** What the items are called in notes ("capsules", "events"). */
  noun: string
  signal?: AbortSignal
}

/** Walks the pages `q` asks for, remembering how far it got for the notes on stderr. */
export function walkList<T>(api: () => Promise<ApiClient>, q: ListQuery, options: WalkOptions): Walk<T> {
  let nextPage = q.startPage
  let fetched = 0
  let pagination: Meta['pagination']
  const query = Object.fromEntries(Object.entries({...options.filters, ...q.query}).filter(([, v]) => v !== undefined)) as Record<string, string>
  const resume = (page: number, done: number) => resumeFlags(q, page, done)
  async function* batches(): AsyncGenerator<T[]> {
    yield* paginatePages<T>(await api(), {
      path: options.path,
      query,
      size: q.size,
      startPage: q.startPage,
      limit: q.limit,
      single: q.single,
      signal: options.signal,
      resume,
      onPage: (page, count, p) => {
        nextPage = page + 1
        fetched = count
        pagination = p
      },
    })
  }
  const items = {
    batches,
    async* [Symbol.asyncIterator](): AsyncGenerator<T> {
      for await (const batch of batches()) yield* batch
    },
  }
  return {
    items,
    progress: () => {
      const of = pagination ? ` of ${pagination.totalPages}` : ''
      return `stopped at page ${nextPage}${of}; resume with \`${resume(nextPage, fetched)}\``
    },
    summary: () => {
      if (!pagination) return undefined
      const {totalElements, totalPages} = pagination
      const last = nextPage - 1
      if (q.single && fetched === 0 && last >= totalPages && totalPages > 0) {
        return `page ${last} is past the end: ${totalElements} ${options.noun} in ${totalPages} page${totalPages === 1 ? '' : 's'} (pages are 0-based)`
      }
      if (nextPage >= totalPages) return undefined
      if (q.single) return `showing ${fetched} of ${totalElements} ${options.noun} (page ${last} of pages 0-${totalPages - 1}); more with --page ${nextPage}, or --all`
      if (q.limit !== undefined && fetched >= q.limit) return `stopped at --limit ${q.limit}; ${totalElements} ${options.noun} in all`
      return undefined
    },
  }
}
