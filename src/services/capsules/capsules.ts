// Capsules (contract §3): get, list, delete. Create lives in create.ts (payload input and
// idempotency). Ids are checked before any request and go into paths as one encoded segment.
import {type ListQueryInput, parseListQuery, type Walk, walkList} from '../../api/list-query.js'
import type {Context} from '../../context.js'
import {capsuleId, scopeId, segment} from '../ids.js'

export interface Capsule {
  id: string
  scopeId: string
  timestamp: string
  resolution?: number
  version?: number
  payload?: Record<string, unknown>
  createdAt?: string
  [key: string]: unknown
}

/** Fields the contract's capsule lists sort by. */
export const CAPSULE_SORT_FIELDS = ['timestamp', 'createdAt', 'id', 'scopeId', 'version', 'resolution'] as const

export async function getCapsule(ctx: Context, id: string): Promise<Capsule> {
  capsuleId(id)
  const api = await ctx.api()
  const response = await api.request<Capsule>({path: `/api/v1/capsules/${segment(id)}`})
  return response.data
}

export interface CapsuleListInput extends ListQueryInput {
  scopeId?: string
}

/** Validates everything first (exit 2, nothing sent), then walks lazily as the output consumes. */
export function listCapsules(ctx: Context, input: CapsuleListInput): Walk<Capsule> {
  if (input.scopeId !== undefined) scopeId(input.scopeId)
  const q = parseListQuery(input, {sortFields: CAPSULE_SORT_FIELDS, now: ctx.now})
  return walkList<Capsule>(() => ctx.api(), q, {path: '/api/v1/capsules', filters: {scopeId: input.scopeId}, noun: 'capsules', signal: ctx.signal})
}

export interface Deleted {
  id: string
  deleted: true
}

export async function deleteCapsule(ctx: Context, id: string): Promise<Deleted> {
  capsuleId(id)
  const api = await ctx.api()
  await api.request({method: 'DELETE', path: `/api/v1/capsules/${segment(id)}`})
  return {id, deleted: true}
}
