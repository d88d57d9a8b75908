// The client-credentials grant (RFC 6749 §4.4) for CI: a confidential client id + secret.
// From BFLY_CLIENT_ID + BFLY_CLIENT_SECRET nothing is stored: each invocation gets its token.
import type {Context} from '../context.js'
import type {Credentials} from './credentials.js'
import {chooseIssuer, fetchMetadata, type AuthServerMetadata} from './discovery.js'
import {OAuthHttp, OAuthError, type FormOptions} from './oauth-http.js'
import {loginFailure, tokenRequest, type TokenSet} from './tokens.js'

export interface ClientSecretPair {
  clientId: string
  clientSecret: string
}

/** client_secret_basic unless the server offers only client_secret_post. */
function clientAuth(metadata: AuthServerMetadata, client: ClientSecretPair): {form: Record<string, string>; options: FormOptions} {
  const methods = metadata.token_endpoint_auth_methods_supported
  if (methods && !methods.includes('client_secret_basic') && methods.includes('client_secret_post')) {
    return {form: {client_id: client.clientId, client_secret: client.clientSecret}, options: {}}
  }
  return {form: {}, options: {basic: client}}
}

/**
 * The scopes to ask for: what the user named, else what the API lists (OIDC-only scopes make
 * no sense for a client). Asking for the API's whole list may exceed what the client is
 * allowed; then the server's default for the client is taken instead (no scope parameter).
 */
export async function clientCredentialsGrant(
  http: OAuthHttp,
  metadata: AuthServerMetadata,
  client: ClientSecretPair,
  scopes: {asked?: string; resource?: string[]},
  now: () => number,
  trace: (line: string) => void = () => {},
): Promise<TokenSet> {
  const auth = clientAuth(metadata, client)
  const request = (scope: string | undefined) => tokenRequest(http, metadata, {grant_type: 'client_credentials', scope, ...auth.form}, now, auth.options)
  const fromApi = (scopes.resource ?? []).filter((s) => s !== 'openid' && s !== 'offline_access').join(' ')
  try {
    if (scopes.asked !== undefined || !fromApi) return await request(scopes.asked?.split(/[\s,]+/).filter(Boolean).join(' ') || undefined)
    try {
      return await request(fromApi)
    } catch (error) {
      if (!(error instanceof OAuthError && error.error === 'invalid_scope')) throw error
      trace(`${metadata.issuer} refused the API's scopes for ${client.clientId}; asking for the client's default scopes`)
      return await request(undefined)
    }
  } catch (error) {
    if (error instanceof OAuthError) throw loginFailure(error, {issuer: metadata.issuer, clientId: client.clientId, grant: 'client-credentials'})
    throw error
  }
}

/** Revocation (RFC 7009) authenticated as the confidential client. */
export function revocationAuth(metadata: AuthServerMetadata, client: ClientSecretPair): {form: Record<string, string>; options: FormOptions} {
  return clientAuth(metadata, client)
}

/** Credentials from BFLY_CLIENT_ID + BFLY_CLIENT_SECRET: a token per invocation, renewed once after a 401. */
export function environmentClientCredentials(ctx: Context, client: ClientSecretPair): Credentials {
  let current: Promise<TokenSet> | undefined
  let discovered: Promise<{metadata: AuthServerMetadata; resourceScopes?: string[]}> | undefined
  const obtain = async (): Promise<TokenSet> => {
    const http = await OAuthHttp.create(ctx)
    discovered ??= chooseIssuer(ctx, http).then(async (choice) => ({metadata: await fetchMetadata(http, choice.issuer), resourceScopes: choice.resourceScopes}))
    const {metadata, resourceScopes} = await discovered
    const settings = await ctx.settings()
    return clientCredentialsGrant(http, metadata, client, {asked: settings.scopes, resource: resourceScopes}, ctx.now, (l) => ctx.trace(l))
  }
  return {
    source: 'client-credentials',
    async headers() {
      current ??= obtain()
      let tokens = await current
      if (tokens.expiresAt !== undefined && tokens.expiresAt - 60_000 <= ctx.now()) {
        current = obtain()
        tokens = await current
      }
      return {authorization: `Bearer ${tokens.accessToken}`}
    },
    async refresh() {
      current = obtain()
      await current
      return true
    },
  }
}
