// main.ts loads only bfly's own plugin for bfly's own commands, every plugin otherwise: the
// decision is made on the words before the first flag.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {namesOwnCommand} from '../../../dist/main.js'

const commands = [{id: 'capsules:list'}, {id: 'capsules:get'}, {id: 'login', aliases: ['signin']}, {id: 'doctor'}]

test('the words before the first flag name one of our commands, arguments and flags after it', () => {
  assert.equal(namesOwnCommand(['capsules', 'list', '--all'], commands), true)
  assert.equal(namesOwnCommand(['capsules', 'get', 'cap_1', '--json'], commands), true)
  assert.equal(namesOwnCommand(['doctor'], commands), true)
  assert.equal(namesOwnCommand(['signin', '--profile', 'x'], commands), true)
  assert.equal(namesOwnCommand(['capsules', 'list', '--help'], commands), true)
})

test('help, topics, other plugins, typos and flags first load every plugin', () => {
  for (const argv of [[], ['--help'], ['help', 'capsules'], ['capsules'], ['capsules', '--help'], ['autocomplete', 'bash'], ['commands'], ['capsules', 'lst'], ['--json', 'capsules', 'list'], ['list']]) {
    assert.equal(namesOwnCommand(argv, commands), false, argv.join(' '))
  }
})
