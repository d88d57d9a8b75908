// Files shared by concurrent bfly processes: written whole or not at all (temp file + rename),
// readable only by the user from the first byte.
import {randomBytes} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import {mkdir, open, rename, rm} from 'node:fs/promises'
import {dirname} from 'node:path'

/**
 * `durable: false` skips the fsync: still atomic for readers, but a crash may lose the last
 * write. Right for state that is cheap to lose and written on every request (rate budgets),
 * where a flush per request would bound a long walk by the disk's flush latency.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600, options: {durable?: boolean} = {}): Promise<void> {
  await mkdir(dirname(path), {recursive: true, mode: 0o700})
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  const handle = await open(tmp, 'w', mode)
  try {
    await handle.writeFile(data)
    if (options.durable !== false) await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    await rename(tmp, path)
  } catch (error) {
    await rm(tmp, {force: true})
    throw error
  }
}

/**
 * Parsed JSON, or `fallback` when the file is missing or unreadable (a torn file is treated as
 * absent). The state files are a few hundred bytes and read on every request: a synchronous
 * read takes microseconds, where fs/promises' readFile costs four thread-pool round trips
 * (about a third of a millisecond of CPU each time, which a 1000-page walk feels).
 */
export async function readJsonFile<T>(path: string, fallback: T): Promise<T> {
  // Usually absent (no circuit has ever failed): asking costs a few µs, a failed read throws an
  // error with a stack, several times that, twice per request.
  if (!existsSync(path)) return fallback
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T
  } catch {
    return fallback
  }
}
