import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'node:test'
import {ProfileStore} from '../../../dist/settings.js'

test('a write applies to what the file holds now: a long login does not undo a config set made meanwhile', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bfly-store-'))
  const login = await ProfileStore.open(dir) // opened at the start of a device-flow login
  const other = await ProfileStore.open(dir) // another terminal, while the user approves the code
  await other.set('default', 'api-url', 'https://api.example.com')
  await login.setSession('default', {issuer: 'https://issuer.example.com', storage: 'file'})
  const file = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))
  assert.equal(file.profiles.default.settings['api-url'], 'https://api.example.com')
  assert.equal(file.profiles.default.session.issuer, 'https://issuer.example.com')
  assert.equal(login.settings('default')['api-url'], 'https://api.example.com', 'the writer sees the fresh file afterwards')
  assert.equal(statSync(join(dir, 'config.json')).mode & 0o777, 0o600)
  assert.equal(await other.unset('default', 'timeout'), false)
  assert.equal(await other.unset('default', 'api-url'), true)
})
