// `capsules create`: every create carries an Idempotency-Key, so the HTTP core may retry the
// POST (a lost response, a 503) and the server answers a repeat with the first result instead
// of creating twice. When the outcome is unknown, the error says how to retry safely.
import {randomUUID} from 'node:crypto'
import type {Context} from '../../context.js'
import {ApiError, BflyError, CircuitOpenError, ExitCode, UsageError} from '../../errors.js'
import {parseIntInRange, parseTime} from '../../values.js'
import {scopeId} from '../ids.js'
import type {Capsule} from './capsules.js'
import {parsePayload, readPayload} from './payload.js'

export interface CreateInput {
  scopeId: string
  timestamp: string
  /** `<json>`, `@file` or `-` (stdin). */
  payload: string
  resolution?: string
  idempotencyKey?: string
}

export interface Created {
  capsule: Capsule
  /** The server replayed the answer to an earlier create with the same key: nothing new was created. */
  replayed: boolean
  idempotencyKey: string
}

/** Contract §2: 1-255 characters; visible ASCII so it survives as a header value. */
export function idempotencyKey(input: string | undefined, generate: () => string = randomUUID): string {
  if (input === undefined) return generate()
  if (!/^[\x21-\x7E]{1,255}$/.test(input)) throw new UsageError(`invalid --idempotency-key "${input}": 1-255 visible ASCII characters, no spaces`)
  return input
}

/** RFC 3339, `now`, or a duration meaning that long ago. */
export function capsuleTimestamp(input: string, now: () => number): string {
  return input.trim().toLowerCase() === 'now' ? new Date(now()).toISOString().replace(/\.\d{3}Z$/, 'Z') : parseTime(input, '--timestamp', now)
}

export async function createCapsule(ctx: Context, input: CreateInput): Promise<Created> {
  scopeId(input.scopeId)
  const timestamp = capsuleTimestamp(input.timestamp, ctx.now)
  const resolution = input.resolution === undefined ? undefined : parseIntInRange(input.resolution, '--resolution', 1, 31_622_400)
  const key = idempotencyKey(input.idempotencyKey)
  const payload = parsePayload(await readPayload(input.payload, ctx.io.streams.stdin))
  const api = await ctx.api()
  try {
    const response = await api.request<Capsule>({
      method: 'POST',
      path: '/api/v1/capsules',
      json: {scopeId: input.scopeId, timestamp, ...(resolution === undefined ? {} : {resolution}), payload},
      idempotencyKey: key,
    })
    return {capsule: response.data, replayed: response.replayed, idempotencyKey: key}
  } catch (error) {
    throw explain(error, key)
  }
}

function explain(error: unknown, key: string): unknown {
  if (!(error instanceof BflyError) || error instanceof CircuitOpenError) return error
  if (error instanceof ApiError && error.status === 409) {
    error.hint = `Idempotency-Key ${key} was used before with a different body, or the capsule exists; nothing was created — use a new key to create another`
    return error
  }
  // A 4xx was a clear refusal; after anything else the create may or may not have happened.
  const unknownOutcome = error.exitCode !== ExitCode.Usage && error.exitCode !== ExitCode.Auth && error.exitCode !== ExitCode.NotFound
  if (unknownOutcome) {
    const safe = `it may have been created: retry with \`--idempotency-key ${key}\` to be sure it is created once`
    error.hint = error.hint ? `${safe}; ${error.hint}` : safe
  }
  return error
}
