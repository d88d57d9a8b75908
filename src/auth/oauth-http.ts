// HTTP to the authorization server: the project's got with the same timeouts, proxy, CA and
// redacted --verbose trace as the API client, but its own instance: the API's credentials
// never go to the OAuth server, and OAuth secrets only over https (or http to loopback).
import {performance} from 'node:perf_hooks'
import type {Got, Response} from 'got'
import type {Context} from '../context.js'
import {BadResponseError, BflyError, Interrupted, UsageError} from '../errors.js'
import {credentialsAllowed, networkErrorFrom, proxyFor, redactProxy, trustedCas} from '../api/network.js'
import {redactBody, redactUrl} from '../api/redact.js'
import {DEFAULT_BACKOFF, type BackoffPolicy, fullJitterDelay} from '../resilience/backoff.js'

/** An OAuth error answer (RFC 6749 §5.2, RFC 8628 §3.5): `error` and maybe `error_description`. */
export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string | undefined,
    readonly status: number,
  ) {
    super(description ? `${error}: ${description}` : error)
  }
}

export type Json = Record<string, unknown>

export interface FormOptions {
  /** HTTP Basic client authentication (RFC 6749 §2.3.1) for confidential clients. */
  basic?: {clientId: string; clientSecret: string}
  /**
   * Not cancelled by Ctrl-C (still bounded by the timeout): a refresh the server has already
   * answered must be stored, or the rotated refresh token is lost with the session.
   */
  uninterruptible?: boolean
}

/** An OAuth request must finish well inside the refresh lock's stale window. */
const TOKEN_REQUEST_LIMIT_MS = 30_000

export class OAuthHttp {
  private constructor(
    private readonly ctx: Context,
    private readonly got: Got,
    private readonly timeoutMs: number | undefined,
    /** The ca-file's certificates with the default roots. */
    private readonly cas: string[] | undefined,
    private readonly backoff: BackoffPolicy,
  ) {}

  static async create(ctx: Context): Promise<OAuthHttp> {
    const settings = await ctx.settings()
    const cas = trustedCas(settings.caFile)
    const {default: got} = await import('../vendor/got.js')
    const backoff = ctx.env.BFLY_RETRY_BASE_MS ? {...DEFAULT_BACKOFF, baseMs: Math.max(1, Number(ctx.env.BFLY_RETRY_BASE_MS) || 1000)} : DEFAULT_BACKOFF
    return new OAuthHttp(ctx, got, settings.timeoutMs, cas, backoff)
  }

  /** GET a JSON document (discovery); network failures and 5xx are retried twice. */
  async getJson(url: string): Promise<{status: number; json?: Json}> {
    const response = await this.send(url, {method: 'GET', retry: 2, followRedirect: true})
    if (response.statusCode >= 500) {
      throw new BadResponseError(`HTTP ${response.statusCode} from ${new URL(url).host} for ${redactUrl(url)}`, {status: response.statusCode})
    }
    return {status: response.statusCode, json: parseObject(response.body)}
  }

  /**
   * POST a form to a token, device or revocation endpoint. Never retried: a refresh whose
   * answer was lost may already have rotated the refresh token, and replaying the old one
   * can revoke the whole grant.
   */
  async postForm(url: string, form: Record<string, string | undefined>, options: FormOptions = {}): Promise<{status: number; json?: Json}> {
    const body = new URLSearchParams()
    for (const [key, value] of Object.entries(form)) if (value !== undefined) body.set(key, value)
    const headers: Record<string, string> = {'content-type': 'application/x-www-form-urlencoded'}
    if (options.basic) {
      // RFC 6749 §2.3.1: both parts form-urlencoded before base64.
      const encode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+')
      headers.authorization = `Basic ${Buffer.from(`${encode(options.basic.clientId)}:${encode(options.basic.clientSecret)}`).toString('base64')}`
    }
    const response = await this.send(url, {method: 'POST', body: body.toString(), headers, retry: 0, followRedirect: false, uninterruptible: options.uninterruptible})
    const json = parseObject(response.body)
    if (response.statusCode >= 400 && json && typeof json.error === 'string') {
      throw new OAuthError(json.error, typeof json.error_description === 'string' ? json.error_description : undefined, response.statusCode)
    }
    if (response.statusCode >= 300) {
      throw new BadResponseError(`HTTP ${response.statusCode} from ${new URL(url).host} for ${redactUrl(url)}${json ? '' : ' (not an OAuth answer)'}`, {status: response.statusCode})
    }
    return {status: response.statusCode, json}
  }

  private async send(
    url: string,
    request: {method: 'GET' | 'POST'; body?: string; headers?: Record<string, string>; retry: number; followRedirect: boolean; uninterruptible?: boolean},
  ): Promise<Response<string>> {
    const {ctx} = this
    const target = new URL(url)
    if (!credentialsAllowed(target)) {
      throw new UsageError(`refusing to talk OAuth over plain http to ${target.host}`, {hint: 'the issuer must be https:// (plain http is allowed for loopback only)'})
    }
    const proxy = proxyFor(target, ctx.env)
    const {proxyAgent, requestTimeouts} = await import('../api/client.js')
    const agent = proxy ? await proxyAgent(target, proxy, this.cas) : undefined
    const timeout = {...requestTimeouts(this.timeoutMs), request: Math.min(this.timeoutMs ?? TOKEN_REQUEST_LIMIT_MS, TOKEN_REQUEST_LIMIT_MS)}
    const started = performance.now()
    if (ctx.verbose) {
      ctx.trace(`→ ${request.method} ${redactUrl(url)}${proxy ? ` through the proxy ${redactProxy(proxy)}` : ''}`)
      if (request.body) ctx.trace(`  body ${redactBody(request.body)}`)
    }
    try {
      const response = await this.got(target, {
        method: request.method,
        body: request.body,
        headers: {
          'user-agent': `bfly/${ctx.version} (${process.platform}; node/${process.versions.node})`,
          accept: 'application/json',
          ...request.headers,
        },
        timeout,
        retry: {
          limit: request.retry,
          methods: ['GET'],
          statusCodes: [502, 503, 504],
          calculateDelay: ({attemptCount, computedValue}: {attemptCount: number; computedValue: number}) => (computedValue === 0 ? 0 : fullJitterDelay(attemptCount, this.backoff)),
        },
        throwHttpErrors: false,
        followRedirect: request.followRedirect,
        responseType: 'text',
        ...(request.uninterruptible ? {} : {signal: ctx.signal}),
        ...(this.cas ? {https: {certificateAuthority: this.cas}} : {}),
        ...(agent ? {agent} : {}),
      } as never) as unknown as Response<string>
      ctx.trace(`← ${response.statusCode} ${request.method} ${redactUrl(response.url)} in ${(performance.now() - started).toFixed(1)} ms`)
      return response
    } catch (error) {
      const e = error as Error & {code?: string; cause?: {code?: string; message?: string}}
      if (error instanceof BflyError) throw error
      // The proxy's own failures (tunnel refused, proxy down) arrive already described.
      if (e.cause instanceof BflyError) throw e.cause
      if ((ctx.signal.aborted && !request.uninterruptible) || e.name === 'AbortError') throw new Interrupted()
      const code = e.code === 'ERR_GOT_REQUEST_ERROR' ? e.cause?.code : e.code
      throw networkErrorFrom({code, message: e.cause?.message ?? e.message}, target.host, e.name === 'TimeoutError' ? timeout.request : undefined, proxy)
    }
  }
}

function parseObject(body: string): Json | undefined {
  try {
    const value = JSON.parse(body) as unknown
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined
  } catch {
    return undefined
  }
}
