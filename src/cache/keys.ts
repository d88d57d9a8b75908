// What a cached answer is filed under. The file itself is per profile (it lives in the
// profile's state dir); inside it a partition separates API origins, credential identities
// and Accept types, and the key adds the URL. Only hashes of identities are kept: a token
// or API key never reaches the cache, not even as a key.
import {createHash} from 'node:crypto'
import type {CredentialSource} from '../auth/credentials.js'
import type {SessionFacts} from '../settings.js'

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

/** Query parameters that carry secrets: a URL holding one is never cached. */
const SECRET_QUERY = /^(access_token|refresh_token|id_token|token|api_key|apikey|key|client_secret|secret|password|code|signature|sig)$/i

export function hasSecretQuery(url: URL): boolean {
  for (const name of url.searchParams.keys()) if (SECRET_QUERY.test(name)) return true
  return Boolean(url.username || url.password)
}

/**
 * One spelling per resource: no fragment, query parameters sorted by name (a stable sort,
 * so repeated parameters keep their order). `?b=2&a=1` and `?a=1&b=2` are the same read.
 */
export function normalizeUrl(url: URL): string {
  const out = new URL(url.href)
  out.hash = ''
  out.searchParams.sort()
  return out.href
}

export interface IdentityInput {
  source: CredentialSource | 'anonymous'
  env: NodeJS.ProcessEnv
  session?: SessionFacts
}

/**
 * Who the answers were for, as a one-way hash. Static credentials are identified by
 * themselves (switching BFLY_TOKEN switches partitions); a stored login by its issuer and
 * subject (its access token rotates every hour, the user does not), or by the moment of
 * the login when the subject is unknown, so a new login never reads the previous one's data.
 */
export function credentialIdentity(input: IdentityInput): string {
  const {source, env, session} = input
  let material: string
  switch (source) {
    case 'env':
      material = (env.BFLY_TOKEN ?? '').trim()
      break
    case 'api-key':
      material = (env.BUTTERFLY_API_KEY ?? '').trim()
      break
    case 'client-credentials':
      material = `${env.BFLY_CLIENT_ID ?? ''}\0${session?.issuer ?? ''}`
      break
    case 'anonymous':
      material = ''
      break
    default:
      material = `${session?.issuer ?? ''}\0${session?.subject ?? `login at ${session?.loggedInAt ?? 'unknown'}`}\0${session?.clientId ?? ''}`
  }
  return sha256(`bfly cache identity\0${source}\0${material}`)
}

export interface PartitionInput {
  profile: string
  /** The API origin, e.g. https://api.example.com */
  origin: string
  /** credentialIdentity() */
  identity: string
  accept: string
}

export function partitionOf(input: PartitionInput): string {
  const accept = input.accept.trim().toLowerCase().replace(/\s*([,;])\s*/g, '$1')
  return sha256(`bfly cache partition\0${input.profile}\0${input.origin.toLowerCase()}\0${input.identity}\0${accept}`).slice(0, 32)
}

export function entryKey(partition: string, normalizedUrl: string): string {
  return sha256(`${partition}\0GET\0${normalizedUrl}`)
}
