// Capsules and history (contract §3): list with scope and time filters, sort and pages;
// get, create (201, Idempotency-Key honoured by the pipeline), delete (204).
import {iso} from '../clock.js'
import {CAPSULE_SORT_FIELDS, type ApiRequest, type ApiRoute, type Core} from '../core.js'
import {conflict, notFound} from '../wire.js'
import type {Capsule} from '../records.js'
import {newId} from '../webhook-dispatcher.js'
import {
  CAPSULE_ID,
  CAPSULE_ID_MESSAGE,
  checkScopeId,
  pageOf,
  parseInstant,
  parsePaging,
  parseSort,
  parseTimeRange,
  Problems,
  SCOPE_ID,
  SCOPE_ID_MESSAGE,
  type Sort,
} from '../validation.js'

function listCapsules(core: Core, req: ApiRequest, options: {scopeId?: string; defaultSort: Sort}) {
  const problems = new Problems()
  const scopeId = options.scopeId ?? req.query.get('scopeId') ?? undefined
  if (scopeId !== undefined) checkScopeId(scopeId, 'scopeId', problems)
  const range = parseTimeRange(req.query, problems)
  const paging = parsePaging(req.query, problems)
  const sort = parseSort(req.query, CAPSULE_SORT_FIELDS, options.defaultSort, problems)
  problems.throwIfAny()
  const sorted = core.capsuleViews.sorted(sort.field, sort.direction)
  const filtered =
    scopeId === undefined && range.from === undefined && range.to === undefined
      ? sorted
      : sorted.filter((c) => {
          if (scopeId !== undefined && c.scopeId !== scopeId) return false
          if (range.from === undefined && range.to === undefined) return true
          const t = Date.parse(c.timestamp)
          return (range.from === undefined || t >= range.from) && (range.to === undefined || t < range.to)
        })
  const {items, pagination} = pageOf(filtered, paging)
  return {status: 200, data: items, pagination}
}

function capsuleIdParam(req: ApiRequest): string {
  const id = req.params.id
  if (!CAPSULE_ID.test(id)) {
    const problems = new Problems()
    problems.add('id', CAPSULE_ID_MESSAGE)
    problems.throwIfAny()
  }
  return id
}

function validateCreate(body: unknown): {id?: string; scopeId: string; timestamp: string; resolution: number; payload: Record<string, unknown>} {
  const problems = new Problems()
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    problems.add('body', 'must be a JSON object with scopeId, timestamp and payload')
    problems.throwIfAny()
  }
  const b = body as Record<string, unknown>
  if (b.id !== undefined && (typeof b.id !== 'string' || !CAPSULE_ID.test(b.id))) problems.add('id', CAPSULE_ID_MESSAGE)
  if (typeof b.scopeId !== 'string') problems.add('scopeId', 'is required')
  else if (!SCOPE_ID.test(b.scopeId)) problems.add('scopeId', SCOPE_ID_MESSAGE)
  let timestamp: number | undefined
  if (typeof b.timestamp !== 'string') problems.add('timestamp', 'is required (RFC 3339, e.g. 2025-12-03T10:00:00Z)')
  else timestamp = parseInstant(b.timestamp, 'timestamp', problems)
  if (b.resolution !== undefined && !(Number.isInteger(b.resolution) && (b.resolution as number) >= 1 && (b.resolution as number) <= 31_622_400)) {
    problems.add('resolution', 'must be a whole number of seconds from 1 to 31622400')
  }
  if (typeof b.payload !== 'object' || b.payload === null || Array.isArray(b.payload)) problems.add('payload', 'is required and must be a JSON object')
  problems.throwIfAny()
  const ms = timestamp as number
  return {
    id: b.id as string | undefined,
    scopeId: b.scopeId as string,
    // Normalised to UTC; milliseconds kept only when given.
    timestamp: ms % 1000 === 0 ? iso(ms) : new Date(ms).toISOString(),
    resolution: (b.resolution as number | undefined) ?? 60,
    payload: b.payload as Record<string, unknown>,
  }
}

export function capsuleRoutes(core: Core): ApiRoute[] {
  return [
    {
      method: 'GET', pattern: '/api/v1/capsules', scope: 'capsules:read', apiClass: 'query', envelope: true,
      handler: (req) => listCapsules(core, req, {defaultSort: {field: 'timestamp', direction: 'asc'}}),
    },
    {
      method: 'GET', pattern: '/api/v1/capsules/:id', scope: 'capsules:read', apiClass: 'query', envelope: true,
      handler: (req) => {
        const id = capsuleIdParam(req)
        const capsule = core.store.capsules.get(id)
        if (!capsule) throw notFound(`capsule ${id} not found`)
        return {status: 200, data: capsule}
      },
    },
    {
      method: 'POST', pattern: '/api/v1/capsules', scope: 'capsules:write', apiClass: 'write', envelope: true,
      handler: (req) => {
        const input = validateCreate(req.body)
        if (input.id !== undefined && core.store.capsules.has(input.id)) throw conflict(`capsule ${input.id} already exists`)
        let id = input.id
        while (id === undefined || core.store.capsules.has(id)) id = newId('cap_', 10)
        const sameScope = core.capsuleViews.sorted('timestamp', 'asc').filter((c) => c.scopeId === input.scopeId).length
        const capsule: Capsule = {
          id,
          scopeId: input.scopeId,
          timestamp: input.timestamp,
          resolution: input.resolution,
          version: sameScope + 1,
          payload: input.payload,
          createdAt: iso(core.clock.now()),
        }
        core.store.capsules.set(capsule)
        core.publish('capsule.created', capsule.scopeId, {capsuleId: capsule.id, version: capsule.version})
        return {status: 201, data: capsule, headers: {location: `/api/v1/capsules/${encodeURIComponent(capsule.id)}`}}
      },
    },
    {
      method: 'DELETE', pattern: '/api/v1/capsules/:id', scope: 'capsules:write', apiClass: 'write', envelope: true,
      handler: (req) => {
        const id = capsuleIdParam(req)
        const capsule = core.store.capsules.get(id)
        if (!capsule) throw notFound(`capsule ${id} not found`)
        core.store.capsules.delete(id)
        core.publish('capsule.deleted', capsule.scopeId, {capsuleId: id})
        return {status: 204}
      },
    },
    {
      method: 'GET', pattern: '/api/v1/history', scope: 'history:read', apiClass: 'query', envelope: true,
      handler: (req) => listCapsules(core, req, {defaultSort: {field: 'timestamp', direction: 'desc'}}),
    },
    {
      method: 'GET', pattern: '/api/v1/history/:scopeId', scope: 'history:read', apiClass: 'query', envelope: true,
      handler: (req) => listCapsules(core, req, {scopeId: req.params.scopeId, defaultSort: {field: 'timestamp', direction: 'desc'}}),
    },
  ]
}
