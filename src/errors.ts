// The one place exit codes live. Commands and services throw these typed errors;
// the base command alone turns them into an exit code and a message.

export const ExitCode = {
  Ok: 0,
  Failure: 1,
  Usage: 2,
  Auth: 3,
  NotFound: 4,
  RateLimited: 5,
  Service: 6,
  Network: 7,
  CheckFailed: 8,
  Partial: 9,
  Interrupted: 130,
} as const

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

export interface ErrorDetail {
  field?: string
  message: string
}

export interface BflyErrorOptions {
  code: string
  exitCode: ExitCodeValue
  status?: number
  requestId?: string
  /** What the user can do next, e.g. "run `bfly login`". */
  hint?: string
  details?: ErrorDetail[]
  cause?: unknown
}

export class BflyError extends Error {
  readonly code: string
  readonly exitCode: ExitCodeValue
  readonly status?: number
  readonly requestId?: string
  hint?: string
  readonly details?: ErrorDetail[]

  constructor(message: string, options: BflyErrorOptions) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = new.target.name
    this.code = options.code
    this.exitCode = options.exitCode
    this.status = options.status
    this.requestId = options.requestId
    this.hint = options.hint
    this.details = options.details
  }
}

/** Bad input from the user: unknown flag, invalid id, malformed JSON. Nothing was sent. */
export class UsageError extends BflyError {
  constructor(message: string, options: {hint?: string; code?: string; cause?: unknown} = {}) {
    super(message, {code: options.code ?? 'USAGE', exitCode: ExitCode.Usage, hint: options.hint, cause: options.cause})
  }
}

/** No credentials, a session that ended, 401 after a refresh, 403. */
export class AuthError extends BflyError {
  constructor(message: string, options: Partial<Omit<BflyErrorOptions, 'exitCode'>> = {}) {
    super(message, {hint: 'run `bfly login`', ...options, code: options.code ?? 'UNAUTHORIZED', exitCode: ExitCode.Auth})
  }
}

/** DNS, refused, reset, timeout, TLS. */
export class NetworkError extends BflyError {
  constructor(message: string, options: Partial<Omit<BflyErrorOptions, 'exitCode'>> = {}) {
    super(message, {...options, code: options.code ?? 'NETWORK_ERROR', exitCode: ExitCode.Network})
  }
}

export class RateLimitError extends BflyError {
  readonly retryAfterMs?: number
  constructor(message: string, options: Partial<Omit<BflyErrorOptions, 'exitCode'>> & {retryAfterMs?: number} = {}) {
    super(message, {status: 429, ...options, code: options.code ?? 'RATE_LIMITED', exitCode: ExitCode.RateLimited})
    this.retryAfterMs = options.retryAfterMs
  }
}

/** The client's own breaker refused to send anything. */
export class CircuitOpenError extends BflyError {
  readonly host: string
  readonly retryInMs: number
  constructor(host: string, retryInMs: number) {
    const seconds = Math.max(1, Math.ceil(retryInMs / 1000))
    super(`circuit open for ${host}, next probe in ${seconds} s`, {
      code: 'CIRCUIT_OPEN',
      exitCode: ExitCode.Service,
      hint: `wait, or run \`bfly circuit reset --host ${host}\` if the service is back`,
    })
    this.host = host
    this.retryInMs = retryInMs
  }
}

/** A check the user asked for failed: probe assertion, --fail-on, bad signature, doctor. */
export class CheckFailed extends BflyError {
  constructor(message: string, options: {hint?: string; code?: string} = {}) {
    super(message, {code: options.code ?? 'CHECK_FAILED', exitCode: ExitCode.CheckFailed, hint: options.hint})
  }
}

/** A bulk operation where some items failed; the report (already printed) says which. */
export class PartialFailure extends BflyError {
  constructor(message: string, options: {hint?: string} = {}) {
    super(message, {code: 'PARTIAL_FAILURE', exitCode: ExitCode.Partial, hint: options.hint})
  }
}

export class Interrupted extends BflyError {
  constructor(message = 'interrupted') {
    super(message, {code: 'INTERRUPTED', exitCode: ExitCode.Interrupted})
  }
}

/** A response we could not understand (an HTML page where JSON was promised, a truncated body). */
export class BadResponseError extends BflyError {
  constructor(message: string, options: Partial<Omit<BflyErrorOptions, 'exitCode'>> & {exitCode?: ExitCodeValue} = {}) {
    super(message, {...options, code: options.code ?? 'BAD_RESPONSE', exitCode: options.exitCode ?? ExitCode.Failure})
  }
}

/** An error answer of the API, decoded from the error envelope (or from what a proxy sent instead). */
export class ApiError extends BflyError {
  readonly retryAfterMs?: number
  constructor(
    message: string,
    options: {code: string; status: number; requestId?: string; details?: ErrorDetail[]; hint?: string; retryAfterMs?: number; method?: string},
  ) {
    super(message, {
      code: options.code,
      status: options.status,
      requestId: options.requestId,
      details: options.details,
      hint: options.hint ?? hintForStatus(options.status),
      exitCode: exitCodeForStatus(options.status),
    })
    this.retryAfterMs = options.retryAfterMs
  }
}

export function exitCodeForStatus(status: number): ExitCodeValue {
  if (status === 400 || status === 422) return ExitCode.Usage
  if (status === 401 || status === 403) return ExitCode.Auth
  if (status === 404 || status === 410) return ExitCode.NotFound
  if (status === 429) return ExitCode.RateLimited
  if (status === 409 || status >= 500) return ExitCode.Service
  return ExitCode.Failure
}

function hintForStatus(status: number): string | undefined {
  if (status === 401) return 'run `bfly login`'
  if (status === 403) return 'your login lacks the scope this needs: `bfly login --scopes "…"` with it'
  if (status >= 500) return 'the service failed; try again later, or check `bfly integrations status`'
  return undefined
}

/** The exit code for anything thrown, including oclif's own errors and plain bugs. */
export function exitCodeOf(error: unknown): ExitCodeValue {
  if (error instanceof BflyError) return error.exitCode
  return ExitCode.Failure
}

export interface JsonErrorShape {
  error: {code: string; message: string; status?: number; requestId?: string; exitCode: number; hint?: string; details?: ErrorDetail[]}
}

export function errorToJson(error: BflyError): JsonErrorShape {
  const out: JsonErrorShape['error'] = {code: error.code, message: error.message, exitCode: error.exitCode}
  if (error.status !== undefined) out.status = error.status
  if (error.requestId !== undefined) out.requestId = error.requestId
  if (error.hint !== undefined) out.hint = error.hint
  if (error.details !== undefined && error.details.length > 0) out.details = error.details
  return {error: out}
}

/** One human line: what happened, the request id, what to do next. */
export function errorToLine(error: BflyError): string {
  let line = error.message
  if (error.details && error.details.length > 0) {
    line += ': ' + error.details.map((d) => (d.field ? `${d.field} ${d.message}` : d.message)).join('; ')
  }
  if (error.requestId) line += ` (request ${error.requestId})`
  if (error.hint) line += ` — ${error.hint}`
  return line.replace(/\s*\n\s*/g, ' ')
}
