// What commands return; the base command renders it (table on a terminal, TSV in a pipe,
// JSON with --json, NDJSON with --ndjson). Commands never print data themselves.
import type {BflyError} from '../errors.js'

/**
 * Decided once the data is out. An error to exit with after printing what it is about (a failed
 * check → 8, a partial bulk operation → 9, an interruption with its report → 130), or
 * 'complete' when Ctrl-C is the expected way to stop (a listener), so it exits 0.
 */
export type Outcome = () => BflyError | 'complete' | undefined

interface Settled {
  outcome?: Outcome
}

export interface Column<T = any> {
  key: string
  header: string
  get: (item: T) => unknown
  /** RFC 3339 values shown in local time on a terminal, as is elsewhere. */
  time?: boolean
  /** Colour on a terminal only. */
  paint?: (value: string) => 'red' | 'green' | 'yellow' | 'dim' | undefined
}

/**
 * Items that can also be handed over a batch at a time (the pages of a walk): the renderer
 * then writes a batch at once instead of awaiting each item.
 */
export interface Batched<T> extends AsyncIterable<T> {
  batches(): AsyncIterable<readonly T[]>
}

export function isBatched<T>(items: unknown): items is Batched<T> {
  return typeof (items as Partial<Batched<T>> | undefined)?.batches === 'function'
}

export interface ListResult<T = any> extends Settled {
  kind: 'list'
  items: AsyncIterable<T> | Iterable<T> | Batched<T>
  columns: Column<T>[]
  /** Keys shown when --columns is not given (default: all). */
  defaultColumns?: string[]
  /** What to say on stderr when the walk is interrupted, e.g. "stopped after page 3". */
  progress?: () => string
  /** A note for humans on stderr once the list is complete, e.g. "page 1 of 8; more with --all" (not with --json/--ndjson). */
  summary?: () => string | undefined
}

export interface ObjectResult<T = any> extends Settled {
  kind: 'object'
  data: T
  /** Key/value rows for humans; without them, humans get indented JSON. */
  fields?: Column<T>[]
  /** Free-form human rendering; wins over fields. */
  human?: (data: T) => string
}

export interface TextResult extends Settled {
  kind: 'text'
  text: string
  /** What --json prints instead of the text. */
  json?: unknown
}

/**
 * Live events (a listener, a watched stream): written as they happen, one JSON object per line
 * with --json or --ndjson, else the human line of each event (none when `line` returns undefined).
 */
export interface StreamResult<T = any> extends Settled {
  kind: 'stream'
  events: AsyncIterable<T>
  line: (event: T) => string | undefined
}

export type CommandResult = ListResult | ObjectResult | TextResult | StreamResult | void

export const list = <T>(items: AsyncIterable<T> | Iterable<T>, columns: Column<T>[], extra: Partial<ListResult<T>> = {}): ListResult<T> => ({
  kind: 'list',
  items,
  columns,
  ...extra,
})

export const object = <T>(data: T, extra: Partial<ObjectResult<T>> = {}): ObjectResult<T> => ({kind: 'object', data, ...extra})

export const text = (value: string, json?: unknown, extra: Partial<TextResult> = {}): TextResult => ({kind: 'text', text: value, json, ...extra})

export const stream = <T>(events: AsyncIterable<T>, line: StreamResult<T>['line'], extra: Partial<StreamResult<T>> = {}): StreamResult<T> => ({
  kind: 'stream',
  events,
  line,
  ...extra,
})
