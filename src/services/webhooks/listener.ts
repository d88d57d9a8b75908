// `bfly webhooks listen`: a loopback receiver for webhook deliveries, in the spirit of
// `stripe listen`. It verifies each delivery's signature, answers the sender (2xx, or 400 on a
// bad signature so the platform's retry machinery sees the failure), optionally forwards the
// raw body and signature headers to a local app, and hands each delivery to the caller as it
// arrives. It stops on Ctrl-C, after --max-events, or after a duration.
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {performance} from 'node:perf_hooks'
import {UsageError} from '../../errors.js'
import {proxyFailure, tunnelAgent} from '../../api/network.js'
import {verifySignature} from './signature.js'

export interface ForwardResult {
  url: string
  status?: number
  durationMs?: number
  error?: string
}

export interface ReceivedDelivery {
  receivedAt: string
  method: string
  path: string
  /** The X-Webhook-Id header: the delivery, as `webhooks deliveries` and `webhooks retry` name it. */
  deliveryId?: string
  /** The body's `id`: the event delivered. */
  eventId?: string
  /** The X-Webhook-Event header, else the body's `type` / `event_type` / `event`. */
  type?: string
  signature: 'valid' | 'invalid' | 'unverified'
  reason?: string
  timestamp?: string
  /** What the listener answered the sender. */
  response: number
  /** The body as JSON when it parses, else as text. */
  body: unknown
  forward?: ForwardResult
}

export interface ListenSummary {
  received: number
  valid: number
  invalid: number
  unverified: number
  forwarded: number
  forwardFailed: number
}

export interface ListenOptions {
  port: number
  secret?: string
  toleranceMs: number
  forwardTo?: URL
  forwardTimeoutMs: number
  /** The proxy for forwardTo (HTTPS_PROXY / HTTP_PROXY unless NO_PROXY or loopback says otherwise). */
  forwardProxy?: string
  /** Certificate authorities for an https forwardTo (the ca-file with the default roots). */
  forwardCa?: string[]
  maxEvents?: number
  durationMs?: number
  signal: AbortSignal
  now: () => number
  maxBodyBytes?: number
}

const SIGNED_HEADERS = /^(content-type|x-webhook-.*|x-request-id|x-correlation-id|traceparent|user-agent)$/i

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}

