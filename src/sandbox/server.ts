// The request pipeline: control and sink endpoints, scripted faults, the OAuth issuer, the
// RFC 9728 metadata, then the API: latency → chaos → route → authentication → rate limit
// → scope → body → idempotency → handler → envelope. Hot path kept lean (≥10k GETs/s).
import type {IncomingMessage, ServerResponse} from 'node:http'
import {randomUUID} from 'node:crypto'
import {type Authenticator, forbidden, type Identity} from './api-auth.js'
import type {ApiRequest, ApiRoute, Core} from './core.js'
import {type Fault, type FaultQueue, renderFault, validateFault} from './faults.js'
import {errorBody, HttpError, isLoopbackAddress, meta, parseJsonBody, readBody, type Reply, sendJson} from './wire.js'
import {IdempotencyStore} from './idempotency.js'
import {createRandom, deriveSeed, type Random} from './prng.js'
import {rateHeaders, type RateLimiter} from './rate-limit.js'
import {SCOPES_SUPPORTED} from './records.js'
import {Router} from './router.js'
import {iso} from './clock.js'
import {drawChaos, sampleLatency, type ChaosEntry, type LatencySpec} from './specs.js'

export interface PipelineOptions {
  core: Core
  routes: ApiRoute[]
  auth: Authenticator
  faults: FaultQueue
  rateLimiter?: RateLimiter
  latency?: LatencySpec
  chaos?: ChaosEntry[]
  apiUrl: () => string
  issuer: () => string
  oauth: () => {handle(req: IncomingMessage, res: ServerResponse, path: string): void}
  oauthMountPath: string
  /** Requests that will never be answered (hang faults), ended by close(). */
  hung: Set<ServerResponse>
  log: (line: string) => void
  /** One line per request (method, path, status, time, request id), for watching by hand. */
  logRequest?: (line: string) => void
}

/** One API request on its way through the pipeline. */
interface Exchange {
  req: IncomingMessage
  res: ServerResponse
  method: string
  path: string
  search: string
  requestId: string
  headers: Record<string, string>
  route?: ApiRoute
  params?: Record<string, string>
  identity?: Identity
  idempotency?: {client: string; key: string}
}

const REQUEST_ID = /^[\x21-\x7e]{1,200}$/

export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id']
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : `req-${randomUUID()}`
}

