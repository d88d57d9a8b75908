// Simulated integrations and plan executions, with fake clocks and mocked timers.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {createClock} from '../../../dist/sandbox/clock.js'
import {INTEGRATIONS, viewIntegration} from '../../../dist/sandbox/integrations-sim.js'
import {PlanRunner, PLANS, type PlanMessage} from '../../../dist/sandbox/plan-runner.js'

const byName = (name: string) => INTEGRATIONS.find((i) => i.name === name)!

describe('integrations', () => {
  test('one degraded with a half-open circuit, one unhealthy with an open circuit, metrics drifting per simulated minute', () => {
    let now = 0
    const clock = createClock(() => now, 60)
    const weather = viewIntegration(byName('WeatherAPI'), undefined, clock, 1)
    const notify = viewIntegration(byName('NotificationService'), undefined, clock, 1)
    assert.deepEqual([weather.status, weather.circuit_state], ['degraded', 'half-open'])
    assert.deepEqual([notify.status, notify.circuit_state], ['unhealthy', 'open'])
    const rates = new Set<number>()
    for (let second = 0; second < 20; second++) {
      now = second * 1000
      const v = viewIntegration(byName('GitHubAPI'), undefined, clock, 1)
      assert.equal(v.status, 'healthy')
      assert.ok(v.error_rate >= 0 && v.error_rate < 0.05)
      assert.equal(v.success_rate, Number((1 - v.error_rate).toFixed(3)))
      rates.add(v.error_rate)
    }
    assert.ok(rates.size > 5, 'the error rate moves over time')
    now = 5000
    assert.deepEqual(viewIntegration(byName('GitHubAPI'), undefined, clock, 1), viewIntegration(byName('GitHubAPI'), undefined, clock, 1), 'deterministic')
  })

  test('a reset closes the circuit until the failing integration trips it again', () => {
    let now = 0
    const clock = createClock(() => now, 1)
    const state = {id: 'NotificationService', resetAt: 0}
    assert.equal(viewIntegration(byName('NotificationService'), state, clock, 1).circuit_state, 'closed')
    now = 3 * 60_000 - 1
    assert.equal(viewIntegration(byName('NotificationService'), state, clock, 1).circuit_state, 'closed')
    now = 3 * 60_000
    assert.equal(viewIntegration(byName('NotificationService'), state, clock, 1).circuit_state, 'open')
  })
})

describe('plan runner', () => {
  test('streams the documented messages in order, replays them to late watchers', (t) => {
    t.mock.timers.enable({apis: ['setTimeout']})
    const finished: string[] = []
    const runner = new PlanRunner({clock: createClock(Date.now, 1), stepMs: 400, onFinished: (e) => finished.push(e.status)})
    const plan = PLANS.find((p) => p.id === 'plan_123')!
    const live: PlanMessage[] = []
    let ended = false
    runner.watch(plan.id, undefined, (m, done) => {
      live.push(m)
      ended ||= done
    })
    const execution = runner.execute(plan)
    for (let i = 0; i < 100; i++) t.mock.timers.tick(100)
    assert.ok(ended)
    assert.deepEqual(live.slice(0, 7).map((m) => `${m.type}:${m.step}:${m.progress}`), [
      'STEP_STARTED:evaluate-conditions:0',
      'STEP_PROGRESS:evaluate-conditions:25',
      'STEP_PROGRESS:evaluate-conditions:50',
      'STEP_PROGRESS:evaluate-conditions:75',
      'STEP_PROGRESS:evaluate-conditions:100',
      'STEP_COMPLETED:evaluate-conditions:100',
      'STEP_STARTED:fetch-capsules:0',
    ])
    const last = live[live.length - 1]
    assert.equal(last.type, 'PLAN_COMPLETED')
    assert.equal(last.status, 'SUCCESS')
    assert.ok(Array.isArray(last.artifacts))
    assert.equal(execution.status, 'SUCCESS')
    assert.deepEqual(finished, ['SUCCESS'])
    const replay: string[] = []
    runner.watch(plan.id, undefined, (m, done) => replay.push(`${m.type}${done ? '!' : ''}`))
    assert.equal(replay.length, live.length)
    assert.equal(replay[replay.length - 1], 'PLAN_COMPLETED!')
    runner.close()
  })

  test('a failing step sends STEP_FAILED then PLAN_FAILED', (t) => {
    t.mock.timers.enable({apis: ['setTimeout']})
    const runner = new PlanRunner({clock: createClock(Date.now, 1), stepMs: 400})
    const execution = runner.execute(PLANS.find((p) => p.id === 'plan_broken')!)
    for (let i = 0; i < 100; i++) t.mock.timers.tick(100)
    const types = execution.messages.map((m) => m.type)
    assert.deepEqual(types.slice(-2), ['STEP_FAILED', 'PLAN_FAILED'])
    assert.equal(typeof execution.messages.at(-1)!.error, 'string')
    assert.equal(execution.status, 'FAILED')
    runner.close()
  })
})
