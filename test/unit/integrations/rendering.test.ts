// What a human sees: colours on a terminal only, plain rows in a pipe.
import assert from 'node:assert/strict'
import {PassThrough} from 'node:stream'
import {test} from 'node:test'
import {IO} from '../../../dist/output/io.js'
import {render} from '../../../dist/output/render.js'
import {list} from '../../../dist/output/result.js'
import {integrationColumns} from '../../../dist/services/integrations/columns.js'

function io(tty: boolean, env: NodeJS.ProcessEnv = {}) {
  let out = ''
  const stdout = Object.assign(new PassThrough(), {isTTY: tty, columns: 120})
  stdout.on('data', (d: Buffer) => (out += d))
  const streams = {stdout, stderr: Object.assign(new PassThrough(), {isTTY: tty}), stdin: new PassThrough()}
  return {io: new IO(streams as never, env), out: () => out}
}

const rows = [
  {name: 'GitHubAPI', type: 'rest', status: 'healthy', circuit_state: 'closed', error_rate: 0.02},
  {name: 'WeatherAPI', type: 'rest', status: 'unhealthy', circuit_state: 'open', error_rate: 0.61},
  {name: 'Search', type: 'graphql', status: 'degraded', circuit_state: 'half-open', error_rate: 0.12},
]

test('on a terminal: a table with status and circuit coloured (red, yellow, green)', async () => {
  const t = io(true)
  await render(t.io, list(rows, integrationColumns), {json: false, ndjson: false})
  const out = t.out()
  assert.match(out, /\u001B\[31munhealthy\u001B\[39m/)
  assert.match(out, /\u001B\[31mopen\u001B\[39m/)
  assert.match(out, /\u001B\[33mhalf-open\u001B\[39m/)
  assert.match(out, /\u001B\[32mhealthy\u001B\[39m/)
  assert.match(out, /ERROR RATE/)
})

test('NO_COLOR on a terminal, or a pipe: no escape codes', async () => {
  const n = io(true, {NO_COLOR: '1'})
  await render(n.io, list(rows, integrationColumns), {json: false, ndjson: false})
  assert.doesNotMatch(n.out(), /\u001B\[/)
  const p = io(false)
  await render(p.io, list(rows, integrationColumns), {json: false, ndjson: false})
  assert.equal(p.out().split('\n')[1], 'WeatherAPI\trest\tunhealthy\topen\t61.0%')
})
