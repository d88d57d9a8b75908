// Confirmation of destructive or admin actions: asked on a terminal, `--yes` required elsewhere.
import {createInterface} from 'node:readline/promises'
import {UsageError} from '../errors.js'
import type {IO} from './io.js'

export async function confirm(io: IO, question: string, options: {yes: boolean; what: string; signal?: AbortSignal}): Promise<void> {
  if (options.yes) return
  if (!io.canPrompt()) {
    throw new UsageError(`refusing to ${options.what} without confirmation: not a terminal`, {hint: 'pass --yes'})
  }
  const rl = createInterface({input: io.streams.stdin, output: io.streams.stderr})
  try {
    const answer = await rl.question(`${question} [y/N] `, {signal: options.signal})
    if (!/^y(es)?$/i.test(answer.trim())) throw new UsageError(`cancelled: did not ${options.what}`)
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw new UsageError(`cancelled: did not ${options.what}`)
    throw error
  } finally {
    rl.close()
  }
}
