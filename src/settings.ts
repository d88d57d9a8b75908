// Settings, profiles and their precedence: flag > environment > profile (conf) > default.
// conf is imported lazily: `bfly --version` must not pay for it.
import {BflyError, ExitCode, UsageError} from './errors.js'
import {parseDuration, parseIntInRange} from './values.js'

export type Origin = 'flag' | 'env' | 'profile' | 'default'

export interface SettingSpec {
  key: string
  description: string
  env?: string
  flag?: string
  default?: string
  /** Throws UsageError for an invalid value. */
  validate: (value: string) => void
}

const url = (key: string) => (value: string) => {
  let parsed: URL
  try {
    parsed = new URL(value)
  } catch {
    throw new UsageError(`invalid ${key} "${value}": not a URL (e.g. https://butterfly.example.com)`)
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new UsageError(`invalid ${key} "${value}": must be http(s)`)
}
const duration = (key: string) => (value: string) => void parseDuration(value, key)
const integer = (key: string, min: number, max: number) => (value: string) => void parseIntInRange(value, key, min, max)
const oneOf = (key: string, values: string[]) => (value: string) => {
  if (!values.includes(value)) throw new UsageError(`invalid ${key} "${value}": choose from ${values.join(', ')}`)
}
const any = () => () => {}

export const SETTINGS: SettingSpec[] = [
  {key: 'api-url', description: 'BUTTERFLY API base URL', env: 'BFLY_API_URL', flag: 'api-url', validate: url('api-url')},
  {key: 'issuer', description: 'OAuth issuer (default: discovered from the API)', env: 'BFLY_ISSUER', flag: 'issuer', validate: url('issuer')},
  {key: 'client-id', description: 'OAuth client id of the CLI', default: 'bfly-cli', validate: any()},
  {key: 'scopes', description: 'scopes requested at login (space separated)', validate: any()},
  {key: 'timeout', description: 'whole-request timeout (default: connect 10s, response 30s)', flag: 'timeout', validate: duration('timeout')},
  {key: 'retries', description: 'retries of a failed request', flag: 'retries', default: '3', validate: integer('retries', 0, 10)},
  {key: 'max-retry-after', description: 'longest Retry-After the client waits for', default: '30s', validate: duration('max-retry-after')},
  {key: 'fallback', description: 'answer reads from the cache when the API fails (none|cache)', default: 'none', validate: oneOf('fallback', ['none', 'cache'])},
  {key: 'cache-ttl', description: 'how old a cached answer the fallback may serve', default: '15m', validate: duration('cache-ttl')},
  {key: 'circuit-failure-threshold', description: 'consecutive failures that open the circuit', default: '5', validate: integer('circuit-failure-threshold', 1, 1000)},
  {key: 'circuit-cooldown', description: 'how long an open circuit waits before a probe', default: '60s', validate: duration('circuit-cooldown')},
  {key: 'circuit-success-threshold', description: 'successes in half-open that close the circuit', default: '2', validate: integer('circuit-success-threshold', 1, 100)},
  {key: 'ca-file', description: 'PEM file of extra certificate authorities', flag: 'ca-file', validate: any()},
]

export function settingSpec(key: string): SettingSpec {
  const spec = SETTINGS.find((s) => s.key === key)
  if (!spec) throw new UsageError(`unknown setting "${key}": choose from ${SETTINGS.map((s) => s.key).join(', ')}`)
  return spec
}

export interface Resolved {
  value: string | undefined
  origin: Origin
}

export interface ResolveSources {
  flags: Record<string, unknown>
  env: NodeJS.ProcessEnv
  profile: Record<string, string>
}

export function resolveSetting(key: string, sources: ResolveSources): Resolved {
  const spec = settingSpec(key)
  const flagValue = spec.flag ? sources.flags[spec.flag] : undefined
  if (flagValue !== undefined && flagValue !== null && flagValue !== '') return {value: String(flagValue), origin: 'flag'}
  const envValue = spec.env ? sources.env[spec.env] : undefined
  if (envValue !== undefined && envValue !== '') return {value: envValue, origin: 'env'}
  if (sources.profile[key] !== undefined) return {value: sources.profile[key], origin: 'profile'}
  return {value: spec.default, origin: 'default'}
}

const PROFILE_NAME = /^[A-Za-z0-9_-]{1,64}$/

export function validateProfileName(name: string): string {
  if (!PROFILE_NAME.test(name)) throw new UsageError(`invalid profile name "${name}": letters, digits, _ and - only`)
  return name
}

/** Non-secret facts about a login, kept in the profile (the tokens live in the credential store). */
export interface SessionFacts {
  issuer?: string
  subject?: string
  scopes?: string[]
  expiresAt?: string
  storage?: 'keychain' | 'file'
  clientId?: string
  loggedInAt?: string
}

interface ConfigShape {
  profiles: Record<string, {settings?: Record<string, string>; session?: SessionFacts}>
}

type ConfLike = {get(key: string): unknown; set(key: string, value: unknown): void; path: string}

/**
 * The profile store: one JSON file in the config dir, mode 0600, written by conf.
 * Reads parse the file directly and conf is loaded on the first write only: conf pulls in
 * ajv and a writer stack (~90 modules) that a read-only command such as `capsules get`
 * would otherwise pay for on every run (measured in `npm run bench -- startup`).
 */
export class ProfileStore {
  private conf?: ConfLike
  private constructor(
    private readonly configDir: string,
    readonly path: string,
    private snapshot: ConfigShape,
  ) {}

  static async open(configDir: string): Promise<ProfileStore> {
    const [{readFile}, {join}] = await Promise.all([import('node:fs/promises'), import('node:path')])
    const path = join(configDir, 'config.json')
    let text: string | undefined
    try {
      text = await readFile(path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new BflyError(`cannot read the config file ${path}: ${(error as Error).message}`, {code: 'CONFIG_UNREADABLE', exitCode: ExitCode.Failure})
      }
    }
    let snapshot: ConfigShape = {profiles: {}}
    if (text !== undefined && text.trim() !== '') {
      try {
        const parsed = JSON.parse(text) as Partial<ConfigShape>
        snapshot = {...parsed, profiles: parsed.profiles && typeof parsed.profiles === 'object' ? parsed.profiles : {}}
      } catch (error) {
        throw new BflyError(`the config file ${path} is not valid JSON (${(error as Error).message})`, {code: 'CONFIG_INVALID', exitCode: ExitCode.Failure, hint: 'fix it by hand or move it aside; it holds profile settings only, never tokens'})
      }
    }
    return new ProfileStore(configDir, path, snapshot)
  }

  private async writer(): Promise<ConfLike> {
    if (this.conf) return this.conf
    const signals = ['SIGINT', 'SIGTERM'] as const
    const before = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal))]))
    const {default: Conf} = await import('conf')
    // conf's writer (atomically → when-exit) hooks SIGINT/SIGTERM at import and re-raises the
    // signal after its cleanup: the base command would take that echo for a second Ctrl-C and
    // exit at once, losing the report of what finished. Its 'exit' hook (the cleanup) stays.
    for (const signal of signals) {
      for (const listener of process.listeners(signal)) if (!before.get(signal)!.has(listener)) process.off(signal, listener)
    }
    this.conf = new Conf<ConfigShape>({
      cwd: this.configDir,
      configName: 'config',
      projectName: 'bfly',
      configFileMode: 0o600,
      accessPropertiesByDotNotation: false,
      defaults: {profiles: {}},
    }) as unknown as ConfLike
    return this.conf
  }

  /**
   * Read-modify-write of the profiles on what the file holds now (conf reads it on every get),
   * not on the snapshot taken at open: a login that waited minutes for the user must not undo
   * a `bfly config set` made meanwhile in another terminal.
   */
  private async mutate<R>(change: (profiles: ConfigShape['profiles']) => R): Promise<R> {
    const conf = await this.writer()
    const profiles = structuredClone((conf.get('profiles') as ConfigShape['profiles'] | undefined) ?? {})
    const result = change(profiles)
    conf.set('profiles', profiles)
    this.snapshot = {...this.snapshot, profiles}
    return result
  }

  /** A deep copy: callers edit it and save it whole. */
  private profiles(): ConfigShape['profiles'] {
    return structuredClone(this.snapshot.profiles)
  }

  names(): string[] {
    return Object.keys(this.profiles())
  }

  settings(profile: string): Record<string, string> {
    return {...this.profiles()[profile]?.settings}
  }

  async set(profile: string, key: string, value: string): Promise<void> {
    const spec = settingSpec(key)
    spec.validate(value)
    await this.mutate((profiles) => {
      profiles[profile] = {...profiles[profile], settings: {...profiles[profile]?.settings, [key]: value}}
    })
  }

  async unset(profile: string, key: string): Promise<boolean> {
    settingSpec(key)
    return this.mutate((profiles) => {
      const settings = profiles[profile]?.settings
      if (!settings || !(key in settings)) return false
      delete settings[key]
      return true
    })
  }

  session(profile: string): SessionFacts | undefined {
    return this.profiles()[profile]?.session
  }

  async setSession(profile: string, facts: SessionFacts | undefined): Promise<void> {
    await this.mutate((profiles) => {
      const entry = profiles[profile] ?? {}
      if (facts === undefined) delete entry.session
      else entry.session = facts
      profiles[profile] = entry
    })
  }
}
