// Finding the authorization server: the API's protected-resource metadata (RFC 9728) names
// the issuer, unless --issuer / BFLY_ISSUER / the profile says; the issuer's metadata comes
// from OpenID discovery, else RFC 8414. Nothing here is specific to one server product.
import type {Context} from '../context.js'
import {AuthError, BflyError, NetworkError} from '../errors.js'
import {credentialsAllowed} from '../api/network.js'
import type {Json, OAuthHttp} from './oauth-http.js'

export interface AuthServerMetadata {
  issuer: string
  token_endpoint: string
  authorization_endpoint?: string
  device_authorization_endpoint?: string
  revocation_endpoint?: string
  userinfo_endpoint?: string
  code_challenge_methods_supported?: string[]
  token_endpoint_auth_methods_supported?: string[]
  grant_types_supported?: string[]
  scopes_supported?: string[]
  authorization_response_iss_parameter_supported?: boolean
  /** Found through OpenID Connect discovery (so `openid` is understood). */
  oidc: boolean
}

export interface ResourceMetadata {
  resource?: string
  authorizationServers: string[]
  scopesSupported?: string[]
}

/** Issuers compare as strings (OIDC Discovery §4.3), except for a trailing slash some servers add. */
export function sameIssuer(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '')
}

/** Where the metadata of `issuer` may be, in the order to try. */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer)
  const path = url.pathname.replace(/\/+$/, '')
  // OpenID Connect Discovery appends; RFC 8414 §3.1 inserts the well-known part before the path.
  return [`${url.origin}${path}/.well-known/openid-configuration`, `${url.origin}/.well-known/oauth-authorization-server${path}`]
}

/**
 * A certificate or proxy failure is the network's, whatever the server: its remedy is
 * --ca-file or the proxy settings, and it exits 7 like on every other path.
 */
function networkPathFailure(error: NetworkError): boolean {
  return error.code === 'TLS_ERROR' || error.code.startsWith('PROXY_')
}

/** Errors reaching the authorization server during login are auth errors: the user's next step is about the issuer. */
export function unreachable(error: unknown, what: string): unknown {
  if (error instanceof NetworkError && !networkPathFailure(error)) {
    return new AuthError(`cannot reach ${what}: ${error.message}`, {
      code: 'ISSUER_UNREACHABLE',
      hint: 'check the network and the issuer (--issuer, BFLY_ISSUER or `bfly config set issuer`), then run `bfly login` again',
      cause: error,
    })
  }
  return error
}

export async function fetchResourceMetadata(http: OAuthHttp, apiUrl: string): Promise<ResourceMetadata | undefined> {
  const {status, json} = await http.getJson(`${apiUrl.replace(/\/+$/, '')}/.well-known/oauth-protected-resource`)
  if (status !== 200 || !json) return undefined
  const servers = Array.isArray(json.authorization_servers) ? json.authorization_servers.filter((s): s is string => typeof s === 'string') : []
  const scopes = Array.isArray(json.scopes_supported) ? json.scopes_supported.filter((s): s is string => typeof s === 'string') : undefined
  return {resource: typeof json.resource === 'string' ? json.resource : undefined, authorizationServers: servers, scopesSupported: scopes}
}

export interface IssuerChoice {
  issuer: string
  /** The scopes the API says it knows, when its metadata was read. */
  resourceScopes?: string[]
  origin: 'flag' | 'env' | 'profile' | 'discovered'
}

/** The issuer to log in with: an explicit setting wins, else the API's protected-resource metadata. */
export async function chooseIssuer(ctx: Context, http: OAuthHttp): Promise<IssuerChoice> {
  const settings = await ctx.settings()
  const origin = settings.origins.issuer?.origin
  if (settings.issuer && origin && origin !== 'default') {
    let resourceScopes: string[] | undefined
    if (settings.apiUrl) {
      // Only for the default scopes: an API that does not publish metadata is no reason to fail.
      resourceScopes = await fetchResourceMetadata(http, settings.apiUrl).then((m) => m?.scopesSupported, () => undefined)
    }
    return {issuer: settings.issuer, resourceScopes, origin: origin as IssuerChoice['origin']}
  }
  const apiUrl = await ctx.apiUrl()
  let resource: ResourceMetadata | undefined
  try {
    resource = await fetchResourceMetadata(http, apiUrl)
  } catch (error) {
    if (error instanceof NetworkError && !networkPathFailure(error)) {
      throw new AuthError(`cannot reach the API at ${apiUrl} to discover its authorization server: ${error.message}`, {
        code: 'DISCOVERY_FAILED',
        hint: 'check --api-url, or name the issuer with --issuer / BFLY_ISSUER',
        cause: error,
      })
    }
    throw error
  }
  const issuer = resource?.authorizationServers[0]
  if (!issuer) {
    throw new AuthError(`${apiUrl} does not name an authorization server (no /.well-known/oauth-protected-resource)`, {
      code: 'DISCOVERY_FAILED',
      hint: 'name the issuer with --issuer, BFLY_ISSUER or `bfly config set issuer https://…`',
    })
  }
  return {issuer, resourceScopes: resource?.scopesSupported, origin: 'discovered'}
}

