// The embedded OAuth 2.0 / OpenID Connect issuer, built on oidc-provider (a certified
// implementation: no token endpoint here is hand-rolled). Mounted at <apiUrl>/oauth.
//
// - bfly-cli: public native client; device authorization (RFC 8628), authorization code with
//   PKCE S256 and loopback redirects on any port (RFC 8252), refresh tokens rotated on every
//   use, and a reused (already rotated) refresh token revokes the whole grant.
// - the CI client: confidential, client_credentials, secret random per start (client_secret_basic).
// - resource indicators (RFC 8707): access tokens are JWTs (typ at+jwt) for the API as
//   audience, carrying the granted API scopes; without a `resource` parameter the API is the
//   default resource, so any compliant client gets API tokens.
// - demo users sign in and consent in a browser; with autoApprove, device codes are approved
//   as the first demo user the moment they are issued.
import type {IncomingMessage, ServerResponse} from 'node:http'
import {PassThrough} from 'node:stream'
import type {Identity, JwtVerifier} from './api-auth.js'
import {HttpError, readBody, sendHtml} from './wire.js'
import {OAuthStorage} from './oauth-adapter.js'
import * as pages from './oauth-pages.js'
import type {Persistence} from './persistence.js'
import {API_SCOPES} from './records.js'

export interface DemoUser {
  username: string
  password: string
  /** The API scopes this user may grant; others are withheld at consent. */
  scopes: readonly string[]
}

export interface OAuthServerOptions {
  apiUrl: string
  /** Path the issuer lives under, e.g. /oauth. */
  mountPath: string
  users: DemoUser[]
  cliClientId: string
  ciClient: {id: string; secret: string}
  autoApprove: boolean
  accessTokenTtlSeconds: number
  persistence?: Persistence
  /** Problems worth a line on stderr (server errors inside the provider). */
  log: (line: string) => void
}

