// Which cached reads a successful write makes stale. Generic first (RFC 9111 §4.4: the
// written URI, plus Location and Content-Location), then the parent collection (a created or
// deleted capsule changes the list it belongs to), then the few reads that show the same
// data under another path, which no URL rule can guess.
import type {Headers} from './freshness.js'
import {header} from './freshness.js'

/** [written path prefix, read path prefix it changes], both relative to the API base path. */
const RELATED: Array<[string, string]> = [
  // History lists are capsules seen by scope.
  ['api/v1/capsules', 'api/v1/history'],
  // A circuit reset changes the status list and the health of that integration.
  ['integrations/', 'integrations'],
  // A retried or tested delivery shows up under /webhooks/{id}/deliveries.
  ['webhooks/', 'webhooks'],
]

export interface Invalidation {
  /** Exact paths: every cached query of them goes. */
  paths: string[]
  /** These paths and everything below them go. */
  prefixes: string[]
}

function trimSlash(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path
}

export function invalidatedBy(url: URL, basePath: string, headers: Headers = {}): Invalidation {
  const base = basePath.endsWith('/') ? basePath : basePath + '/'
  const path = trimSlash(url.pathname)
  const prefixes = [path]
  const paths: string[] = []
  const parent = path.slice(0, path.lastIndexOf('/'))
  if (parent.length + 1 >= base.length) paths.push(parent === '' ? '/' : parent, parent + '/')
  for (const name of ['location', 'content-location']) {
    const value = header(headers, name)
    if (!value) continue
    try {
      const target = new URL(value, url)
      if (target.origin === url.origin) prefixes.push(trimSlash(target.pathname))
    } catch {
      // a malformed Location invalidates nothing more
    }
  }
  const relative = (path + '/').startsWith(base) ? (path + '/').slice(base.length) : ''
  for (const [written, read] of RELATED) {
    if (relative.startsWith(written)) prefixes.push(base + read)
  }
  return {paths, prefixes: [...new Set(prefixes)]}
}
