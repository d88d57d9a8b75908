import type {Column} from '../../output/result.js'
import type {Capsule} from './capsules.js'

/** A short, one-line view of a payload for tables. */
export function payloadSummary(payload: unknown, max = 48): string {
  if (payload === undefined || payload === null) return ''
  const text = typeof payload === 'object'
    ? Object.entries(payload as Record<string, unknown>).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ')
    : String(payload)
  return text.length > max ? text.slice(0, max - 1) + '…' : text
}

export const capsuleColumns: Column<Capsule>[] = [
  {key: 'id', header: 'ID', get: (c) => c.id},
  {key: 'scopeId', header: 'SCOPE', get: (c) => c.scopeId},
  {key: 'timestamp', header: 'TIMESTAMP', get: (c) => c.timestamp, time: true},
  {key: 'resolution', header: 'RES', get: (c) => c.resolution},
  {key: 'version', header: 'VER', get: (c) => c.version},
  {key: 'payload', header: 'PAYLOAD', get: (c) => payloadSummary(c.payload)},
  {key: 'createdAt', header: 'CREATED', get: (c) => c.createdAt, time: true},
]

/** What a table shows without --columns: enough to tell capsules apart at a glance. */
export const capsuleDefaultColumns = ['id', 'scopeId', 'timestamp', 'version', 'payload']

export const capsuleFields: Column<Capsule>[] = [
  {key: 'id', header: 'ID', get: (c) => c.id},
  {key: 'scopeId', header: 'Scope', get: (c) => c.scopeId},
  {key: 'timestamp', header: 'Timestamp', get: (c) => c.timestamp, time: true},
  {key: 'resolution', header: 'Resolution', get: (c) => c.resolution},
  {key: 'version', header: 'Version', get: (c) => c.version},
  {key: 'createdAt', header: 'Created', get: (c) => c.createdAt, time: true},
  {key: 'payload', header: 'Payload', get: (c) => (c.payload === undefined ? undefined : JSON.stringify(c.payload))},
]
