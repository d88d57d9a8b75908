// `bfly probe` against autocannon, side by side in one run (a report, not a test).
//
// Throughput: a minimal loopback server in a child process (its own core), the same
// connections, bfly's closed model vs autocannon; paired rounds, medians of the ratios of
// requests/s and of CPU per request. Goals: ≥ 0.8× autocannon's req/s and ≤ 1.3× its CPU per
// request on the minimal server; ≥ 0.95× against a server answering in 5 ms.
//
// Accuracy at a fixed rate against servers whose truth is known: bimodal (98% at 1 ms, 2% at
// 100 ms; the truth is what the server itself measured) and one that freezes for 1 s every
// 5 s (the truth is analytic: a request arriving during a freeze waits for its end, so 20%
// of arrivals wait uniformly up to 1 s). Goals: p50 within 0.5 ms of the truth, p99 within
// 5%, the freeze visible in p99.9/max.
//
// Standalone: `node scripts/bench/probe.js` (after `npm run build`); BENCH_QUICK=1 for a short run.
import {fork} from 'node:child_process'
import {createServer} from 'node:http'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const here = fileURLToPath(import.meta.url)
const root = join(dirname(here), '..', '..')
const require = createRequire(join(root, 'package.json'))

// ---------------------------------------------------------------- servers (child process)

function serve(kind) {
  const hdr = require('hdr-histogram-js')
  const truth = hdr.build({lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3})
  const startedAt = performance.now()
  let n = 0
  const frozen = (t) => (t - startedAt) % 5000 < 1000
  const freezeEnd = (t) => t + (1000 - ((t - startedAt) % 5000))
  const server = createServer((req, res) => {
    const arrived = performance.now()
    const i = n++
    const answer = () => {
      res.writeHead(200, {'content-type': 'application/json', 'content-length': '2'})
      res.end('{}')
      truth.recordValue(Math.max(1, Math.round((performance.now() - arrived) * 1000)))
    }
    req.resume()
    if (kind === 'fast') return answer()
    if (kind === 'delay5') return void setTimeout(answer, 5)
    if (kind === 'bimodal') return void setTimeout(answer, i % 50 === 49 ? 100 : 1)
    if (kind === 'freeze') {
      if (frozen(arrived)) return void setTimeout(() => setTimeout(answer, 1), freezeEnd(arrived) - arrived)
      return void setTimeout(answer, 1)
    }
  })
  server.keepAliveTimeout = 60_000
  process.on('message', (message) => {
    if (message === 'reset') {
      truth.reset()
      process.send({reset: true})
    } else if (message === 'truth') {
      const p = (q) => truth.getValueAtPercentile(q) / 1000
      process.send({p50: p(50), p99: p(99), p999: p(99.9), max: truth.maxValue / 1000, count: truth.totalCount})
    }
  })
  server.listen(0, '127.0.0.1', () => process.send({port: server.address().port}))
}

async function startServer(kind) {
  const child = fork(here, ['--serve', kind], {stdio: ['ignore', 'inherit', 'inherit', 'ipc']})
  const {port} = await new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('error', reject)
  })
  const ask = (message) => new Promise((resolve) => {
    child.once('message', resolve)
    child.send(message)
  })
  return {url: `http://127.0.0.1:${port}/bench`, ask, close: () => child.kill()}
}

// ---------------------------------------------------------------- the two tools

const HEADERS = {accept: 'application/json'}

async function bfly(runProbe, url, load) {
  const cpu = process.cpuUsage()
  const report = await runProbe({
    url,
    method: 'GET',
    headers: HEADERS,
    timeoutMs: 10_000,
    warmupMs: 0,
    assertions: [],
    ...load,
  })
  const used = process.cpuUsage(cpu)
  return {
    rps: report.throughput,
    cpuUsPerRequest: (used.user + used.system) / Math.max(1, report.requests),
    latency: report.latencyMs,
    selfCheck: report.selfCheck,
  }
}

async function autocannon(url, options) {
  const {default: run} = await import('autocannon')
  const cpu = process.cpuUsage()
  const started = performance.now()
  const result = await run({url, headers: HEADERS, ...options})
  const seconds = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  const total = result.requests.total
  return {
    rps: total / seconds,
    cpuUsPerRequest: (used.user + used.system) / Math.max(1, total),
    latency: {p50: result.latency.p50, p99: result.latency.p99, p999: result.latency.p99_9, max: result.latency.max},
  }
}

const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
const fmt = (n, digits = 2) => (n === null || n === undefined ? '-' : Number(n).toFixed(digits))

// ---------------------------------------------------------------- the benchmarks

