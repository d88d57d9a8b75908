// Which credentials a request carries. Order (cli-spec): BFLY_TOKEN, BUTTERFLY_API_KEY,
// BFLY_CLIENT_ID + BFLY_CLIENT_SECRET, then the profile's stored login.
import {AuthError} from '../errors.js'
import type {Context} from '../context.js'

export type CredentialSource = 'env' | 'api-key' | 'client-credentials' | 'keychain' | 'file'

export interface Credentials {
  source: CredentialSource
  /** Headers that authenticate a request (a valid access token, refreshed when due). */
  headers(): Promise<Record<string, string>>
  /**
   * Force a refresh after the API answered 401. Resolves true when new credentials are
   * available for one more try; absent where refreshing is impossible (static tokens).
   */
  refresh?(): Promise<boolean>
}

export async function resolveCredentials(ctx: Context): Promise<Credentials> {
  const env = ctx.env
  if (env.BFLY_TOKEN) {
    const token = env.BFLY_TOKEN.trim()
    return {source: 'env', headers: async () => ({authorization: `Bearer ${token}`})}
  }
  if (env.BUTTERFLY_API_KEY) {
    const key = env.BUTTERFLY_API_KEY.trim()
    return {source: 'api-key', headers: async () => ({'x-api-key': key})}
  }
  if (env.BFLY_CLIENT_ID && env.BFLY_CLIENT_SECRET) {
    const {environmentClientCredentials} = await import('./client-credentials.js')
    return environmentClientCredentials(ctx, {clientId: env.BFLY_CLIENT_ID.trim(), clientSecret: env.BFLY_CLIENT_SECRET})
  }
  const stored = await loadStoredLogin(ctx)
  if (stored) return stored
  throw new AuthError('not logged in — run `bfly login`', {hint: 'or set BFLY_TOKEN / BUTTERFLY_API_KEY for scripts'})
}

async function loadStoredLogin(ctx: Context): Promise<Credentials | undefined> {
  const session = await import('./session.js')
  return session.loadCredentials(ctx)
}
