// Stored logins (OAuth sessions) and client-credentials logins for CI.
import type {Context} from '../context.js'
import type {Credentials} from './credentials.js'

export async function loadCredentials(_ctx: Context): Promise<Credentials | undefined> {
  return undefined
}