async function throughput(runProbe, kind, {rounds, seconds, connections}) {
  const server = await startServer(kind)
  const pairs = []
  try {
    // Warm both up once so JIT and connection setup do not favour whichever runs second.
    await autocannon(server.url, {connections, duration: 1})
    await bfly(runProbe, server.url, {model: 'closed', concurrency: connections, connections, durationMs: 1000})
    for (let i = 0; i < rounds; i++) {
      // Alternate the order so drift on a busy machine hits both alike.
      const ac = () => autocannon(server.url, {connections, duration: seconds})
      const probe = () => bfly(runProbe, server.url, {model: 'closed', concurrency: connections, connections, durationMs: seconds * 1000})
      if (i % 2 === 0) {
        const a = await ac()
        pairs.push({ac: a, bfly: await probe()})
      } else {
        const b = await probe()
        pairs.push({ac: await ac(), bfly: b})
      }
    }
  } finally {
    server.close()
  }
  const label = kind === 'fast' ? 'minimal server' : '5 ms server'
  const rps = {ac: median(pairs.map((p) => p.ac.rps)), bfly: median(pairs.map((p) => p.bfly.rps))}
  const cpu = {ac: median(pairs.map((p) => p.ac.cpuUsPerRequest)), bfly: median(pairs.map((p) => p.bfly.cpuUsPerRequest))}
  const rpsRatio = median(pairs.map((p) => p.bfly.rps / p.ac.rps))
  const cpuRatio = median(pairs.map((p) => p.bfly.cpuUsPerRequest / p.ac.cpuUsPerRequest))
  const rows = [
    {name: `${label}: autocannon req/s (${connections} conns)`, value: rps.ac, unit: 'req/s'},
    {name: `${label}: bfly probe req/s (closed, ${connections} conns)`, value: rps.bfly, unit: 'req/s'},
    {name: `${label}: bfly / autocannon req/s`, value: rpsRatio, unit: '×', note: `goal ≥ ${kind === 'fast' ? '0.8' : '0.95'}× (median of ${rounds} paired rounds)`},
  ]
  if (kind === 'fast') {
    rows.push(
      {name: `${label}: CPU per request autocannon / bfly`, value: `${fmt(cpu.ac, 1)} / ${fmt(cpu.bfly, 1)}`, unit: 'µs'},
      {name: `${label}: bfly / autocannon CPU per request`, value: cpuRatio, unit: '×', note: 'goal ≤ 1.3×'},
    )
  }
  return rows
}

function freezeTruth(base) {
  // 80% of arrivals see the base latency; 20% arrive during a freeze and wait uniformly up to 1 s.
  const at = (q) => (q <= 0.8 ? base : base + ((q - 0.8) / 0.2) * 1000)
  return {p50: at(0.5), p99: at(0.99), p999: at(0.999), max: base + 1000}
}

async function accuracy(runProbe, kind, {seconds, rate, connections}) {
  const server = await startServer(kind)
  let truthBfly
  let truthAc
  let b
  let a
  try {
    await server.ask('reset')
    b = await bfly(runProbe, server.url, {model: 'open', rate, connections, durationMs: seconds * 1000})
    truthBfly = await server.ask('truth')
    await server.ask('reset')
    a = await autocannon(server.url, {connections, overallRate: rate, duration: seconds})
    truthAc = await server.ask('truth')
  } finally {
    server.close()
  }
  const label = kind === 'bimodal' ? 'bimodal 98% 1 ms / 2% 100 ms' : 'freeze 1 s every 5 s'
  // The bimodal truth is what the server measured while bfly ran; the freeze truth is analytic
  // around the base latency the server measured.
  const truth = kind === 'bimodal' ? truthBfly : freezeTruth(truthBfly.p50)
  const rows = []
  for (const [key, name] of [['p50', 'p50'], ['p99', 'p99'], ['p999', 'p99.9'], ['max', 'max']]) {
    const t = truth[key]
    const goal = key === 'p50' ? `|Δ| ${fmt(Math.abs(b.latency[key] - t), 3)} ms (goal ≤ 0.5)` : key === 'p99' ? `Δ ${fmt(((b.latency[key] - t) / t) * 100, 1)}% (goal within 5%)` : ''
    rows.push({
      name: `${label} @${rate}/s: ${name} bfly`,
      value: b.latency[key],
      unit: 'ms',
      note: `truth ${fmt(t)}, autocannon ${fmt(a.latency[key])}${goal ? `; ${goal}` : ''}`,
    })
  }
  rows.push({name: `${label}: bfly self-check`, value: b.selfCheck.ok ? 'ok' : 'client-bound', unit: '', note: `send delay p99 ${fmt(b.selfCheck.sendDelayMs?.p99, 3)} ms; server saw ${truthBfly.count} (bfly) / ${truthAc.count} (autocannon) requests`})
  return rows
}

export async function run() {
  const quick = process.env.BENCH_QUICK === '1'
  const {runProbe} = await import(pathToFileURL(join(root, 'dist', 'probe', 'engine.js')).href)
  const connections = 10
  const rows = []
  rows.push(...(await throughput(runProbe, 'fast', {rounds: quick ? 3 : 7, seconds: quick ? 2 : 3, connections})))
  rows.push(...(await throughput(runProbe, 'delay5', {rounds: quick ? 2 : 3, seconds: quick ? 2 : 3, connections})))
  rows.push(...(await accuracy(runProbe, 'bimodal', {seconds: quick ? 4 : 10, rate: 200, connections})))
  rows.push(...(await accuracy(runProbe, 'freeze', {seconds: 10, rate: 200, connections})))
  return rows
}

if (process.argv[2] === '--serve') serve(process.argv[3])
else if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const row of await run()) console.log(`${row.name.padEnd(58)} ${String(typeof row.value === 'number' ? fmt(row.value) : row.value).padStart(12)} ${row.unit ?? ''}${row.note ? `   ${row.note}` : ''}`)
}