export interface OAuthServer {
  issuer: string
  /** Handles every request under the mount path. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): void
  verifyJwt: JwtVerifier
  isLive(identity: Identity): boolean
  close(): Promise<void>
}

const OIDC_SCOPES = ['openid', 'offline_access']
const normalizeUserCode = (code: string) => code.toUpperCase().replace(/\W/g, '')

export async function createOAuthServer(options: OAuthServerOptions): Promise<OAuthServer> {
  const [{default: Provider}, jose, {randomBytes}] = await Promise.all([import('oidc-provider'), import('jose'), import('node:crypto')])
  const issuer = `${options.apiUrl}${options.mountPath}`
  const resource = options.apiUrl
  const storage = new OAuthStorage({persistence: options.persistence})

  // Signing key and cookie keys: kept in the data file so logins survive a restart.
  const persisted = options.persistence?.getMeta('oauth:keys')
  let keys: {jwk: Record<string, unknown>; cookie: string[]}
  if (persisted) {
    keys = JSON.parse(persisted)
  } else {
    const {privateKey} = await jose.generateKeyPair('ES256', {extractable: true})
    const jwk = {...(await jose.exportJWK(privateKey)), kid: `sbx-${randomBytes(6).toString('hex')}`, alg: 'ES256', use: 'sig'}
    keys = {jwk, cookie: [randomBytes(32).toString('base64url')]}
    options.persistence?.setMeta('oauth:keys', JSON.stringify(keys))
  }
  const {d: _d, ...publicJwk} = keys.jwk
  const jwks = jose.createLocalJWKSet({keys: [publicJwk as any]})

  const userByName = new Map(options.users.map((u) => [u.username, u]))
  const allowedScopes = (accountId: string | undefined) => new Set(userByName.get(accountId ?? '')?.scopes ?? [])
  const clientName = (client: any) => client?.clientName || client?.clientId || 'a client'

  const provider = new Provider(issuer, {
    adapter: storage.adapterFactory(),
    clients: [
      {
        client_id: options.cliClientId,
        client_name: 'bfly CLI',
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
        response_types: ['code'],
        // Native loopback redirects: any port matches (RFC 8252 §7.3).
        redirect_uris: ['http://127.0.0.1/callback', 'http://[::1]/callback', 'http://localhost/callback'],
      },
      {
        client_id: options.ciClient.id,
        client_secret: options.ciClient.secret,
        client_name: 'CI (client credentials)',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    clientDefaults: {id_token_signed_response_alg: 'ES256'},
    jwks: {keys: [keys.jwk]},
    cookies: {keys: keys.cookie},
    scopes: OIDC_SCOPES,
    claims: {openid: ['sub'], profile: ['name', 'preferred_username']},
    findAccount: async (_ctx: unknown, id: string) => {
      const user = userByName.get(id)
      if (!user) return undefined
      return {accountId: id, claims: async () => ({sub: id, name: `Sandbox ${id}`, preferred_username: id})}
    },
    pkce: {required: () => true},
    ttl: {
      AccessToken: options.accessTokenTtlSeconds,
      ClientCredentials: options.accessTokenTtlSeconds,
      AuthorizationCode: 120,
      DeviceCode: 600,
      IdToken: 3600,
      Interaction: 3600,
      Session: 14 * 86_400,
      Grant: 30 * 86_400,
      RefreshToken: 30 * 86_400,
    },
    rotateRefreshToken: true,
    issueRefreshToken: async (_ctx: unknown, client: any, code: any) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    // Refresh tokens outlive the browser login cookie: a CLI login is not tied to a browser.
    expiresWithSession: async () => false,
    interactions: {url: (_ctx: unknown, interaction: any) => `${options.mountPath}/interaction/${interaction.uid}`},
    // Browser CORS only from loopback pages (a local tool's own UI); a CLI needs none.
    clientBasedCORS: (_ctx: unknown, origin: string) => /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(origin),
    renderError: async (ctx: any, out: Record<string, unknown>) => {
      ctx.type = 'html'
      ctx.body = pages.errorPage(out)
    },
    features: {
      devInteractions: {enabled: false},
      clientCredentials: {enabled: true},
      // A client may revoke or introspect its own tokens; the confidential CI client may introspect any.
      revocation: {enabled: true, allowedPolicy: async (_ctx: unknown, client: any, token: any) => token.clientId === client.clientId},
      introspection: {enabled: true, allowedPolicy: async (_ctx: unknown, client: any, token: any) => client.clientAuthMethod !== 'none' || token.clientId === client.clientId},
      userinfo: {enabled: true},
      deviceFlow: {
        enabled: true,
        userCodeInputSource: async (ctx: any, form: string, _out: unknown, err: any) => {
          ctx.body = pages.deviceInputPage(form, err ? (err.userCode || err.name === 'NoCodeError' ? 'That code is not valid. Try again.' : 'The sign-in could not be completed.') : undefined)
        },
        userCodeConfirmSource: async (ctx: any, form: string, client: any, _info: unknown, userCode: string) => {
          ctx.body = pages.deviceConfirmPage(form, clientName(client), userCode)
        },
        successSource: async (ctx: any) => {
          ctx.body = pages.deviceSuccessPage(clientName(ctx.oidc.client))
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx: any, form: string) => {
          ctx.body = pages.logoutPage(form, ctx.host)
        },
        postLogoutSuccessSource: async (ctx: any) => {
          ctx.body = pages.logoutSuccessPage()
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => resource,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx: unknown, indicator: string) => {
          // The API's URL with or without a trailing slash names the same resource.
          if (indicator.replace(/\/$/, '') !== resource) {
            const {errors} = await import('oidc-provider')
            throw new errors.InvalidTarget(`unknown resource ${indicator}; this issuer serves ${resource}`)
          }
          return {
            scope: API_SCOPES.join(' '),
            audience: resource,
            accessTokenTTL: options.accessTokenTtlSeconds,
            accessTokenFormat: 'jwt',
            jwt: {sign: {alg: 'ES256'}},
          }
        },
      },
    },
  })

  // JWT access tokens are self-contained, so the provider does not store them. Record each
  // one (jti, grant, expiry) so revoking its grant (logout, refresh-token reuse) or the token
  // itself makes the API refuse it.
  const track = (token: any) => {
    if (!token?.jti) return
    const ttl = typeof token.exp === 'number' ? Math.max(1, token.exp - Math.floor(Date.now() / 1000)) : options.accessTokenTtlSeconds
    storage.upsert(token.kind, token.jti, {jti: token.jti, kind: token.kind, grantId: token.grantId, clientId: token.clientId, accountId: token.accountId}, ttl)
  }
  provider.on('access_token.issued', track)
  provider.on('client_credentials.issued', track)

  provider.on('server_error', (_ctx: unknown, error: Error) => options.log(`oauth: server error: ${error.stack ?? error.message}`))

  // The authorization endpoint drops offline_access unless the request says prompt=consent
  // (OIDC Core §11). A CLI login always wants a refresh token, so ask for consent on its
  // behalf instead of silently issuing no refresh token.
  provider.use(async (ctx: any, next: () => Promise<void>) => {
    if (ctx.method === 'GET' && ctx.path === '/auth') {
      const query = {...ctx.query}
      if (typeof query.scope === 'string' && query.scope.split(' ').includes('offline_access') && query.prompt === undefined) {
        ctx.query = {...query, prompt: 'consent'}
        // The provider finds its mount path by comparing originalUrl with url: keep them aligned.
        ctx.req.originalUrl = `${options.mountPath}${ctx.url}`
      }
    }
    await next()
    if (ctx.method === 'POST' && ctx.path === '/device/auth' && ctx.status === 200 && ctx.body?.user_code) {
      // RFC 8628 §3.2: the polling interval; approved codes need no patience.
      ctx.body = {...ctx.body, interval: options.autoApprove ? 1 : 5}
      if (options.autoApprove) await approveDevice(ctx.body.user_code)
    }
  })

  /** --auto-approve: what a person would do on the device page, done as the first demo user. */
  async function approveDevice(userCode: string): Promise<void> {
    const code = await provider.DeviceCode.findByUserCode(normalizeUserCode(userCode))
    if (!code) return
    const user = options.users[0]
    const requested: string[] = String(code.params?.scope ?? '').split(' ').filter(Boolean)
    const oidc = requested.filter((s) => OIDC_SCOPES.includes(s))
    const allowed = new Set(user.scopes)
    const api = requested.filter((s) => allowed.has(s))
    const grant = new provider.Grant({accountId: user.username, clientId: code.clientId})
    if (oidc.length) grant.addOIDCScope(oidc.join(' '))
    const target = typeof code.params?.resource === 'string' ? code.params.resource : resource
    if (api.length) grant.addResourceScope(target, api.join(' '))
    const grantId = await grant.save()
    Object.assign(code, {accountId: user.username, authTime: Math.floor(Date.now() / 1000), grantId, scope: [...oidc, ...api].join(' '), resource: target})
    await code.save()
  }

