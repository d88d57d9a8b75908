import assert from 'node:assert/strict'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {PassThrough} from 'node:stream'
import {describe, test} from 'node:test'
import {jsonErrorOffset, parsePayload, readPayload} from '../../../dist/services/capsules/payload.js'
import {capsuleTimestamp, idempotencyKey} from '../../../dist/services/capsules/create.js'

const usage = (pattern: RegExp) => (e: {exitCode: number; message: string; hint?: string}) => {
  assert.equal(e.exitCode, 2)
  assert.match(`${e.message} — ${e.hint ?? ''}`, pattern)
  return true
}

describe('payload', () => {
  test('a JSON object passes through as is', () => {
    assert.deepEqual(parsePayload({origin: '--payload', text: '\uFEFF {"price": 1.0842, "tags": ["a"], "n": null}\n'}), {price: 1.0842, tags: ['a'], n: null})
  })
  test('malformed JSON: exit 2 naming the line and column of the first error', () => {
    assert.throws(() => parsePayload({origin: '--payload', text: '{"price": 1.08,}'}), usage(/^invalid JSON in --payload at line 1, column 16: Expected double-quoted property name/))
    assert.throws(() => parsePayload({origin: '@capsule.json', text: '{\n  "price": tru\n}'}), usage(/^invalid JSON in @capsule\.json at line 2, column 15: Unexpected token '\\n'|^invalid JSON in @capsule\.json at line 2, column 15/))
    assert.throws(() => parsePayload({origin: 'stdin', text: '{"a": 1'}), usage(/at line 1, column 8: .*near the end of the input/))
    assert.throws(() => parsePayload({origin: 'stdin', text: ''}), usage(/at line 1, column 1: Unexpected end of input/))
  })
  test('the payload must be an object', () => {
    assert.throws(() => parsePayload({origin: '--payload', text: '[1,2]'}), usage(/must be a JSON object, not an array/))
    assert.throws(() => parsePayload({origin: '--payload', text: 'null'}), usage(/not null/))
    assert.throws(() => parsePayload({origin: '--payload', text: '"x"'}), usage(/not a string/))
  })
  test('the error offset agrees with V8 wherever V8 gives one', () => {
    const cases = ['{x}', '{"a":1,}', '{"a":1', '[1 2]', '{"a":1}x', '"abc', '{"a":\n 01}', '{"a":"\\q"}', '{"a":"\\u12G4"}', '[-]', '{"a":1e}', '\t[true, fals]']
    for (const text of cases) {
      let position: number | undefined
      try {
        JSON.parse(text)
      } catch (error) {
        const match = /at position (\d+)/.exec((error as Error).message)
        position = match ? Number(match[1]) : undefined
      }
      const offset = jsonErrorOffset(text)
      if (position !== undefined) assert.equal(offset, position, `offset in ${JSON.stringify(text)}`)
      else assert.ok(offset <= text.length, `offset in ${JSON.stringify(text)}`)
    }
    assert.equal(jsonErrorOffset('{"a": tru}'), 9, 'where "true" goes wrong')
    assert.equal(jsonErrorOffset('{"ok": [1, {"b": "c"}]}'), 23, 'valid JSON: no error before the end')
  })
  test('@file and - (stdin) are read; an unreadable file is a usage error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bfly-payload-'))
    writeFileSync(join(dir, 'p.json'), '{"a":1}')
    assert.deepEqual(await readPayload(`@${join(dir, 'p.json')}`, new PassThrough()), {origin: `@${join(dir, 'p.json')}`, text: '{"a":1}'})
    await assert.rejects(readPayload(`@${join(dir, 'missing.json')}`, new PassThrough()), usage(/cannot read --payload @.*missing\.json: ENOENT/))
    await assert.rejects(readPayload('@', new PassThrough()), usage(/needs a file name/))
    const stdin = new PassThrough()
    stdin.end('{"from":"stdin"}')
    assert.deepEqual(await readPayload('-', stdin), {origin: 'stdin', text: '{"from":"stdin"}'})
    const tty = Object.assign(new PassThrough(), {isTTY: true})
    await assert.rejects(readPayload('-', tty), usage(/reads JSON from stdin, which is a terminal/))
  })
})

describe('create inputs', () => {
  test('idempotency keys: generated per create, or 1-255 visible ASCII', () => {
    let n = 0
    assert.equal(idempotencyKey(undefined, () => `gen-${++n}`), 'gen-1')
    assert.equal(idempotencyKey(undefined, () => `gen-${++n}`), 'gen-2')
    assert.match(idempotencyKey(undefined), /^[0-9a-f-]{36}$/)
    assert.equal(idempotencyKey('order-42'), 'order-42')
    for (const bad of ['', 'has space', 'x'.repeat(256), 'tab\there']) assert.throws(() => idempotencyKey(bad), usage(/invalid --idempotency-key/))
  })
  test('timestamps: RFC 3339, now, or a duration ago', () => {
    const now = () => Date.parse('2025-12-03T10:00:00.123Z')
    assert.equal(capsuleTimestamp('now', now), '2025-12-03T10:00:00Z')
    assert.equal(capsuleTimestamp('2025-12-03T11:00:00+01:00', now), '2025-12-03T10:00:00Z')
    assert.throws(() => capsuleTimestamp('tomorrow', now), usage(/invalid --timestamp "tomorrow"/))
  })
})
