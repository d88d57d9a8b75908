// Entry point behind bin/run.js: runs oclif from its manifest and handles what fails before
// a command exists (unknown command), with the same exit codes and --json error shape.
import {type BflyError, ExitCode, UsageError} from './errors.js'
import {suggest} from './suggest.js'

export async function main(argv: string[], root: string): Promise<void> {
  const {Config, run, flush} = await import('./vendor/oclif.js')
  const config = await Config.load(root)
  try {
    await run(argv, config)
    await flush()
  } catch (error) {
    // Loaded only on this path: `bfly --version` stays lean.
    const [{normalizeError, reportError}, {IO}] = await Promise.all([import('./base-command.js'), import('./output/io.js')])
    let normalized: BflyError
    const message = (error as Error)?.message ?? ''
    const notFound = /command (.+) not found/i.exec(message)
    if (notFound) {
      const typed = argv.filter((a) => !a.startsWith('-')).join(' ')
      const guess = suggest(typed.replace(/ /g, ':'), config.commandIDs)
      normalized = new UsageError(`unknown command "${typed}"`, {hint: guess ? `did you mean \`bfly ${guess.replace(/:/g, ' ')}\`?` : 'run `bfly --help` for the list of commands'})
    } else normalized = normalizeError(error)
    const io = new IO({stdout: process.stdout, stderr: process.stderr, stdin: process.stdin}, process.env)
    reportError(io, normalized, {json: argv.includes('--json'), verbose: argv.includes('--verbose')})
    process.exitCode = normalized.exitCode
  }
  // Nothing may keep a finished command alive (a stray socket or timer would hang CI);
  // stdout to pipes and files is synchronous on POSIX, so nothing written is lost.
  process.exit(process.exitCode ?? ExitCode.Ok)
}
