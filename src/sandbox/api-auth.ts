// Who is calling: a JWT access token from the embedded issuer (verified for real: signature,
// issuer, audience, expiry, and not revoked), an API key, or — only with
// --insecure-demo-tokens — one of the static demo tokens.
import {HttpError} from './wire.js'

export interface Identity {
  subject: string
  clientId?: string
  scopes: ReadonlySet<string>
  via: 'jwt' | 'demo-token' | 'api-key'
  /** The token's jti, for the revocation check. */
  tokenId?: string
  /** Rate limits and idempotency keys are per this. */
  clientKey: string
}

/** Verifies a bearer JWT; resolves undefined when it is not valid (any reason). */
export type JwtVerifier = (token: string) => Promise<{identity: Identity; expiresAt: number} | undefined>

export interface AuthenticatorOptions {
  resourceMetadataUrl: string
  staticTokens: Map<string, Identity>
  apiKeys: Map<string, Identity>
  verifyJwt?: JwtVerifier
  /** Is a verified token still live (not revoked)? Checked on every request. */
  isLive?: (identity: Identity) => boolean
  now: () => number
}

const CACHE_LIMIT = 10_000

export class Authenticator {
  private readonly options: AuthenticatorOptions
  /** Signature checks cost far more than a request; a token is verified once until it expires. */
  private readonly verified = new Map<string, {identity: Identity; expiresAt: number}>()

  constructor(options: AuthenticatorOptions) {
    this.options = options
  }

  unauthorized(message: string): HttpError {
    return new HttpError(401, message, {
      headers: {'www-authenticate': `Bearer error="invalid_token", resource_metadata="${this.options.resourceMetadataUrl}"`},
    })
  }

  /**
   * The identity, or throws 401 with the contract's WWW-Authenticate. Synchronous whenever it
   * can be (static tokens, API keys, tokens verified before): answering in the same tick as
   * the request is measurably cheaper for Node's HTTP server than answering a tick later.
   */
  authenticate(headers: Record<string, string | string[] | undefined>): Identity | Promise<Identity> {
    const authorization = headers.authorization
    if (typeof authorization === 'string' && authorization !== '') {
      const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization)
      if (!match) throw this.unauthorized('Authorization must be "Bearer <access token>"')
      return this.bearer(match[1])
    }
    const apiKey = headers['x-api-key']
    if (typeof apiKey === 'string' && apiKey !== '') {
      const identity = this.options.apiKeys.get(apiKey)
      if (!identity) throw this.unauthorized('invalid API key')
      return identity
    }
    throw this.unauthorized('missing access token: send Authorization: Bearer <token> or X-API-Key')
  }

  private bearer(token: string): Identity | Promise<Identity> {
    const fixed = this.options.staticTokens.get(token)
    if (fixed) return fixed
    const entry = this.verified.get(token)
    if (entry) return this.checked(token, entry)
    if (!this.options.verifyJwt || token.split('.').length !== 3) throw this.unauthorized('invalid access token')
    return this.options.verifyJwt(token).then((verified) => {
      if (!verified) throw this.unauthorized('invalid or expired access token')
      if (this.verified.size >= CACHE_LIMIT) this.verified.clear()
      this.verified.set(token, verified)
      return this.checked(token, verified)
    })
  }

  private checked(token: string, entry: {identity: Identity; expiresAt: number}): Identity {
    if (entry.expiresAt <= this.options.now()) {
      this.verified.delete(token)
      throw this.unauthorized('access token expired')
    }
    if (this.options.isLive && !this.options.isLive(entry.identity)) {
      this.verified.delete(token)
      throw this.unauthorized('access token revoked')
    }
    return entry.identity
  }
}

export function forbidden(scope: string): HttpError {
  return new HttpError(403, `this request needs the scope ${scope}`, {
    headers: {'www-authenticate': `Bearer error="insufficient_scope", scope="${scope}"`},
  })
}
