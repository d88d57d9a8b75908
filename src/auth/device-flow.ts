// The device authorization grant (RFC 8628): for SSH sessions, CI runners and machines
// without a browser. The user approves on another device; we poll at the pace the server sets.
import {AuthError, BadResponseError, Interrupted, NetworkError} from '../errors.js'
import type {Json} from './oauth-http.js'
import {OAuthError} from './oauth-http.js'
import {sleep} from '../resilience/sleep.js'

export interface DeviceAuthorization {
  deviceCode: string
  userCode: string
  verificationUri: string
  verificationUriComplete?: string
  expiresInSec: number
  intervalSec: number
}

/** RFC 8628 §3.2; `interval` defaults to 5 s (§3.5). */
export function parseDeviceAuthorization(json: Json | undefined, host: string): DeviceAuthorization {
  const str = (key: string) => (json && typeof json[key] === 'string' && json[key] !== '' ? (json[key] as string) : undefined)
  const deviceCode = str('device_code')
  const userCode = str('user_code')
  // Some servers still send the draft name.
  const verificationUri = str('verification_uri') ?? str('verification_url')
  if (!deviceCode || !userCode || !verificationUri) {
    throw new BadResponseError(`the device authorization endpoint of ${host} answered without device_code, user_code or verification_uri`)
  }
  const expires = Number(json?.expires_in)
  const interval = Number(json?.interval)
  return {
    deviceCode,
    userCode,
    verificationUri,
    verificationUriComplete: str('verification_uri_complete'),
    expiresInSec: Number.isFinite(expires) && expires > 0 ? expires : 600,
    // At least a second between polls, whatever a misconfigured server says.
    intervalSec: Number.isFinite(interval) && interval >= 0 ? Math.max(1, interval) : 5,
  }
}

export interface PollDeps {
  now: () => number
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>
  signal?: AbortSignal
  trace?: (line: string) => void
}

/**
 * Poll `attempt` (one device_code token request) until it yields tokens. Waits `interval`
 * before each try; `slow_down` adds 5 s for good (§3.5); network failures double the wait;
 * stops when the code expires. `access_denied`, `expired_token` and the rest are thrown.
 */
export async function pollForToken<T>(auth: DeviceAuthorization, attempt: () => Promise<T>, deps: PollDeps): Promise<T> {
  const deadline = deps.now() + auth.expiresInSec * 1000
  let intervalMs = auth.intervalSec * 1000
  let waitMs = intervalMs
  for (;;) {
    if (deps.signal?.aborted) throw new Interrupted('login cancelled')
    if (deps.now() + waitMs > deadline) {
      throw new AuthError('the login code expired before it was approved', {code: 'EXPIRED_TOKEN', hint: 'run `bfly login` again and approve it within the time shown'})
    }
    await deps.sleep(waitMs, deps.signal)
    try {
      return await attempt()
    } catch (error) {
      if (error instanceof OAuthError && error.error === 'authorization_pending') {
        waitMs = intervalMs
        continue
      }
      if (error instanceof OAuthError && error.error === 'slow_down') {
        intervalMs += 5000
        waitMs = intervalMs
        deps.trace?.(`device flow: slow_down, polling every ${intervalMs / 1000} s`)
        continue
      }
      if (error instanceof NetworkError) {
        waitMs = Math.min(Math.max(waitMs, 1000) * 2, 60_000)
        deps.trace?.(`device flow: ${error.message}; next poll in ${waitMs / 1000} s`)
        continue
      }
      throw error
    }
  }
}

/** A poll interval that Ctrl-C ends with "login cancelled". */
export const sleepWithSignal = (ms: number, signal?: AbortSignal): Promise<void> => sleep(ms, signal, 'login cancelled')
