// A real OAuth 2.0 / OpenID Connect server (oidc-provider) on loopback for the auth tests:
// public client `bfly-cli` (device flow, PKCE, refresh tokens rotated on every use, replay
// detection), confidential client `bfly-ci` (client credentials), revocation. Plus a tiny
// protected API that checks bearer tokens against the provider, and a browser stand-in that
// drives the login/consent pages with a cookie jar.
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'
import {after, before} from 'node:test'
import Provider from 'oidc-provider'

export const CI_CLIENT = {clientId: 'bfly-ci', clientSecret: 'ci-secret-7d1f0c2a9b'}
/** A CI client allowed less than the API offers. */
export const NARROW_CI_CLIENT = {clientId: 'bfly-ci-narrow', clientSecret: 'ci-secret-narrow-51c0'}
export const API_SCOPES = ['openid', 'offline_access', 'capsules:read', 'capsules:write', 'history:read', 'events:read']

export interface GrantRecord {
  grantType: string
  ok: boolean
  error?: string
}

export interface FixtureOptions {
  /** Access token lifetime in seconds (default 3600). */
  accessTokenTtl?: number
  /** `interval` added to device authorization answers (seconds); oidc-provider sends none. */
  deviceInterval?: number
  /** Drop revocation_endpoint from the metadata. */
  noRevocation?: boolean
  /** The issuer as clients see it, when they reach the fixture through a TLS front (default: its own loopback URL). */
  publicIssuer?: string
}

export interface OidcFixture {
  issuer: string
  /** Where the fixture itself listens (plain http on loopback). */
  localUrl: string
  provider: InstanceType<typeof Provider>
  /** Every token endpoint call, in order. */
  grants: GrantRecord[]
  /** Revocation endpoint calls. */
  revocations: number
  requests: Array<{method: string; path: string; authorization?: string}>
  state: {accessTokenTtl: number; deviceInterval: number; tokenDelayMs: number}
  /** Whether an access token (user or client) is currently valid at the server. */
  tokenValid(token: string): Promise<boolean>
  /** Expire an access token at the server as if its time had passed. */
  killAccessToken(token: string): Promise<void>
  refreshTokenValid(token: string): Promise<boolean>
  close(): Promise<void>
}

/** oidc-provider announces its development defaults on the console; the test output stays readable without them. */
function silenceProviderNotices(): () => void {
  const {warn, info} = console
  const filter = (original: (...args: unknown[]) => void) => (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith('oidc-provider ')) return
    original.apply(console, args)
  }
  console.warn = filter(warn)
  console.info = filter(info)
  return () => {
    console.warn = warn
    console.info = info
  }
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

function trackSockets(server: Server): Set<Socket> {
  const sockets = new Set<Socket>()
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  return sockets
}

