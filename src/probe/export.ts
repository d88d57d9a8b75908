// `--export k6|artillery`: the same load as a script for those tools. Credentials are never
// written into the script: it reads BFLY_TOKEN (e.g. `export BFLY_TOKEN=$(bfly auth token)`)
// or BUTTERFLY_API_KEY from the environment when it runs.
import {UsageError} from '../errors.js'
import type {Assertion} from './assertions.js'
import type {ProbePlan} from './plan.js'

export type ExportFormat = 'k6' | 'artillery'

export type ExportPlan = Omit<ProbePlan, 'requestIdPrefix' | 'traceId'> & {
  /** How the script authenticates: a bearer token or an API key, both from its environment. */
  auth: 'bearer' | 'api-key'
  /** The command line this script stands for, for its first comment. */
  commandLine: string
}

const js = (value: unknown) => JSON.stringify(value)
const seconds = (ms: number) => `${Math.round(ms) / 1000}s`

function k6Threshold(a: Assertion): [metric: string, expression: string] | undefined {
  const latency: Record<string, string> = {
    p50: 'p(50)', p75: 'p(75)', p90: 'p(90)', p95: 'p(95)', p99: 'p(99)', p999: 'p(99.9)', min: 'min', max: 'max', mean: 'avg',
  }
  if (latency[a.metric]) return ['http_req_duration', `${latency[a.metric]}${a.op}${a.threshold}`]
  switch (a.metric) {
    case 'errorRate':
      return ['http_req_failed', `rate${a.op}${a.threshold}`]
    case 'throughput':
      return ['http_reqs', `rate${a.op}${a.threshold}`]
    case 'requests':
      return ['http_reqs', `count${a.op}${a.threshold}`]
    case 'errors':
      return ['http_reqs{expected_response:false}', `count${a.op}${a.threshold}`]
    case 'rateLimited':
      return ['http_reqs{status:429}', `count${a.op}${a.threshold}`]
    default:
      return undefined
  }
}

/** k6 needs a whole number of iterations per time unit: 2.5/s is 2500 per 1000 s. */
function k6Rate(rate: number): {rate: number; timeUnit: string} {
  return Number.isInteger(rate) ? {rate, timeUnit: '1s'} : {rate: Math.round(rate * 1000), timeUnit: '1000s'}
}

function k6Scenario(plan: ExportPlan, durationMs: number | undefined, iterations: number | undefined): Record<string, unknown> {
  if (plan.model === 'open') {
    return {executor: 'constant-arrival-rate', ...k6Rate(plan.rate!), duration: seconds(durationMs!), preAllocatedVUs: plan.connections, maxVUs: plan.connections}
  }
  if (iterations !== undefined) return {executor: 'shared-iterations', vus: plan.concurrency, iterations, maxDuration: '1h'}
  return {executor: 'constant-vus', vus: plan.concurrency, duration: seconds(durationMs!)}
}

export function toK6(plan: ExportPlan): string {
  const measuredMs = plan.model === 'open' && plan.requests !== undefined ? (plan.requests / plan.rate!) * 1000 : plan.durationMs
  const scenarios: Record<string, unknown> = {}
  if (plan.warmupMs > 0) scenarios.warmup = k6Scenario(plan, plan.warmupMs, undefined)
  scenarios.probe = {
    ...k6Scenario(plan, measuredMs, plan.model === 'closed' ? plan.requests : undefined),
    ...(plan.warmupMs > 0 ? {startTime: seconds(plan.warmupMs)} : {}),
  }
  const thresholds: Record<string, string[]> = {}
  const unsupported: string[] = []
  for (const a of plan.assertions) {
    const mapped = k6Threshold(a)
    if (!mapped) {
      unsupported.push(a.expr)
      continue
    }
    // Only the measured scenario counts, as in bfly.
    const metric = mapped[0].includes('{') ? mapped[0].replace('{', '{scenario:probe,') : `${mapped[0]}{scenario:probe}`
    ;(thresholds[metric] ??= []).push(mapped[1])
  }
  const {authorization: _a, 'x-api-key': _k, ...headers} = plan.headers
  const auth = plan.auth === 'api-key'
    ? `{'x-api-key': __ENV.BUTTERFLY_API_KEY}`
    : '{authorization: `Bearer ${__ENV.BFLY_TOKEN}`}'
  const lines = [
    `// k6 script equivalent to: ${plan.commandLine}`,
    `// Run: ${plan.auth === 'api-key' ? 'BUTTERFLY_API_KEY=… k6 run probe.js' : 'BFLY_TOKEN=$(bfly auth token) k6 run probe.js'}`,
    ...(plan.model === 'closed' ? ['// Closed model: each virtual user sends its next request when the last one ends.'] : ['// Open model: a fixed arrival rate; k6 measures from the actual send, bfly from the intended one.']),
    ...unsupported.map((expr) => `// not expressible as a k6 threshold: ${expr}`),
    `import http from 'k6/http'`,
    '',
    `const URL = ${js(plan.url)}`,
    `const BODY = ${plan.body ? js(plan.body.toString('utf8')) : 'null'}`,
    `const HEADERS = Object.assign(${js(headers)}, ${auth})`,
    '',
    `export const options = ${JSON.stringify({discardResponseBodies: true, scenarios, thresholds}, null, 2)}`,
    '',
    'export default function () {',
    `  http.request(${js(plan.method)}, URL, BODY, {headers: HEADERS, timeout: ${js(seconds(plan.timeoutMs))}})`,
    '}',
    '',
  ]
  return lines.join('\n')
}

