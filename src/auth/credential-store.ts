// Where tokens live: the OS keychain (service `bfly`, account `<profile>:<issuer>`), or a
// file readable only by the user when there is no usable keychain (BFLY_KEYCHAIN=off, a
// headless box, a Secret Service that does not answer). The profile config records which.
import {createHash} from 'node:crypto'
import {readdir, readFile, rm} from 'node:fs/promises'
import {join} from 'node:path'
import {AuthError} from '../errors.js'
import {writeFileAtomic} from '../resilience/atomic-file.js'
import {Keychain, KeychainUnavailable} from './keychain.js'

export type StorageKind = 'keychain' | 'file'

/** What is secret about a login. Only ever in the keychain or the 0600 file. */
export interface TokenRecord {
  version: 1
  /** user: an OAuth login with (usually) a refresh token; client: client credentials; token: pasted with --with-token. */
  kind: 'user' | 'client' | 'token'
  accessToken: string
  /** Epoch ms; absent when the server did not say. */
  expiresAt?: number
  refreshToken?: string
  clientId?: string
  /** Client-credentials logins only: renewing needs the secret. */
  clientSecret?: string
  scope?: string
}

interface FileShape {
  account: string
  record: TokenRecord
}

export interface CredentialStoreOptions {
  configDir: string
  env: NodeJS.ProcessEnv
  warn: (message: string) => void
  trace: (line: string) => void
  keychain?: Keychain
}

export function accountName(profile: string, issuer: string): string {
  return `${profile}:${issuer}`
}

function isRecord(value: unknown): value is TokenRecord {
  const r = value as TokenRecord
  return Boolean(r) && typeof r === 'object' && r.version === 1 && typeof r.accessToken === 'string' && r.accessToken !== ''
}

export class CredentialStore {
  private readonly keychain: Keychain
  /** Set after the first failed keychain call: later calls of this invocation go straight to the file. */
  private keychainProblem?: string
  private warned = false

  constructor(private readonly options: CredentialStoreOptions) {
    this.keychain = options.keychain ?? new Keychain({env: options.env})
  }

  /** BFLY_KEYCHAIN=off forces the file. */
  get keychainEnabled(): boolean {
    return (this.options.env.BFLY_KEYCHAIN ?? '').toLowerCase() !== 'off'
  }

  get directory(): string {
    return join(this.options.configDir, 'credentials')
  }

  filePath(account: string): string {
    const [profile] = account.split(':', 1)
    const digest = createHash('sha256').update(account).digest('hex').slice(0, 16)
    return join(this.directory, `${profile}-${digest}.json`)
  }

  /** The login stored for `account`, looked for where the profile says it is. */
  async read(account: string, storage: StorageKind): Promise<{record: TokenRecord; storage: StorageKind} | undefined> {
    if (storage === 'keychain' && this.keychainEnabled) {
      const problem = this.keychainProblem
      if (!problem) {
        try {
          const text = await this.keychain.get(account)
          this.options.trace(`keychain: read ${account} (${text ? 'found' : 'absent'})`)
          const record = text ? parse(text) : undefined
          if (record) return {record, storage: 'keychain'}
        } catch (error) {
          if (!(error instanceof KeychainUnavailable)) throw error
          this.keychainProblem = error.message
        }
      }
      // A refresh during an earlier outage may have moved the login to the file.
      const fromFile = await this.readFile(account)
      if (fromFile) return {record: fromFile, storage: 'file'}
      if (this.keychainProblem) {
        throw new AuthError(`cannot read the stored login: ${this.keychainProblem}`, {
          code: 'KEYCHAIN_UNAVAILABLE',
          hint: 'unlock the keychain and try again, or run `bfly login` again (BFLY_KEYCHAIN=off keeps the login in a file)',
        })
      }
      return undefined
    }
    const record = await this.readFile(account)
    return record ? {record, storage: 'file'} : undefined
  }

  /** Store `record`; returns where it went. A keychain that fails degrades to the file, with one warning. */
  async write(account: string, record: TokenRecord, preferred: StorageKind = 'keychain'): Promise<StorageKind> {
    if (preferred === 'keychain' && this.keychainEnabled && !this.keychainProblem) {
      try {
        await this.keychain.set(account, JSON.stringify(record))
        this.options.trace(`keychain: stored ${account}`)
        // A copy left in the file by an earlier fallback would hold a dead refresh token.
        await rm(this.filePath(account), {force: true})
        return 'keychain'
      } catch (error) {
        if (!(error instanceof KeychainUnavailable)) throw error
        this.keychainProblem = error.message
      }
    }
    const data: FileShape = {account, record}
    await writeFileAtomic(this.filePath(account), JSON.stringify(data, null, 2) + '\n', 0o600)
    if (this.keychainEnabled && this.keychainProblem && !this.warned) {
      this.warned = true
      this.options.warn(`${this.keychainProblem}; the login is stored in ${this.filePath(account)} instead (readable only by you)`)
    }
    return 'file'
  }

  /** Remove the login from both places. Returns false when the keychain could not be reached. */
  async remove(account: string): Promise<boolean> {
    await rm(this.filePath(account), {force: true})
    if (!this.keychainEnabled || this.keychainProblem) return !this.keychainProblem
    try {
      await this.keychain.delete(account)
      this.options.trace(`keychain: removed ${account}`)
      return true
    } catch (error) {
      if (!(error instanceof KeychainUnavailable)) throw error
      this.keychainProblem = error.message
      return false
    }
  }

  /** The accounts with a login in the file (for `logout --all`). */
  async fileAccounts(): Promise<string[]> {
    let names: string[]
    try {
      names = await readdir(this.directory)
    } catch {
      return []
    }
    const accounts: string[] = []
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      try {
        const data = JSON.parse(await readFile(join(this.directory, name), 'utf8')) as FileShape
        if (typeof data.account === 'string') accounts.push(data.account)
      } catch {
        // a torn or foreign file: nothing to log out of
      }
    }
    return accounts
  }

  /** Why the keychain could not be used in this invocation, if it could not. */
  get problem(): string | undefined {
    return this.keychainProblem
  }

  private async readFile(account: string): Promise<TokenRecord | undefined> {
    let text: string
    try {
      text = await readFile(this.filePath(account), 'utf8')
    } catch {
      return undefined
    }
    try {
      const data = JSON.parse(text) as FileShape
      return data.account === account && isRecord(data.record) ? data.record : undefined
    } catch {
      return undefined
    }
  }
}

function parse(text: string): TokenRecord | undefined {
  try {
    const value = JSON.parse(text) as unknown
    return isRecord(value) ? value : undefined
  } catch {
    return undefined
  }
}
