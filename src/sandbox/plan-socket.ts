// WebSocket /ws/plans/{id}: the plan's progress messages (contract §3, Plans). The upgrade
// request carries the same bearer token as any API call and needs plans:execute; a refused
// upgrade gets a normal HTTP error response (401 with WWW-Authenticate, 403, 404, 429).
import {STATUS_CODES, type IncomingMessage, type Server} from 'node:http'
import type {Duplex} from 'node:stream'
import type {WebSocket, WebSocketServer} from 'ws'
import type {Authenticator} from './api-auth.js'
import {forbidden} from './api-auth.js'
import {iso, type SandboxClock} from './clock.js'
import {errorBody, HttpError} from './wire.js'
import type {PlanRunner} from './plan-runner.js'
import {rateHeaders, type RateLimiter} from './rate-limit.js'

export interface PlanSocketOptions {
  server: Server
  auth: Authenticator
  plans: PlanRunner
  clock: SandboxClock
  rateLimiter?: RateLimiter
  requestId: (req: IncomingMessage) => string
}

export interface PlanSocket {
  close(): Promise<void>
}

export async function attachPlanSocket(options: PlanSocketOptions): Promise<PlanSocket> {
  const {WebSocketServer: Wss} = await import('ws')
  const wss: WebSocketServer = new Wss({noServer: true, maxPayload: 64 * 1024})

  const reject = (socket: Duplex, requestId: string, error: HttpError, extra: Record<string, string> = {}) => {
    const body = JSON.stringify(errorBody(error, requestId, options.clock.now()))
    const headers = {...extra, ...error.headers, 'x-request-id': requestId, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), connection: 'close'}
    const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')
    socket.end(`HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}\r\n${head}\r\n\r\n${body}`)
  }

  options.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy())
    void (async () => {
      const requestId = options.requestId(req)
      const url = new URL(req.url ?? '/', 'http://sandbox.invalid')
      const match = /^\/ws\/plans\/([^/]+)\/?$/.exec(url.pathname)
      if (!match) return reject(socket, requestId, new HttpError(404, `no WebSocket endpoint at ${url.pathname}`))
      let planId: string
      try {
        planId = decodeURIComponent(match[1])
      } catch {
        return reject(socket, requestId, new HttpError(400, 'invalid plan id encoding'))
      }
      let rate: Record<string, string> = {}
      try {
        const identity = await options.auth.authenticate(req.headers)
        if (options.rateLimiter) {
          const decision = options.rateLimiter.take(identity.clientKey, 'query')
          rate = rateHeaders(decision)
          if (!decision.allowed) {
            throw new HttpError(429, 'Too many requests', {headers: {'retry-after': String(decision.retryAfter)}, extra: {retryAfter: decision.retryAfter}})
          }
        }
        if (!identity.scopes.has('plans:execute')) throw forbidden('plans:execute')
      } catch (error) {
        return reject(socket, requestId, error as HttpError, rate)
      }
      if (!options.plans.plan(planId)) return reject(socket, requestId, new HttpError(404, `plan ${planId} not found`), rate)
      const executionId = url.searchParams.get('executionId') ?? undefined
      if (executionId !== undefined && options.plans.get(executionId)?.planId !== planId) {
        return reject(socket, requestId, new HttpError(404, `execution ${executionId} of plan ${planId} not found`), rate)
      }
      wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        const unsubscribe = options.plans.watch(planId, executionId, (message, done) => {
          if (ws.readyState !== ws.OPEN) return
          ws.send(JSON.stringify(message))
          if (done) ws.close(1000, 'plan finished')
        })
        ws.on('message', (data) => {
          let message: {type?: unknown}
          try {
            message = JSON.parse(String(data))
          } catch {
            return
          }
          if (message?.type === 'PING') ws.send(JSON.stringify({type: 'PONG', timestamp: iso(options.clock.now())}))
        })
        ws.on('close', unsubscribe)
        ws.on('error', unsubscribe)
      })
    })()
  })

  return {
    async close() {
      for (const client of wss.clients) client.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    },
  }
}
