// `bfly probe`: from flags to a plan (everything checked before any load is sent), the
// budget confirmation, credentials resolved once, the run with its live line, and the report.
import {readFile} from 'node:fs/promises'
import type {Context} from '../context.js'
import {type BflyError, CheckFailed, UsageError} from '../errors.js'
import {isLoopbackHost, credentialsAllowed, networkErrorFrom, proxyFor, readCaFile} from '../api/network.js'
import {parseHeader} from '../services/api/call.js'
import {object, text, type CommandResult} from '../output/result.js'
import {parseDuration, parseRate, formatDuration} from '../values.js'
import {parseAssertions} from './assertions.js'
import {type ExportFormat, exportScript} from './export.js'
import {liveProgress, humanReport, type Target} from './human.js'
import {plannedRequests, type ProbePlan, resolveLoad, DEFAULT_TIMEOUT_MS} from './plan.js'
import type {ProbeReport} from './report.js'

/**
 * Why no request of a run got an answer, when the cause is the way there rather than the
 * server: an untrusted or wrong certificate, the proxy, DNS. A server that refuses or hangs is
 * what the probe measures (errors of their kind, the assertions decide); a misconfigured path
 * measured nothing, and exits 7 like any other command.
 */
function noAnswer(error: Error & {code?: string; cause?: unknown}, url: URL, plan: ProbePlan): BflyError | undefined {
  const code = error.code ?? (error.cause as {code?: string} | undefined)?.code
  const failure = networkErrorFrom({code, message: error.message}, url.host, plan.timeoutMs, plan.proxy)
  if (failure.code !== 'TLS_ERROR' && failure.code !== 'DNS_ERROR' && !failure.code.startsWith('PROXY_')) return undefined
  failure.message = `no request got an answer: ${failure.message}`
  return failure
}

export interface ProbeInput {
  path: string
  method: string
  rate?: string
  concurrency?: number
  connections?: number
  duration?: string
  requests?: number
  warmup?: string
  headers: string[]
  body?: string
  asserts: string[]
  export?: ExportFormat
  hdrOut?: string
  /** The command line as typed, for the first comment of an exported script. */
  commandLine: string
}

export interface ProbeDeps {
  /** Asks on a terminal, needs --yes elsewhere (throws a usage error when refused). */
  confirm(question: string, what: string): Promise<void>
}

export interface ProbeOutcome {
  result: CommandResult
  /** Set when an assertion failed: raised after the report is out. */
  failure?: CheckFailed
}

async function readBody(input: string): Promise<Buffer> {
  let raw = input
  if (input.startsWith('@')) {
    const file = input.slice(1)
    raw = await readFile(file, 'utf8').catch((error: Error) => {
      throw new UsageError(`cannot read --body ${input}: ${error.message}`)
    })
  }
  try {
    JSON.parse(raw)
  } catch (error) {
    throw new UsageError(`--body is not valid JSON: ${(error as Error).message}`, {hint: 'pass a JSON document, or @file with one'})
  }
  return Buffer.from(raw, 'utf8')
}

function resolveUrl(apiUrl: string, path: string): URL {
  if (!path.startsWith('/')) throw new UsageError(`invalid path "${path}": must start with /`)
  const base = new URL(apiUrl.endsWith('/') ? apiUrl : apiUrl + '/')
  return new URL(path.replace(/^\/+/, ''), base)
}

/** Over budget when the plan sends more than a window's worth, faster than the window refills. */
async function budgetQuestion(plan: ProbePlan, url: URL): Promise<{question: string; what: string} | undefined> {
  if (isLoopbackHost(url.hostname)) return undefined
  const [{DEFAULT_BUDGETS}, {defaultApiClass}] = await Promise.all([import('../resilience/token-bucket.js'), import('../api/client.js')])
  const apiClass = defaultApiClass(plan.method, url.pathname)
  const budget = DEFAULT_BUDGETS[apiClass]
  const perMinuteBudget = (budget.capacity * 60_000) / budget.windowMs
  const total = plannedRequests(plan)
  const perMinute = plan.model === 'open' ? plan.rate! * 60 : Number.POSITIVE_INFINITY
  if (total <= budget.capacity || perMinute <= perMinuteBudget) return undefined
  const load = plan.model === 'open'
    ? `${Math.round(perMinute).toLocaleString('en-US')} requests/min`
    : `as many requests as ${plan.concurrency} workers get answered`
  const span = plan.durationMs !== undefined ? ` for ${formatDuration(plan.durationMs + plan.warmupMs)}` : ''
  return {
    question: `This sends ${load}${span} to ${url.host}, above the API's published budget of ${perMinuteBudget}/min for ${apiClass} requests. Continue?`,
    what: `send a load above the API budget to ${url.host}`,
  }
}

