// The BUTTERFLY sandbox: a local implementation of the whole BUTTERFLY API contract plus an
// embedded OAuth 2.0 / OpenID Connect issuer, for trying every command safely and for every
// e2e test.
//
//   const sandbox = await startSandbox({autoApprove: true, insecureDemoTokens: true})
//   // sandbox.apiUrl, sandbox.issuer, sandbox.ciClient, sandbox.demoUsers ...
//   await sandbox.close()
//
// Authentication the API accepts:
// - JWT access tokens from the embedded issuer (<apiUrl>/oauth): verified with its keys,
//   audience = apiUrl, and rejected once revoked (logout, refresh-token reuse).
// - X-API-Key: sandbox.apiKey (random per start; every scope).
// - Static demo tokens, ONLY when started with insecureDemoTokens / --insecure-demo-tokens:
//     sandbox.demoTokens.admin  "sbx_demo_admin"  every API scope
//     sandbox.demoTokens.read   "sbx_demo_read"   the *:read scopes only
//
// Control endpoint for tests (answers loopback clients only, never subject to faults):
//   POST   /__control/faults   a Fault, an array of them, or {"faults":[...]}   → 201
//          e.g. {"method":"GET","path":"/api/v1/capsules","status":503,"count":2}
//               {"path":"/api/v1/capsules*","kind":"reset"}   kinds: status (default),
//               reset, hang, html, empty, truncated; "path" is exact or a prefix ending in *
//   GET    /__control/faults   the faults still queued
//   DELETE /__control/faults   clear them → 204
//   GET    /__control/health   {ok, apiUrl, issuer}
//   POST   /__control/webhooks/run-due   attempt every webhook delivery that is due now
// In-process, sandbox.faults.inject(fault) / sandbox.faults.clear() do the same.
//
// Seeded webhooks deliver to the sandbox's own receiver, /__sink/<name>?status=N|fail=P.
import {randomBytes} from 'node:crypto'
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {UsageError} from '../errors.js'
import {Authenticator, type Identity} from './api-auth.js'
import {createClock} from './clock.js'
import {capsuleViews, createPublisher, eventViews, type Core} from './core.js'
import {type Fault, FaultQueue} from './faults.js'
import {isLoopbackAddress, sendJson} from './wire.js'
import {IdempotencyStore} from './idempotency.js'
import {createOAuthServer, type DemoUser, type OAuthServer} from './oauth-server.js'
import {openSqlitePersistence, type Persistence} from './persistence.js'
import {attachPlanSocket, type PlanSocket} from './plan-socket.js'
import {PlanRunner} from './plan-runner.js'
import {RateLimiter} from './rate-limit.js'
import {API_SCOPES, READ_SCOPES} from './records.js'
import {capsuleRoutes} from './routes/capsules.js'
import {eventRoutes} from './routes/events.js'
import {integrationRoutes} from './routes/integrations.js'
import {planRoutes} from './routes/plans.js'
import {webhookRoutes} from './routes/webhooks.js'
import {seedStore} from './seed-data.js'
import {createRequestHandler, requestIdOf} from './server.js'
import {DEFAULT_RATE_LIMITS, parseChaosSpec, parseLatencySpec, type RateLimits} from './specs.js'
import {createStore, hydrateStore} from './store.js'
import {WebhookDispatcher} from './webhook-dispatcher.js'

export type {Fault, FaultKind} from './faults.js'
export {signPayload, verifySignature} from './webhook-signature.js'
export {RETRY_DELAYS_MS, MAX_ATTEMPTS} from './retry-schedule.js'
export {parseChaosSpec, parseLatencySpec, parseRateLimitSpec} from './specs.js'

export interface SandboxOptions {
  /** Default 0 (a random free port). */
  port?: number
  /** Default 127.0.0.1; anything but loopback needs `expose`. */
  host?: string
  /** Allow a non-loopback host. */
  expose?: boolean
  /** Deterministic data; default 1. */
  seed?: number
  /** 60 = a simulated minute passes in a wall-clock second (webhook retries, integration drift, plan steps). */
  timeScale?: number
  /** Device codes approved as the first demo user without a page. */
  autoApprove?: boolean
  /** Honour the static demo tokens (never on a shared machine). */
  insecureDemoTokens?: boolean
  /** node:sqlite file; state survives restarts. */
  dataFile?: string
  /** 'fixed:20ms' | 'normal:50ms,10ms' | 'bimodal:2ms,200ms,0.02' | 'uniform:5ms,50ms' */
  latency?: string
  /** '503:0.1,429:0.05,reset:0.01,hang:0.01' */
  chaos?: string
  /** Per minute; default the contract's 1000/100/100; false disables limiting. */
  rateLimits?: false | RateLimits
  /** How many seeded capsules (default 1200). */
  capsules?: number
  /** Injectable wall clock (ms). */
  now?: () => number
  /** No log lines on stderr. */
  quiet?: boolean
  /** Log one line per request on stderr (or to this function). */
  logRequests?: boolean | ((line: string) => void)
  /** Lifetime of access tokens, seconds (default 3600). */
  accessTokenTtlSeconds?: number
  /** Deadline of one webhook delivery attempt (default 10 s). */
  webhookTimeoutMs?: number
  /** Simulated duration of one plan step (default 600 ms, divided by timeScale). */
  planStepMs?: number
}

