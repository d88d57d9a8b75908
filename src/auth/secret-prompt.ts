// Asking for a secret on the terminal without echoing it, and reading one from stdin.
// Secrets are never flag values: argv is visible to every user of the machine.
import {Interrupted, UsageError} from '../errors.js'
import type {IO} from '../output/io.js'

type RawStdin = NodeJS.ReadableStream & {isTTY?: boolean; setRawMode?: (raw: boolean) => void}

/** A line typed on the terminal, not echoed. Enter ends it, Ctrl-C cancels. */
export function promptHidden(io: IO, question: string, signal?: AbortSignal): Promise<string> {
  const stdin = io.streams.stdin as RawStdin
  if (!io.canPrompt() || !stdin.setRawMode) {
    return Promise.reject(new UsageError(`cannot ask for ${question.replace(/:\s*$/, '')}: not a terminal`))
  }
  return new Promise((resolve, reject) => {
    let value = ''
    io.streams.stderr.write(question)
    stdin.setRawMode!(true)
    stdin.setEncoding?.('utf8')
    stdin.resume()
    const done = (error?: Error) => {
      stdin.setRawMode!(false)
      stdin.pause()
      stdin.off('data', onData)
      signal?.removeEventListener('abort', onAbort)
      io.streams.stderr.write('\n')
      if (error) reject(error)
      else resolve(value)
    }
    const onAbort = () => done(new Interrupted('cancelled'))
    const onData = (chunk: string | Buffer) => {
      for (const ch of String(chunk)) {
        if (ch === '\r' || ch === '\n') return done()
        if (ch === '\u0003') return done(new Interrupted('cancelled'))
        if (ch === '\u0004' && value === '') return done(new Interrupted('cancelled'))
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1)
        else if (ch >= ' ') value += ch
      }
    }
    stdin.on('data', onData)
    signal?.addEventListener('abort', onAbort, {once: true})
  })
}

/** A line typed on the terminal, echoed (for non-secret answers such as a client id). */
export function promptVisible(io: IO, question: string): Promise<string> {
  if (!io.canPrompt()) return Promise.reject(new UsageError(`cannot ask for ${question.replace(/:\s*$/, '')}: not a terminal`))
  return import('node:readline/promises').then(async ({createInterface}) => {
    const rl = createInterface({input: io.streams.stdin, output: io.streams.stderr})
    try {
      return (await rl.question(question)).trim()
    } finally {
      rl.close()
    }
  })
}

/** All of stdin (for `--with-token`), trimmed; limited so a mistaken pipe does not fill memory. */
export async function readAllStdin(stdin: NodeJS.ReadableStream, limit = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stdin) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))
    size += buffer.length
    if (size > limit) throw new UsageError(`stdin is larger than ${limit / 1024} KiB: that is not a token`)
    chunks.push(buffer)
  }
  return Buffer.concat(chunks).toString('utf8').trim()
}
