// Scripted faults ("the next 2 responses to GET /api/v1/capsules are 503") and the random
// chaos of --chaos, rendered the way real networks and proxies misbehave: error statuses,
// connection resets, hangs, HTML error pages, empty bodies, truncated JSON.
import type {IncomingMessage, ServerResponse} from 'node:http'
import {codeForStatus, errorBody, HttpError} from './wire.js'

export type FaultKind = 'status' | 'reset' | 'hang' | 'html' | 'empty' | 'truncated'

export interface Fault {
  method?: string
  /** An exact path, or a prefix ending in '*' (e.g. /api/v1/capsules*). Query strings are ignored. */
  path: string
  /** How many matching requests get it; default 1. */
  count?: number
  status?: number
  headers?: Record<string, string>
  body?: string
  kind?: FaultKind
}

const KINDS = new Set<FaultKind>(['status', 'reset', 'hang', 'html', 'empty', 'truncated'])

/** Checks a fault coming from a test (in-process or over HTTP); throws HttpError 400 on nonsense. */
export function validateFault(input: unknown): Fault {
  const problems: {field: string; message: string}[] = []
  const f = (input ?? {}) as Record<string, unknown>
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new HttpError(400, 'a fault must be a JSON object', {details: [{field: 'body', message: 'must be an object like {"path":"/api/v1/capsules","status":503}'}]})
  }
  if (typeof f.path !== 'string' || !f.path.startsWith('/')) problems.push({field: 'path', message: 'must be a path starting with /, optionally ending in *'})
  if (f.method !== undefined && (typeof f.method !== 'string' || !/^[A-Za-z]+$/.test(f.method))) problems.push({field: 'method', message: 'must be an HTTP method'})
  if (f.count !== undefined && !(Number.isInteger(f.count) && (f.count as number) >= 1)) problems.push({field: 'count', message: 'must be an integer >= 1'})
  if (f.status !== undefined && !(Number.isInteger(f.status) && (f.status as number) >= 100 && (f.status as number) <= 599)) problems.push({field: 'status', message: 'must be an HTTP status 100-599'})
  if (f.kind !== undefined && !KINDS.has(f.kind as FaultKind)) problems.push({field: 'kind', message: `must be one of ${[...KINDS].join(', ')}`})
  if (f.body !== undefined && typeof f.body !== 'string') problems.push({field: 'body', message: 'must be a string (the raw response body)'})
  if (f.headers !== undefined && (typeof f.headers !== 'object' || f.headers === null || Object.values(f.headers).some((v) => typeof v !== 'string'))) {
    problems.push({field: 'headers', message: 'must be an object of string values'})
  }
  if (problems.length > 0) throw new HttpError(400, 'Invalid fault', {details: problems})
  return {
    path: f.path as string,
    method: f.method === undefined ? undefined : (f.method as string).toUpperCase(),
    count: (f.count as number | undefined) ?? 1,
    status: f.status as number | undefined,
    headers: f.headers as Record<string, string> | undefined,
    body: f.body as string | undefined,
    kind: (f.kind as FaultKind | undefined) ?? 'status',
  }
}

export class FaultQueue {
  private readonly faults: (Fault & {remaining: number})[] = []

  inject(input: Fault): void {
    const fault = validateFault(input)
    this.faults.push({...fault, remaining: fault.count ?? 1})
  }

  clear(): void {
    this.faults.length = 0
  }

  get size(): number {
    return this.faults.length
  }

  list(): Fault[] {
    return this.faults.map(({remaining, ...f}) => ({...f, count: remaining}))
  }

  /** The first fault matching this request, consumed by one. */
  take(method: string, path: string): Fault | undefined {
    if (this.faults.length === 0) return undefined
    for (let i = 0; i < this.faults.length; i++) {
      const f = this.faults[i]
      if (f.method && f.method !== method) continue
      const matches = f.path.endsWith('*') ? path.startsWith(f.path.slice(0, -1)) : path === f.path
      if (!matches) continue
      f.remaining--
      if (f.remaining <= 0) this.faults.splice(i, 1)
      return f
    }
    return undefined
  }
}

const HTML_PAGE = (status: number) =>
  `<html>\r\n<head><title>${status} Bad Gateway</title></head>\r\n<body>\r\n<center><h1>${status} Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`

export interface FaultContext {
  requestId: string
  now: number
  /** For 401 faults: the resource metadata URL the WWW-Authenticate header names. */
  resourceMetadata: string
  /** Registered so close() can end hung requests. */
  onHang?: (res: ServerResponse) => void
}

/** Answer (or refuse to answer) a request the way the fault says. */
export function renderFault(req: IncomingMessage, res: ServerResponse, fault: Fault, ctx: FaultContext): void {
  const kind = fault.kind ?? 'status'
  const extra = fault.headers ?? {}
  switch (kind) {
    case 'reset': {
      const socket = req.socket as typeof req.socket & {resetAndDestroy?: () => void}
      if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy()
      else socket.destroy()
      return
    }
    case 'hang':
      req.resume()
      ctx.onHang?.(res)
      return
    case 'html': {
      const status = fault.status ?? 502
      const body = fault.body ?? HTML_PAGE(status)
      res.writeHead(status, {'content-type': 'text/html', 'content-length': Buffer.byteLength(body), ...extra})
      res.end(body)
      return
    }
    case 'empty': {
      res.writeHead(fault.status ?? 502, {'content-length': '0', ...extra})
      res.end()
      return
    }
    case 'truncated': {
      const status = fault.status ?? 200
      const full = fault.body ?? JSON.stringify({data: [{id: 'cap_01JD9Z8K2M', scopeId: 'rim:entity:finance:EURUSD', timestamp: '2025-12-03T10:00:00Z', payload: {price: 1.0842}}], meta: {requestId: ctx.requestId}})
      const body = full.slice(0, Math.max(1, Math.floor(full.length / 2)))
      res.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-request-id': ctx.requestId, ...extra})
      res.end(body)
      return
    }
    case 'status': {
      const status = fault.status ?? 503
      const headers: Record<string, string> = {'x-request-id': ctx.requestId}
      let extraError: Record<string, unknown> | undefined
      if (status === 429) {
        headers['retry-after'] = extra['retry-after'] ?? extra['Retry-After'] ?? '1'
        extraError = {retryAfter: Number(headers['retry-after']) || 1}
      }
      if (status === 401) headers['www-authenticate'] = `Bearer error="invalid_token", resource_metadata="${ctx.resourceMetadata}"`
      Object.assign(headers, extra)
      const body = fault.body ?? JSON.stringify(errorBody(new HttpError(status, faultMessage(status), {code: codeForStatus(status), extra: extraError}), ctx.requestId, ctx.now))
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json'
      headers['content-length'] = String(Buffer.byteLength(body))
      res.writeHead(status, headers)
      res.end(body)
      return
    }
  }
}

function faultMessage(status: number): string {
  if (status === 429) return 'Too many requests'
  if (status === 503) return 'Service temporarily unavailable (injected fault)'
  if (status >= 500) return `Upstream failure ${status} (injected fault)`
  return `Injected fault ${status}`
}
