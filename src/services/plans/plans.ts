// `bfly plans`: start a plan (POST /api/v1/plans/{id}/execute) and follow it over the WebSocket
// /ws/plans/{id}, with the same credentials, proxy and CA rules as every HTTP request.
import {randomBytes, randomUUID} from 'node:crypto'
import type {Context} from '../../context.js'
import {UsageError} from '../../errors.js'
import {credentialsAllowed, proxyFor, redactProxy, trustedCas, tunnelAgent} from '../../api/network.js'
import {opaqueId, segment} from '../ids.js'
import {type Connector, type PlanEvent, PlanWatch, realTimers, RECONNECT_BACKOFF, type Timers} from './plan-stream.js'

export interface Execution {
  planId: string
  executionId?: string
  status?: string
  [key: string]: unknown
}

export const planId = (id: string) => opaqueId('plan id', id)

export async function executePlan(ctx: Context, id: string): Promise<Execution> {
  planId(id)
  const api = await ctx.api()
  // One key per invocation: a POST retried after a reset connection starts the plan once.
  const response = await api.request<Execution>({method: 'POST', path: `/api/v1/plans/${segment(id)}/execute`, idempotencyKey: `bfly-execute-${randomUUID()}`})
  return response.data
}

/** ws(s)://<api>/ws/plans/{id}, under the API base path. */
export function planStreamUrl(apiUrl: string, id: string): URL {
  const base = new URL(apiUrl.endsWith('/') ? apiUrl : apiUrl + '/')
  const url = new URL(`ws/plans/${segment(id)}`, base)
  url.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:'
  return url
}

const MAX_MESSAGE_BYTES = 1024 * 1024

/** A Connector over the `ws` package, loaded only when a plan is watched. */
export async function wsConnector(ctx: Context, base: URL): Promise<Connector> {
  const {default: WebSocket} = await import('ws')
  const settings = await ctx.settings()
  const httpForm = new URL(base.href.replace(/^ws/, 'http'))
  const cas = trustedCas(settings.caFile)
  // Through a proxy a WebSocket needs a CONNECT tunnel (loopback never goes through one).
  const proxy = proxyFor(httpForm, ctx.env)
  let agent: import('node:http').Agent | undefined
  if (proxy) {
    agent = await tunnelAgent(base, proxy, cas)
    ctx.trace(`plan stream through the proxy ${redactProxy(proxy)}`)
  }
  return async (headers, sink, target) => {
    const url = new URL(base)
    if (target.executionId) url.searchParams.set('executionId', target.executionId)
    ctx.trace(`→ GET ${url.href} (WebSocket upgrade) ${headers['x-request-id'] ?? ''}`)
    // closeTimeout (ws ≥ 8.18, not in its types yet): a server that never answers our close
    // frame would otherwise hold the finished command for 30 s.
    const options = {headers, agent, ...(cas ? {ca: cas} : {}), handshakeTimeout: 10_000, perMessageDeflate: false, maxPayload: MAX_MESSAGE_BYTES, followRedirects: false, closeTimeout: 1000}
    const ws = new WebSocket(url, options as import('ws').ClientOptions)
    ws.on('open', () => {
      ctx.trace(`← 101 ${url.pathname}: stream open`)
      sink({kind: 'open'})
    })
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8')
      sink({kind: 'message', data: text})
    })
    ws.on('unexpected-response', (_req, res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        if (body.length < 16_384) body += chunk
      })
      res.on('end', () => {
        ctx.trace(`← ${res.statusCode} ${url.pathname}: upgrade refused`)
        sink({kind: 'http', status: res.statusCode ?? 0, body, headers: res.headers})
        ws.terminate()
      })
      res.on('error', () => ws.terminate())
    })
    ws.on('error', (error: Error & {code?: string}) => sink({kind: 'error', error}))
    ws.on('close', (code: number, reason: Buffer) => sink({kind: 'close', code, reason: reason.toString('utf8')}))
    return {
      send: (data) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(data)
      },
      close: () => ws.close(1000, 'done'),
      terminate: () => ws.terminate(),
    }
  }
}

export interface WatchPlanOptions {
  maxWaitMs: number
  onNote?: (note: string) => void
  onFirstOpen?: () => Promise<PlanEvent | undefined>
  timers?: Timers
  connect?: Connector
}

export async function watchPlan(ctx: Context, id: string, options: WatchPlanOptions): Promise<PlanWatch> {
  planId(id)
  const url = planStreamUrl(await ctx.apiUrl(), id)
  const httpForm = new URL(url.href.replace(/^ws/, 'http'))
  if (!credentialsAllowed(httpForm)) {
    throw new UsageError(`refusing to send credentials over plain ws:// to ${url.host}`, {hint: 'use an https:// API URL (plain http is allowed for loopback only)'})
  }
  const credentials = await ctx.credentials()
  const connect = options.connect ?? (await wsConnector(ctx, url))
  return new PlanWatch({
    planId: id,
    host: url.host,
    connect,
    headers: async () => ({
      ...(await credentials.headers()),
      'user-agent': `bfly/${ctx.version} (${process.platform}; node/${process.versions.node})`,
      'x-correlation-id': ctx.correlationId,
      'x-request-id': `req-${randomUUID()}`,
      traceparent: `00-${ctx.traceId}-${randomBytes(8).toString('hex')}-01`,
    }),
    refresh: credentials.refresh ? () => credentials.refresh!() : undefined,
    timers: options.timers ?? realTimers,
    // The same knob as the HTTP retries' base delay (tests and impatient scripts shorten both).
    backoff: ctx.env.BFLY_RETRY_BASE_MS ? {...RECONNECT_BACKOFF, baseMs: Math.max(1, Number(ctx.env.BFLY_RETRY_BASE_MS) || 1000)} : RECONNECT_BACKOFF,
    signal: ctx.signal,
    maxWaitMs: options.maxWaitMs,
    onNote: options.onNote,
    onFirstOpen: options.onFirstOpen,
  })
}

/** The human line for stdout: only how the plan ended (progress goes to stderr). */
export function planEndLine(id: string, event: PlanEvent): string | undefined {
  if (event.type === 'PLAN_COMPLETED') {
    const name = (a: unknown) => (typeof a === 'string' ? a : typeof (a as {name?: unknown})?.name === 'string' ? (a as {name: string}).name : JSON.stringify(a))
    const artifacts = Array.isArray(event.artifacts) ? event.artifacts.map(name) : []
    return `plan ${id} completed: ${String(event.status ?? 'SUCCESS')}${artifacts.length > 0 ? ` — artifacts: ${artifacts.join(', ')}` : ''}`
  }
  if (event.type === 'PLAN_FAILED') {
    const error = event.error
    return `plan ${id} failed: ${typeof error === 'string' ? error : (error as {message?: string})?.message ?? JSON.stringify(error)}`
  }
  return undefined
}

/** How long `plans watch` waits for the plan to end when --timeout does not say. */
export const DEFAULT_WAIT_MS = 60 * 60_000

/** The watched events, each also drawn as progress on stderr. */
export async function* withProgress(watch: PlanWatch, progress: {update(event: PlanEvent): void}): AsyncGenerator<PlanEvent> {
  for await (const event of watch.events()) {
    progress.update(event)
    yield event
  }
}
