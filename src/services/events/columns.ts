import type {Column} from '../../output/result.js'
import {payloadSummary} from '../capsules/columns.js'
import type {PlatformEvent} from './events.js'

export const eventColumns: Column<PlatformEvent>[] = [
  {key: 'id', header: 'ID', get: (e) => e.id},
  {key: 'type', header: 'TYPE', get: (e) => e.type},
  {key: 'scopeId', header: 'SCOPE', get: (e) => e.scopeId},
  {key: 'timestamp', header: 'TIMESTAMP', get: (e) => e.timestamp, time: true},
  {key: 'data', header: 'DATA', get: (e) => payloadSummary(e.data)},
]
