// Real webhook deliveries: every event a webhook subscribes to becomes a signed POST to its
// URL; failures follow the retry schedule (scaled by timeScale) into the dead-letter queue.
// Every outbound request has a deadline, and close() aborts whatever is still in flight.
import * as http from 'node:http'
import * as https from 'node:https'
import {randomBytes} from 'node:crypto'
import {iso, type SandboxClock} from './clock.js'
import {type Delivery, type PlatformEvent, type Webhook} from './records.js'
import {afterAttempt, type AttemptOutcome, MAX_ATTEMPTS} from './retry-schedule.js'
import type {Store} from './store.js'
import {signatureHeaders} from './webhook-signature.js'

export interface DispatcherOptions {
  store: Store
  clock: SandboxClock
  /** Deadline of one attempt, connect to last byte. */
  timeoutMs: number
  /** Longest a timer sleeps before re-checking due deliveries (keeps an injected clock honest). */
  maxSleepMs?: number
  /** Replaces the HTTP POST (unit tests drive the schedule without a network). */
  send?: (request: OutboundDelivery) => Promise<AttemptOutcome>
}

export interface OutboundDelivery {
  url: string
  headers: Record<string, string>
  body: string
  timeoutMs: number
  signal: AbortSignal
}

const MAX_RESPONSE_BYTES = 64 * 1024

export function eventBody(event: PlatformEvent): string {
  return JSON.stringify({id: event.id, type: event.type, created_at: event.timestamp, data: {...event.data, ...(event.scopeId ? {scopeId: event.scopeId} : {})}})
}

export function subscribes(webhook: Webhook, type: string): boolean {
  return webhook.events.includes(type) || webhook.events.includes('*')
}

export function newId(prefix: string, bytes = 8): string {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
  let out = ''
  for (const b of randomBytes(bytes)) out += alphabet[b & 31]
  return `${prefix}${out}`
}

export class WebhookDispatcher {
  private readonly options: DispatcherOptions
  private readonly agentHttp = new http.Agent({keepAlive: true, maxSockets: 16})
  private readonly agentHttps = new https.Agent({keepAlive: true, maxSockets: 16})
  private readonly aborter = new AbortController()
  private readonly inFlight = new Map<string, Promise<Delivery>>()
  private timer?: NodeJS.Timeout
  private closed = false

  constructor(options: DispatcherOptions) {
    this.options = options
  }

  start(): void {
    this.arm()
  }

  /** One delivery per active webhook subscribed to the event, first attempt at once. */
  publish(event: PlatformEvent): Delivery[] {
    const created: Delivery[] = []
    for (const webhook of this.options.store.webhooks.values()) {
      if (!webhook.is_active || !subscribes(webhook, event.type)) continue
      const delivery = this.create(webhook, event)
      created.push(delivery)
      void this.attempt(delivery.id)
    }
    return created
  }

  /** `POST /webhooks/{id}/test`: a webhook.test delivery, attempted before answering. */
  async test(webhook: Webhook, event: PlatformEvent): Promise<Delivery> {
    const delivery = this.create(webhook, event)
    return this.attempt(delivery.id)
  }

  /** A manual retry: back to pending and attempted at once; the caller checked for conflicts. */
  retry(delivery: Delivery): Delivery {
    const now = this.options.clock.now()
    const queued = this.options.store.deliveries.set({...delivery, status: 'pending', next_attempt_at: iso(now), next_attempt_ms: undefined, queued_at: iso(now)})
    void this.attempt(delivery.id)
    return queued
  }

  /** Attempt every failed delivery whose time has come. */
  async runDue(): Promise<void> {
    const now = this.options.clock.now()
    const due: string[] = []
    for (const d of this.options.store.deliveries.values()) {
      if (d.status !== 'failed' || d.next_attempt_ms === undefined || d.next_attempt_ms > now) continue
      const webhook = this.options.store.webhooks.get(d.webhook_id)
      if (!webhook?.is_active) continue
      due.push(d.id)
    }
    await Promise.all(due.map((id) => this.attempt(id)))
  }

