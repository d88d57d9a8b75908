// `bfly api`: a raw, authenticated request through the same HTTP core as every command.
import {readFile} from 'node:fs/promises'
import {text as readStream} from 'node:stream/consumers'
import type {Context} from '../../context.js'
import {UsageError} from '../../errors.js'
import {apiErrorFrom} from '../../api/network.js'
import type {Method} from '../../api/client.js'
import {list, text, type CommandResult} from '../../output/result.js'
import {paginate} from '../../api/paginate.js'

export interface ApiCallOptions {
  path: string
  method?: string
  headers: string[]
  fields: string[]
  input?: string
  paginate?: boolean
  include?: boolean
  idempotencyKey?: string
}

const FORBIDDEN_HEADERS = new Set(['authorization', 'x-api-key', 'cookie', 'proxy-authorization'])

export function parseHeader(raw: string): [string, string] {
  const index = raw.indexOf(':')
  if (index <= 0) throw new UsageError(`invalid header "${raw}": use "Name: value"`)
  const name = raw.slice(0, index).trim()
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new UsageError(`invalid header name "${name}"`)
  // Secrets never travel in argv, where `ps` and shell history see them.
  if (FORBIDDEN_HEADERS.has(name.toLowerCase())) {
    throw new UsageError(`refusing the ${name} header on the command line: secrets in argv leak`, {hint: 'log in with `bfly login`, or set BFLY_TOKEN / BUTTERFLY_API_KEY'})
  }
  return [name.toLowerCase(), raw.slice(index + 1).trim()]
}

function parseField(raw: string): [string, unknown] {
  const index = raw.indexOf('=')
  if (index <= 0) throw new UsageError(`invalid field "${raw}": use key=value`)
  const key = raw.slice(0, index)
  const value = raw.slice(index + 1)
  // Like gh's -F typing: true/false/null/numbers become JSON values.
  if (value === 'true') return [key, true]
  if (value === 'false') return [key, false]
  if (value === 'null') return [key, null]
  if (/^-?\d+(\.\d+)?$/.test(value)) return [key, Number(value)]
  return [key, value]
}

export async function callApi(ctx: Context, options: ApiCallOptions): Promise<CommandResult> {
  if (!options.path.startsWith('/')) throw new UsageError(`invalid path "${options.path}": must start with /`)
  const headers = Object.fromEntries(options.headers.map(parseHeader))
  const fields = options.fields.map(parseField)
  let body: string | undefined
  if (options.input !== undefined) {
    body = options.input === '-' ? await readStream(ctx.io.streams.stdin) : await readFile(options.input, 'utf8').catch((error: Error) => {
      throw new UsageError(`cannot read --input ${options.input}: ${error.message}`)
    })
    headers['content-type'] ??= 'application/json'
  }
  const method = (options.method ?? (body !== undefined || fields.length > 0 ? 'POST' : 'GET')) as Method
  const query: Record<string, string> = {}
  if (fields.length > 0) {
    if (method === 'GET' || method === 'HEAD' || method === 'DELETE') {
      for (const [k, v] of fields) query[k] = String(v)
    } else {
      if (body !== undefined) throw new UsageError('use either --input or -f fields for the body, not both')
      body = JSON.stringify(Object.fromEntries(fields))
      headers['content-type'] = 'application/json'
    }
  }
  const api = await ctx.api()
  if (options.paginate) {
    if (method !== 'GET') throw new UsageError('--paginate works with GET only')
    return list(paginate(api, {path: options.path, query, signal: ctx.signal}), [{key: 'item', header: 'ITEM', get: (i) => i}])
  }
  const response = await api.request({method, path: options.path, query, body, headers, idempotencyKey: options.idempotencyKey, raw: true})
  if (options.include) {
    ctx.io.err(`HTTP ${response.status}`)
    for (const [name, value] of Object.entries(response.headers)) ctx.io.err(`${name}: ${Array.isArray(value) ? value.join(', ') : value}`)
    ctx.io.err('')
  }
  if (response.status >= 400) {
    const error = apiErrorFrom(response.status, response.body, response.headers, api.host)
    // Like gh api: the body is still printed for scripts to inspect, the exit code says it failed.
    if (response.body && !ctx.json) await ctx.io.out(response.body.endsWith('\n') ? response.body : response.body + '\n')
    throw error
  }
  if (ctx.json) {
    try {
      return text(response.body, response.body === '' ? null : JSON.parse(response.body))
    } catch {
      return text(response.body, {body: response.body})
    }
  }
  return response.body === '' ? undefined : text(response.body)
}
