import type {Context} from '../../context.js'
import {capsuleId, segment} from '../ids.js'

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

export async function getCapsule(ctx: Context, id: string): Promise<Capsule> {
  capsuleId(id)
  const api = await ctx.api()
  const response = await api.request<Capsule>({path: `/api/v1/capsules/${segment(id)}`})
  return response.data
}
