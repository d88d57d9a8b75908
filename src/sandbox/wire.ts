// The contract's wire conventions in one place: the envelope, the error body, JSON replies
// and bounded request bodies. Handlers return a Reply or throw an HttpError; nothing else
// writes to the socket.
import type {IncomingMessage, ServerResponse} from 'node:http'
import {iso} from './clock.js'

export interface Detail {
  field?: string
  message: string
}

export interface Pagination {
  page: number
  size: number
  totalElements: number
  totalPages: number
}

export interface Reply {
  status: number
  /** The resource: wrapped in the envelope under /api/v1, sent bare elsewhere. */
  data?: unknown
  pagination?: Pagination
  headers?: Record<string, string>
}

/** The contract's error codes by status (§2); other statuses get a generic code. */
export const ERROR_CODES: Record<number, string> = {
  400: 'VALIDATION_ERROR',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'VALIDATION_ERROR',
  429: 'RATE_LIMITED',
  500: 'INTERNAL_ERROR',
  502: 'BAD_GATEWAY',
  503: 'SERVICE_UNAVAILABLE',
  504: 'GATEWAY_TIMEOUT',
}

export const codeForStatus = (status: number) => ERROR_CODES[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : 'ERROR')

export class HttpError extends Error {
  readonly status: number
  readonly code: string
  readonly details?: Detail[]
  readonly headers?: Record<string, string>
  /** Extra members of the `error` object, e.g. retryAfter on 429. */
  readonly extra?: Record<string, unknown>

  constructor(status: number, message: string, options: {code?: string; details?: Detail[]; headers?: Record<string, string>; extra?: Record<string, unknown>} = {}) {
    super(message)
    this.status = status
    this.code = options.code ?? codeForStatus(status)
    this.details = options.details
    this.headers = options.headers
    this.extra = options.extra
  }
}

export const validationError = (details: Detail[], message = 'Invalid request parameters') => new HttpError(400, message, {details})
export const notFound = (message: string) => new HttpError(404, message)
export const conflict = (message: string) => new HttpError(409, message)

/** `now` is wall-clock ms, or the RFC 3339 string of it when the caller has one already. */
export function meta(requestId: string, now: number | string, pagination?: Pagination): Record<string, unknown> {
  const timestamp = typeof now === 'string' ? now : iso(now)
  return pagination ? {requestId, timestamp, pagination} : {requestId, timestamp}
}

export function errorBody(error: HttpError, requestId: string, now: number | string): unknown {
  const body: Record<string, unknown> = {code: error.code, message: error.message}
  if (error.details && error.details.length > 0) body.details = error.details
  if (error.extra) Object.assign(body, error.extra)
  return {error: body, meta: meta(requestId, now)}
}

/** Sends JSON; `headers` must be an object the caller owns (it is completed in place: hot path). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | number> = {}): void {
  if (res.headersSent || res.destroyed) return
  if (status === 204 || body === undefined) {
    res.writeHead(status, headers)
    res.end()
    return
  }
  const text = JSON.stringify(body)
  headers['content-type'] = 'application/json; charset=utf-8'
  headers['content-length'] = Buffer.byteLength(text)
  res.writeHead(status, headers)
  res.end(text)
}

export function sendHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return
  res.writeHead(status, {
    ...headers,
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http://127.0.0.1:* http://localhost:* http://[::1]:*; frame-ancestors 'none'",
  })
  res.end(html)
}

export const MAX_BODY_BYTES = 1024 * 1024

/** The whole request body, refused past `limit` bytes. */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'])
    if (Number.isFinite(declared) && declared > limit) {
      reject(new HttpError(413, `request body is larger than ${limit} bytes`))
      req.resume()
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        reject(new HttpError(413, `request body is larger than ${limit} bytes`))
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks, size)))
    req.on('error', reject)
  })
}

export function parseJsonBody(raw: Buffer): unknown {
  if (raw.length === 0) return undefined
  try {
    return JSON.parse(raw.toString('utf8'))
  } catch (error) {
    throw validationError([{field: 'body', message: `is not valid JSON (${(error as Error).message})`}], 'Malformed JSON body')
  }
}

export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.')
}
