// Spawning bfly for the auth tests: a running child whose stderr can be watched (the login
// prompts print a URL or a code the test then acts on), and the files a login leaves behind.
import {spawn, type ChildProcess} from 'node:child_process'
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {BIN, cleanEnv, type CliResult} from './cli.ts'

export interface RunningCli {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  /** Resolves with the first match of `pattern` on stderr. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  done: Promise<CliResult>
}

export function startCli(args: string[], options: {env?: Record<string, string | undefined>; input?: string} = {}): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], {env: cleanEnv(options.env), stdio: ['pipe', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  const watchers: Array<() => void> = []
  child.stdout!.on('data', (d) => (stdout += d))
  child.stderr!.on('data', (d) => {
    stderr += d
    for (const w of [...watchers]) w()
  })
  child.stdin!.end(options.input ?? '')
  const done = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`bfly ${args.join(' ')} did not finish\nstderr: ${stderr}`))
    }, 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      for (const w of [...watchers]) w()
      resolve({code, stdout, stderr})
    })
  })
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    done,
    waitForStderr(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(stderr)
          if (match) {
            cleanup()
            resolve(match)
          } else if (child.exitCode !== null || child.signalCode !== null) {
            cleanup()
            reject(new Error(`bfly exited before printing ${pattern}\nstderr: ${stderr}`))
          }
        }
        const timer = setTimeout(() => {
          cleanup()
          reject(new Error(`no ${pattern} on stderr within ${timeoutMs} ms\nstderr: ${stderr}`))
        }, timeoutMs)
        const cleanup = () => {
          clearTimeout(timer)
          const i = watchers.indexOf(check)
          if (i >= 0) watchers.splice(i, 1)
        }
        watchers.push(check)
        check()
      })
    },
  }
}

/** Every file under `dir` with its mode and content (to check that no token leaked into config). */
export function filesUnder(dir: string): Array<{path: string; mode: number; content: string}> {
  const out: Array<{path: string; mode: number; content: string}> = []
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name)
      const info = statSync(path)
      if (info.isDirectory()) walk(path)
      else out.push({path, mode: info.mode & 0o777, content: readFileSync(path, 'utf8')})
    }
  }
  walk(dir)
  return out
}

/** The login stored in the 0600 file of a profile (BFLY_KEYCHAIN=off). */
export function storedRecord(configDir: string, profile = 'default'): {path: string; record: {accessToken: string; refreshToken?: string; expiresAt?: number; kind: string; clientSecret?: string}} | undefined {
  const dir = join(configDir, 'credentials')
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return undefined
  }
  const name = names.find((n) => new RegExp(`^${profile}-[0-9a-f]{16}\\.json$`).test(n))
  if (!name) return undefined
  const path = join(dir, name)
  return {path, record: JSON.parse(readFileSync(path, 'utf8')).record}
}

/** Log in through the browser flow (the fastest real login): returns the finished CLI result. */
export async function loginWithBrowser(env: Record<string, string | undefined>, user: string, args: string[] = []): Promise<CliResult> {
  const {Browser} = await import('./oidc-fixture.ts')
  const login = startCli(['login', '--web', '--no-browser', ...args], {env})
  const [, printed] = await login.waitForStderr(/^\s+(http\S+)$/m)
  const redirect = new URL(printed).searchParams.get('redirect_uri')!
  const {final} = await new Browser(user).approve(printed, {stopAt: redirect})
  await fetch(final).then((r) => r.arrayBuffer())
  return login.done
}
