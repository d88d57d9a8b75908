// Renders a CommandResult. Lists stream: JSON arrays are written item by item, NDJSON a line
// per item, TSV a row per item, so memory stays flat whatever the count. Only the terminal
// table buffers (a human is reading it).
import {Interrupted, UsageError} from '../errors.js'
import type {IO} from './io.js'
import {type Column, type CommandResult, isBatched, type ListResult, type ObjectResult, type StreamResult} from './result.js'

export interface RenderOptions {
  json: boolean
  ndjson: boolean
  columns?: string[]
  signal?: AbortSignal
}

export function selectColumns<T>(columns: Column<T>[], wanted: string[] | undefined, defaults?: string[]): Column<T>[] {
  const keys = wanted && wanted.length > 0 ? wanted : defaults
  if (!keys) return columns
  return keys.map((key) => {
    const column = columns.find((c) => c.key === key)
    if (!column) throw new UsageError(`unknown column "${key}": choose from ${columns.map((c) => c.key).join(', ')}`)
    return column
  })
}

function cell<T>(io: IO, column: Column<T>, item: T, terminal: boolean): string {
  const value = column.get(item)
  let out: string
  if (value === null || value === undefined) out = terminal ? '-' : ''
  else if (typeof value === 'object') out = JSON.stringify(value)
  else out = String(value)
  if (terminal && column.time && typeof value === 'string' && value !== '') {
    const t = Date.parse(value)
    if (!Number.isNaN(t)) out = formatLocalTime(t)
  }
  if (!terminal) return out.replace(/[\t\r\n]+/g, ' ')
  const style = column.paint?.(out)
  return style ? io.paint(out, style) : out
}

function formatLocalTime(ms: number): string {
  const d = new Date(ms)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

async function renderTable(io: IO, head: string[], rows: string[][]): Promise<void> {
  const {default: Table} = await import('cli-table3')
  const table = new Table({
    head: head.map((h) => io.paint(h, 'bold')),
    style: {head: [], border: io.color ? ['grey'] : []},
    wordWrap: false,
  })
  table.push(...rows)
  await io.out(table.toString() + '\n')
}

/**
 * Coalesces the lines of a list into few writes: what is produced within one turn of the event
 * loop (the items of a page arrive together) goes out in one write when the loop turns, or at
 * 64 KB. Output still streams — nothing waits for more than the page at hand — but 100,000
 * items cost about a thousand writes instead of 100,000. Backpressure is kept: a write waits
 * while the previous flush is waiting for the pipe to drain.
 */
class ListWriter {
  // Pieces joined at flush: a += rope of a hundred items costs more to flatten than join.
  private pieces: string[] = []
  private size = 0
  private scheduled = false
  private last: Promise<void> = Promise.resolve()

  constructor(private readonly io: IO) {}

  async write(text: string): Promise<void> {
    this.pieces.push(text)
    this.size += text.length
    if (this.size >= 65_536) return this.flush()
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(() => {
        this.scheduled = false
        void this.flush()
      })
    }
    return this.last
  }

  /** Writes what is buffered; resolves once the pipe has taken it. */
  flush(): Promise<void> {
    if (this.pieces.length === 0) return this.last
    const text = this.pieces.join('')
    this.pieces = []
    this.size = 0
    // io.out writes synchronously before its first await, so flushes keep their order.
    this.last = this.io.out(text)
    return this.last
  }
}

/** The items as batches: a batched source page by page, any other one item by item. */
async function* batchesOf(items: ListResult['items']): AsyncGenerator<readonly unknown[]> {
  if (isBatched(items)) {
    yield* items.batches()
    return
  }
  for await (const item of items as AsyncIterable<unknown>) yield [item]
}

async function renderList(io: IO, result: ListResult, options: RenderOptions): Promise<void> {
  const columns = selectColumns(result.columns, options.columns, result.defaultColumns)
  const terminal = io.stdoutIsTTY && !options.json && !options.ndjson
  let count = 0
  let opened = false
  const rows: string[][] = []
  const interrupted = () => new Interrupted(`interrupted after ${count} item${count === 1 ? '' : 's'}${result.progress ? ` (${result.progress()})` : ''}`)
  const out = new ListWriter(io)
  try {
    for await (const batch of batchesOf(result.items)) {
      if (options.signal?.aborted) throw interrupted()
      // A batch (a page) becomes one string, written once.
      let text = ''
      for (const item of batch) {
        if (options.json) {
          text += (opened ? ',\n  ' : '[\n  ') + JSON.stringify(item)
          opened = true
        } else if (options.ndjson) {
          text += JSON.stringify(item) + '\n'
        } else if (terminal) {
          rows.push(columns.map((c) => cell(io, c, item, true)))
        } else {
          text += columns.map((c) => cell(io, c, item, false)).join('\t') + '\n'
        }
      }
      if (text) await out.write(text)
      count += batch.length
      // `bfly … --all | head`: once the reader is gone, fetching the rest helps nobody.
      if (io.stdoutClosed) break
    }
  } catch (error) {
    // Whatever was fetched is already out; close the JSON array so stdout stays valid JSON.
    if (options.json) await out.write(opened ? '\n]\n' : '[]\n')
    await out.flush()
    if (terminal && rows.length > 0) await renderTable(io, columns.map((c) => c.header), rows)
    if (options.signal?.aborted && !(error instanceof Interrupted)) throw interrupted()
    throw error
  }
  if (options.json) await out.write(opened ? '\n]\n' : '[]\n')
  await out.flush()
  if (terminal) {
    if (rows.length === 0) io.err('no items')
    else await renderTable(io, columns.map((c) => c.header), rows)
  }
  const summary = options.json || options.ndjson ? undefined : result.summary?.()
  if (summary) io.err(io.paint(summary, 'dim'))
}

async function renderObject(io: IO, result: ObjectResult, options: RenderOptions): Promise<void> {
  if (options.json || options.ndjson) {
    await io.out(JSON.stringify(result.data, null, options.ndjson ? undefined : 2) + '\n')
    return
  }
  if (result.human) {
    const text = result.human(result.data)
    await io.out(text.endsWith('\n') ? text : text + '\n')
    return
  }
  if (result.fields) {
    const fields = selectColumns(result.fields, options.columns)
    const terminal = io.stdoutIsTTY
    const width = Math.max(...fields.map((f) => f.header.length))
    const lines = fields.map((f) =>
      terminal ? `${io.paint(f.header.padEnd(width), 'bold')}  ${cell(io, f, result.data, true)}` : `${f.key}\t${cell(io, f, result.data, false)}`,
    )
    await io.out(lines.join('\n') + '\n')
    return
  }
  await io.out(JSON.stringify(result.data, null, 2) + '\n')
}

async function renderStream(io: IO, result: StreamResult, options: RenderOptions): Promise<void> {
  for await (const event of result.events) {
    if (options.json || options.ndjson) {
      await io.out(JSON.stringify(event) + '\n')
    } else {
      const line = result.line(event)
      if (line !== undefined) await io.out(line.endsWith('\n') ? line : line + '\n')
    }
  }
}

export async function render(io: IO, result: CommandResult, options: RenderOptions): Promise<void> {
  if (!result) return
  switch (result.kind) {
    case 'list':
      return renderList(io, result, options)
    case 'object':
      return renderObject(io, result, options)
    case 'stream':
      return renderStream(io, result, options)
    case 'text':
      if (options.json) await io.out(JSON.stringify(result.json ?? {text: result.text}, null, 2) + '\n')
      else await io.out(result.text.endsWith('\n') ? result.text : result.text + '\n')
  }
}
