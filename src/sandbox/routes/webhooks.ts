// Webhooks (contract §3, operational): endpoint CRUD (the secret is shown once, on create),
// deliveries with a status filter and pages, manual retry (202; 409 for delivered or
// pending), and a test delivery attempted before answering.
import {randomBytes} from 'node:crypto'
import {iso} from '../clock.js'
import type {ApiRequest, ApiRoute, Core} from '../core.js'
import {conflict, meta, notFound} from '../wire.js'
import {publicDelivery, publicWebhook, type DeliveryStatus, type Webhook} from '../records.js'
import {retryConflict} from '../retry-schedule.js'
import {newId} from '../webhook-dispatcher.js'
import {CAPSULE_ID, pageOf, parsePaging, Problems} from '../validation.js'

const STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'failed', 'dead_lettered']
const EVENT_TYPE = /^[A-Za-z0-9_.*-]{1,100}$/

function idParam(req: ApiRequest, name = 'id'): string {
  const id = req.params[name]
  if (!CAPSULE_ID.test(id)) {
    const problems = new Problems()
    problems.add(name, 'must match pattern ^[A-Za-z0-9_-]{1,64}$')
    problems.throwIfAny()
  }
  return id
}

function findWebhook(core: Core, id: string): Webhook {
  const webhook = core.store.webhooks.get(id)
  if (!webhook) throw notFound(`webhook ${id} not found`)
  return webhook
}

interface WebhookInput {
  name?: string
  url?: string
  events?: string[]
  is_active?: boolean
}

function validateWebhook(body: unknown, creating: boolean): WebhookInput {
  const problems = new Problems()
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    problems.add('body', 'must be a JSON object with name, url and events')
    problems.throwIfAny()
  }
  const b = body as Record<string, unknown>
  const out: WebhookInput = {}
  if (b.name !== undefined || creating) {
    if (typeof b.name !== 'string' || b.name.trim() === '' || b.name.length > 200) problems.add('name', 'is required: 1 to 200 characters')
    else out.name = b.name
  }
  if (b.url !== undefined || creating) {
    let ok = false
    if (typeof b.url === 'string') {
      try {
        const u = new URL(b.url)
        ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== ''
      } catch {
        ok = false
      }
    }
    if (!ok) problems.add('url', 'is required: an absolute http or https URL')
    else out.url = b.url as string
  }
  if (b.events !== undefined || creating) {
    if (!Array.isArray(b.events) || b.events.length === 0 || b.events.some((e) => typeof e !== 'string' || !EVENT_TYPE.test(e))) {
      problems.add('events', 'is required: a non-empty array of event types such as capsule.created ("*" for all)')
    } else {
      out.events = [...new Set(b.events as string[])]
    }
  }
  if (b.is_active !== undefined) {
    if (typeof b.is_active !== 'boolean') problems.add('is_active', 'must be true or false')
    else out.is_active = b.is_active
  }
  if (!creating && Object.keys(out).length === 0 && problems.details.length === 0) problems.add('body', 'names nothing to change (name, url, events, is_active)')
  problems.throwIfAny()
  return out
}

export function webhookRoutes(core: Core): ApiRoute[] {
  const {store} = core
  return [
    {
      method: 'GET', pattern: '/webhooks', scope: 'webhooks:read', apiClass: 'query', envelope: false,
      handler: () => ({status: 200, data: {webhooks: [...store.webhooks.values()].sort((a, b) => (a.created_at < b.created_at ? -1 : 1)).map(publicWebhook)}}),
    },
    {
      method: 'POST', pattern: '/webhooks', scope: 'webhooks:write', apiClass: 'write', envelope: false,
      handler: (req) => {
        const input = validateWebhook(req.body, true)
        const now = iso(core.clock.now())
        const webhook = store.webhooks.set({
          id: newId('wh_', 10),
          name: input.name as string,
          url: input.url as string,
          events: input.events as string[],
          is_active: input.is_active ?? true,
          is_healthy: true,
          created_at: now,
          updated_at: now,
          secret: `whsec_${randomBytes(24).toString('base64url')}`,
        })
        return {status: 201, data: {...publicWebhook(webhook), secret: webhook.secret}, headers: {location: `/webhooks/${webhook.id}`}}
      },
    },
    {
      method: 'GET', pattern: '/webhooks/:id', scope: 'webhooks:read', apiClass: 'query', envelope: false,
      handler: (req) => ({status: 200, data: publicWebhook(findWebhook(core, idParam(req)))}),
    },
    {
      method: 'PUT', pattern: '/webhooks/:id', scope: 'webhooks:write', apiClass: 'write', envelope: false,
      handler: (req) => {
        const webhook = findWebhook(core, idParam(req))
        const input = validateWebhook(req.body, false)
        const updated = store.webhooks.set({...webhook, ...input, seeded: input.url === undefined ? webhook.seeded : undefined, updated_at: iso(core.clock.now())})
        return {status: 200, data: publicWebhook(updated)}
      },
    },
    {
      method: 'DELETE', pattern: '/webhooks/:id', scope: 'webhooks:write', apiClass: 'write', envelope: false,
      handler: (req) => {
        const webhook = findWebhook(core, idParam(req))
        store.webhooks.delete(webhook.id)
        for (const d of [...store.deliveries.values()]) if (d.webhook_id === webhook.id) store.deliveries.delete(d.id)
        return {status: 204}
      },
    },
    {
      method: 'GET', pattern: '/webhooks/:id/deliveries', scope: 'webhooks:read', apiClass: 'query', envelope: false,
      handler: (req) => {
        const problems = new Problems()
        const id = idParam(req)
        const status = req.query.get('status') ?? undefined
        if (status !== undefined && !STATUSES.includes(status as DeliveryStatus)) problems.add('status', `must be one of ${STATUSES.join(', ')}`)
        const paging = parsePaging(req.query, problems)
        problems.throwIfAny()
        findWebhook(core, id)
        const deliveries = [...store.deliveries.values()]
          .filter((d) => d.webhook_id === id && (status === undefined || d.status === status))
          .sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : a.id < b.id ? 1 : -1))
        const {items, pagination} = pageOf(deliveries, paging)
        return {status: 200, data: {deliveries: items.map(publicDelivery), meta: meta(req.requestId, core.clock.now(), pagination)}}
      },
    },
    {
      method: 'POST', pattern: '/webhooks/:id/test', scope: 'webhooks:write', apiClass: 'write', envelope: false,
      handler: async (req) => {
        const webhook = findWebhook(core, idParam(req))
        const event = store.events.set({id: newId('evt_', 12), type: 'webhook.test', scopeId: null, timestamp: iso(core.clock.now()), data: {webhookId: webhook.id, message: 'This is a test delivery from the BUTTERFLY sandbox.'}})
        const delivery = await core.dispatcher.test(webhook, event)
        return {status: 200, data: publicDelivery(delivery)}
      },
    },
    {
      method: 'POST', pattern: '/webhooks/deliveries/:id/retry', scope: 'webhooks:write', apiClass: 'write', envelope: false,
      handler: (req) => {
        const id = idParam(req)
        const delivery = store.deliveries.get(id)
        if (!delivery || !store.webhooks.has(delivery.webhook_id)) throw notFound(`delivery ${id} not found`)
        const reason = retryConflict(delivery)
        if (reason) throw conflict(reason)
        const queued = core.dispatcher.retry(delivery)
        return {status: 202, data: {...publicDelivery(queued), id: queued.id, status: 'pending', attempts: queued.attempts, queued_at: queued.queued_at}}
      },
    },
  ]
}
