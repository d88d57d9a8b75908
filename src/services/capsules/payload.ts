// `--payload <json | @file | ->`: read, parse and check locally, so a typo is an exit 2 that
// points at the line and column instead of a 400 from the server.
import {UsageError} from '../../errors.js'

export interface PayloadSource {
  /** Where the text came from, for messages: "--payload", "@file.json", "stdin". */
  origin: string
  text: string
}

/** Reads what `--payload` names: the literal JSON, `@path`, or `-` for stdin (never a secret in argv). */
export async function readPayload(value: string, stdin: NodeJS.ReadableStream & {isTTY?: boolean}): Promise<PayloadSource> {
  if (value === '-') {
    if (stdin.isTTY) throw new UsageError('--payload - reads JSON from stdin, which is a terminal', {hint: 'pipe the JSON in, or pass --payload @file.json'})
    const chunks: Buffer[] = []
    for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer))
    return {origin: 'stdin', text: Buffer.concat(chunks).toString('utf8')}
  }
  if (value.startsWith('@')) {
    const path = value.slice(1)
    if (path === '') throw new UsageError('--payload @ needs a file name, e.g. --payload @payload.json')
    const {readFile} = await import('node:fs/promises')
    try {
      return {origin: value, text: await readFile(path, 'utf8')}
    } catch (error) {
      throw new UsageError(`cannot read --payload ${value}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
    }
  }
  return {origin: '--payload', text: value}
}

/** The payload as a JSON object, or exit 2 naming the line and column of the first error. */
export function parsePayload(source: PayloadSource): Record<string, unknown> {
  const text = source.text.replace(/^\uFEFF/, '')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    const offset = jsonErrorOffset(text)
    const {line, column} = lineAndColumn(text, offset)
    const reason = String((error as Error).message)
      .replace(/,\s*".*" is not valid JSON$/s, '')
      .replace(/ in JSON at position \d+.*$/s, '')
      .replace(/ of JSON input$/, ' of input')
    throw new UsageError(`invalid JSON in ${source.origin} at line ${line}, column ${column}: ${reason}`, {
      hint: `near ${excerpt(text, offset)}`,
    })
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`
    throw new UsageError(`the payload in ${source.origin} must be a JSON object, not ${kind}`, {hint: 'e.g. --payload \'{"price":1.0842}\''})
  }
  return value as Record<string, unknown>
}

function lineAndColumn(text: string, offset: number): {line: number; column: number} {
  let line = 1
  let start = 0
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++
      start = i + 1
    }
  }
  return {line, column: offset - start + 1}
}

function excerpt(text: string, offset: number): string {
  const from = Math.max(0, offset - 12)
  const snippet = text.slice(from, offset + 12).replace(/\s+/g, ' ')
  return offset >= text.length ? 'the end of the input' : JSON.stringify((from > 0 ? '…' : '') + snippet)
}

/**
 * Offset of the first syntax error of `text` (JSON, RFC 8259). V8's messages carry a position
 * for most errors but not all ("Unexpected token"), so the position is found here.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++
  }
  const fail = (): never => {
    throw i
  }
  const literal = (word: string) => {
    for (const ch of word) {
      if (text[i] !== ch) fail()
      i++
    }
  }
  const string = () => {
    i++ // opening quote
    for (;;) {
      if (i >= text.length) fail()
      const ch = text.charCodeAt(i)
      if (ch === 0x22) return void i++
      if (ch < 0x20) fail()
      if (ch === 0x5c) {
        i++
        const esc = text[i]
        if (esc === 'u') {
          i++
          for (let k = 0; k < 4; k++, i++) if (!/[0-9a-fA-F]/.test(text[i] ?? '')) fail()
        } else if (esc !== undefined && '"\\/bfnrt'.includes(esc)) i++
        else fail()
      } else i++
    }
  }
  const digit = () => text[i] !== undefined && text[i] >= '0' && text[i] <= '9'
  const digits = () => {
    if (!digit()) fail()
    while (digit()) i++
  }
  const number = () => {
    if (text[i] === '-') i++
    if (text[i] === '0') i++
    else digits()
    if (text[i] === '.') {
      i++
      digits()
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++
      if (text[i] === '+' || text[i] === '-') i++
      digits()
    }
  }
  const value = (): void => {
    ws()
    const ch = text[i]
    if (ch === '{') {
      i++
      ws()
      if (text[i] === '}') return void i++
      for (;;) {
        ws()
        if (text[i] !== '"') fail()
        string()
        ws()
        if (text[i] !== ':') fail()
        i++
        value()
        ws()
        if (text[i] === ',') i++
        else if (text[i] === '}') return void i++
        else fail()
      }
    }
    if (ch === '[') {
      i++
      ws()
      if (text[i] === ']') return void i++
      for (;;) {
        value()
        ws()
        if (text[i] === ',') i++
        else if (text[i] === ']') return void i++
        else fail()
      }
    }
    if (ch === '"') return string()
    if (ch === 't') return literal('true')
    if (ch === 'f') return literal('false')
    if (ch === 'n') return literal('null')
    if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) return number()
    fail()
  }
  try {
    value()
    ws()
    if (i < text.length) fail()
  } catch (offset) {
    if (typeof offset === 'number') return offset
    throw offset
  }
  return text.length
}
