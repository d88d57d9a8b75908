// `bfly login`: pick a grant, run it, store the tokens, record the non-secret facts.
import type {Context} from '../../context.js'
import {AuthError, UsageError} from '../../errors.js'
import {formatDuration} from '../../values.js'
import {browserPossible, openBrowser} from '../../auth/browser.js'
import {clientCredentialsGrant} from '../../auth/client-credentials.js'
import type {CredentialStore, TokenRecord} from '../../auth/credential-store.js'
import {parseDeviceAuthorization, pollForToken, sleepWithSignal} from '../../auth/device-flow.js'
import {chooseIssuer, fetchMetadata, sameIssuer, unreachable, type AuthServerMetadata} from '../../auth/discovery.js'
import {startLoopback} from '../../auth/loopback.js'
import {OAuthError, OAuthHttp} from '../../auth/oauth-http.js'
import {pkcePair, randomToken} from '../../auth/pkce.js'
import {promptHidden, promptVisible, readAllStdin} from '../../auth/secret-prompt.js'
import {createCredentialStore, Session, sessionAccount} from '../../auth/session.js'
import {loginFailure, recordFrom, subjectFromIdToken, tokenRequest, type TokenSet} from '../../auth/tokens.js'
import {statusFromSession, type AuthStatus} from './status.js'

export interface LoginOptions {
  /** Explicit grant: --web or --device; otherwise chosen from the environment. */
  flow?: 'web' | 'device'
  noBrowser?: boolean
  scopes?: string
  clientCredentials?: boolean
  clientId?: string
  withToken?: boolean
  /** Test seam for the browser flow's 5-minute wait. */
  browserTimeoutMs?: number
}

interface Obtained {
  issuer?: string
  record: TokenRecord
  subject?: string
  clientId: string
}

/** Scopes of a user login: what was asked (or the API's list), plus `openid` and `offline_access` so an ID and a refresh token come back. */
export function userScopes(asked: string | undefined, resourceScopes: string[] | undefined, metadata: AuthServerMetadata): string {
  const supported = metadata.scopes_supported
  const base = asked !== undefined ? asked.split(/[\s,]+/) : resourceScopes ?? []
  const scopes = new Set(base.filter(Boolean))
  if (metadata.oidc || supported?.includes('openid')) scopes.add('openid')
  if (!supported || supported.includes('offline_access')) scopes.add('offline_access')
  return [...scopes].join(' ')
}

export async function login(ctx: Context, options: LoginOptions): Promise<AuthStatus> {
  const store = createCredentialStore(ctx)
  if (ctx.env.BFLY_TOKEN || ctx.env.BUTTERFLY_API_KEY) {
    ctx.warn(`${ctx.env.BFLY_TOKEN ? 'BFLY_TOKEN' : 'BUTTERFLY_API_KEY'} is set and takes precedence over the login stored now`)
  }
  let obtained: Obtained
  if (options.withToken) obtained = await withToken(ctx)
  else if (options.clientCredentials || (!options.flow && ctx.env.BFLY_CLIENT_ID && ctx.env.BFLY_CLIENT_SECRET)) obtained = await clientCredentials(ctx, options)
  else obtained = await userLogin(ctx, options)
  return remember(ctx, store, obtained)
}

async function remember(ctx: Context, store: CredentialStore, obtained: Obtained): Promise<AuthStatus> {
  const profiles = await ctx.store()
  const previous = profiles.session(ctx.profile)
  const facts = {issuer: obtained.issuer}
  const account = sessionAccount(ctx.profile, facts)
  const preferred = store.keychainEnabled ? 'keychain' : 'file'
  const storage = await store.write(account, obtained.record, preferred)
  // A login to another issuer replaces the profile's old one: its tokens must not linger.
  if (previous && sessionAccount(ctx.profile, previous) !== account) await store.remove(sessionAccount(ctx.profile, previous))
  const record = obtained.record
  await profiles.setSession(ctx.profile, {
    issuer: obtained.issuer,
    subject: obtained.subject,
    scopes: record.scope ? record.scope.split(' ').filter(Boolean) : undefined,
    expiresAt: record.expiresAt ? new Date(record.expiresAt).toISOString() : undefined,
    storage,
    clientId: obtained.clientId,
    loggedInAt: new Date(ctx.now()).toISOString(),
  })
  ctx.resetCredentials()
  const session = await Session.open(ctx, store)
  if (!session) throw new AuthError('the login could not be read back from where it was stored', {code: 'STORE_FAILED', hint: 'run `bfly login` again with BFLY_KEYCHAIN=off'})
  return statusFromSession(ctx, session)
}

