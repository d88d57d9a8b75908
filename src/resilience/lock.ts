// A cross-process lock on a file in the state directory (O_EXCL create). Holders that die
// leave a stale lock; it is taken over once older than `staleMs` or when its pid is gone.
import {mkdir, open, readFile, rm, stat} from 'node:fs/promises'
import {dirname} from 'node:path'

export interface LockOptions {
  /** Give up after this long (ms). */
  timeoutMs?: number
  /** A lock older than this is presumed abandoned (ms). */
  staleMs?: number
  sleep?: (ms: number) => Promise<void>
  now?: () => number
}

export class LockTimeoutError extends Error {
  constructor(path: string, timeoutMs: number) {
    super(`could not take the lock ${path} within ${timeoutMs} ms`)
  }
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function isStale(path: string, staleMs: number, now: number): Promise<boolean> {
  try {
    const [info, text] = await Promise.all([stat(path), readFile(path, 'utf8')])
    if (now - info.mtimeMs > staleMs) return true
    // Created but not yet written by its owner: young, so not stale.
    if (text.trim() === '') return false
    const pid = Number(text.split(' ')[0])
    return !pidAlive(pid)
  } catch {
    return false
  }
}

export async function withLock<T>(path: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000
  const staleMs = options.staleMs ?? 30_000
  const sleep = options.sleep ?? defaultSleep
  const now = options.now ?? Date.now
  const deadline = now() + timeoutMs
  await mkdir(dirname(path), {recursive: true, mode: 0o700})
  let delay = 2
  for (;;) {
    try {
      const handle = await open(path, 'wx', 0o600)
      try {
        await handle.writeFile(`${process.pid} ${now()}`)
      } finally {
        await handle.close()
      }
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      if (await isStale(path, staleMs, now())) {
        await rm(path, {force: true})
        continue
      }
      if (now() >= deadline) throw new LockTimeoutError(path, timeoutMs)
      await sleep(delay + Math.random() * delay)
      delay = Math.min(delay * 2, 50)
    }
  }
  try {
    return await fn()
  } finally {
    await rm(path, {force: true})
  }
}
