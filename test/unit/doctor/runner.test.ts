// The doctor runner on fake steps: ordering, skipping what depends on a failure, bounds on a
// mocked clock (no real waiting), crashes as failures, Ctrl-C, and running side by side.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {runSteps, type Step} from '../../../dist/services/doctor/runner.js'

const pass = (detail = 'ok') => async () => ({status: 'pass' as const, detail})
const fail = (detail = 'broken') => async () => ({status: 'fail' as const, detail, remedy: 'fix it'})
const never = (signal: AbortSignal) => new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))))
const live = () => new AbortController().signal

describe('doctor runner', () => {
  test('results come back in declaration order, whatever order they finish in; after-steps wait for their facts', async () => {
    const finished: string[] = []
    let fact = ''
    const steps: Step[] = [
      {name: 'reads', after: ['slow'], run: async () => ({status: 'pass', detail: `read ${fact}`})},
      {name: 'slow', run: async () => {
        await new Promise((r) => setImmediate(r))
        finished.push('slow')
        fact = 'the fact'
        return {status: 'pass', detail: 'slow'}
      }},
      {name: 'fast', run: async () => (finished.push('fast'), {status: 'warn', detail: 'fast', remedy: 'r'})},
    ]
    const checks = await runSteps(steps, {boundMs: 1000, signal: live()})
    assert.deepEqual(checks.map((c) => c.name), ['reads', 'slow', 'fast'])
    assert.deepEqual(finished, ['fast', 'slow'])
    assert.equal(checks[0].detail, 'read the fact')
    assert.deepEqual(checks[2], {name: 'fast', status: 'warn', detail: 'fast', remedy: 'r'})
  })

  test('a step whose need failed is skipped with its own reason, the rest of the chain with that root cause; warnings do not block', async () => {
    let ran = false
    const checks = await runSteps([
      {name: 'dns', run: fail('cannot resolve')},
      {name: 'tcp', needs: {dns: 'the host name does not resolve'}, run: async () => ((ran = true), {status: 'pass', detail: 'x'})},
      {name: 'http', needs: {tcp: 'no connection'}, run: pass()},
      {name: 'soft', run: async () => ({status: 'warn', detail: 'meh'})},
      {name: 'after-soft', needs: {soft: 'n/a'}, run: pass('ran')},
    ], {boundMs: 1000, signal: live()})
    assert.equal(ran, false)
    assert.deepEqual(checks.map((c) => [c.name, c.status, c.detail]), [
      ['dns', 'fail', 'cannot resolve'],
      ['tcp', 'skip', 'the host name does not resolve'],
      ['http', 'skip', 'the host name does not resolve'],
      ['soft', 'warn', 'meh'],
      ['after-soft', 'pass', 'ran'],
    ])
  })

  test('a step that throws is a failure with its message and the error hint as remedy, never a crash', async () => {
    class Hinted extends Error {
      hint = 'do this'
    }
    const checks = await runSteps([
      {name: 'boom', run: async () => {
        throw new Hinted('the keychain helper failed')
      }},
      {name: 'sync-boom', run: () => {
        throw new TypeError('x is undefined')
      }},
      {name: 'empty', run: async () => {
        throw new Error('')
      }},
      {name: 'fine', run: pass()},
    ], {boundMs: 1000, signal: live(), remedyOf: (e) => (e as {hint?: string}).hint})
    assert.deepEqual(checks[0], {name: 'boom', status: 'fail', detail: 'the keychain helper failed', remedy: 'do this'})
    assert.deepEqual(checks[1], {name: 'sync-boom', status: 'fail', detail: 'x is undefined'})
    assert.equal(checks[2].detail, 'Error')
    assert.equal(checks[3].status, 'pass')
  })

  test('a step past its bound fails naming what it waited on, and its signal aborts its I/O (mocked clock)', async (t) => {
    t.mock.timers.enable({apis: ['setTimeout']})
    let stopped = false
    const running = runSteps([
      {name: 'oauth', run: (signal) => never(signal).finally(() => (stopped = true)), awaiting: () => 'the issuer https://id.example.com'},
      {name: 'local', boundMs: 0, run: pass()},
      {name: 'long', boundMs: 10_000, run: never},
    ], {boundMs: 5000, signal: live()})
    await new Promise((r) => setImmediate(r))
    t.mock.timers.tick(5000)
    await new Promise((r) => setImmediate(r))
    t.mock.timers.tick(5000)
    const checks = await running
    assert.deepEqual(checks[0], {name: 'oauth', status: 'fail', detail: 'no answer from the issuer https://id.example.com within 5 s', remedy: 'something on the way does not answer; on a slow network raise --timeout'})
    assert.equal(stopped, true)
    assert.equal(checks[1].status, 'pass')
    assert.equal(checks[2].detail, 'no answer within 10 s')
  })

  test('settle adjusts the final verdict, including one from the bound', async (t) => {
    t.mock.timers.enable({apis: ['setTimeout']})
    const soften = (v: {status: string; detail: string}) => (v.status === 'fail' ? {...v, status: 'warn' as const} : v)
    const running = runSteps([{name: 'oauth', run: never, settle: soften as Step['settle']}], {boundMs: 100, signal: live()})
    await new Promise((r) => setImmediate(r))
    t.mock.timers.tick(100)
    assert.equal((await running)[0].status, 'warn')
  })

  test('Ctrl-C: what is running and what has not started are skipped as interrupted; what finished is kept', async () => {
    const ctrlC = new AbortController()
    let started!: () => void
    const hanging = new Promise<void>((r) => (started = r))
    const running = runSteps([
      {name: 'done', run: pass()},
      {name: 'http', run: (signal) => (started(), never(signal))},
      {name: 'credentials', after: ['http'], run: pass()},
    ], {boundMs: 60_000, signal: ctrlC.signal})
    await hanging
    await new Promise((r) => setImmediate(r))
    ctrlC.abort()
    const checks = await running
    assert.deepEqual(checks.map((c) => [c.status, c.detail]), [
      ['pass', 'ok'],
      ['skip', 'interrupted (Ctrl-C) before it finished'],
      ['skip', 'interrupted (Ctrl-C) before it ran'],
    ])
  })

  test('independent steps run side by side', async () => {
    let inFlight = 0
    let most = 0
    const step = (name: string): Step => ({name, run: async () => {
      most = Math.max(most, ++inFlight)
      await new Promise((r) => setImmediate(r))
      inFlight--
      return {status: 'pass', detail: name}
    }})
    await runSteps([step('a'), step('b'), step('c')], {boundMs: 1000, signal: live()})
    assert.equal(most, 3)
  })

  test('a verdict without a detail still has one (the JSON schema wants a non-empty detail)', async () => {
    const [check] = await runSteps([{name: 'x', run: async () => ({status: 'pass', detail: ''})}], {boundMs: 1000, signal: live()})
    assert.equal(check.detail, '(no detail)')
  })
})