export async function probe(ctx: Context, input: ProbeInput, deps: ProbeDeps): Promise<ProbeOutcome> {
  // Everything that can be wrong with the command line fails here, before any load.
  const assertions = parseAssertions(input.asserts)
  const load = resolveLoad({
    rate: input.rate === undefined ? undefined : parseRate(input.rate),
    concurrency: input.concurrency,
    connections: input.connections,
    durationMs: input.duration === undefined ? undefined : parseDuration(input.duration, 'duration'),
    requests: input.requests,
    warmupMs: input.warmup === undefined ? undefined : parseDuration(input.warmup, 'warmup'),
  })
  const method = input.method.toUpperCase()
  const extra = Object.fromEntries(input.headers.map(parseHeader))
  const body = input.body === undefined ? undefined : await readBody(input.body)
  const settings = await ctx.settings()
  const url = resolveUrl(await ctx.apiUrl(), input.path)
  const headers: Record<string, string> = {
    accept: 'application/json',
    'user-agent': `bfly/${ctx.version} (${process.platform}; node/${process.versions.node})`,
    'x-correlation-id': ctx.correlationId,
    ...(body ? {'content-type': 'application/json'} : {}),
    ...extra,
  }
  const timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const plan: ProbePlan = {url: url.href, method, headers, body, ...load, timeoutMs, assertions, proxy: proxyFor(url, ctx.env)}

  if (input.export !== undefined) {
    const auth = !ctx.env.BFLY_TOKEN && ctx.env.BUTTERFLY_API_KEY ? 'api-key' : 'bearer'
    // The script is the user's load, not ours: no bfly user agent or correlation id in it.
    const {'user-agent': _ua, 'x-correlation-id': _cid, ...scriptHeaders} = headers
    const script = exportScript(input.export, {...plan, headers: scriptHeaders, auth, commandLine: input.commandLine})
    return {result: text(script, {format: input.export, script})}
  }

  const credentials = await ctx.credentials()
  if (!credentialsAllowed(url)) {
    throw new UsageError(`refusing to send credentials over plain http to ${url.host}`, {hint: 'use an https:// API URL (plain http is allowed for loopback only)'})
  }
  const confirmation = await budgetQuestion(plan, url)
  if (confirmation) await deps.confirm(confirmation.question, confirmation.what)
  // Resolved once: a run of thousands of requests must not consult the keychain per request.
  Object.assign(headers, await credentials.headers())
  plan.requestIdPrefix = `req-${ctx.traceId.slice(0, 12)}`
  plan.traceId = ctx.traceId

  if (settings.caFile) plan.ca = readCaFile(settings.caFile)
  const hdr = ((await import('hdr-histogram-js')) as unknown as {default: typeof import('hdr-histogram-js')}).default
  const hdrLog = input.hdrOut === undefined ? undefined : await (await import('./hdr-log.js')).HdrLog.open(input.hdrOut, hdr)
  if (ctx.verbose) {
    const {redactHeaders} = await import('../api/redact.js')
    const load = plan.model === 'open' ? `rate ${plan.rate}/s` : `concurrency ${plan.concurrency}`
    const span = plan.durationMs !== undefined ? `${plan.durationMs} ms` : `${plan.requests} requests`
    ctx.trace(`probe ${method} ${url.href}: ${plan.model} model, ${load}, ${plan.connections} connections, ${span}, warmup ${plan.warmupMs} ms, timeout ${timeoutMs} ms${plan.proxy ? ', through a proxy' : ''}`)
    ctx.trace(`  ${JSON.stringify(redactHeaders(headers))}`)
  }
  const live = liveProgress(ctx.io, ctx.io.interactiveProgress(ctx.json))
  let report: ProbeReport
  let firstTransportError: Error | undefined
  try {
    const {runProbe} = await import('./engine.js')
    report = await runProbe(plan, {signal: ctx.signal, onTick: live.tick, onInterval: hdrLog?.interval, hdr, onTransportError: (error) => (firstTransportError ??= error)})
  } finally {
    live.clear()
    await hdrLog?.close(ctx.now())
  }
  for (const warning of report.selfCheck.warnings) ctx.warn(warning)
  const target: Target = {method, url: url.href, connections: plan.connections, warmupMs: plan.warmupMs}
  const failed = report.assertions.filter((a) => !a.pass)
  // Nothing answered at all: the report alone would say "errors 100%: tls"; the cause (an
  // untrusted certificate, a proxy refusing the tunnel) is the network failure to report.
  const unanswered = report.requests > 0 && report.errors === report.requests && Object.keys(report.statusCodes).length === 0
  const unreachable = unanswered && firstTransportError ? noAnswer(firstTransportError, url, plan) : undefined
  const failure = unreachable
    ? unreachable
    : failed.length === 0
    ? undefined
    : new CheckFailed(`${failed.length} of ${report.assertions.length} assertion${report.assertions.length === 1 ? '' : 's'} failed: ${failed.map((a) => `${a.expr} (actual ${a.actual ?? 'none'})`).join(', ')}`)
  return {result: object(report, {human: (r) => humanReport(r, target, ctx.io)}), failure}
}
