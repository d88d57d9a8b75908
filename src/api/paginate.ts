// One async iterator over offset pages for every list: memory is one page, whatever the count.
// Pages shift while data changes (contract §2), so items seen on the previous pages are
// skipped by id; a window of two pages covers any shift smaller than a page.
import {BflyError} from '../errors.js'
import type {ApiClient, ApiResponse, Meta} from './client.js'

export interface Page<T> {
  items: T[]
  pagination?: Meta['pagination']
}

export interface PaginateOptions<T> {
  path: string
  query?: Record<string, string | number | boolean | undefined>
  /** Page size (1-100). */
  size?: number
  /** First page (0-based). */
  startPage?: number
  /** Stop after this many items. */
  limit?: number
  /** Fetch one page only. */
  single?: boolean
  signal?: AbortSignal
  /** Where the items are; default: the envelope's data array and meta.pagination. */
  extract?: (response: ApiResponse<unknown>) => Page<T>
  idOf?: (item: T) => unknown
  /** Told after each page, e.g. to say how far a walk got when it is interrupted. */
  onPage?: (page: number, fetched: number) => void
}

export function envelopePage<T>(response: ApiResponse<unknown>): Page<T> {
  const items = Array.isArray(response.data) ? (response.data as T[]) : []
  return {items, pagination: response.meta?.pagination}
}

export async function* paginate<T = unknown>(api: ApiClient, options: PaginateOptions<T>): AsyncGenerator<T> {
  const extract = options.extract ?? envelopePage<T>
  const idOf = options.idOf ?? ((item: T) => (item as {id?: unknown})?.id)
  let page = options.startPage ?? 0
  let yielded = 0
  let previous = new Set<unknown>()
  let current = new Set<unknown>()
  for (;;) {
    if (options.signal?.aborted) return
    let response: ApiResponse<unknown>
    try {
      response = await api.request({path: options.path, query: {...options.query, page, ...(options.size ? {size: options.size} : {})}})
    } catch (error) {
      if (error instanceof BflyError && yielded > 0) {
        error.hint = `${yielded} item${yielded === 1 ? '' : 's'} already printed; resume with --page ${page}${error.hint ? `; ${error.hint}` : ''}`
      } else if (error instanceof BflyError && page > 0) {
        error.hint = `page ${page} failed; resume with --page ${page}${error.hint ? `; ${error.hint}` : ''}`
      }
      throw error
    }
    const {items, pagination} = extract(response)
    for (const item of items) {
      const id = idOf(item)
      if (id !== undefined && (previous.has(id) || current.has(id))) continue
      if (id !== undefined) current.add(id)
      yield item
      yielded++
      if (options.limit !== undefined && yielded >= options.limit) return
    }
    options.onPage?.(page, yielded)
    if (options.single || items.length === 0) return
    if (pagination && page + 1 >= pagination.totalPages) return
    if (!pagination && options.size && items.length < options.size) return
    previous = current
    current = new Set()
    page++
  }
}
