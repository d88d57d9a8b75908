// The raw bytes of a webhook body, as received: a signature covers exact bytes, so nothing here
// decodes, trims or re-encodes them.
import {createReadStream} from 'node:fs'
import {UsageError} from '../../errors.js'

export const MAX_BODY_BYTES = 10 * 1024 * 1024

export async function readBody(source: string | NodeJS.ReadableStream, maxBytes = MAX_BODY_BYTES): Promise<Buffer> {
  const stream = typeof source === 'string' ? createReadStream(source) : source
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of stream) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
      size += buffer.length
      if (size > maxBytes) throw new UsageError(`body larger than ${maxBytes} bytes`)
      chunks.push(buffer)
    }
  } catch (error) {
    if (error instanceof UsageError) throw error
    const e = error as NodeJS.ErrnoException
    throw new UsageError(`cannot read ${typeof source === 'string' ? source : 'stdin'}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`)
  }
  return Buffer.concat(chunks)
}
