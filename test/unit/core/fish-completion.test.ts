import assert from 'node:assert/strict'
import {test} from 'node:test'
import {fishScript} from '../../../dist/services/completion/fish.js'

const commands = [
  {id: 'history', summary: 'Capsule history', flags: {limit: {name: 'limit', type: 'option' as const, summary: 'at most N'}}},
  {id: 'capsules:list', summary: 'List capsules\nmore text', flags: {
    ndjson: {name: 'ndjson', type: 'boolean' as const, summary: 'one object per line'},
    sort: {name: 'sort', type: 'option' as const, options: ['asc', 'desc'], description: "the order ('asc' first)"},
    secret: {name: 'secret', type: 'boolean' as const, hidden: true},
  }},
  {id: 'capsules:get', summary: 'Show one capsule', flags: {}},
  {id: 'internal', summary: 'hidden', hidden: true, flags: {}},
  {id: 'commands', summary: 'List all <%= config.bin %> commands.', flags: {}},
]

test('topics, commands and flags, with fish quoting and no hidden entries', () => {
  const script = fishScript('bfly', commands, {capsules: 'Query capsules'})
  const lines = script.trim().split('\n')
  assert.ok(lines.includes("complete -c bfly -n __fish_use_subcommand -a 'capsules' -d 'Query capsules'"))
  assert.ok(lines.includes("complete -c bfly -n __fish_use_subcommand -a 'history' -d 'Capsule history'"))
  assert.ok(lines.includes("complete -c bfly -n __fish_use_subcommand -a 'commands' -d 'List all bfly commands.'"))
  assert.ok(lines.includes("complete -c bfly -n '__fish_seen_subcommand_from capsules; and not __fish_seen_subcommand_from get list' -a 'list' -d 'List capsules'"))
  assert.ok(lines.includes("complete -c bfly -n '__fish_seen_subcommand_from capsules; and __fish_seen_subcommand_from list' -l ndjson -d 'one object per line'"))
  assert.ok(lines.includes("complete -c bfly -n '__fish_seen_subcommand_from capsules; and __fish_seen_subcommand_from list' -l sort -x -a 'asc desc' -d 'the order (\\'asc\\' first)'"))
  assert.ok(lines.includes("complete -c bfly -n '__fish_seen_subcommand_from history' -l limit -r -d 'at most N'"))
  assert.equal(script.includes('internal'), false)
  assert.equal(script.includes('secret'), false)
})
