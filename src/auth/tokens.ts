// Token endpoint answers (RFC 6749 §5) and what an OAuth error means for the user.
import {AuthError, BadResponseError} from '../errors.js'
import type {AuthServerMetadata} from './discovery.js'
import {OAuthError, type FormOptions, type Json, type OAuthHttp} from './oauth-http.js'
import type {TokenRecord} from './credential-store.js'

export interface TokenSet {
  accessToken: string
  refreshToken?: string
  /** Epoch ms. */
  expiresAt?: number
  scope?: string
  idToken?: string
}

export function parseTokenResponse(json: Json | undefined, now: number, host: string): TokenSet {
  if (!json || typeof json.access_token !== 'string' || json.access_token === '') {
    throw new BadResponseError(`the token endpoint of ${host} answered without an access_token`)
  }
  const type = typeof json.token_type === 'string' ? json.token_type : 'Bearer'
  if (type.toLowerCase() !== 'bearer') {
    throw new AuthError(`the authorization server issued a ${type} token; bfly sends Bearer tokens only`, {code: 'UNSUPPORTED_TOKEN_TYPE', hint: 'configure the client for Bearer tokens'})
  }
  const expiresIn = Number(json.expires_in)
  return {
    accessToken: json.access_token,
    refreshToken: typeof json.refresh_token === 'string' && json.refresh_token !== '' ? json.refresh_token : undefined,
    expiresAt: Number.isFinite(expiresIn) && expiresIn > 0 ? now + expiresIn * 1000 : undefined,
    scope: typeof json.scope === 'string' ? json.scope : undefined,
    idToken: typeof json.id_token === 'string' ? json.id_token : undefined,
  }
}

/**
 * The subject of an ID token, for display. The token came straight from the token endpoint
 * over TLS (OIDC Core §3.1.3.7 lets such tokens skip the signature check); issuer, audience
 * and nonce are still checked so a mixed-up answer is not shown as the user.
 */
export function subjectFromIdToken(idToken: string | undefined, expected: {issuer: string; clientId: string; nonce?: string}): string | undefined {
  if (!idToken) return undefined
  const part = idToken.split('.')[1]
  if (!part) return undefined
  let claims: {sub?: unknown; iss?: unknown; aud?: unknown; nonce?: unknown}
  try {
    claims = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
  } catch {
    return undefined
  }
  const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
  if (typeof claims.iss !== 'string' || claims.iss.replace(/\/+$/, '') !== expected.issuer.replace(/\/+$/, '')) {
    throw new AuthError(`the ID token was issued by ${String(claims.iss)}, not ${expected.issuer}; refusing the login`, {code: 'ISSUER_MISMATCH'})
  }
  if (!audience.includes(expected.clientId)) throw new AuthError('the ID token is not meant for this client; refusing the login', {code: 'INVALID_ID_TOKEN'})
  if (expected.nonce !== undefined && claims.nonce !== undefined && claims.nonce !== expected.nonce) {
    throw new AuthError('the ID token does not carry the nonce of this login; refusing it', {code: 'INVALID_ID_TOKEN'})
  }
  return typeof claims.sub === 'string' ? claims.sub : undefined
}

export interface FailureContext {
  issuer: string
  clientId: string
  grant: 'device' | 'browser' | 'client-credentials' | 'refresh'
}

/** An OAuth error as a message that says what to do next (exit 3). */
export function loginFailure(error: OAuthError, context: FailureContext): AuthError {
  const detail = error.description ? ` (${error.description})` : ''
  const again = 'run `bfly login` again'
  switch (error.error) {
    case 'access_denied':
      return new AuthError(`the login was denied at ${context.issuer}${detail}`, {code: 'ACCESS_DENIED', hint: `${again} and approve the request`})
    case 'expired_token':
      return new AuthError(`the login code expired before it was approved${detail}`, {code: 'EXPIRED_TOKEN', hint: `${again} and approve it within the time shown`})
    case 'invalid_client':
    case 'unauthorized_client':
      return new AuthError(`${context.issuer} refused the client "${context.clientId}" (${error.error})${detail}`, {
        code: error.error.toUpperCase(),
        hint: context.grant === 'client-credentials'
          ? 'check the client id and secret (BFLY_CLIENT_ID, BFLY_CLIENT_SECRET) and that the client may use client credentials'
          : 'check the client id (`bfly config get client-id`) and that it is registered as a public client at the issuer',
      })
    case 'invalid_scope':
      return new AuthError(`${context.issuer} refused the requested scopes${detail}`, {code: 'INVALID_SCOPE', hint: `${again} with --scopes naming scopes the issuer offers`})
    case 'invalid_grant':
      return new AuthError(`the authorization server refused the grant${detail}`, {code: 'INVALID_GRANT', hint: again})
    default:
      return new AuthError(`the login failed at ${context.issuer}: ${error.error}${detail}`, {code: 'LOGIN_FAILED', hint: again})
  }
}

/** POST to the token endpoint; OAuth errors are rethrown as OAuthError for the caller to interpret. */
export async function tokenRequest(http: OAuthHttp, metadata: AuthServerMetadata, form: Record<string, string | undefined>, now: () => number, options: FormOptions = {}): Promise<TokenSet> {
  const {json} = await http.postForm(metadata.token_endpoint, form, options)
  return parseTokenResponse(json, now(), new URL(metadata.token_endpoint).host)
}

export function recordFrom(tokens: TokenSet, kind: TokenRecord['kind'], extra: {clientId?: string; clientSecret?: string; previousRefreshToken?: string; scope?: string} = {}): TokenRecord {
  return {
    version: 1,
    kind,
    accessToken: tokens.accessToken,
    expiresAt: tokens.expiresAt,
    // Servers that do not rotate answer a refresh without a new refresh token: keep the old one.
    refreshToken: tokens.refreshToken ?? extra.previousRefreshToken,
    clientId: extra.clientId,
    clientSecret: extra.clientSecret,
    scope: tokens.scope ?? extra.scope,
  }
}

export { OAuthError }