export async function startOidcFixture(options: FixtureOptions = {}): Promise<OidcFixture> {
  const server = createServer()
  const sockets = trackSockets(server)
  const port = await listen(server)
  const localUrl = `http://127.0.0.1:${port}`
  const issuer = options.publicIssuer ?? localUrl
  const state = {accessTokenTtl: options.accessTokenTtl ?? 3600, deviceInterval: options.deviceInterval ?? 1, tokenDelayMs: 0}
  const restoreConsole = silenceProviderNotices()
  const provider = (
      new Provider(issuer, {
        clients: [
          {
            client_id: 'bfly-cli',
            application_type: 'native',
            token_endpoint_auth_method: 'none',
            grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
            response_types: ['code'],
            redirect_uris: ['http://127.0.0.1/callback'],
          },
          {
            client_id: CI_CLIENT.clientId,
            client_secret: CI_CLIENT.clientSecret,
            grant_types: ['client_credentials'],
            response_types: [],
            redirect_uris: [],
            scope: 'capsules:read capsules:write history:read events:read',
          },
          {
            client_id: NARROW_CI_CLIENT.clientId,
            client_secret: NARROW_CI_CLIENT.clientSecret,
            grant_types: ['client_credentials'],
            response_types: [],
            redirect_uris: [],
            scope: 'capsules:read',
          },
        ],
        scopes: API_SCOPES,
        claims: {openid: ['sub']},
        features: {
          devInteractions: {enabled: true},
          deviceFlow: {enabled: true},
          clientCredentials: {enabled: true},
          revocation: {enabled: !options.noRevocation},
        },
        rotateRefreshToken: true,
        ttl: {
          AccessToken: () => state.accessTokenTtl,
          ClientCredentials: () => state.accessTokenTtl,
          RefreshToken: 86_400,
          DeviceCode: 600,
          AuthorizationCode: 60,
          IdToken: 3600,
          Interaction: 600,
          Session: 3600,
          Grant: 86_400,
        },
        cookies: {keys: ['fixture-cookie-key']},
        findAccount: async (_ctx: unknown, id: string) => ({accountId: id, claims: async () => ({sub: id})}),
      } as never)
  )
  // Behind a TLS front: endpoint URLs come from X-Forwarded-Proto/Host, as behind any proxy.
  if (options.publicIssuer) (provider as unknown as {proxy: boolean}).proxy = true
  const grants: GrantRecord[] = []
  const fixture: OidcFixture = {
    issuer,
    localUrl,
    provider,
    grants,
    revocations: 0,
    requests: [],
    state,
    async tokenValid(token) {
      const found = (await provider.AccessToken.find(token)) ?? (await provider.ClientCredentials.find(token))
      return Boolean(found && !found.isExpired)
    },
    async killAccessToken(token) {
      const found = await provider.AccessToken.find(token)
      await found?.destroy()
    },
    async refreshTokenValid(token) {
      const found = await provider.RefreshToken.find(token)
      return Boolean(found && !found.isExpired && !found.consumed)
    },
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      restoreConsole()
    },
  }
  provider.on('grant.success', (ctx: {oidc: {params: {grant_type?: string}}}) => grants.push({grantType: String(ctx.oidc.params.grant_type), ok: true}))
  provider.on('grant.error', (ctx: {oidc?: {params?: {grant_type?: string}}; request?: {body?: {grant_type?: string}}}, error: {error?: string}) => {
    grants.push({grantType: String(ctx.oidc?.params?.grant_type ?? ctx.request?.body?.grant_type), ok: false, error: error.error})
  })
  provider.use(async (ctx: {oidc?: {route?: string}; status: number; body: unknown; method: string; path: string; get(h: string): string}, next: () => Promise<void>) => {
    fixture.requests.push({method: ctx.method, path: ctx.path, authorization: ctx.get('authorization') || undefined})
    // A slow token endpoint, for what happens when the user gives up mid-refresh.
    if (ctx.path === '/token' && state.tokenDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, state.tokenDelayMs))
    await next()
    if (ctx.oidc?.route === 'revocation') fixture.revocations++
    if (ctx.oidc?.route === 'device_authorization' && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
      ctx.body = {...(ctx.body as object), interval: state.deviceInterval}
    }
  })
  const callback = provider.callback()
  server.on('request', (req: IncomingMessage, res: ServerResponse) => callback(req, res))
  return fixture
}

export interface ProtectedApi {
  url: string
  requests: Array<{path: string; authorization?: string; status: number}>
  close(): Promise<void>
}

/** The API side: publishes its metadata (RFC 9728) and accepts tokens the provider says are valid. */
export async function startProtectedApi(fixture: OidcFixture, options: {authorizationServers?: string[]} = {}): Promise<ProtectedApi> {
  const server = createServer()
  const sockets = trackSockets(server)
  const port = await listen(server)
  const url = `http://127.0.0.1:${port}`
  const api: ProtectedApi = {
    url,
    requests: [],
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  const meta = {requestId: 'req-api', timestamp: '2025-12-03T10:00:00Z'}
  server.on('request', async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', url).pathname
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      api.requests.push({path, authorization: req.headers.authorization, status})
      res.writeHead(status, {'content-type': 'application/json', 'x-request-id': 'req-api', ...headers})
      res.end(JSON.stringify(body))
    }
    if (path === '/.well-known/oauth-protected-resource') {
      return send(200, {resource: url, authorization_servers: options.authorizationServers ?? [fixture.issuer], scopes_supported: API_SCOPES, bearer_methods_supported: ['header']})
    }
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    if (!token || !(await fixture.tokenValid(token))) {
      return send(401, {error: {code: 'UNAUTHORIZED', message: 'Invalid or expired token'}, meta}, {
        'www-authenticate': `Bearer error="invalid_token", resource_metadata="${url}/.well-known/oauth-protected-resource"`,
      })
    }
    const id = /^\/api\/v1\/capsules\/([^/]+)$/.exec(path)?.[1]
    if (id) return send(200, {data: {id, scopeId: 'rim:entity:finance:EURUSD', timestamp: '2025-12-03T10:00:00Z', version: 1, payload: {price: 1.08}}, meta})
    send(404, {error: {code: 'NOT_FOUND', message: 'not found'}, meta})
  })
  return api
}