function describeBody(raw: Buffer): unknown {
  const text = raw.toString('utf8')
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

function pick(body: unknown, ...keys: string[]): string | undefined {
  if (!body || typeof body !== 'object') return undefined
  for (const key of keys) {
    const v = (body as Record<string, unknown>)[key]
    if (typeof v === 'string' && v !== '') return v
  }
  return undefined
}

export class WebhookListener {
  readonly summary: ListenSummary = {received: 0, valid: 0, invalid: 0, unverified: 0, forwarded: 0, forwardFailed: 0}
  private readonly queue: ReceivedDelivery[] = []
  private wake?: () => void
  /** No new deliveries are accepted. */
  private stopping = false
  /** The server is closed. */
  private stopped = false
  private inFlight = 0
  private timer?: NodeJS.Timeout
  private url_ = ''

  private constructor(private readonly server: Server, private readonly options: ListenOptions) {}

  /** Bound to 127.0.0.1 only: deliveries carry data no one else on the network should reach. */
  static async start(options: ListenOptions): Promise<WebhookListener> {
    const server = createServer()
    const listener = new WebhookListener(server, options)
    server.on('request', (req, res) => void listener.handle(req, res))
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'EADDRINUSE' ? new UsageError(`port ${options.port} is in use`, {hint: 'pick another --port, or 0 for any free one'}) : error))
      server.listen(options.port, '127.0.0.1', () => resolve())
    })
    listener.url_ = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
    if (options.durationMs !== undefined) listener.timer = setTimeout(() => listener.stop(), options.durationMs)
    if (options.signal.aborted) listener.stop()
    else options.signal.addEventListener('abort', () => listener.stop(), {once: true})
    return listener
  }

  get url(): string {
    return this.url_
  }

  /** Deliveries as they arrive; ends once the listener stopped and every answered one was handed over. */
  async *events(): AsyncGenerator<ReceivedDelivery> {
    try {
      for (;;) {
        const next = this.queue.shift()
        if (next) {
          yield next
          continue
        }
        if (this.stopping && this.inFlight === 0) return
        await new Promise<void>((resolve) => (this.wake = resolve))
        this.wake = undefined
      }
    } finally {
      await this.close()
    }
  }

  stop(): void {
    this.stopping = true
    if (this.stopped) return
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.server.close()
    this.wake?.()
  }

  async close(): Promise<void> {
    this.stop()
    this.server.closeAllConnections()
  }

  private push(event: ReceivedDelivery): void {
    this.queue.push(event)
    this.wake?.()
  }

  private answer(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body)
    res.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text), connection: this.stopping ? 'close' : 'keep-alive'})
    res.end(text)
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET' || req.method === 'HEAD') {
      this.answer(res, 200, {listening: true})
      return
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST, GET')
      this.answer(res, 405, {error: {code: 'METHOD_NOT_ALLOWED', message: 'deliveries are POSTed'}})
      return
    }
    if (this.stopping) {
      this.answer(res, 503, {error: {code: 'SERVICE_UNAVAILABLE', message: 'the listener is stopping'}})
      return
    }
    this.inFlight++
    this.summary.received++
    if (this.options.maxEvents !== undefined && this.summary.received >= this.options.maxEvents) this.stopping = true
    try {
      await this.receive(req, res)
    } finally {
      this.inFlight--
      if (this.stopping) this.stop()
      this.wake?.()
    }
  }

  private async receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = new Date(this.options.now()).toISOString()
    const limit = this.options.maxBodyBytes ?? 1024 * 1024
    const chunks: Buffer[] = []
    let size = 0
    try {
      for await (const chunk of req) {
        size += (chunk as Buffer).length
        if (size > limit) {
          this.answer(res, 413, {error: {code: 'PAYLOAD_TOO_LARGE', message: `bodies up to ${limit} bytes`}})
          req.destroy()
          this.summary.invalid++
          this.push({receivedAt, method: 'POST', path: req.url ?? '/', signature: 'invalid', reason: `body larger than ${limit} bytes`, response: 413, body: null})
          return
        }
        chunks.push(chunk as Buffer)
      }
    } catch {
      return // the sender went away mid-body: nothing was delivered
    }
    const raw = Buffer.concat(chunks)
    const body = describeBody(raw)
    const timestamp = header(req, 'x-webhook-timestamp')
    const event: ReceivedDelivery = {
      receivedAt,
      method: 'POST',
      path: req.url ?? '/',
      deliveryId: header(req, 'x-webhook-id'),
      eventId: pick(body, 'id'),
      type: header(req, 'x-webhook-event') ?? pick(body, 'type', 'event_type', 'event'),
      signature: 'unverified',
      ...(timestamp !== undefined ? {timestamp} : {}),
      response: 200,
      body,
    }
    if (this.options.secret !== undefined) {
      const verdict = verifySignature({
        secret: this.options.secret,
        timestamp,
        signature: header(req, 'x-webhook-signature'),
        body: raw,
        toleranceMs: this.options.toleranceMs,
        now: this.options.now(),
      })
      event.signature = verdict.valid ? 'valid' : 'invalid'
      if (verdict.reason) event.reason = verdict.reason
    }
    this.summary[event.signature]++
    if (event.signature === 'invalid') {
      event.response = 400
      this.answer(res, 400, {error: {code: 'INVALID_SIGNATURE', message: event.reason}})
      this.push(event)
      return
    }
    if (this.options.forwardTo) {
      event.forward = await this.forward(req, raw)
      if (event.forward.error !== undefined || (event.forward.status ?? 0) >= 400) this.summary.forwardFailed++
      else this.summary.forwarded++
    }
    this.answer(res, 200, {received: true})
    this.push(event)
  }

  /**
   * The same bytes and signature headers, so the local app verifies exactly what was sent.
   * node:http rather than fetch: fetch refuses "bad ports" (6000, 5060, …) a local app may use.
   */
  private async forward(req: IncomingMessage, raw: Buffer): Promise<ForwardResult> {
    const target = this.options.forwardTo!
    const headers: Record<string, string | number> = {}
    for (const [name, value] of Object.entries(req.headers)) {
      if (SIGNED_HEADERS.test(name) && value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
    }
    headers['content-length'] = raw.length
    const started = performance.now()
    const elapsed = () => Math.round(performance.now() - started)
    const secure = target.protocol === 'https:'
    const proxy = this.options.forwardProxy
    let {request} = secure ? await import('node:https') : await import('node:http')
    let location: URL | undefined = target
    let options: import('node:https').RequestOptions = {method: 'POST', headers, ...(secure && this.options.forwardCa ? {ca: this.options.forwardCa} : {})}
    if (proxy && secure) options.agent = await tunnelAgent(target, proxy, this.options.forwardCa)
    else if (proxy) {
      // Plain http goes to the proxy as an absolute-URI request, the form every HTTP proxy takes.
      const via = new URL(proxy)
      request = (via.protocol === 'https:' ? await import('node:https') : await import('node:http')).request
      const auth = via.username ? {'proxy-authorization': `Basic ${Buffer.from(`${decodeURIComponent(via.username)}:${decodeURIComponent(via.password)}`).toString('base64')}`} : {}
      options = {...options, host: via.hostname, port: via.port || (via.protocol === 'https:' ? 443 : 80), path: target.href, headers: {...headers, host: target.host, ...auth}, ...(this.options.forwardCa ? {ca: this.options.forwardCa} : {})}
      location = undefined
    }
    return new Promise<ForwardResult>((resolve) => {
      let timer: NodeJS.Timeout | undefined
      const done = (result: Omit<ForwardResult, 'url' | 'durationMs'>) => {
        clearTimeout(timer)
        resolve({url: target.href, ...result, durationMs: elapsed()})
      }
      const answered = (response: IncomingMessage) => {
        response.resume()
        response.on('end', () => done({status: response.statusCode}))
        response.on('error', (error) => done({error: error.message}))
      }
      const outgoing = location ? request(location, options, answered) : request(options, answered)
      // The whole exchange is bounded, not just the idle time between bytes.
      timer = setTimeout(() => {
        outgoing.destroy()
        done({error: `no answer within ${this.options.forwardTimeoutMs} ms`})
      }, this.options.forwardTimeoutMs)
      outgoing.on('error', (error: NodeJS.ErrnoException) => done({error: proxyFailure(error)?.message ?? error.code ?? error.message}))
      outgoing.end(raw)
    })
  }
}