  /** Resolves when no attempt is in flight. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()])
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.aborter.abort()
    await Promise.allSettled([...this.inFlight.values()])
    this.agentHttp.destroy()
    this.agentHttps.destroy()
  }

  private create(webhook: Webhook, event: PlatformEvent): Delivery {
    const now = this.options.clock.now()
    return this.options.store.deliveries.set({
      id: newId('dlv_', 12),
      webhook_id: webhook.id,
      event_type: event.type,
      event_id: event.id,
      status: 'pending',
      attempts: 0,
      max_attempts: MAX_ATTEMPTS,
      last_attempt_at: null,
      next_attempt_at: iso(now),
      response_status_code: null,
      duration_ms: null,
      error: null,
      created_at: iso(now),
      body: eventBody(event),
    })
  }

  private attempt(id: string): Promise<Delivery> {
    const running = this.inFlight.get(id)
    if (running) return running
    const promise = this.run(id).finally(() => {
      this.inFlight.delete(id)
      this.arm()
    })
    this.inFlight.set(id, promise)
    return promise
  }

  private async run(id: string): Promise<Delivery> {
    const {store, clock} = this.options
    const delivery = store.deliveries.get(id)
    const webhook = delivery && store.webhooks.get(delivery.webhook_id)
    if (!delivery || !webhook || this.closed) return delivery as Delivery
    const outcome = await this.post(webhook, delivery)
    // The webhook may have been deleted, or the delivery retried, while we waited.
    const current = store.deliveries.get(id)
    if (!current || this.closed) return current ?? delivery
    const updated = store.deliveries.set(afterAttempt(current, outcome, clock.now(), clock.timeScale))
    const w = store.webhooks.get(webhook.id)
    if (w && w.is_healthy !== outcome.ok) store.webhooks.set({...w, is_healthy: outcome.ok})
    return updated
  }

  private post(webhook: Webhook, delivery: Delivery): Promise<AttemptOutcome> {
    const {clock, timeoutMs} = this.options
    const body = delivery.body
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'user-agent': 'BUTTERFLY-Webhooks/1.0 (bfly sandbox)',
      'x-webhook-id': delivery.id,
      'x-webhook-event': delivery.event_type,
      ...signatureHeaders(webhook.secret, Math.floor(clock.now() / 1000), body),
    }
    const request = {url: webhook.url, headers, body, timeoutMs, signal: this.aborter.signal}
    return this.options.send ? this.options.send(request) : this.httpPost(request)
  }

  private httpPost({url: target, headers, body, timeoutMs, signal}: OutboundDelivery): Promise<AttemptOutcome> {
    const started = performance.now()
    const elapsed = () => performance.now() - started
    return new Promise((resolve) => {
      let settled = false
      const finish = (outcome: AttemptOutcome) => {
        if (settled) return
        settled = true
        clearTimeout(deadline)
        resolve(outcome)
      }
      let url: URL
      try {
        url = new URL(target)
      } catch {
        resolve({ok: false, statusCode: null, durationMs: 0, error: `invalid URL ${target}`})
        return
      }
      const secure = url.protocol === 'https:'
      const request = (secure ? https : http).request(url, {method: 'POST', agent: secure ? this.agentHttps : this.agentHttp, signal, headers})
      const deadline = setTimeout(() => {
        request.destroy(new Error(`timed out after ${timeoutMs} ms`))
      }, timeoutMs)
      request.on('response', (response) => {
        let received = 0
        response.on('data', (chunk: Buffer) => {
          received += chunk.length
          if (received > MAX_RESPONSE_BYTES) response.destroy()
        })
        const done = () => {
          const status = response.statusCode ?? 0
          const ok = status >= 200 && status < 300
          finish({ok, statusCode: status, durationMs: elapsed(), error: ok ? null : `upstream returned ${status}`})
        }
        response.on('end', done)
        response.on('close', done)
        response.on('error', done)
      })
      request.on('error', (error: Error & {code?: string}) => {
        finish({ok: false, statusCode: null, durationMs: elapsed(), error: error.name === 'AbortError' ? 'sandbox shutting down' : error.code ? `${error.code}: ${error.message}` : error.message})
      })
      request.end(body)
    })
  }

  /** Sleep until the earliest scheduled attempt (bounded, so an injected clock is re-read). */
  private arm(): void {
    if (this.closed) return
    if (this.timer) clearTimeout(this.timer)
    let earliest = Infinity
    for (const d of this.options.store.deliveries.values()) {
      if (d.status !== 'failed' || d.next_attempt_ms === undefined || d.next_attempt_ms >= earliest || this.inFlight.has(d.id)) continue
      if (this.options.store.webhooks.get(d.webhook_id)?.is_active) earliest = d.next_attempt_ms
    }
    if (earliest === Infinity) return
    const wait = Math.min(Math.max(0, earliest - this.options.clock.now()), this.options.maxSleepMs ?? 1000)
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.runDue().finally(() => this.arm())
    }, wait)
    this.timer.unref()
  }
}
