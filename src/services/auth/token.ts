// `bfly auth token` and `bfly auth refresh`: the access token itself (the one command that
// prints it), and a refresh on demand.
import type {Context} from '../../context.js'
import {AuthError, UsageError} from '../../errors.js'
import {createCredentialStore, Session} from '../../auth/session.js'
import {statusFromSession, type AuthStatus} from './status.js'

/** A valid access token for `curl -H "Authorization: Bearer $(bfly auth token)"`, refreshed if due. */
export async function accessToken(ctx: Context): Promise<string> {
  const credentials = await ctx.credentials()
  if (credentials.source === 'api-key') {
    throw new AuthError('BUTTERFLY_API_KEY is in use: there is no access token to print', {code: 'NO_TOKEN', hint: 'unset BUTTERFLY_API_KEY to use the stored login'})
  }
  const authorization = (await credentials.headers()).authorization ?? ''
  const token = /^Bearer\s+(.+)$/i.exec(authorization)?.[1]
  if (!token) throw new AuthError('no access token available', {code: 'NO_TOKEN'})
  return token
}

/** Redeem the refresh token now (single-flight with every other bfly process of the profile). */
export async function refreshSession(ctx: Context): Promise<AuthStatus> {
  if (ctx.env.BFLY_TOKEN || ctx.env.BUTTERFLY_API_KEY) {
    throw new UsageError(`${ctx.env.BFLY_TOKEN ? 'BFLY_TOKEN' : 'BUTTERFLY_API_KEY'} is used as is: there is nothing to refresh`)
  }
  if (ctx.env.BFLY_CLIENT_ID && ctx.env.BFLY_CLIENT_SECRET) {
    throw new UsageError('BFLY_CLIENT_ID and BFLY_CLIENT_SECRET get a new token on every run: there is nothing stored to refresh')
  }
  const session = await Session.open(ctx, createCredentialStore(ctx))
  if (!session) throw new AuthError('not logged in — run `bfly login`', {hint: 'or set BFLY_TOKEN / BUTTERFLY_API_KEY for scripts'})
  if (!session.canRefresh()) {
    throw new AuthError('this login cannot be refreshed (it was stored with --with-token, or the server issued no refresh token)', {code: 'NO_REFRESH_TOKEN', hint: 'run `bfly login`'})
  }
  await session.refresh()
  return statusFromSession(ctx, session)
}
