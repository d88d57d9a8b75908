// Throughput of the sandbox on one core (it is single-threaded) with autocannon on the
// other: the goal is >= 10,000 simple GETs/s, so it is never the bottleneck of `bfly probe`.
// Reported as capacity per core = 1 s / (server CPU time per request), next to the raw
// req/s autocannon saw (which a busy machine or a slow load generator pulls down).
// The baseline is a bare node:http server answering a fixed JSON body, measured in the same
// run; start-up is `bfly sandbox --json` until its line, as a ratio to `node -e 0`.
// Standalone: `node scripts/bench/sandbox.js` (BENCH_SECONDS=2 per measurement, 3 rounds).
import {spawn} from 'node:child_process'
import {dirname, join} from 'node:path'
import {createInterface} from 'node:readline'
import {fileURLToPath, pathToFileURL} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const seconds = Number(process.env.BENCH_SECONDS ?? 2)

// Every child answers "cpu" on stdin with its process.cpuUsage(): CPU time per request is
// the figure that does not depend on how busy the machine (and the load generator) is.
const cpuProbe = `
  const {createInterface: rl} = await import('node:readline')
  rl({input: process.stdin}).on('line', () => process.stdout.write(JSON.stringify(process.cpuUsage()) + '\\n'))
`

/** A child process that prints one JSON line when ready. */
async function child(script) {
  const proc = spawn(process.execPath, ['--input-type=module', '-e', script + cpuProbe], {stdio: ['pipe', 'pipe', 'inherit']})
  const lines = createInterface({input: proc.stdout})
  // One 'exit' listener per wait, removed with the line: a listener per question piled up.
  const next = () => new Promise((resolve, reject) => {
    const exited = (code) => reject(new Error(`bench server exited ${code}`))
    proc.once('exit', exited)
    lines.once('line', (line) => {
      proc.off('exit', exited)
      resolve(line)
    })
  })
  const info = JSON.parse(await next())
  return {
    info,
    /** CPU microseconds (user + system) used so far. */
    cpu: async () => {
      const reply = next()
      proc.stdin.write('cpu\n')
      const usage = JSON.parse(await reply)
      return usage.user + usage.system
    },
    stop: () => new Promise((resolve) => {
      proc.once('exit', resolve)
      proc.kill('SIGTERM')
    }),
  }
}

const sandboxScript = `
  const {startSandbox} = await import(${JSON.stringify(pathToFileURL(join(root, 'dist', 'sandbox', 'index.js')).href)})
  const sb = await startSandbox({insecureDemoTokens: true, rateLimits: false, quiet: true})
  const res = await fetch(sb.issuer + '/token', {method: 'POST', headers: {authorization: 'Basic ' + Buffer.from(sb.ciClient.id + ':' + sb.ciClient.secret).toString('base64'), 'content-type': 'application/x-www-form-urlencoded'}, body: 'grant_type=client_credentials&scope=capsules:read'})
  const jwt = (await res.json()).access_token
  process.stdout.write(JSON.stringify({apiUrl: sb.apiUrl, admin: sb.demoTokens.admin, jwt}) + '\\n')
  process.on('SIGTERM', () => sb.close().then(() => process.exit(0)))
`

const baselineScript = `
  const {createServer} = await import('node:http')
  const body = JSON.stringify({data: {id: 'cap_01JD9Z8K2M', scopeId: 'rim:entity:finance:EURUSD', timestamp: '2025-12-03T10:00:00Z', resolution: 60, version: 3, payload: {price: 1.0842}}, meta: {requestId: 'req-x', timestamp: '2025-12-03T10:00:00Z'}})
  const server = createServer((req, res) => { res.writeHead(200, {'content-type': 'application/json', 'content-length': Buffer.byteLength(body)}); res.end(body) })
  server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({apiUrl: 'http://127.0.0.1:' + server.address().port}) + '\\n'))
  process.on('SIGTERM', () => { server.closeAllConnections(); server.close(() => process.exit(0)) })
`

