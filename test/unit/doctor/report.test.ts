// What doctor prints: the exact JSON shape, the aligned human list with marks on a colour
// terminal and plain ASCII words elsewhere, remedies only under checks that need them.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {renderHuman, tally, toJson} from '../../../dist/services/doctor/report.js'

const checks = [
  {name: 'node', status: 'pass' as const, detail: 'v24.1.0 (linux-x64)'},
  {name: 'credentials', status: 'warn' as const, detail: 'not logged in', remedy: 'run `bfly login`'},
  {name: 'tcp', status: 'fail' as const, detail: 'cannot connect', remedy: 'is it up?'},
  {name: 'tls', status: 'skip' as const, detail: 'no connection'},
  {name: 'clock', status: 'pass' as const, detail: 'in step', remedy: 'never shown for a pass'},
]
const plain = {color: false, paint: (t: string) => t}

test('--json: exactly name, status, detail and remedy (null when there is none)', () => {
  const json = toJson(checks)
  assert.deepEqual(Object.keys(json), ['checks'])
  for (const c of json.checks) assert.deepEqual(Object.keys(c), ['name', 'status', 'detail', 'remedy'])
  assert.equal(json.checks[0].remedy, null)
  assert.equal(json.checks[1].remedy, 'run `bfly login`')
})

test('plain ASCII: words for marks, names aligned, the remedy under warnings and failures only, a tally', () => {
  const text = renderHuman(checks, {...plain, footer: '(bfly 1.0.0, 0.3 s)'})
  assert.equal(text, [
    'pass  node         v24.1.0 (linux-x64)',
    'warn  credentials  not logged in',
    '                   -> run `bfly login`',
    'FAIL  tcp          cannot connect',
    '                   -> is it up?',
    'skip  tls          no connection',
    'pass  clock        in step',
    '',
    '1 failure, 1 warning, 2 passed, 1 skipped (bfly 1.0.0, 0.3 s)',
  ].join('\n'))
  assert.match(text, /^[\x20-\x7E\n]*$/, 'plain ASCII only')
})

test('colour terminal: ✓ ! ✗ - marks, coloured, remedies aligned under the detail', () => {
  const paint = (t: string, s: string) => `<${s}>${t}</${s}>`
  const text = renderHuman(checks, {color: true, paint})
  const lines = text.split('\n')
  assert.equal(lines[0], '<green>✓</green>  node         v24.1.0 (linux-x64)')
  assert.equal(lines[1], '<yellow>!</yellow>  credentials  not logged in')
  assert.equal(lines[2], '                <dim>→ run `bfly login`</dim>')
  assert.equal(lines[3], '<red>✗</red>  tcp          cannot connect')
  assert.equal(lines[5], '<dim>-</dim>  tls          no connection')
  // The remedy starts under the detail: mark (1) + 2 + the widest name (11) + 2.
  assert.equal(lines[2].indexOf('<dim>'), 16)
})

test('tally counts each verdict', () => {
  assert.equal(tally([checks[0]]), '0 failures, 0 warnings, 1 passed, 0 skipped')
})