function artilleryCondition(a: Assertion): string | undefined {
  const latency: Record<string, string> = {
    p50: 'p50', p75: 'p75', p90: 'p90', p95: 'p95', p99: 'p99', p999: 'p999', min: 'min', max: 'max', mean: 'mean',
  }
  if (latency[a.metric]) return `http.response_time.${latency[a.metric]} ${a.op} ${a.threshold}`
  if (a.metric === 'throughput') return `http.request_rate ${a.op} ${a.threshold}`
  if (a.metric === 'requests') return `http.requests ${a.op} ${a.threshold}`
  if (a.metric === 'rateLimited') return `http.codes.429 ${a.op} ${a.threshold}`
  return undefined
}

function artilleryPhase(name: string, plan: ExportPlan, durationMs: number): string[] {
  const duration = Math.max(1, Math.round(durationMs / 1000))
  const rate = plan.rate!
  return [
    `    - name: ${name}`,
    `      duration: ${duration}`,
    Number.isInteger(rate) ? `      arrivalRate: ${rate}` : `      arrivalCount: ${Math.round(rate * duration)}`,
  ]
}

export function toArtillery(plan: ExportPlan): string {
  if (plan.model === 'closed' && plan.requests === undefined) {
    throw new UsageError('artillery has no closed model for a fixed duration', {hint: 'export with --rate (open model) or --requests N'})
  }
  const url = new URL(plan.url)
  const {authorization: _a, 'x-api-key': _k, ...headers} = plan.headers
  headers[plan.auth === 'api-key' ? 'x-api-key' : 'authorization'] = plan.auth === 'api-key'
    ? '{{ $processEnvironment.BUTTERFLY_API_KEY }}'
    : 'Bearer {{ $processEnvironment.BFLY_TOKEN }}'
  const phases: string[] = []
  if (plan.model === 'open') {
    if (plan.warmupMs > 0) phases.push(...artilleryPhase('warmup', plan, plan.warmupMs))
    const measuredMs = plan.requests !== undefined ? (plan.requests / plan.rate!) * 1000 : plan.durationMs!
    phases.push(...artilleryPhase('probe', plan, measuredMs))
  } else {
    // Closed model with a request count: C users arrive at once, each looping over its share.
    phases.push('    - name: probe', '      duration: 1', `      arrivalCount: ${plan.concurrency}`)
  }
  const conditions: string[] = []
  const unsupported: string[] = []
  for (const a of plan.assertions) {
    const condition = artilleryCondition(a)
    if (condition) conditions.push(`      - expression: ${js(condition)}`)
    else unsupported.push(a.expr)
  }
  const request = [
    `      - ${plan.method.toLowerCase()}:`,
    `          url: ${js(url.pathname + url.search)}`,
    '          headers:',
    ...Object.entries(headers).map(([k, v]) => `            ${js(k)}: ${js(v)}`),
    ...(plan.body ? [`          body: ${js(plan.body.toString('utf8'))}`] : []),
  ]
  const perUser = plan.model === 'closed' ? Math.ceil(plan.requests! / plan.concurrency!) : 0
  const flow = plan.model === 'closed'
    ? ['      - loop:', ...request.map((l) => '    ' + l), `        count: ${perUser}`]
    : request
  const lines = [
    `# Artillery script equivalent to: ${plan.commandLine}`,
    `# Run: ${plan.auth === 'api-key' ? 'BUTTERFLY_API_KEY=… artillery run probe.yml' : 'BFLY_TOKEN=$(bfly auth token) artillery run probe.yml'}`,
    ...(plan.warmupMs > 0 && plan.model === 'open' ? ['# Artillery checks its conditions over every phase, warmup included.'] : []),
    ...(plan.model === 'closed' && plan.warmupMs > 0 ? ['# The warmup is not exported: artillery has no closed-model warmup.'] : []),
    ...unsupported.map((expr) => `# not expressible as an artillery condition: ${expr}`),
    'config:',
    `  target: ${js(url.origin)}`,
    '  phases:',
    ...phases,
    '  http:',
    `    timeout: ${Math.max(1, Math.round(plan.timeoutMs / 1000))}`,
    ...(plan.model === 'open' ? [`    pool: ${plan.connections}`] : []),
    ...(conditions.length > 0 ? ['  ensure:', '    conditions:', ...conditions] : []),
    'scenarios:',
    '  - flow:',
    ...flow,
    '',
  ]
  return lines.join('\n')
}

export function exportScript(format: ExportFormat, plan: ExportPlan): string {
  return format === 'k6' ? toK6(plan) : toArtillery(plan)
}
