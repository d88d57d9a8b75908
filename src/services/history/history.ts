// History (contract §3): capsules across scopes, or the history of one entity, newest first
// by default. The scope id goes into the path as one percent-encoded segment.
import {type ListQueryInput, parseListQuery, type Walk, walkList} from '../../api/list-query.js'
import type {Context} from '../../context.js'
import {CAPSULE_SORT_FIELDS, type Capsule} from '../capsules/capsules.js'
import {scopeId, segment} from '../ids.js'

export function listHistory(ctx: Context, scope: string | undefined, input: ListQueryInput): Walk<Capsule> {
  if (scope !== undefined) scopeId(scope)
  const q = parseListQuery(input, {sortFields: CAPSULE_SORT_FIELDS, now: ctx.now})
  const path = scope === undefined ? '/api/v1/history' : `/api/v1/history/${segment(scope)}`
  return walkList<Capsule>(() => ctx.api(), q, {path, noun: 'capsules', signal: ctx.signal})
}
