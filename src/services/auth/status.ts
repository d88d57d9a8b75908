// `bfly auth status`: who is logged in, where the tokens are. Never a token.
import type {Context} from '../../context.js'
import {createCredentialStore, Session} from '../../auth/session.js'

/** The cli-spec shape of `auth status --json`; unknown values are null. */
export interface AuthStatus {
  loggedIn: boolean
  profile: string
  apiUrl: string | null
  issuer: string | null
  subject: string | null
  scopes: string[]
  expiresAt: string | null
  storage: 'keychain' | 'file' | 'env' | null
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString())

export async function statusFromSession(ctx: Context, session: Session): Promise<AuthStatus> {
  const settings = await ctx.settings()
  const facts = session.sessionFacts
  const record = session.record
  return {
    loggedIn: true,
    profile: ctx.profile,
    apiUrl: settings.apiUrl ?? null,
    issuer: facts.issuer ?? null,
    subject: facts.subject ?? null,
    scopes: record.scope ? record.scope.split(' ').filter(Boolean) : facts.scopes ?? [],
    expiresAt: iso(record.expiresAt),
    storage: session.where,
  }
}

export async function authStatus(ctx: Context): Promise<AuthStatus> {
  const settings = await ctx.settings()
  const base: AuthStatus = {loggedIn: false, profile: ctx.profile, apiUrl: settings.apiUrl ?? null, issuer: null, subject: null, scopes: [], expiresAt: null, storage: null}
  const env = ctx.env
  // Same order as the credentials of a request (cli-spec): the environment wins.
  if (env.BFLY_TOKEN || env.BUTTERFLY_API_KEY) return {...base, loggedIn: true, storage: 'env'}
  if (env.BFLY_CLIENT_ID && env.BFLY_CLIENT_SECRET) {
    return {...base, loggedIn: true, issuer: settings.issuer ?? null, subject: env.BFLY_CLIENT_ID, storage: 'env'}
  }
  const session = await Session.open(ctx, createCredentialStore(ctx))
  if (!session) return base
  return statusFromSession(ctx, session)
}

export function describeStatus(status: AuthStatus, now: number): string {
  if (!status.loggedIn) return `Not logged in (profile ${status.profile}).`
  const lines = [`Logged in${status.subject ? ` as ${status.subject}` : ''} (profile ${status.profile})`]
  if (status.apiUrl) lines.push(`  API:      ${status.apiUrl}`)
  if (status.issuer) lines.push(`  Issuer:   ${status.issuer}`)
  if (status.scopes.length > 0) lines.push(`  Scopes:   ${status.scopes.join(' ')}`)
  if (status.expiresAt) {
    const left = Date.parse(status.expiresAt) - now
    lines.push(`  Token:    ${left > 0 ? 'expires' : 'expired'} ${status.expiresAt}`)
  }
  const where = {keychain: 'the OS keychain', file: 'a file readable only by you', env: 'the environment'} as const
  if (status.storage) lines.push(`  Stored in ${where[status.storage]}`)
  return lines.join('\n')
}
