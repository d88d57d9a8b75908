// ora spinners, only where a human watches: stderr is a terminal with a width, no --json, not CI.
import type {IO} from './io.js'

export interface Spinner {
  update(text: string): void
  stop(final?: string): void
}

const silent: Spinner = {update: () => {}, stop: () => {}}

export async function startSpinner(io: IO, text: string, options: {json: boolean}): Promise<Spinner> {
  if (!io.interactiveProgress(options.json)) return silent
  const {default: ora} = await import('ora')
  const spinner = ora({text, stream: io.streams.stderr as NodeJS.WriteStream, color: 'cyan', discardStdin: false}).start()
  return {
    update: (t) => void (spinner.text = t),
    stop: (final) => (final ? spinner.stopAndPersist({text: final}) : spinner.stop()),
  }
}
