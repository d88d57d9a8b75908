// `bfly webhooks`: endpoints and their deliveries (operational endpoints: bare documents).
import type {Context} from '../../context.js'
import {BadResponseError, UsageError} from '../../errors.js'
import type {ApiResponse} from '../../api/client.js'
import type {Page} from '../../api/paginate.js'
import {opaqueId, segment} from '../ids.js'

export interface Webhook {
  id: string
  name?: string
  url?: string
  events?: string[]
  is_active?: boolean
  is_healthy?: boolean
  [key: string]: unknown
}

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'dead_lettered'] as const
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number]

export interface Delivery {
  id: string
  webhook_id?: string
  event_type?: string
  status: DeliveryStatus | string
  attempts?: number
  max_attempts?: number
  last_attempt_at?: string | null
  next_attempt_at?: string | null
  response_status_code?: number | null
  duration_ms?: number | null
  error?: string | null
  created_at?: string
  [key: string]: unknown
}

export const webhookId = (id: string) => opaqueId('webhook id', id)
export const deliveryId = (id: string) => opaqueId('delivery id', id)

export function deliveryStatus(value: string): DeliveryStatus {
  if (!(DELIVERY_STATUSES as readonly string[]).includes(value)) throw new UsageError(`invalid --status "${value}": choose from ${DELIVERY_STATUSES.join(', ')}`)
  return value as DeliveryStatus
}

/** When a delivery last did something: its last attempt, else its creation. `--since` filters on this. */
export function activityTime(delivery: Delivery): number | undefined {
  const text = delivery.last_attempt_at ?? delivery.created_at
  if (!text) return undefined
  const t = Date.parse(text)
  return Number.isNaN(t) ? undefined : t
}

export async function listWebhooks(ctx: Context): Promise<Webhook[]> {
  const api = await ctx.api()
  const response = await api.request<{webhooks?: unknown}>({path: '/webhooks'})
  if (!Array.isArray(response.data?.webhooks)) {
    throw new BadResponseError(`unreadable response from ${api.host}: /webhooks without a "webhooks" list`, {requestId: response.requestId})
  }
  return response.data.webhooks as Webhook[]
}

/** `{"deliveries":[..],"meta":{"pagination":{..}}}`: a bare document with the pagination inside. */
export function deliveriesPage(response: ApiResponse<unknown>): Page<Delivery> {
  const body = response.data as {deliveries?: unknown; meta?: {pagination?: Page<Delivery>['pagination']}} | undefined
  if (!body || !Array.isArray(body.deliveries)) {
    throw new BadResponseError(`unreadable response: ${new URL(response.url).pathname} without a "deliveries" list`, {status: response.status, requestId: response.requestId})
  }
  return {items: body.deliveries as Delivery[], pagination: body.meta?.pagination}
}

export interface DeliveryQuery {
  webhookId: string
  status?: DeliveryStatus
  /** Unix ms: only deliveries active since then. */
  since?: number
  /** Walk every page. */
  all?: boolean
  limit?: number
  page?: number
  size?: number
  onPage?: (page: number, fetched: number) => void
}

/**
 * Deliveries of one webhook, streamed page by page. The status goes to the server and is checked
 * again here (a server may ignore the filter); `since` is ours to apply.
 */
export async function* deliveries(ctx: Context, query: DeliveryQuery): AsyncGenerator<Delivery> {
  webhookId(query.webhookId)
  const api = await ctx.api()
  const {paginate} = await import('../../api/paginate.js')
  let count = 0
  const walk = paginate<Delivery>(api, {
    path: `/webhooks/${segment(query.webhookId)}/deliveries`,
    query: {status: query.status},
    size: query.size ?? (query.all || query.limit !== undefined ? 100 : undefined),
    startPage: query.page,
    single: !query.all && query.limit === undefined,
    signal: ctx.signal,
    extract: deliveriesPage,
    onPage: query.onPage,
  })
  for await (const delivery of walk) {
    if (query.status && delivery.status !== query.status) continue
    if (query.since !== undefined) {
      const t = activityTime(delivery)
      if (t === undefined || t < query.since) continue
    }
    yield delivery
    if (query.limit !== undefined && ++count >= query.limit) return
  }
}

export async function testWebhook(ctx: Context, id: string): Promise<Delivery> {
  webhookId(id)
  const api = await ctx.api()
  const response = await api.request<Delivery>({method: 'POST', path: `/webhooks/${segment(id)}/test`})
  return response.data
}
