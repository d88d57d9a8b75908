import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {failOnCheck, offence, parseFailOn} from '../../../dist/services/integrations/integrations.js'

const i = (name: string, status: string, circuit: string) => ({name, status, circuit_state: circuit})

describe('integrations --fail-on', () => {
  const table: Array<[string, string, string[], string | undefined]> = [
    ['healthy', 'closed', ['degraded', 'unhealthy', 'open'], undefined],
    ['degraded', 'closed', ['degraded'], 'degraded'],
    ['unhealthy', 'closed', ['degraded'], 'unhealthy'],
    ['degraded', 'closed', ['unhealthy'], undefined],
    ['unhealthy', 'open', ['unhealthy'], 'unhealthy'],
    ['healthy', 'open', ['degraded'], undefined],
    ['healthy', 'open', ['open'], 'circuit open'],
    ['healthy', 'half-open', ['open'], undefined],
    ['unhealthy', 'open', ['degraded', 'open'], 'unhealthy, circuit open'],
  ]
  for (const [status, circuit, failOn, expected] of table) {
    test(`${status}/${circuit} with --fail-on ${failOn.join(',')} → ${expected ?? 'passes'}`, () => {
      assert.equal(offence(i('X', status, circuit), failOn as never), expected)
    })
  }

  test('the check names every offender and exits 8', () => {
    const error = failOnCheck([i('A', 'healthy', 'closed'), i('B', 'unhealthy', 'open'), i('C', 'degraded', 'closed')], ['degraded'])!
    assert.equal(error.exitCode, 8)
    assert.equal(error.message, '2 integrations failed --fail-on degraded: B (unhealthy), C (degraded)')
    assert.equal(failOnCheck([i('A', 'unhealthy', 'open')], []), undefined, 'no --fail-on, no check')
  })

  test('values repeat or comma-separate; unknown ones are usage errors', () => {
    assert.deepEqual(parseFailOn(['degraded,open', 'open']), ['degraded', 'open'])
    assert.throws(() => parseFailOn(['sick']), (e: {exitCode: number}) => e.exitCode === 2)
  })
})
