// Entry point behind bin/run.js: runs oclif from its manifest and handles what fails before
// a command exists (unknown command), with the same exit codes and --json error shape.
import {dirname} from 'node:path'
import {fileURLToPath} from 'node:url'
import {type BflyError, ExitCode, UsageError} from './errors.js'
import {suggest} from './suggest.js'
import {saveCodeCaches} from './vendor/code-cache.js'

type Oclif = typeof import('./vendor/oclif.js')

export async function main(argv: string[], root: string): Promise<void> {
  const oclif = await import('./vendor/oclif.js')
  const {run, flush} = oclif
  const config = await loadConfig(oclif, argv, root)
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
  // The first run of a build leaves the vendored bundles' code cache for the next ones.
  saveCodeCaches()
  // Nothing may keep a finished command alive (a stray socket or timer would hang CI);
  // stdout to pipes and files is synchronous on POSIX, so nothing written is lost.
  process.exit(process.exitCode ?? ExitCode.Ok)
}

/**
 * oclif's configuration, with the plugins the command line needs. A command of bfly's own
 * (the usual case) needs bfly's own plugin only: oclif would otherwise read the package.json
 * and the manifest of each of the other plugins (autocomplete, commands) on every run, ~10 ms
 * of each command's start-up. Anything else (help, a topic, a plugin's command, a typo) gets
 * every plugin, as oclif loads them.
 */
async function loadConfig({Config, Plugin}: Oclif, argv: string[], binUrl: string): Promise<import('./vendor/oclif.js').Config> {
  const root = dirname(dirname(fileURLToPath(binUrl)))
  const own = new Plugin({root, isRoot: true})
  await own.load()
  const config = await Config.load({root, plugins: new Map([[own.name, own]])})
  if (!namesOwnCommand(argv, own.commands)) await config.loadPluginsAndCommands({force: true})
  return config
}

/** Whether the words before the first flag start with the id (or an alias) of one of `commands`. */
export function namesOwnCommand(argv: string[], commands: ReadonlyArray<{id: string; aliases?: string[]}>): boolean {
  const words: string[] = []
  for (const arg of argv) {
    if (arg.startsWith('-')) break
    words.push(arg)
  }
  const ids = new Set<string>()
  for (const command of commands) {
    ids.add(command.id)
    for (const alias of command.aliases ?? []) ids.add(alias)
  }
  for (let n = words.length; n > 0; n--) if (ids.has(words.slice(0, n).join(':'))) return true
  return false
}
