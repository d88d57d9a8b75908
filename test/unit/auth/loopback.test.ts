// The loopback redirect listener: our state only, one answer, then closed; 5 minutes at most.
import assert from 'node:assert/strict'
import {describe, mock, test} from 'node:test'
import {startLoopback} from '../../../dist/auth/loopback.js'
import {OAuthError} from '../../../dist/auth/oauth-http.js'
import {AuthError, Interrupted} from '../../../dist/errors.js'

describe('loopback listener', () => {
  test('listens on 127.0.0.1 at /callback, refuses other states, takes one answer and closes', async () => {
    const loopback = await startLoopback({state: 'st'})
    assert.match(loopback.redirectUri, /^http:\/\/127\.0\.0\.1:\d+\/callback$/)
    assert.equal((await fetch(loopback.redirectUri.replace('/callback', '/other'))).status, 404)
    assert.equal((await fetch(`${loopback.redirectUri}?code=c1&state=wrong`)).status, 400)
    const ok = await fetch(`${loopback.redirectUri}?code=c2&state=st&iss=https%3A%2F%2Fauth`)
    assert.equal(ok.status, 200)
    assert.equal(ok.headers.get('cache-control'), 'no-store')
    assert.doesNotMatch(await ok.text(), /c2/, 'the page does not echo the code')
    assert.deepEqual(await loopback.answer, {code: 'c2', iss: 'https://auth'})
    await loopback.close()
    await assert.rejects(fetch(`${loopback.redirectUri}?code=c3&state=st`))
  })

  test('an error answer is an OAuth error', async () => {
    const loopback = await startLoopback({state: 'st'})
    await fetch(`${loopback.redirectUri}?error=access_denied&error_description=nope&state=st`)
    await assert.rejects(loopback.answer, (e: unknown) => e instanceof OAuthError && e.error === 'access_denied' && e.description === 'nope')
  })

  test('gives up after 5 minutes with a next step', async () => {
    mock.timers.enable({apis: ['setTimeout']})
    try {
      const loopback = await startLoopback({state: 'st'})
      mock.timers.tick(5 * 60_000)
      await assert.rejects(loopback.answer, (e: unknown) => e instanceof AuthError && e.code === 'LOGIN_TIMEOUT' && /5m/.test(e.message) && /--device/.test(e.hint!))
      await loopback.close()
    } finally {
      mock.timers.reset()
    }
  })

  test('Ctrl-C cancels the wait', async () => {
    const controller = new AbortController()
    const loopback = await startLoopback({state: 'st', signal: controller.signal})
    controller.abort()
    await assert.rejects(loopback.answer, (e: unknown) => e instanceof Interrupted)
  })
})