async function load(server, url, headers = {}) {
  const {default: autocannon} = await import('autocannon')
  // A short warm-up so the JIT has seen the hot path before we count.
  await autocannon({url, headers, connections: 10, duration: 1})
  const cpuBefore = await server.cpu()
  const result = await autocannon({url, headers, connections: 10, duration: seconds})
  const cpuUs = (await server.cpu()) - cpuBefore
  const ok = result.non2xx === 0 && result.errors === 0
  const usPerRequest = cpuUs / result.requests.total
  return {rps: result.requests.average, usPerRequest, capacity: 1e6 / usPerRequest, p99: result.latency.p99, ok, non2xx: result.non2xx, errors: result.errors}
}

async function startupMs(args, runs = 7) {
  const times = []
  for (let i = 0; i < runs; i++) {
    const started = performance.now()
    const proc = spawn(process.execPath, args, {stdio: ['ignore', 'pipe', 'ignore']})
    await new Promise((resolve) => {
      if (args[0] === '-e') proc.once('exit', resolve)
      else createInterface({input: proc.stdout}).once('line', resolve)
    })
    times.push(performance.now() - started)
    if (proc.exitCode === null) {
      proc.kill('SIGTERM')
      await new Promise((resolve) => proc.once('exit', resolve))
    }
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)]
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

export async function run() {
  const rows = []
  const baseline = await child(baselineScript)
  const sandbox = await child(sandboxScript)
  const {apiUrl, admin, jwt} = sandbox.info
  const cases = [
    ['GET /api/v1/capsules/{id} (demo token)', `${apiUrl}/api/v1/capsules/cap_01JD9Z8K2M`, {authorization: `Bearer ${admin}`}],
    ['GET /api/v1/capsules/{id} (JWT from the issuer)', `${apiUrl}/api/v1/capsules/cap_01JD9Z8K2M`, {authorization: `Bearer ${jwt}`}],
    ['GET /api/v1/capsules?size=20 (a page of the list)', `${apiUrl}/api/v1/capsules?size=20`, {authorization: `Bearer ${admin}`}],
    ['GET /integrations/status', `${apiUrl}/integrations/status`, {authorization: `Bearer ${admin}`}],
  ]
  try {
    // Baseline and case alternate, three rounds each, medians compared: a machine whose load
    // changes during the run shifts both sides alike.
    const baseRuns = []
    const results = cases.map(() => [])
    for (let round = 0; round < 3; round++) {
      baseRuns.push(await load(baseline, `${baseline.info.apiUrl}/`))
      for (const [i, [, url, headers]] of cases.entries()) results[i].push(await load(sandbox, url, headers))
    }
    const baseUs = median(baseRuns.map((r) => r.usPerRequest))
    rows.push({name: 'baseline: bare node:http, fixed JSON', value: 1e6 / baseUs, unit: 'req/s/core', note: `${baseUs.toFixed(1)} µs CPU per request; ${median(baseRuns.map((r) => r.rps)).toFixed(0)} req/s measured`})
    for (const [i, [name]] of cases.entries()) {
      const runs = results[i]
      const us = median(runs.map((r) => r.usPerRequest))
      const goal = name.includes('{id} (demo') ? ', goal >= 10000' : ''
      const bad = runs.reduce((n, r) => n + r.non2xx + r.errors, 0)
      rows.push({name, value: 1e6 / us, unit: 'req/s/core', note: `${(baseUs / us).toFixed(2)}× baseline, ${us.toFixed(1)} µs CPU/req; ${median(runs.map((r) => r.rps)).toFixed(0)} req/s measured, p99 ${median(runs.map((r) => r.p99))} ms${bad ? `, ${bad} failed` : ''}${goal}`})
    }
  } finally {
    await sandbox.stop()
    await baseline.stop()
  }

  const node = await startupMs(['-e', '0'])
  const ready = await startupMs([join(root, 'bin', 'run.js'), 'sandbox', '--json'])
  rows.push({name: 'node -e 0 (start-up baseline)', value: node, unit: 'ms'})
  rows.push({name: 'bfly sandbox --json until its line', value: ready / node, unit: '×', note: `${ready.toFixed(0)} ms, goal well under 1 s`})
  return rows
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const row of await run()) console.log(row)
}
