// Platform events (contract §3): newest first unless --sort says otherwise.
import {type ListQueryInput, parseListQuery, type Walk, walkList} from '../../api/list-query.js'
import type {Context} from '../../context.js'
import {UsageError} from '../../errors.js'
import {scopeId} from '../ids.js'

export interface PlatformEvent {
  id: string
  type: string
  scopeId?: string
  timestamp: string
  data?: Record<string, unknown>
  [key: string]: unknown
}

export const EVENT_SORT_FIELDS = ['timestamp', 'type', 'id'] as const

/** An event type such as `capsule.created`, or a prefix ending in `*` (`capsule.*`). */
export const EVENT_TYPE = /^[A-Za-z0-9_.-]{1,100}\*?$/

export interface EventListInput extends ListQueryInput {
  type?: string
  scopeId?: string
}

export function listEvents(ctx: Context, input: EventListInput): Walk<PlatformEvent> {
  if (input.type !== undefined && !EVENT_TYPE.test(input.type)) {
    throw new UsageError(`invalid --type "${input.type}": an event type such as capsule.created (letters, digits, _ . -), optionally ending in *`)
  }
  if (input.scopeId !== undefined) scopeId(input.scopeId)
  const q = parseListQuery(input, {sortFields: EVENT_SORT_FIELDS, now: ctx.now})
  return walkList<PlatformEvent>(() => ctx.api(), q, {
    path: '/api/v1/events',
    filters: {type: input.type, scopeId: input.scopeId},
    noun: 'events',
    signal: ctx.signal,
  })
}
