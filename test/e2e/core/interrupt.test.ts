// Ctrl-C: the request is abandoned, the user is told, exit 130 — never a hang or a stack.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {after, before, test} from 'node:test'
import {startServer, type TestServer} from '../../helpers/api-server.ts'
import {BIN, cleanEnv, tempConfigDir} from '../../helpers/cli.ts'

let server: TestServer
before(async () => {
  server = await startServer()
  server.fallback = () => {} // never answers
})
after(() => server.close())

test('SIGINT during a request exits 130 with one line and empty stdout', async () => {
  const child = spawn(process.execPath, [BIN, 'capsules', 'get', 'cap_1', '--json'], {
    env: cleanEnv({BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: server.url, BFLY_TOKEN: 't'}),
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  // Wait until the request is in flight, then interrupt.
  for (let i = 0; i < 200 && server.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 25))
  assert.equal(server.requests.length, 1, 'the request reached the server')
  child.kill('SIGINT')
  const code = await new Promise((resolve) => child.on('close', resolve))
  assert.equal(code, 130)
  assert.equal(stdout, '')
  const line = JSON.parse(stderr.trim())
  assert.equal(line.error.code, 'INTERRUPTED')
  assert.equal(line.error.exitCode, 130)
})