export function describeSummary(s: ListenSummary): string {
  const parts = [`received ${s.received} deliver${s.received === 1 ? 'y' : 'ies'}`]
  const checks = [s.valid ? `${s.valid} valid` : '', s.invalid ? `${s.invalid} invalid` : '', s.unverified ? `${s.unverified} unverified` : ''].filter(Boolean)
  if (checks.length > 0) parts[0] += ` (${checks.join(', ')})`
  if (s.forwarded + s.forwardFailed > 0) parts.push(`forwarded ${s.forwarded} ok${s.forwardFailed ? `, ${s.forwardFailed} failed` : ''}`)
  return parts.join('; ')
}

type Paint = (text: string, style: 'red' | 'green' | 'yellow' | 'dim') => string

export function deliveryLine(event: ReceivedDelivery, paint: Paint = (t) => t): string {
  const check = event.signature === 'valid'
    ? paint('signature valid', 'green')
    : event.signature === 'invalid' ? paint(`signature INVALID: ${event.reason}`, 'red') : paint('unverified', 'yellow')
  const forward = event.forward
    ? event.forward.error !== undefined
      ? paint(`→ forward failed: ${event.forward.error}`, 'red')
      : `→ ${event.forward.status} from ${event.forward.url} (${event.forward.durationMs} ms)`
    : ''
  return [event.receivedAt, event.type ?? '-', event.deliveryId ?? event.eventId ?? '-', check, `answered ${event.response}`, forward].filter(Boolean).join('  ')
}