  const callback = provider.callback()

  async function interaction(req: IncomingMessage, res: ServerResponse, parts: string[]): Promise<void> {
    const [uid, action] = parts
    const details = await provider.interactionDetails(req, res)
    if (details.uid !== uid) throw new HttpError(400, 'this sign-in page belongs to another sign-in; start again from your terminal')
    const client = await provider.Client.find(details.params.client_id)
    const base = `${options.mountPath}/interaction/${uid}`
    const method = req.method ?? 'GET'
    if (method === 'POST' && action === 'abort') {
      await provider.interactionFinished(req, res, {error: 'access_denied', error_description: 'End-User aborted interaction'}, {mergeWithLastSubmission: false})
      return
    }
    if (method === 'POST' && action === 'login') {
      const form = new URLSearchParams((await readBody(req, 16 * 1024)).toString('utf8'))
      const username = form.get('username') ?? ''
      const user = userByName.get(username)
      if (!user || user.password !== (form.get('password') ?? '')) {
        sendHtml(res, 200, pages.loginPage({action: `${base}/login`, abortAction: `${base}/abort`, clientName: clientName(client), error: 'Wrong username or password.', username, users: options.users}))
        return
      }
      await provider.interactionFinished(req, res, {login: {accountId: user.username}}, {mergeWithLastSubmission: false})
      return
    }
    if (method === 'POST' && action === 'confirm') {
      if (details.prompt.name !== 'consent') throw new HttpError(400, 'nothing to confirm; start again from your terminal')
      const accountId = details.session?.accountId
      const allowed = allowedScopes(accountId)
      const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({accountId, clientId: details.params.client_id})
      const d = details.prompt.details
      if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '))
      if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims)
      for (const [indicator, scopes] of Object.entries((d.missingResourceScopes ?? {}) as Record<string, string[]>)) {
        const granted = scopes.filter((s) => allowed.has(s))
        const withheld = scopes.filter((s) => !allowed.has(s))
        if (granted.length) grant.addResourceScope(indicator, granted.join(' '))
        // Rejected, not just missing: otherwise the provider would ask for consent again.
        if (withheld.length) grant.rejectResourceScope(indicator, withheld.join(' '))
      }
      const grantId = await grant.save()
      await provider.interactionFinished(req, res, details.grantId ? {} : {consent: {grantId}}, {mergeWithLastSubmission: true})
      return
    }
    if (method !== 'GET' || action !== undefined) throw new HttpError(404, 'no such sign-in step')
    if (details.prompt.name === 'login') {
      sendHtml(res, 200, pages.loginPage({action: `${base}/login`, abortAction: `${base}/abort`, clientName: clientName(client), users: options.users}))
      return
    }
    const allowed = allowedScopes(details.session?.accountId)
    const d = details.prompt.details
    const requested = [...(d.missingOIDCScope ?? []).filter((s: string) => s !== 'openid'), ...Object.values((d.missingResourceScopes ?? {}) as Record<string, string[]>).flat()]
    sendHtml(res, 200, pages.consentPage({
      action: `${base}/confirm`,
      abortAction: `${base}/abort`,
      clientName: clientName(client),
      username: details.session?.accountId ?? 'unknown',
      scopes: requested.filter((s) => OIDC_SCOPES.includes(s) || allowed.has(s)),
      withheld: requested.filter((s) => !OIDC_SCOPES.includes(s) && !allowed.has(s)),
    }))
  }

  /**
   * RFC 7009 lets a server refuse to revoke access tokens, and oidc-provider refuses JWT ones.
   * A CLI logout revokes both tokens, so revoke our own JWT access tokens here: check the
   * signature and that the caller is the client the token was issued to, then forget the jti
   * (the API checks it on every request).
   */
  async function revokeJwt(req: IncomingMessage, res: ServerResponse): Promise<IncomingMessage | undefined> {
    const raw = await readBody(req, 56 * 1024)
    const form = new URLSearchParams(raw.toString('utf8'))
    const token = form.get('token') ?? ''
    let claims: Record<string, unknown> | undefined
    if (token.split('.').length === 3) {
      try {
        claims = (await jose.jwtVerify(token, jwks, {issuer})).payload as Record<string, unknown>
      } catch {
        claims = undefined
      }
    }
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '')
    const callerId = basic ? decodeURIComponent(Buffer.from(basic[1], 'base64').toString('utf8').split(':')[0]) : form.get('client_id')
    // Not ours to handle (a refresh token): the provider reads the same body again.
    if (!claims) return replayable(req, raw)
    // RFC 7009 §2.2: a token this client does not own is answered like a revoked one.
    if (callerId === claims.client_id) {
      storage.remove('AccessToken', String(claims.jti))
      storage.remove('ClientCredentials', String(claims.jti))
    }
    res.writeHead(200, {'content-length': '0', 'cache-control': 'no-store'})
    res.end()
    return undefined
  }

  return {
    issuer,
    handle(req, res, path) {
      const sub = path.slice(options.mountPath.length) || '/'
      void (async () => {
        try {
          if (sub.startsWith('/interaction/')) {
            await interaction(req, res, sub.slice('/interaction/'.length).split('/'))
            return
          }
          if (req.method === 'POST' && sub === '/token/revocation') {
            const next = await revokeJwt(req, res)
            if (!next) return
            req = next
          }
          // RFC 8414 metadata at the issuer too: clients that fall back to it find the same document.
          if (sub === '/.well-known/oauth-authorization-server') req.url = `${options.mountPath}/.well-known/openid-configuration`
          mount(req, options.mountPath)
          await callback(req, res)
        } catch (error) {
          if (error instanceof HttpError) {
            sendHtml(res, error.status, pages.errorPage({error: error.message}))
          } else if ((error as Error)?.name === 'SessionNotFound') {
            sendHtml(res, 400, pages.errorPage({error: 'This sign-in has expired or was finished already. Start again from your terminal.'}))
          } else {
            options.log(`oauth: ${(error as Error)?.stack ?? error}`)
            sendHtml(res, 500, pages.errorPage({error: 'internal error'}))
          }
        }
      })()
    },
    async verifyJwt(token) {
      try {
        const {payload} = await jose.jwtVerify(token, jwks, {issuer, audience: resource, typ: 'at+jwt', algorithms: ['ES256']})
        const scopes = new Set(typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [])
        const clientId = typeof payload.client_id === 'string' ? payload.client_id : undefined
        const identity: Identity = {
          subject: String(payload.sub ?? clientId ?? 'unknown'),
          clientId,
          scopes,
          via: 'jwt',
          tokenId: typeof payload.jti === 'string' ? payload.jti : undefined,
          clientKey: `sub:${payload.sub ?? clientId}`,
        }
        if (!identity.tokenId || !storage.accessTokenLive(identity.tokenId)) return undefined
        return {identity, expiresAt: (payload.exp ?? 0) * 1000}
      } catch {
        return undefined
      }
    },
    isLive: (identity) => identity.via !== 'jwt' || (identity.tokenId !== undefined && storage.accessTokenLive(identity.tokenId)),
    async close() {},
  }
}

/** oidc-provider derives its mount path from originalUrl minus url, as Express would set them. */
function mount(req: IncomingMessage, mountPath: string): void {
  const r = req as IncomingMessage & {originalUrl?: string}
  r.originalUrl = r.url
  r.url = (r.url ?? '/').slice(mountPath.length) || '/'
}

/** A request whose body (already read once) can be read again, for the provider. */
function replayable(req: IncomingMessage, body: Buffer): IncomingMessage {
  const stream = new PassThrough() as PassThrough & Record<string, unknown>
  const source = req as unknown as Record<string, unknown>
  for (const key of ['headers', 'rawHeaders', 'method', 'url', 'httpVersion', 'httpVersionMajor', 'httpVersionMinor', 'socket', 'connection', 'trailers', 'complete']) {
    stream[key] = source[key]
  }
  stream.end(body)
  return stream as unknown as IncomingMessage
}