function optionalString(json: Json, key: string): string | undefined {
  return typeof json[key] === 'string' && json[key] !== '' ? (json[key] as string) : undefined
}

function stringList(json: Json, key: string): string[] | undefined {
  const value = json[key]
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined
}

/** The issuer's metadata, checked: it must name the issuer we asked (mix-up defence) and safe endpoints. */
export async function fetchMetadata(http: OAuthHttp, issuer: string): Promise<AuthServerMetadata> {
  let url: URL
  try {
    url = new URL(issuer)
  } catch {
    throw new AuthError(`invalid issuer "${issuer}": not a URL`, {code: 'DISCOVERY_FAILED', hint: 'fix --issuer / BFLY_ISSUER / `bfly config set issuer`'})
  }
  if (!credentialsAllowed(url)) {
    throw new AuthError(`refusing the issuer ${issuer}: tokens go only over https (or http to loopback)`, {code: 'INSECURE_ISSUER', hint: 'use an https:// issuer'})
  }
  let json: Json | undefined
  let oidc = false
  const tried: string[] = []
  for (const candidate of metadataUrls(issuer)) {
    tried.push(candidate)
    let answer: {status: number; json?: Json}
    try {
      answer = await http.getJson(candidate)
    } catch (error) {
      if (error instanceof BflyError && !(error instanceof NetworkError) && tried.length === 1) continue
      throw unreachable(error, `the authorization server ${issuer}`)
    }
    if (answer.status === 200 && answer.json && typeof answer.json.issuer === 'string') {
      json = answer.json
      oidc = tried.length === 1
      break
    }
  }
  if (!json) {
    throw new AuthError(`no OAuth metadata at ${tried.join(' or ')}`, {code: 'DISCOVERY_FAILED', hint: 'check the issuer URL (--issuer / BFLY_ISSUER)'})
  }
  const named = json.issuer as string
  if (!sameIssuer(named, issuer)) {
    throw new AuthError(`the metadata of ${issuer} names a different issuer (${named}); refusing it`, {
      code: 'ISSUER_MISMATCH',
      hint: 'the issuer setting or the API metadata points at the wrong server; check --issuer / BFLY_ISSUER',
    })
  }
  const tokenEndpoint = optionalString(json, 'token_endpoint')
  if (!tokenEndpoint) throw new AuthError(`the metadata of ${issuer} has no token_endpoint`, {code: 'DISCOVERY_FAILED', hint: 'check the issuer URL'})
  const metadata: AuthServerMetadata = {
    issuer: named,
    token_endpoint: tokenEndpoint,
    authorization_endpoint: optionalString(json, 'authorization_endpoint'),
    device_authorization_endpoint: optionalString(json, 'device_authorization_endpoint'),
    revocation_endpoint: optionalString(json, 'revocation_endpoint'),
    userinfo_endpoint: optionalString(json, 'userinfo_endpoint'),
    code_challenge_methods_supported: stringList(json, 'code_challenge_methods_supported'),
    token_endpoint_auth_methods_supported: stringList(json, 'token_endpoint_auth_methods_supported'),
    grant_types_supported: stringList(json, 'grant_types_supported'),
    scopes_supported: stringList(json, 'scopes_supported'),
    authorization_response_iss_parameter_supported: json.authorization_response_iss_parameter_supported === true,
    oidc,
  }
  for (const key of ['token_endpoint', 'authorization_endpoint', 'device_authorization_endpoint', 'revocation_endpoint'] as const) {
    const endpoint = metadata[key]
    if (endpoint && !URL.canParse(endpoint)) throw new AuthError(`the metadata of ${issuer} has an invalid ${key}`, {code: 'DISCOVERY_FAILED', hint: 'check the issuer URL'})
    if (endpoint && !credentialsAllowed(new URL(endpoint))) {
      throw new AuthError(`refusing the ${key.replace(/_/g, ' ')} ${endpoint}: not https`, {code: 'INSECURE_ISSUER', hint: 'the authorization server must use https'})
    }
  }
  return metadata
}
