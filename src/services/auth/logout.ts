// `bfly logout [--all]`: revoke at the issuer when it offers revocation (RFC 7009), then
// remove the tokens from the keychain and the file and the facts from the profile. Works
// offline: the local removal is what matters most, the warning says what could not be done.
import type {Context} from '../../context.js'
import {AuthError, BadResponseError, NetworkError, UsageError} from '../../errors.js'
import {revocationAuth} from '../../auth/client-credentials.js'
import {accountName, type CredentialStore} from '../../auth/credential-store.js'
import {fetchMetadata} from '../../auth/discovery.js'
import {OAuthError, OAuthHttp} from '../../auth/oauth-http.js'
import {createCredentialStore, Session, sessionAccount} from '../../auth/session.js'

export interface LogoutOutcome {
  profile: string
  issuer: string | null
  /** True when the issuer confirmed the revocation. */
  revoked: boolean
}

/** A context for another profile, sharing everything else (for `--all`). */
export type ContextForProfile = (profile: string) => Context

export async function logout(ctx: Context, options: {all: boolean; forProfile: ContextForProfile}): Promise<LogoutOutcome[]> {
  const store = createCredentialStore(ctx)
  const profiles = await ctx.store()
  const names = options.all ? profiles.names().filter((name) => profiles.session(name)) : profiles.session(ctx.profile) ? [ctx.profile] : []
  const outcomes: LogoutOutcome[] = []
  for (const name of names) {
    outcomes.push(await logoutProfile(name === ctx.profile ? ctx : options.forProfile(name), store))
  }
  if (options.all) {
    // Logins left in the file by profiles whose facts are gone.
    for (const account of await store.fileAccounts()) await store.remove(account)
  }
  return outcomes
}

async function logoutProfile(ctx: Context, store: CredentialStore): Promise<LogoutOutcome> {
  const profiles = await ctx.store()
  const facts = profiles.session(ctx.profile)!
  const outcome: LogoutOutcome = {profile: ctx.profile, issuer: facts.issuer ?? null, revoked: false}
  let session: Session | undefined
  try {
    session = await Session.open(ctx, store)
  } catch (error) {
    if (!(error instanceof AuthError && error.code === 'KEYCHAIN_UNAVAILABLE')) throw error
    ctx.warn(`${error.message.replace(/^cannot read the stored login: /, '')}; the keychain entry "${sessionAccount(ctx.profile, facts)}" may remain`)
  }
  if (session) outcome.revoked = await revoke(ctx, session)
  if (session) {
    if (!(await session.end())) ctx.warn(`could not reach the OS keychain: the entry "${session.account}" may remain`)
  } else {
    // Facts without tokens (removed by hand, or an unreachable keychain): clear what we can.
    await store.remove(accountName(ctx.profile, facts.issuer ?? 'token'))
    await profiles.setSession(ctx.profile, undefined)
  }
  return outcome
}

async function revoke(ctx: Context, session: Session): Promise<boolean> {
  const record = session.record
  const issuer = session.sessionFacts.issuer
  if (!issuer || record.kind === 'token') return false
  try {
    const http = await OAuthHttp.create(ctx)
    const metadata = await fetchMetadata(http, issuer)
    if (!metadata.revocation_endpoint) {
      ctx.trace(`${issuer} offers no revocation endpoint; removing the login locally only`)
      return false
    }
    const settings = await ctx.settings()
    const clientId = record.clientId ?? session.sessionFacts.clientId ?? settings.clientId
    // Revoking the refresh token ends the grant (RFC 7009 §2.1); without one, the access token.
    const [token, hint] = record.refreshToken ? [record.refreshToken, 'refresh_token'] : [record.accessToken, 'access_token']
    const auth = record.kind === 'client' && record.clientSecret ? revocationAuth(metadata, {clientId, clientSecret: record.clientSecret}) : {form: {client_id: clientId}, options: {}}
    await http.postForm(metadata.revocation_endpoint, {token, token_type_hint: hint, ...auth.form}, auth.options)
    return true
  } catch (error) {
    if (error instanceof NetworkError || error instanceof BadResponseError || error instanceof OAuthError || error instanceof AuthError || error instanceof UsageError) {
      const detail = error instanceof AuthError && error.code === 'ISSUER_UNREACHABLE' ? error.message.replace(/^cannot reach [^:]+: /, '') : error.message
      ctx.warn(`could not revoke the login at ${issuer} (${detail}); it is removed from this machine only`)
      return false
    }
    throw error
  }
}