/** A browser stand-in: follows redirects, keeps cookies, fills the login form, submits consent. */
export class Browser {
  private readonly cookies = new Map<string, string>()
  private readonly user: string
  visited: string[] = []

  constructor(user = 'alice') {
    this.user = user
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  private keep(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
  }

  async request(url: string, init: {method?: string; form?: Record<string, string>} = {}): Promise<Response> {
    this.visited.push(`${init.method ?? 'GET'} ${url}`)
    const response = await fetch(url, {
      method: init.method ?? 'GET',
      redirect: 'manual',
      headers: {cookie: this.cookieHeader(), ...(init.form ? {'content-type': 'application/x-www-form-urlencoded'} : {})},
      body: init.form ? new URLSearchParams(init.form).toString() : undefined,
    })
    this.keep(response)
    return response
  }

  /**
   * Walk from `start` through the provider's pages. Stops at a redirect to `stopAt` (returned,
   * not followed) or at a page without a form (the device flow's success page).
   * `deny` aborts at the first interaction instead of approving.
   */
  async approve(start: string, options: {stopAt?: string; deny?: boolean} = {}): Promise<{final: string; body: string}> {
    let url = start
    let init: {method?: string; form?: Record<string, string>} = {}
    let denied = false
    for (let step = 0; step < 20; step++) {
      const response = await this.request(url, init)
      init = {}
      if (response.status >= 300 && response.status < 400) {
        const next = new URL(response.headers.get('location')!, url).toString()
        await response.arrayBuffer()
        if (options.stopAt && next.startsWith(options.stopAt)) return {final: next, body: ''}
        url = next
        continue
      }
      const body = await response.text()
      const form = /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/i.exec(body)
      if (!form) return {final: url, body}
      const action = new URL(form[1].replace(/&amp;/g, '&'), url).toString()
      const fields: Record<string, string> = {}
      for (const input of form[2].matchAll(/<input[^>]*>/gi)) {
        const name = /name="([^"]+)"/.exec(input[0])?.[1]
        const value = /value="([^"]*)"/.exec(input[0])?.[1] ?? ''
        if (name) fields[name] = value
      }
      if (options.deny) {
        if (denied) return {final: url, body}
        denied = true
        if (/\/interaction\//.test(action)) {
          url = `${action.replace(/\/$/, '')}/abort`
          continue
        }
        if ('xsrf' in fields) fields.abort = 'yes'
      }
      if ('login' in fields) {
        fields.login = this.user
        fields.password = 'any-password'
      }
      url = action
      init = {method: 'POST', form: fields}
    }
    throw new Error(`the login pages did not finish: ${this.visited.join(' → ')}`)
  }
}

/**
 * For a suite: an OAuth server and an API it protects, started before the suite's tests (handed
 * to `use` once both are up) and closed after them.
 */
export function serveOidcAndApi(use: (started: {oidc: OidcFixture; api: ProtectedApi}) => void): void {
  let oidc: OidcFixture | undefined
  let api: ProtectedApi | undefined
  before(async () => {
    oidc = await startOidcFixture()
    api = await startProtectedApi(oidc)
    use({oidc, api})
  })
  after(async () => {
    await api?.close()
    await oidc?.close()
  })
}
