// A small router: literal segments and `:name` parameters, each parameter one
// percent-decoded path segment (so an id may contain an encoded "/").
import {HttpError} from './wire.js'

interface Entry<T> {
  method: string
  segments: (string | null)[]
  names: (string | null)[]
  value: T
}

export type RouteMatch<T> =
  | {kind: 'found'; value: T; params: Record<string, string>}
  | {kind: 'method-not-allowed'; allowed: string[]}
  | {kind: 'not-found'}

export class Router<T> {
  /** Routes by their number of segments: a request only looks at routes of its own length. */
  private readonly byLength = new Map<number, Entry<T>[]>()

  add(method: string, pattern: string, value: T): this {
    const parts = pattern.split('/').slice(1)
    const entries = this.byLength.get(parts.length) ?? []
    this.byLength.set(parts.length, entries)
    entries.push({
      method,
      segments: parts.map((p) => (p.startsWith(':') ? null : p)),
      names: parts.map((p) => (p.startsWith(':') ? p.slice(1) : null)),
      value,
    })
    return this
  }

  match(method: string, path: string): RouteMatch<T> {
    const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path
    const parts = trimmed.split('/').slice(1)
    const lookup = method === 'HEAD' ? 'GET' : method
    let allowed: Set<string> | undefined
    let found: {value: T; params: Record<string, string>} | undefined
    for (const entry of this.byLength.get(parts.length) ?? []) {
      let ok = true
      for (let i = 0; i < parts.length; i++) {
        const literal = entry.segments[i]
        if (literal === null ? parts[i] === '' : literal !== parts[i]) {
          ok = false
          break
        }
      }
      if (!ok) continue
      if (entry.method !== lookup) {
        allowed ??= new Set()
        allowed.add(entry.method)
        continue
      }
      const params: Record<string, string> = {}
      for (let i = 0; i < parts.length; i++) {
        const name = entry.names[i]
        if (name !== null) params[name] = decodeSegment(parts[i])
      }
      found = {value: entry.value, params}
      break
    }
    if (found) return {kind: 'found', ...found}
    if (allowed) return {kind: 'method-not-allowed', allowed: [...allowed]}
    return {kind: 'not-found'}
  }
}

function decodeSegment(segment: string): string {
  if (!segment.includes('%')) return segment
  try {
    return decodeURIComponent(segment)
  } catch {
    throw new HttpError(400, 'Invalid request path', {details: [{field: 'path', message: `"${segment}" is not valid percent-encoding`}]})
  }
}
