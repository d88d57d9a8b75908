// What a human sees: a table with id, scope, timestamp (local time), version and a payload
// summary on a terminal; RFC 3339 as sent in a pipe.
import assert from 'node:assert/strict'
import {PassThrough} from 'node:stream'
import {describe, test} from 'node:test'
import {IO} from '../../../dist/output/io.js'
import {render} from '../../../dist/output/render.js'
import {list} from '../../../dist/output/result.js'
import {capsuleColumns, capsuleDefaultColumns, payloadSummary} from '../../../dist/services/capsules/columns.js'
import {eventColumns} from '../../../dist/services/events/columns.js'

function streams(tty: boolean) {
  let out = ''
  let err = ''
  const stdout = Object.assign(new PassThrough(), {isTTY: tty, columns: 200})
  const stderr = Object.assign(new PassThrough(), {isTTY: tty, columns: 200})
  stdout.on('data', (d) => (out += d))
  stderr.on('data', (d) => (err += d))
  return {io: new IO({stdout, stderr, stdin: new PassThrough()}, {NO_COLOR: '1'}), out: () => out, err: () => err}
}

const capsule = {id: 'cap_1', scopeId: 'rim:entity:finance:EURUSD', timestamp: '2025-12-03T10:00:00Z', resolution: 60, version: 3, payload: {price: 1.0842, regime: 'calm', note: 'a rather long remark that will not fit'}, createdAt: '2025-12-03T10:00:02Z'}

describe('capsule columns', () => {
  test('on a terminal: a table of id, scope, timestamp in local time, version, payload summary', async () => {
    process.env.TZ = 'America/New_York'
    const s = streams(true)
    await render(s.io, list([capsule], capsuleColumns, {defaultColumns: capsuleDefaultColumns}), {json: false, ndjson: false})
    const text = s.out()
    assert.match(text, /│ ID\s+│ SCOPE\s+│ TIMESTAMP\s+│ VER │ PAYLOAD\s+│/)
    assert.match(text, /│ cap_1 │ rim:entity:finance:EURUSD │ 2025-12-03 05:00:00 │ 3\s+│ price=1\.0842 regime=calm note=a rather long rem… │/)
    assert.doesNotMatch(text, /10:00:00Z/)
  })

  test('in a pipe: tab-separated RFC 3339 as sent, one row per item', async () => {
    process.env.TZ = 'America/New_York'
    const s = streams(false)
    await render(s.io, list([capsule], capsuleColumns, {defaultColumns: capsuleDefaultColumns}), {json: false, ndjson: false, columns: ['id', 'timestamp', 'createdAt']})
    assert.equal(s.out(), 'cap_1\t2025-12-03T10:00:00Z\t2025-12-03T10:00:02Z\n')
  })

  test('payload summaries are one line and bounded', () => {
    assert.equal(payloadSummary({a: 1, b: {c: [1, 2]}}), 'a=1 b={"c":[1,2]}')
    assert.equal(payloadSummary({text: 'x'.repeat(100)}).length, 48)
    assert.equal(payloadSummary(undefined), '')
  })

  test('events: id, type, scope, timestamp, data', async () => {
    const s = streams(false)
    await render(s.io, list([{id: 'evt_1', type: 'capsule.created', scopeId: 'rim:a:b:c', timestamp: '2025-12-03T10:00:00Z', data: {capsuleId: 'cap_1'}}], eventColumns), {json: false, ndjson: false})
    assert.equal(s.out(), 'evt_1\tcapsule.created\trim:a:b:c\t2025-12-03T10:00:00Z\tcapsuleId=cap_1\n')
  })
})