async function discover(ctx: Context, http: OAuthHttp) {
  let choice
  try {
    choice = await chooseIssuer(ctx, http)
  } catch (error) {
    throw unreachable(error, 'the API')
  }
  const metadata = await fetchMetadata(http, choice.issuer)
  return {choice, metadata}
}

async function withToken(ctx: Context): Promise<Obtained> {
  const token = ctx.io.stdinIsTTY ? await promptHidden(ctx.io, 'Paste an access token: ', ctx.signal) : await readAllStdin(ctx.io.streams.stdin)
  if (!token) throw new UsageError('no token on stdin', {hint: 'pipe it in: `bfly login --with-token < token.txt`'})
  if (/\s/.test(token)) throw new UsageError('the token on stdin contains whitespace: give exactly one token')
  const settings = await ctx.settings()
  let issuer = settings.issuer
  if (!issuer && settings.apiUrl) {
    // Only to name the login; a token works without knowing who issued it.
    const http = await OAuthHttp.create(ctx)
    issuer = await chooseIssuer(ctx, http).then((c) => c.issuer, () => undefined)
  }
  const claims = jwtClaims(token)
  return {
    issuer,
    clientId: settings.clientId,
    subject: typeof claims?.sub === 'string' ? claims.sub : undefined,
    record: {version: 1, kind: 'token', accessToken: token, expiresAt: typeof claims?.exp === 'number' ? claims.exp * 1000 : undefined, scope: typeof claims?.scope === 'string' ? claims.scope : undefined},
  }
}

function jwtClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  try {
    const value = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

async function clientCredentials(ctx: Context, options: LoginOptions): Promise<Obtained> {
  const clientId = options.clientId ?? ctx.env.BFLY_CLIENT_ID ?? (ctx.io.canPrompt() ? await promptVisible(ctx.io, 'Client id: ') : undefined)
  if (!clientId) throw new UsageError('no client id for --client-credentials', {hint: 'pass --client-id or set BFLY_CLIENT_ID'})
  const clientSecret = ctx.env.BFLY_CLIENT_SECRET ?? (ctx.io.canPrompt() ? await promptHidden(ctx.io, 'Client secret: ', ctx.signal) : undefined)
  if (!clientSecret) {
    throw new UsageError('no client secret for --client-credentials', {hint: 'set BFLY_CLIENT_SECRET, or run on a terminal to be asked; it is never accepted as a flag'})
  }
  const http = await OAuthHttp.create(ctx)
  const {choice, metadata} = await discover(ctx, http)
  const settings = await ctx.settings()
  const asked = options.scopes ?? settings.scopes
  const tokens = await clientCredentialsGrant(http, metadata, {clientId, clientSecret}, {asked, resource: choice.resourceScopes}, ctx.now, (l) => ctx.trace(l)).catch((error: unknown) => {
    throw unreachable(error, `the authorization server ${metadata.issuer}`)
  })
  return {issuer: metadata.issuer, clientId, subject: clientId, record: recordFrom(tokens, 'client', {clientId, clientSecret, scope: asked})}
}

async function userLogin(ctx: Context, options: LoginOptions): Promise<Obtained> {
  const http = await OAuthHttp.create(ctx)
  const {choice, metadata} = await discover(ctx, http)
  const settings = await ctx.settings()
  const clientId = settings.clientId
  const scope = userScopes(options.scopes ?? settings.scopes, choice.resourceScopes, metadata)
  const canWeb = Boolean(metadata.authorization_endpoint)
  const canDevice = Boolean(metadata.device_authorization_endpoint)
  let flow = options.flow
  if (!flow) {
    const verdict = browserPossible(ctx.env)
    flow = verdict.possible || options.noBrowser ? 'web' : 'device'
    if (flow === 'web' && !canWeb) flow = 'device'
    if (flow === 'device' && !canDevice) flow = 'web'
    if (flow === 'device') ctx.trace(`device flow: ${verdict.reason}`)
  }
  if (flow === 'device' && !canDevice) {
    throw new AuthError(`${metadata.issuer} does not offer the device flow`, {code: 'FLOW_UNSUPPORTED', hint: 'use `bfly login --web --no-browser` and open the URL on this machine'})
  }
  if (flow === 'web' && !canWeb) {
    throw new AuthError(`${metadata.issuer} has no authorization endpoint for the browser flow`, {code: 'FLOW_UNSUPPORTED', hint: 'use `bfly login --device`'})
  }
  const context = {issuer: metadata.issuer, clientId, grant: flow === 'web' ? ('browser' as const) : ('device' as const)}
  let tokens: TokenSet
  let nonce: string | undefined
  try {
    if (flow === 'web') {
      nonce = randomToken(16)
      tokens = await browserFlow(ctx, http, metadata, {clientId, scope, nonce, noBrowser: Boolean(options.noBrowser), timeoutMs: options.browserTimeoutMs})
    } else {
      tokens = await deviceFlow(ctx, http, metadata, {clientId, scope})
    }
  } catch (error) {
    if (error instanceof OAuthError) throw loginFailure(error, context)
    throw unreachable(error, `the authorization server ${metadata.issuer}`)
  }
  if (!tokens.refreshToken) {
    ctx.warn(`${metadata.issuer} issued no refresh token: log in again when the access token expires${tokens.expiresAt ? ` (in ${formatDuration(tokens.expiresAt - ctx.now())})` : ''}`)
  }
  const subject = subjectFromIdToken(tokens.idToken, {issuer: metadata.issuer, clientId, nonce})
  return {issuer: metadata.issuer, clientId, subject, record: recordFrom(tokens, 'user', {clientId, scope})}
}

async function browserFlow(
  ctx: Context,
  http: OAuthHttp,
  metadata: AuthServerMetadata,
  request: {clientId: string; scope: string; nonce: string; noBrowser: boolean; timeoutMs?: number},
): Promise<TokenSet> {
  const methods = metadata.code_challenge_methods_supported
  if (methods && !methods.includes('S256')) {
    throw new AuthError(`${metadata.issuer} does not support PKCE with S256`, {code: 'FLOW_UNSUPPORTED', hint: 'use `bfly login --device`'})
  }
  const pkce = pkcePair()
  const state = randomToken()
  const loopback = await startLoopback({state, timeoutMs: request.timeoutMs, signal: ctx.signal, trace: (l) => ctx.trace(l)})
  try {
    const url = new URL(metadata.authorization_endpoint!)
    const params: Record<string, string> = {
      response_type: 'code',
      client_id: request.clientId,
      redirect_uri: loopback.redirectUri,
      scope: request.scope,
      state,
      code_challenge: pkce.challenge,
      code_challenge_method: pkce.method,
    }
    if (request.scope.split(' ').includes('openid')) params.nonce = request.nonce
    // OIDC Core §11: offline_access is honoured only with a consent prompt.
    if (request.scope.split(' ').includes('offline_access')) params.prompt = 'consent'
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value)
    const opened = request.noBrowser ? false : await openBrowser(url.toString(), ctx.env)
    ctx.io.err(opened ? 'Opened your browser to log in. If it did not open, visit:' : 'Open this URL in a browser on this machine to log in:')
    ctx.io.err(`  ${url.toString()}`)
    ctx.io.err(`Waiting for the login to finish (${formatDuration(request.timeoutMs ?? 300_000)} at most; Ctrl-C to cancel)…`)
    const answer = await loopback.answer
    // RFC 9207: an authorization response naming another issuer is a mix-up attack.
    if (answer.iss !== undefined && !sameIssuer(answer.iss, metadata.issuer)) {
      throw new AuthError(`the login answer came from ${answer.iss}, not ${metadata.issuer}; refusing it`, {code: 'ISSUER_MISMATCH', hint: 'run `bfly login` again'})
    }
    if (answer.iss === undefined && metadata.authorization_response_iss_parameter_supported) {
      throw new AuthError('the login answer does not name its issuer although the server promises to; refusing it', {code: 'ISSUER_MISMATCH', hint: 'run `bfly login` again'})
    }
    return await tokenRequest(http, metadata, {
      grant_type: 'authorization_code',
      code: answer.code,
      redirect_uri: loopback.redirectUri,
      client_id: request.clientId,
      code_verifier: pkce.verifier,
    }, ctx.now)
  } finally {
    await loopback.close()
  }
}

async function deviceFlow(ctx: Context, http: OAuthHttp, metadata: AuthServerMetadata, request: {clientId: string; scope: string}): Promise<TokenSet> {
  const endpoint = metadata.device_authorization_endpoint!
  const {json} = await http.postForm(endpoint, {client_id: request.clientId, scope: request.scope})
  const auth = parseDeviceAuthorization(json, new URL(endpoint).host)
  ctx.io.err(`To log in, open ${auth.verificationUri} and enter the code ${ctx.io.paint(auth.userCode, 'bold')}`)
  if (auth.verificationUriComplete) ctx.io.err(`  or open ${auth.verificationUriComplete}`)
  ctx.io.err(`Waiting for approval (the code expires in ${formatDuration(auth.expiresInSec * 1000)}; Ctrl-C to cancel)…`)
  return pollForToken(
    auth,
    () => tokenRequest(http, metadata, {grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: auth.deviceCode, client_id: request.clientId}, ctx.now),
    {now: ctx.now, sleep: sleepWithSignal, signal: ctx.signal, trace: (l) => ctx.trace(l)},
  )
}
