// Events (contract §3): newest first by default, filter by type (and scope and time).
import {EVENT_SORT_FIELDS, type ApiRoute, type Core} from '../core.js'
import {checkScopeId, pageOf, parsePaging, parseSort, parseTimeRange, Problems} from '../validation.js'

export function eventRoutes(core: Core): ApiRoute[] {
  return [
    {
      method: 'GET', pattern: '/api/v1/events', scope: 'events:read', apiClass: 'query', envelope: true,
      handler: (req) => {
        const problems = new Problems()
        const type = req.query.get('type') ?? undefined
        if (type !== undefined && !/^[A-Za-z0-9_.*-]{1,100}$/.test(type)) problems.add('type', 'must be an event type such as capsule.created')
        const scopeId = req.query.get('scopeId') ?? undefined
        if (scopeId !== undefined) checkScopeId(scopeId, 'scopeId', problems)
        const range = parseTimeRange(req.query, problems)
        const paging = parsePaging(req.query, problems)
        const sort = parseSort(req.query, EVENT_SORT_FIELDS, {field: 'timestamp', direction: 'desc'}, problems)
        problems.throwIfAny()
        const prefix = type?.endsWith('*') ? type.slice(0, -1) : undefined
        const sorted = core.eventViews.sorted(sort.field, sort.direction)
        const filtered =
          type === undefined && scopeId === undefined && range.from === undefined && range.to === undefined
            ? sorted
            : sorted.filter((e) => {
                if (type !== undefined && (prefix !== undefined ? !e.type.startsWith(prefix) : e.type !== type)) return false
                if (scopeId !== undefined && e.scopeId !== scopeId) return false
                const t = Date.parse(e.timestamp)
                return (range.from === undefined || t >= range.from) && (range.to === undefined || t < range.to)
              })
        const {items, pagination} = pageOf(filtered, paging)
        return {status: 200, data: items, pagination}
      },
    },
  ]
}
