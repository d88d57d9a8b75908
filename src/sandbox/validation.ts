// Request validation of the contract (§2): identifiers, pagination, sort, RFC 3339 times.
// Problems are collected so one 400 lists every bad parameter, as `details`.
import {type Detail, type Pagination, validationError} from './wire.js'

export const CAPSULE_ID = /^[A-Za-z0-9_-]{1,64}$/
export const SCOPE_ID = /^rim:[A-Za-z0-9_-]+:[A-Za-z0-9_.-]+:[A-Za-z0-9_.~-]+$/
export const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

export const CAPSULE_ID_MESSAGE = 'must match pattern ^[A-Za-z0-9_-]{1,64}$'
export const SCOPE_ID_MESSAGE = 'must match pattern rim:{nodeType}:{namespace}:{localId}'

export class Problems {
  readonly details: Detail[] = []

  add(field: string, message: string): void {
    this.details.push({field, message})
  }

  throwIfAny(message?: string): void {
    if (this.details.length > 0) throw validationError(this.details, message)
  }
}

/** A real RFC 3339 instant, or undefined (with a problem noted) when it is not one. */
export function parseInstant(input: string, field: string, problems: Problems): number | undefined {
  // An unencoded "+01:00" offset in a query string arrives as " 01:00".
  const value = input.replace(/ (\d{2}:\d{2})$/, '+$1')
  if (!RFC3339.test(value)) {
    problems.add(field, 'must be an RFC 3339 date-time, e.g. 2025-12-03T10:00:00Z')
    return undefined
  }
  const t = Date.parse(value)
  if (Number.isNaN(t)) {
    problems.add(field, 'is not a real date-time')
    return undefined
  }
  return t
}

export interface Paging {
  page: number
  size: number
}

export function parsePaging(query: URLSearchParams, problems: Problems): Paging {
  let page = 0
  let size = 20
  const pageText = query.get('page')
  if (pageText !== null) {
    if (/^\d{1,9}$/.test(pageText)) page = Number(pageText)
    else problems.add('page', 'must be an integer >= 0')
  }
  const sizeText = query.get('size')
  if (sizeText !== null) {
    const n = Number(sizeText)
    if (/^\d{1,4}$/.test(sizeText) && n >= 1 && n <= 100) size = n
    else problems.add('size', 'must be an integer between 1 and 100')
  }
  return {page, size}
}

export interface Sort {
  field: string
  direction: 'asc' | 'desc'
}

export function parseSort(query: URLSearchParams, allowed: readonly string[], fallback: Sort, problems: Problems): Sort {
  const text = query.get('sort')
  if (text === null) return fallback
  const match = /^([A-Za-z_]+)(?:,(asc|desc|ASC|DESC))?$/.exec(text)
  if (!match || !allowed.includes(match[1])) {
    problems.add('sort', `must be one of ${allowed.join(', ')}, optionally followed by ,asc or ,desc`)
    return fallback
  }
  return {field: match[1], direction: (match[2]?.toLowerCase() as 'asc' | 'desc') ?? 'asc'}
}

export interface TimeRange {
  from?: number
  to?: number
}

/** `from` inclusive, `to` exclusive (contract §2). */
export function parseTimeRange(query: URLSearchParams, problems: Problems): TimeRange {
  const range: TimeRange = {}
  const from = query.get('from')
  const to = query.get('to')
  if (from !== null) range.from = parseInstant(from, 'from', problems)
  if (to !== null) range.to = parseInstant(to, 'to', problems)
  if (range.from !== undefined && range.to !== undefined && range.from > range.to) problems.add('to', 'must not be before from')
  return range
}

export function checkScopeId(value: string, field: string, problems: Problems): void {
  if (!SCOPE_ID.test(value)) problems.add(field, SCOPE_ID_MESSAGE)
}

/** One page of an already filtered and sorted list; a page past the end is empty. */
export function pageOf<T>(items: readonly T[], paging: Paging): {items: T[]; pagination: Pagination} {
  const start = paging.page * paging.size
  return {
    items: start >= items.length ? [] : items.slice(start, start + paging.size),
    pagination: {page: paging.page, size: paging.size, totalElements: items.length, totalPages: Math.ceil(items.length / paging.size)},
  }
}
