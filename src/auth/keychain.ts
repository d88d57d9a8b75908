// The OS keychain (macOS Keychain, Windows Credential Manager, the Secret Service on Linux)
// through @napi-rs/keyring, every call bounded. Each call runs in a short-lived child process
// (keychain-child.ts) that is killed when the bound passes: a locked keyring waiting on an
// unlock prompt, or a Secret Service that stopped answering, costs at most the bound, never
// a hang. Measured: the child costs about 40 ms more than an in-process call.
import {spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'

export const KEYCHAIN_SERVICE = 'bfly'
export const KEYCHAIN_TIMEOUT_MS = 3000

export class KeychainUnavailable extends Error {
  constructor(
    message: string,
    readonly reason: 'timeout' | 'failure',
  ) {
    super(message)
  }
}

export interface KeychainOptions {
  env: NodeJS.ProcessEnv
  timeoutMs?: number
  /** The node binary and child script; tests may point them elsewhere. */
  execPath?: string
  script?: string
}

interface Answer {
  ok: boolean
  value?: string | boolean | null
  error?: string
}

export class Keychain {
  private readonly timeoutMs: number
  private readonly execPath: string
  private readonly script: string

  constructor(private readonly options: KeychainOptions) {
    this.timeoutMs = options.timeoutMs ?? KEYCHAIN_TIMEOUT_MS
    this.execPath = options.execPath ?? process.execPath
    this.script = options.script ?? fileURLToPath(new URL('keychain-child.js', import.meta.url))
  }

  async get(account: string): Promise<string | undefined> {
    const answer = await this.call({op: 'get', service: KEYCHAIN_SERVICE, account})
    return typeof answer.value === 'string' ? answer.value : undefined
  }

  async set(account: string, secret: string): Promise<void> {
    await this.call({op: 'set', service: KEYCHAIN_SERVICE, account, secret})
  }

  async delete(account: string): Promise<boolean> {
    const answer = await this.call({op: 'delete', service: KEYCHAIN_SERVICE, account})
    return answer.value === true
  }

  private call(request: {op: string; service: string; account: string; secret?: string}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.execPath, [this.script], {
        env: this.options.env,
        stdio: ['pipe', 'pipe', 'pipe'],
        windowsHide: true,
      })
      let stdout = ''
      let stderr = ''
      let settled = false
      const finish = (error: KeychainUnavailable | undefined, answer?: Answer) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        if (error) reject(error)
        else resolve(answer!)
      }
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        finish(new KeychainUnavailable(`the OS keychain did not answer within ${this.timeoutMs / 1000} s`, 'timeout'))
      }, this.timeoutMs)
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
      child.on('error', (error) => finish(new KeychainUnavailable(`cannot start the keychain helper: ${error.message}`, 'failure')))
      child.on('close', () => {
        let answer: Answer | undefined
        try {
          answer = JSON.parse(stdout) as Answer
        } catch {
          const detail = stderr.trim().split('\n').at(-1) ?? ''
          return finish(new KeychainUnavailable(`the keychain helper failed${detail ? `: ${detail.slice(0, 200)}` : ''}`, 'failure'))
        }
        if (!answer.ok) return finish(new KeychainUnavailable(`the OS keychain refused: ${answer.error ?? 'unknown error'}`, 'failure'))
        finish(undefined, answer)
      })
      // The secret travels on stdin, never in argv (visible to every user in `ps`).
      child.stdin.on('error', () => {})
      child.stdin.end(JSON.stringify(request))
    })
  }
}
