// One async iterator over offset pages for every list: memory is a few pages (the one at
// hand, at most two ahead), whatever the count. Pages shift while data changes (contract §2):
// an insertion ahead of the walk pushes items already seen onto the next page, so they are
// skipped by id. The ids kept for that are a bounded window of the most recent ones (default
// 10,000, never less than two pages), so a walk of millions stays flat; a shift larger than
// the window is the only way a duplicate gets through. Deletions ahead of the walk pull items
// back onto pages already read; offset paging cannot see those, so a walk never skips an item
// that existed throughout but may miss one that moved while it ran.
import {setFlagsFromString} from 'node:v8'
import {BflyError, Interrupted} from '../errors.js'
import {saveCodeCaches} from '../vendor/code-cache.js'
import type {ApiClient, ApiResponse, Meta} from './client.js'
import {RecentIds} from './recent-ids.js'

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
  onPage?: (page: number, fetched: number, pagination?: Meta['pagination']) => void
  /** How many recent ids to remember for de-duplication (default 10,000; at least two pages). */
  remember?: number
  /**
   * Ask for the next page before this one is written (default true), so the server's time and
   * ours overlap: as soon as this page has arrived when the walk knows it will need the next
   * one (no limit, more pages announced), else once this page's items are counted. At most
   * one request is in flight, and pages are asked for in order.
   */
  prefetch?: boolean
  /** The flags that continue from `page` after `fetched` items (default `--page N`). */
  resume?: (page: number, fetched: number) => string
}

export function envelopePage<T>(response: ApiResponse<unknown>): Page<T> {
  const items = Array.isArray(response.data) ? (response.data as T[]) : []
  return {items, pagination: response.meta?.pagination}
}

/**
 * A walk runs V8 lean, for the rest of the process (whose job the walk is). Measured with
 * scripts/bench/pagination.js and /usr/bin/time (100,000 capsules, 2 cores, medians of 10):
 *
 * - The young generation stays at the size it has when the walk starts. V8 grows it (up to
 *   16 MB a semi-space) once the bytes surviving its collections add up to its size, and on a
 *   long walk they always do in the end, a page at a time, though nothing a walk keeps outlives
 *   two pages. The growth factor is read at each collection; a factor of 1 makes "grow" keep
 *   the current size.
 * - No TurboFan, and no inlining in Maglev: Maglev's code for the walk's loop is as fast as
 *   TurboFan's (same wall time and CPU), and what the optimizing compilers allocate on their
 *   background threads is most of the walk's resident memory outside the JS heap. Peak RSS:
 *   93 MB median (98.6 max) with both compilers as they come, 86 MB without TurboFan, 83 MB
 *   (88 max) without Maglev's inlining either; 1,000,000 items peak at 87 MB.
 *   (Without Maglev at all: 79 MB, but ~10% more CPU: V8 then runs baseline code until TurboFan.)
 *
 * The flags only change how fast code gets, never what it does. The code cache is saved first:
 * V8 stamps a cache with a hash of its flags, and a cache made after this change would be
 * rejected by every later run (which starts with V8's defaults).
 */
let lean = false
function runLean(): void {
  if (lean) return
  lean = true
  saveCodeCaches()
  setFlagsFromString('--semi-space-growth-factor=1')
  setFlagsFromString('--no-turbofan')
  setFlagsFromString('--no-maglev-inlining')
}

/** A page asked for ahead of the one at hand. */
interface Pending {
  page: number
  response: Promise<ApiResponse<unknown>>
  /** Its response has arrived (it is no longer on its way). */
  arrived: boolean
}

/** The most pages held or on their way ahead of the one at hand (one on its way at most). */
const AHEAD = 2

/**
 * Lets a request just asked for reach the wire before the caller goes on with a page: it is a
 * chain of awaits (credentials, breaker, bucket, socket), and each step would otherwise queue
 * behind the decoding and writing of the page, so the server would only start on the next page
 * once this one is out (measured: a third of a second idle per 1000 pages).
 */
const reachWire = () => new Promise<void>((resolve) => setImmediate(resolve))

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

/**
 * The walk a page at a time: each batch is a page's items not seen before (cut at the limit).
 * Output takes a batch in one write instead of an await per item, which is most of the cost of
 * streaming 100,000 small items.
 */
