// A wait that Ctrl-C cuts short: rejects with Interrupted (exit 130) as soon as the signal aborts.
import {Interrupted} from '../errors.js'

export function sleep(ms: number, signal?: AbortSignal, interruptedMessage?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Interrupted(interruptedMessage))
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(new Interrupted(interruptedMessage))
    }
    signal?.addEventListener('abort', onAbort, {once: true})
  })
}
