// The checked-in oclif.manifest.json is what `bfly --help` and command lookup read: it must
// describe exactly the compiled commands, and every command must teach by example.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {join, resolve} from 'node:path'
import {test} from 'node:test'
import {pathToFileURL} from 'node:url'

const root = resolve(import.meta.dirname, '..', '..', '..')
const checkedIn = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8'))

test('oclif.manifest.json is in sync with the compiled commands (run `npm run build` when this fails)', async () => {
  // The same Plugin class `oclif manifest` uses (its own @oclif/core), reading dist/ and ignoring the manifest.
  const requireFromOclif = createRequire(join(root, 'node_modules', 'oclif', 'package.json'))
  const {Plugin} = await import(pathToFileURL(requireFromOclif.resolve('@oclif/core')).href)
  const plugin = new Plugin({root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true, respectNoCacheDefault: true})
  await plugin.load()
  const fresh = JSON.parse(JSON.stringify(plugin.manifest))
  assert.deepEqual(Object.keys(fresh.commands).sort(), Object.keys(checkedIn.commands).sort(), 'the command list differs')
  assert.deepEqual(fresh, checkedIn)
})

test('every command has a summary or description and at least one example that runs it', () => {
  const problems: string[] = []
  for (const [id, command] of Object.entries(checkedIn.commands) as [string, {summary?: string; description?: string; examples?: unknown[]; hidden?: boolean}][]) {
    if (command.hidden) continue
    if (!command.summary && !command.description) problems.push(`${id}: no summary or description`)
    const examples = (command.examples ?? []).map((e) => (typeof e === 'string' ? e : (e as {command: string}).command))
    const spelled = id.replaceAll(':', ' ')
    if (!examples.some((e) => e.includes(spelled))) problems.push(`${id}: no example of \`bfly ${spelled}\``)
  }
  assert.deepEqual(problems, [])
})
