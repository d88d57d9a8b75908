import assert from 'node:assert/strict'
import {PassThrough} from 'node:stream'
import {test} from 'node:test'
import {IO} from '../../../dist/output/io.js'
import {PlanProgress} from '../../../dist/services/plans/progress.js'

function io(tty: boolean, env: NodeJS.ProcessEnv = {}) {
  let err = ''
  const stderr = Object.assign(new PassThrough(), {isTTY: tty, columns: tty ? 80 : undefined})
  stderr.on('data', (d: Buffer) => (err += d))
  const streams = {stdout: Object.assign(new PassThrough(), {isTTY: tty}), stderr, stdin: new PassThrough()}
  return {io: new IO(streams as never, env), err: () => err}
}

const events = [
  {type: 'STEP_STARTED', step: 'fetch', progress: 0},
  {type: 'STEP_PROGRESS', step: 'fetch', progress: 50},
  {type: 'STEP_STARTED', step: 'transform', progress: 0},
  {type: 'STEP_COMPLETED', step: 'fetch', result: {}},
  {type: 'STEP_FAILED', step: 'transform', error: {message: 'bad row 7'}},
]

test('on a terminal: one bar per step, redrawn in place', () => {
  const t = io(true)
  const p = PlanProgress.for(t.io, false)
  for (const e of events) p.update(e)
  const out = t.err()
  assert.match(out, /fetch +█{12}░{12} +50%/, 'half way')
  assert.match(out, /\u001B\[2A\u001B\[0J/, 'two lines redrawn in place')
  const last = out.split('\u001B[0J').at(-1)!
  assert.match(last, /✔.*fetch +█{24} 100%/)
  assert.match(last, /✖.*transform .*failed: bad row 7/)
})

test('in a log or CI: one line per start, end and failure; none per percent; nothing with --json', () => {
  const log = io(false)
  const p = PlanProgress.for(log.io, false)
  for (const e of events) p.update(e)
  p.note('stream closed (1006); reconnecting in 1s (1/8)')
  assert.equal(log.err(), '▸ fetch started\n▸ transform started\n✔ fetch completed\n✖ transform failed: bad row 7\nstream closed (1006); reconnecting in 1s (1/8)\n')
  const ci = io(true, {CI: 'true'})
  const c = PlanProgress.for(ci.io, false)
  c.update(events[0])
  assert.equal(ci.err(), '▸ fetch started\n', 'no bars in CI')
  const json = io(true)
  const j = PlanProgress.for(json.io, true)
  for (const e of events) j.update(e)
  assert.equal(json.err(), '')
})
