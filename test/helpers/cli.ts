// Spawns bin/run.js as a user would, with its own config dir and a clean environment.
import {spawn} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'

export const ROOT = resolve(import.meta.dirname, '..', '..')
export const BIN = join(ROOT, 'bin', 'run.js')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export function tempConfigDir(prefix = 'bfly-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

/** Environment without the developer's own bfly settings or credentials. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(BFLY_|BUTTERFLY_|HTTPS?_PROXY|NO_PROXY|https?_proxy|no_proxy|CI$|FORCE_COLOR|NO_COLOR)/.test(k)) continue
    env[k] = v
  }
  return {...env, BFLY_KEYCHAIN: 'off', BFLY_RETRY_BASE_MS: '5', ...extra}
}

export function runCli(args: string[], options: {env?: Record<string, string | undefined>; input?: string; timeoutMs?: number} = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {env: cleanEnv(options.env), stdio: ['pipe', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`bfly ${args.join(' ')} did not finish within ${options.timeoutMs ?? 30_000} ms\nstderr: ${stderr}`))
    }, options.timeoutMs ?? 30_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolvePromise({code, stdout, stderr})
    })
    child.stdin.end(options.input ?? '')
  })
}