export async function* paginatePages<T = unknown>(api: ApiClient, options: PaginateOptions<T>): AsyncGenerator<T[]> {
  const extract = options.extract ?? envelopePage<T>
  const idOf = options.idOf ?? ((item: T) => (item as {id?: unknown})?.id)
  const resume = options.resume ?? ((page: number) => `--page ${page}`)
  const seen = new RecentIds(Math.max(options.remember ?? 10_000, 2 * (options.size ?? 100)))
  const prefetch = options.prefetch ?? true
  // One page on its own is an ordinary GET (read cache and all); the pages of a walk are not.
  const paged = !options.single
  if (paged) runLean()
  let page = options.startPage ?? 0
  let yielded = 0
  /** What the server last said about the pages (how many there are). */
  let known: Meta['pagination'] | undefined
  /** The pages after the current one already asked for, in order (at most AHEAD). */
  const ahead: Pending[] = []
  const ask = (at: number): Pending => {
    const pending = {page: at, arrived: false} as Pending
    pending.response = api.request({
      path: options.path,
      query: {...options.query, page: at, ...(options.size ? {size: options.size} : {})},
      paged,
      ...(paged && prefetch
        ? {
          onReceived: () => {
            pending.arrived = true
            return askEarly()
          },
        }
        : {}),
    })
    pending.response.catch(() => {}) // surfaced when awaited, after the pages before it are out
    return pending
  }
  // As soon as a page has arrived (before it is decoded and written) or been taken off the
  // queue, ask for the one after the last asked for, when the walk is sure to need it: the
  // server then works while this side decodes and writes. Never while another page is on its
  // way: pages are asked for, and so served, one at a time and in order (a page served before
  // an earlier one could miss items that moved between the two). With a limit, the walk asks
  // only once it has counted what it has.
  const askEarly = (): Promise<void> | undefined => {
    // The last page asked for is the last one ahead, or else the one at hand.
    const at = (ahead.at(-1)?.page ?? page) + 1
    if (options.limit !== undefined || !known || at >= known.totalPages || ahead.length >= AHEAD || options.signal?.aborted) return undefined
    if (ahead.some((p) => !p.arrived)) return undefined
    ahead.push(ask(at))
    return reachWire()
  }
  for (;;) {
    if (options.signal?.aborted) throw interrupted(page, yielded, resume)
    let response: ApiResponse<unknown> | undefined
    try {
      let current = ahead[0]?.page === page ? ahead.shift() : undefined
      if (current) {
        if (current.arrived) await askEarly()
      } else {
        ahead.length = 0
        current = ask(page)
      }
      response = await current.response
    } catch (error) {
      if (options.signal?.aborted || error instanceof Interrupted) throw interrupted(page, yielded, resume)
      if (error instanceof BflyError) {
        const done = yielded > 0 ? `${plural(yielded, 'item')} already printed; ` : ''
        error.hint = `page ${page} failed; ${done}resume with \`${resume(page, yielded)}\`${error.hint ? `; ${error.hint}` : ''}`
      }
      throw error
    }
    const {items, pagination} = extract(response)
    if (pagination) known = pagination
    // Not kept across the yield: the body and envelope would outlive the page they came in.
    response = undefined
    const last =
      options.single ||
      items.length === 0 ||
      (pagination ? page + 1 >= pagination.totalPages : options.size !== undefined && items.length < options.size)
    // Not asked for yet: ask now, unless this page will satisfy the limit anyway.
    if (prefetch && !last && ahead.length === 0 && (options.limit === undefined || items.length < options.limit - yielded)) {
      ahead.push(ask(page + 1))
      await reachWire()
    }
    const room = options.limit === undefined ? Infinity : options.limit - yielded
    const batch: T[] = []
    for (let i = 0; i < items.length && batch.length < room; i++) {
      const item = items[i]
      if (!seen.firstSeen(idOf(item))) continue
      batch.push(item)
    }
    if (batch.length > 0) yield batch
    yielded += batch.length
    options.onPage?.(page, yielded, pagination)
    if (last || yielded >= (options.limit ?? Infinity)) return
    page++
  }
}

/** The walk item by item (see paginatePages). */
export async function* paginate<T = unknown>(api: ApiClient, options: PaginateOptions<T>): AsyncGenerator<T> {
  for await (const batch of paginatePages(api, options)) yield* batch
}

function interrupted(page: number, yielded: number, resume: (page: number, fetched: number) => string): Interrupted {
  const error = new Interrupted(`interrupted after ${plural(yielded, 'item')}, while fetching page ${page}`)
  error.hint = `resume with \`${resume(page, yielded)}\``
  return error
}