export function createRequestHandler(options: PipelineOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const {core, auth, faults, rateLimiter, latency, chaos} = options
  const router = new Router<ApiRoute>()
  for (const route of options.routes) router.add(route.method, route.pattern, route)
  const chaosRandom: Random = createRandom(deriveSeed(core.seed, 'chaos'))
  const latencyRandom: Random = createRandom(deriveSeed(core.seed, 'latency'))
  const sinkRandom: Random = createRandom(deriveSeed(core.seed, 'sink'))
  const mount = options.oauthMountPath
  /** Shared by requests without a query string; handlers only read queries. */
  const noQuery = new URLSearchParams()
  // meta.timestamp has second precision: format it once per second, not once per response.
  let stampSecond = -1
  let stamp = ''
  const timestamp = () => {
    const now = core.clock.now()
    const second = Math.floor(now / 1000)
    if (second !== stampSecond) {
      stampSecond = second
      stamp = iso(now)
    }
    return stamp
  }
  const resourceMetadata = () => `${options.apiUrl()}/.well-known/oauth-protected-resource`

  const fail = (res: ServerResponse, error: unknown, requestId: string, headers: Record<string, string>) => {
    let e: HttpError
    if (error instanceof HttpError) {
      e = error
    } else {
      options.log(`internal error (request ${requestId}): ${(error as Error)?.stack ?? error}`)
      e = new HttpError(500, 'Internal server error')
    }
    sendJson(res, e.status, errorBody(e, requestId, timestamp()), e.headers ? {...headers, ...e.headers} : headers)
  }

  const failed = (x: Exchange, error: unknown) => {
    if (x.idempotency) core.idempotency.abandon(x.idempotency.client, x.idempotency.key)
    fail(x.res, error, x.requestId, x.headers)
  }

  /**
   * One API request, as a chain of steps that stay synchronous on the hot path (a GET with a
   * known token): Node's HTTP server spends measurably less per request when the answer is
   * written in the tick the request arrived in. Latency, unverified JWTs, bodies and async
   * handlers continue the chain later.
   */
  function api(req: IncomingMessage, res: ServerResponse, method: string, path: string, search: string, requestId: string): void {
    const headers: Record<string, string> = {'x-request-id': requestId}
    const correlation = req.headers['x-correlation-id']
    if (typeof correlation === 'string' && REQUEST_ID.test(correlation)) headers['x-correlation-id'] = correlation
    const x: Exchange = {req, res, method, path, search, requestId, headers}
    try {
      const match = router.match(method, path)
      if (match.kind === 'not-found') throw new HttpError(404, `no such endpoint: ${method} ${path}`)
      if (match.kind === 'method-not-allowed') throw new HttpError(405, `${method} is not allowed on ${path}`, {headers: {allow: match.allowed.join(', ')}})
      x.route = match.value
      x.params = match.params
      if (latency) {
        setTimeout(() => authenticate(x), sampleLatency(latency, latencyRandom))
        return
      }
      authenticate(x)
    } catch (error) {
      failed(x, error)
    }
  }

  function authenticate(x: Exchange): void {
    try {
      if (chaos) {
        const outcome = drawChaos(chaos, chaosRandom)
        if (outcome) {
          inject(x.req, x.res, {path: x.path, kind: outcome.kind, status: outcome.status}, x.requestId)
          return
        }
      }
      let identity: Identity | Promise<Identity>
      try {
        identity = auth.authenticate(x.req.headers)
      } catch (error) {
        authorize(x, undefined, error)
        return
      }
      if (identity instanceof Promise) identity.then((i) => authorize(x, i, undefined), (error) => authorize(x, undefined, error))
      else authorize(x, identity, undefined)
    } catch (error) {
      failed(x, error)
    }
  }

  function authorize(x: Exchange, identity: Identity | undefined, authError: unknown): void {
    try {
      const route = x.route as ApiRoute
      // Unauthenticated callers are limited too (per address), and see the headers.
      if (rateLimiter) {
        const decision = rateLimiter.take(identity?.clientKey ?? `ip:${x.req.socket.remoteAddress}`, route.apiClass)
        Object.assign(x.headers, rateHeaders(decision))
        if (!decision.allowed) {
          throw new HttpError(429, 'Too many requests', {headers: {'retry-after': String(decision.retryAfter)}, extra: {retryAfter: decision.retryAfter}})
        }
      }
      if (!identity) throw authError
      if (!identity.scopes.has(route.scope)) throw forbidden(route.scope)
      x.identity = identity
      if (x.method === 'POST' || x.method === 'PUT' || x.method === 'PATCH') {
        readBody(x.req).then((raw) => execute(x, raw), (error) => failed(x, error))
        return
      }
      execute(x, undefined)
    } catch (error) {
      failed(x, error)
    }
  }

  function execute(x: Exchange, raw: Buffer | undefined): void {
    try {
      const route = x.route as ApiRoute
      const identity = x.identity as Identity
      const body = raw === undefined ? undefined : parseJsonBody(raw)
      const key = x.req.headers['idempotency-key']
      if (x.method === 'POST' && key !== undefined) {
        if (typeof key !== 'string' || key.length < 1 || key.length > 255) {
          throw new HttpError(400, 'Invalid request parameters', {details: [{field: 'Idempotency-Key', message: 'must be 1 to 255 characters'}]})
        }
        const begun = core.idempotency.begin(identity.clientKey, key, IdempotencyStore.fingerprint(x.method, x.path, raw ?? Buffer.alloc(0)))
        if (begun.kind === 'conflict') throw new HttpError(409, begun.message)
        if (begun.kind === 'replay') {
          sendJson(x.res, begun.response.status, begun.response.body, {...x.headers, ...begun.response.headers, 'idempotent-replayed': 'true'})
          return
        }
        x.idempotency = {client: identity.clientKey, key}
      }
      const request: ApiRequest = {method: x.method, path: x.path, query: x.search === '' ? noQuery : new URLSearchParams(x.search), params: x.params ?? {}, headers: x.req.headers, requestId: x.requestId, identity, body}
      const reply = route.handler(request)
      if (reply instanceof Promise) reply.then((r) => respond(x, r), (error) => failed(x, error))
      else respond(x, reply)
    } catch (error) {
      failed(x, error)
    }
  }

  function respond(x: Exchange, reply: Reply): void {
    const route = x.route as ApiRoute
    const out = reply.status === 204 ? undefined : route.envelope ? {data: reply.data, meta: meta(x.requestId, timestamp(), reply.pagination)} : reply.data
    if (x.idempotency) core.idempotency.complete(x.idempotency.client, x.idempotency.key, {status: reply.status, body: out, headers: reply.headers ?? {}})
    sendJson(x.res, reply.status, out, reply.headers ? {...x.headers, ...reply.headers} : x.headers)
  }

  function inject(req: IncomingMessage, res: ServerResponse, fault: Fault, requestId: string): void {
    renderFault(req, res, fault, {requestId, now: core.clock.now(), resourceMetadata: resourceMetadata(), onHang: (r) => options.hung.add(r)})
  }

  async function control(req: IncomingMessage, res: ServerResponse, method: string, path: string, requestId: string): Promise<void> {
    const headers = {'x-request-id': requestId}
    try {
      if (!isLoopbackAddress(req.socket.remoteAddress)) throw new HttpError(403, 'the control endpoint answers loopback clients only')
      if (path === '/__control/faults') {
        if (method === 'GET') return sendJson(res, 200, {faults: faults.list()}, headers)
        if (method === 'DELETE') {
          faults.clear()
          return sendJson(res, 204, undefined, headers)
        }
        if (method === 'POST') {
          const body = parseJsonBody(await readBody(req))
          const list = Array.isArray(body) ? body : (body as {faults?: unknown})?.faults !== undefined ? (body as {faults: unknown[]}).faults : [body]
          if (!Array.isArray(list)) throw new HttpError(400, 'expected a fault, an array of faults, or {"faults": [...]}')
          // All or nothing: one bad fault in a list queues none of them.
          for (const f of list.map(validateFault)) faults.inject(f)
          return sendJson(res, 201, {queued: list.length, faults: faults.list()}, headers)
        }
        throw new HttpError(405, `${method} is not allowed on ${path}`, {headers: {allow: 'GET, POST, DELETE'}})
      }
      if (path === '/__control/health' && method === 'GET') return sendJson(res, 200, {ok: true, apiUrl: options.apiUrl(), issuer: options.issuer()}, headers)
      if (path === '/__control/webhooks/run-due' && method === 'POST') {
        await core.dispatcher.runDue()
        return sendJson(res, 200, {ok: true}, headers)
      }
      throw new HttpError(404, `no such control endpoint: ${method} ${path}`)
    } catch (error) {
      fail(res, error, requestId, headers)
    }
  }

  /** The built-in webhook receiver seeded webhooks point at: ?status=N answers N, ?fail=P fails with probability P. */
  async function sink(req: IncomingMessage, res: ServerResponse, search: string, requestId: string): Promise<void> {
    const headers = {'x-request-id': requestId}
    try {
      if (!isLoopbackAddress(req.socket.remoteAddress)) throw new HttpError(403, 'the sink answers loopback clients only')
      await readBody(req)
      const query = new URLSearchParams(search)
      const status = Number(query.get('status') ?? 200)
      const failP = Number(query.get('fail') ?? 0)
      if (failP > 0 && sinkRandom() < failP) return sendJson(res, 503, {received: false, error: 'receiver temporarily unavailable'}, headers)
      return sendJson(res, Number.isInteger(status) && status >= 200 && status <= 599 ? status : 200, {received: status < 300}, headers)
    } catch (error) {
      fail(res, error, requestId, headers)
    }
  }

  const handle = (req: IncomingMessage, res: ServerResponse, requestId = requestIdOf(req)) => {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q < 0 ? url : url.slice(0, q)
    const search = q < 0 ? '' : url.slice(q + 1)
    const method = req.method ?? 'GET'
    if (path.startsWith('/__control/')) {
      void control(req, res, method, path, requestId)
      return
    }
    if (faults.size > 0) {
      const fault = faults.take(method, path)
      if (fault) {
        inject(req, res, fault, requestId)
        return
      }
    }
    if (path.startsWith('/api/') || path.startsWith('/integrations') || path.startsWith('/webhooks')) {
      api(req, res, method, path, search, requestId)
      return
    }
    if (path === mount || path.startsWith(`${mount}/`)) {
      options.oauth().handle(req, res, path)
      return
    }
    if (path === '/.well-known/oauth-protected-resource') {
      if (method !== 'GET' && method !== 'HEAD') return fail(res, new HttpError(405, `${method} is not allowed on ${path}`, {headers: {allow: 'GET'}}), requestId, {'x-request-id': requestId})
      sendJson(res, 200, {
        resource: options.apiUrl(),
        authorization_servers: [options.issuer()],
        scopes_supported: SCOPES_SUPPORTED,
        bearer_methods_supported: ['header'],
        resource_name: 'BUTTERFLY sandbox',
      }, {'x-request-id': requestId, 'cache-control': 'max-age=300'})
      return
    }
    // RFC 8414 §3.1: metadata of an issuer with a path, at the well-known path inserted before it.
    if (path === `/.well-known/oauth-authorization-server${mount}` || path === `/.well-known/openid-configuration${mount}`) {
      req.url = `${mount}/.well-known/openid-configuration`
      options.oauth().handle(req, res, req.url)
      return
    }
    if (path.startsWith('/__sink/')) {
      void sink(req, res, search, requestId)
      return
    }
    if (path === '/' && (method === 'GET' || method === 'HEAD')) {
      sendJson(res, 200, {
        name: 'BUTTERFLY sandbox',
        apiUrl: options.apiUrl(),
        issuer: options.issuer(),
        resourceMetadata: resourceMetadata(),
        endpoints: ['/api/v1/capsules', '/api/v1/history', '/api/v1/events', '/api/v1/plans/{id}/execute', '/ws/plans/{id}', '/integrations/status', '/webhooks'],
      }, {'x-request-id': requestId})
      return
    }
    fail(res, new HttpError(404, `no such endpoint: ${method} ${path}`), requestId, {'x-request-id': requestId})
  }

  const logRequest = options.logRequest
  if (!logRequest) return handle
  return (req, res) => {
    const started = performance.now()
    const url = req.url ?? '/'
    const requestId = requestIdOf(req)
    const line = (outcome: string) => {
      const path = url.replace(/([?&](?:access_token|token|code|client_secret)=)[^&]*/gi, '$1***')
      logRequest(`${req.method} ${path} ${outcome} ${(performance.now() - started).toFixed(1)}ms ${requestId}`)
    }
    res.once('finish', () => line(String(res.statusCode)))
    res.once('close', () => {
      if (!res.writableFinished) line('(no response: connection closed)')
    })
    handle(req, res, requestId)
  }
}