export interface Sandbox {
  apiUrl: string
  issuer: string
  ciClient: {id: string; secret: string}
  demoUsers: {username: string; password: string}[]
  /** Honoured only with insecureDemoTokens: admin = every scope, read = the *:read scopes only. */
  demoTokens: {admin: string; read: string}
  insecureDemoTokens: boolean
  /** Sent as X-API-Key; every scope. Random per start. */
  apiKey: string
  /** The public client id of the CLI. */
  cliClientId: string
  faults: {inject(f: Fault): void; clear(): void}
  close(): Promise<void>
}

export const DEMO_TOKENS = {admin: 'sbx_demo_admin', read: 'sbx_demo_read'} as const
const CLI_CLIENT_ID = 'bfly-cli'
const CI_CLIENT_ID = 'bfly-ci'
const MOUNT = '/oauth'

const DEMO_USERS: DemoUser[] = [
  {username: 'demo', password: 'demo-password', scopes: API_SCOPES},
  {username: 'viewer', password: 'viewer-password', scopes: READ_SCOPES},
]

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || isLoopbackAddress(host)
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1'
  return host.includes(':') ? `[${host}]` : host
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const host = opts.host ?? '127.0.0.1'
  if (!isLoopbackHost(host) && !opts.expose) {
    throw new UsageError(`refusing to listen on ${host}: the sandbox serves loopback only`, {hint: 'add --expose to listen on other interfaces (anyone who can reach it can use it)'})
  }
  const port = opts.port ?? 0
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`invalid port ${port}: use 0 (random) to 65535`)
  const seed = opts.seed ?? 1
  if (!Number.isInteger(seed)) throw new UsageError(`invalid seed ${seed}: use a whole number`)
  const timeScale = opts.timeScale ?? 1
  if (!(Number.isFinite(timeScale) && timeScale > 0 && timeScale <= 1_000_000)) throw new UsageError(`invalid time scale ${timeScale}: use a number above 0 (60 = a minute per second)`)
  const latency = opts.latency ? parseLatencySpec(opts.latency) : undefined
  const chaos = opts.chaos ? parseChaosSpec(opts.chaos) : undefined
  const log = opts.quiet ? () => {} : (line: string) => process.stderr.write(`sandbox: ${line}\n`)

  const server = createServer({keepAliveTimeout: 5000, requestTimeout: 0})
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new UsageError(`port ${port} on ${host} is in use`, {hint: 'choose another --port, or 0 for a random one'}) : error)
    })
    server.listen(port, host, () => resolve())
  })
  const address = server.address() as AddressInfo
  const apiUrl = `http://${urlHost(host)}:${address.port}`

  let persistence: Persistence | undefined
  let oauth: OAuthServer | undefined
  try {
    const clock = createClock(opts.now ?? Date.now, timeScale)
    persistence = opts.dataFile ? await openSqlitePersistence(opts.dataFile) : undefined
    const store = createStore(persistence)

    const ciClient = {id: CI_CLIENT_ID, secret: `cis_${randomBytes(24).toString('base64url')}`}
    // oidc-provider takes a few hundred milliseconds to load: it loads once the API is up
    // (after the caller learned the URLs), and OAuth requests and JWT checks wait for it.
    const issuer = `${apiUrl}${MOUNT}`
    let oauthError: Error | undefined
    const oauthReady: Promise<void> = new Promise((resolve) => setImmediate(resolve)).then(() => createOAuthServer({
      apiUrl,
      mountPath: MOUNT,
      users: DEMO_USERS,
      cliClientId: CLI_CLIENT_ID,
      ciClient,
      autoApprove: Boolean(opts.autoApprove),
      accessTokenTtlSeconds: opts.accessTokenTtlSeconds ?? 3600,
      persistence,
      log,
    })).then(
      (server) => {
        oauth = server
      },
      (error: Error) => {
        oauthError = error
        log(`the OAuth issuer failed to start: ${error.message}`)
      },
    )

    if (hydrateStore(store)) {
      // Seeded webhooks deliver to this sandbox's sink, wherever it listens now.
      for (const w of [...store.webhooks.values()]) {
        if (!w.seeded) continue
        const url = new URL(w.url)
        if (url.origin !== apiUrl) store.webhooks.set({...w, url: `${apiUrl}${url.pathname}${url.search}`})
      }
    } else {
      seedStore(store, {seed, capsules: opts.capsules ?? 1200, now: clock.now(), timeScale, sinkOrigin: apiUrl})
      persistence?.setMeta('seeded', 'yes')
      persistence?.flush()
    }

    let dispatcher!: WebhookDispatcher
    const publish = createPublisher(store, clock, () => dispatcher)
    dispatcher = new WebhookDispatcher({store, clock, timeoutMs: opts.webhookTimeoutMs ?? 10_000})
    const plans = new PlanRunner({
      clock,
      stepMs: opts.planStepMs,
      onFinished: (e) => publish(e.status === 'SUCCESS' ? 'plan.completed' : 'plan.failed', null, {planId: e.planId, executionId: e.executionId}),
    })
    const core: Core = {store, clock, seed, dispatcher, plans, idempotency: new IdempotencyStore(clock.now), capsuleViews: capsuleViews(store), eventViews: eventViews(store), publish}

    const everyScope = new Set<string>(API_SCOPES)
    const staticTokens = new Map<string, Identity>()
    if (opts.insecureDemoTokens) {
      staticTokens.set(DEMO_TOKENS.admin, {subject: 'demo-admin', scopes: everyScope, via: 'demo-token', clientKey: 'demo:admin'})
      staticTokens.set(DEMO_TOKENS.read, {subject: 'demo-read', scopes: new Set(READ_SCOPES), via: 'demo-token', clientKey: 'demo:read'})
    }
    const apiKey = `sbx_key_${randomBytes(18).toString('base64url')}`
    const auth = new Authenticator({
      resourceMetadataUrl: `${apiUrl}/.well-known/oauth-protected-resource`,
      staticTokens,
      apiKeys: new Map([[apiKey, {subject: 'api-key', scopes: everyScope, via: 'api-key', clientKey: 'api-key'}]]),
      verifyJwt: async (token) => {
        await oauthReady
        return oauth?.verifyJwt(token)
      },
      isLive: (identity) => (oauth ? oauth.isLive(identity) : identity.via !== 'jwt'),
      now: () => Date.now(),
    })
    const oauthHandler = {
      handle(req: IncomingMessage, res: ServerResponse, path: string): void {
        if (oauth) return oauth.handle(req, res, path)
        if (oauthError) return sendJson(res, 503, {error: 'temporarily_unavailable', error_description: `the OAuth issuer failed to start: ${oauthError.message}`})
        void oauthReady.then(() => oauthHandler.handle(req, res, path))
      },
    }
    const faults = new FaultQueue()
    const rateLimiter = opts.rateLimits === false ? undefined : new RateLimiter(opts.rateLimits ?? DEFAULT_RATE_LIMITS, clock.now)
    const hung = new Set<ServerResponse>()

    server.on('request', createRequestHandler({
      core,
      routes: [...capsuleRoutes(core), ...eventRoutes(core), ...planRoutes(core), ...integrationRoutes(core), ...webhookRoutes(core)],
      auth,
      faults,
      rateLimiter,
      latency,
      chaos,
      apiUrl: () => apiUrl,
      issuer: () => issuer,
      oauth: () => oauthHandler,
      oauthMountPath: MOUNT,
      hung,
      log,
      logRequest: typeof opts.logRequests === 'function' ? opts.logRequests : opts.logRequests ? log : undefined,
    }))
    const socket: PlanSocket = await attachPlanSocket({server, auth, plans, clock, rateLimiter, requestId: requestIdOf})
    dispatcher.start()

    let closing: Promise<void> | undefined
    const close = () => {
      closing ??= (async () => {
        server.close()
        for (const res of hung) res.destroy()
        await socket.close()
        server.closeAllConnections()
        plans.close()
        await dispatcher.close()
        await oauthReady
        await oauth?.close()
        persistence?.close()
      })()
      return closing
    }

    return {
      apiUrl,
      issuer,
      ciClient,
      demoUsers: DEMO_USERS.map(({username, password}) => ({username, password})),
      demoTokens: {...DEMO_TOKENS},
      insecureDemoTokens: Boolean(opts.insecureDemoTokens),
      apiKey,
      cliClientId: CLI_CLIENT_ID,
      faults: {inject: (f) => faults.inject(f), clear: () => faults.clear()},
      close,
    }
  } catch (error) {
    server.closeAllConnections()
    server.close()
    persistence?.close()
    throw error
  }
}
