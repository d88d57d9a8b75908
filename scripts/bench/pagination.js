// Walking a long list: `bfly capsules list --all --size 100 --ndjson > /dev/null` against a
// minimal loopback server in its own process, for 10,000 and 100,000 capsules. Reports items/s,
// CPU time and the peak RSS of the bfly process, against a bare undici loop fetching the same
// pages from the same server in the same run (also a child process, so both pay start-up).
// A bare got loop (the transport of bfly's HTTP core, same pages, no hooks) is measured too,
// to tell the cost of the transport from the cost of everything bfly adds on top of it.
// Goals: peak RSS ≤ 100 MB and within 20 MB of the 10k walk; throughput ≥ 0.8× the undici loop.
// On a shared machine wall time is noisy: rounds are interleaved, and the throughput ratio is the
// median of the rounds' own ratios (BENCH_ROUNDS, default 5).
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, openSync, closeSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const bin = join(root, 'bin', 'run.js')
const PAGE = 100
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)

// The server answers the contract's envelope with X-RateLimit-* headers announcing a budget
// large enough for the walk; bodies are built per request (as a real server would).
const SERVER = `
const {createServer} = require('node:http')
const total = Number(process.env.TOTAL)
const base = Date.UTC(2025, 11, 3, 10, 0, 0)
const capsule = (i) => '{"id":"cap_' + String(i).padStart(8, '0') + '","scopeId":"rim:entity:finance:EURUSD","timestamp":"' +
  new Date(base + i * 1000).toISOString().replace('.000Z', 'Z') + '","resolution":60,"version":' + (i + 1) +
  ',"payload":{"price":' + (1 + (i % 1000) / 10000) + ',"regime":"calm","volume":' + (i * 7 % 100000) + '},"createdAt":"2025-12-03T10:00:02Z"}'
let requests = 0
const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://x')
  if (url.pathname === '/__stats') { res.end(JSON.stringify({requests})); return }
  requests++
  const page = Number(url.searchParams.get('page') ?? 0)
  const size = Number(url.searchParams.get('size') ?? 20)
  const from = page * size
  const to = Math.min(total, from + size)
  const items = []
  for (let i = from; i < to; i++) items.push(capsule(i))
  const body = '{"data":[' + items.join(',') + '],"meta":{"requestId":"req-' + requests + '","timestamp":"2025-12-03T10:00:00Z","pagination":{"page":' + page +
    ',"size":' + size + ',"totalElements":' + total + ',"totalPages":' + Math.ceil(total / size) + '}}}'
  res.writeHead(200, {'content-type': 'application/json', 'content-length': Buffer.byteLength(body),
    'x-request-id': 'req-' + requests, 'x-ratelimit-limit': '1000000', 'x-ratelimit-remaining': String(1000000 - requests),
    'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 60)})
  res.end(body)
})
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'))
`

// The baseline: the same pages, one after another, with undici's request and a JSON parse.
const UNDICI_LOOP = `
const {request} = require(${JSON.stringify(join(root, 'node_modules', 'undici'))})
const base = process.argv[1]
;(async () => {
  let items = 0
  for (let page = 0; ; page++) {
    const {body} = await request(base + '/api/v1/capsules?page=' + page + '&size=${PAGE}', {headers: {accept: 'application/json', authorization: 'Bearer bench'}})
    const json = await body.json()
    items += json.data.length
    if (json.data.length === 0 || page + 1 >= json.meta.pagination.totalPages) break
  }
  process.stdout.write(String(items))
})()
`

// The transport alone: got as bfly's client extends it (text bodies, retries), parsing each page.
const GOT_LOOP = `
import(${JSON.stringify(join(root, 'node_modules', 'got', 'dist', 'source', 'index.js'))}).then(async ({default: got}) => {
  const client = got.extend({responseType: 'text', retry: {limit: 3}, headers: {accept: 'application/json', authorization: 'Bearer bench'}})
  let items = 0
  for (let page = 0; ; page++) {
    const json = JSON.parse((await client(process.argv[1] + '/api/v1/capsules?page=' + page + '&size=${PAGE}')).body)
    items += json.data.length
    if (json.data.length === 0 || page + 1 >= json.meta.pagination.totalPages) break
  }
  process.stdout.write(String(items))
})
`

async function startServer(total) {
  const child = spawn(process.execPath, ['-e', SERVER], {env: {...process.env, TOTAL: String(total)}, stdio: ['ignore', 'pipe', 'inherit']})
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())))
    child.once('exit', (code) => reject(new Error(`bench server exited ${code}`)))
  })
  const url = `http://127.0.0.1:${port}`
  return {
    url,
    async requests() {
      const {request} = await import(join(root, 'node_modules', 'undici', 'index.js'))
      const {body} = await request(`${url}/__stats`)
      return (await body.json()).requests
    },
    close: () => new Promise((resolve) => (child.once('exit', resolve), child.kill())),
  }
}

/** Runs a child; returns wall time, and with /usr/bin/time its CPU time and peak RSS (else polls VmHWM). */
function runChild(argv, {env, stdoutFile} = {}) {
  const gnuTime = existsSync('/usr/bin/time')
  const timeFile = join(mkdtempSync(join(tmpdir(), 'bfly-bench-time-')), 'time.txt')
  const command = gnuTime ? '/usr/bin/time' : process.execPath
  const args = gnuTime ? ['-v', '-o', timeFile, process.execPath, ...argv] : argv
  const out = stdoutFile ? openSync(stdoutFile, 'w') : 'pipe'
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(command, args, {env: {...process.env, ...env}, stdio: ['ignore', out, 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    let polledKb = 0
    const poll = gnuTime ? undefined : setInterval(() => {
      try {
        const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))
        if (match) polledKb = Math.max(polledKb, Number(match[1]))
      } catch {}
    }, 20)
    child.once('error', reject)
    child.once('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6
      if (poll) clearInterval(poll)
      if (typeof out === 'number') closeSync(out)
      let peakKb = polledKb
      let cpuMs = NaN
      if (gnuTime) {
        const text = existsSync(timeFile) ? readFileSync(timeFile, 'utf8') : ''
        peakKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(text)?.[1] ?? 0)
        const seconds = (label) => Number(new RegExp(`${label} time \\(seconds\\): ([\\d.]+)`).exec(text)?.[1] ?? NaN)
        cpuMs = (seconds('User') + seconds('System')) * 1000
      }
      if (code !== 0) return reject(new Error(`${argv.join(' ')} exited ${code}: ${stderr.slice(-2000)}`))
      resolve({ms, cpuMs, peakMb: peakKb / 1024, stdout})
    })
  })
}

async function walk(total) {
  const server = await startServer(total)
  try {
    const env = {BFLY_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'bfly-bench-')), BFLY_API_URL: server.url, BFLY_TOKEN: 'bench', BFLY_KEYCHAIN: 'off'}
    const pages = Math.ceil(total / PAGE)
    // Warm the OS caches (and the compile cache) once, then interleave the two sides.
    await runChild([bin, 'capsules', 'list', '--limit', '1'], {env, stdoutFile: '/dev/null'})
    const runs = {bfly: [], undici: [], got: []}
    for (let round = 0; round < ROUNDS; round++) {
      const before = await server.requests()
      const b = await runChild([bin, 'capsules', 'list', '--all', '--size', String(PAGE), '--ndjson'], {env, stdoutFile: '/dev/null'})
      const sent = (await server.requests()) - before
      if (sent !== pages) throw new Error(`bfly sent ${sent} requests for ${pages} pages`)
      runs.bfly.push(b)
      for (const [name, script] of [['undici', UNDICI_LOOP], ['got', GOT_LOOP]]) {
        const r = await runChild(['-e', script, server.url])
        if (Number(r.stdout) !== total) throw new Error(`the ${name} loop saw ${r.stdout} items, not ${total}`)
        runs[name].push(r)
      }
    }
    const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
    const summary = (list) => ({ms: median(list.map((r) => r.ms)), cpuMs: median(list.map((r) => r.cpuMs)), peakMb: Math.max(...list.map((r) => r.peakMb))})
    // Each round's ratio compares two runs made seconds apart: the machine's drift between
    // rounds (large on a shared VM) cancels out, which the ratio of two medians does not do.
    const ratio = median(runs.bfly.map((b, i) => runs.undici[i].ms / b.ms))
    return {total, ratio, bfly: summary(runs.bfly), undici: summary(runs.undici), got: summary(runs.got)}
  } finally {
    await server.close()
  }
}

export async function run() {
  const small = await walk(10_000)
  const large = await walk(100_000)
  const rate = (total, ms) => total / (ms / 1000)
  const cpu = (r) => (Number.isFinite(r.cpuMs) ? `, ${r.cpuMs.toFixed(0)} ms CPU` : '')
  const rows = []
  for (const r of [small, large]) {
    const label = r.total.toLocaleString('en')
    rows.push({name: `bfly --all --ndjson, ${label} items`, value: rate(r.total, r.bfly.ms), unit: 'items/s', note: `${r.bfly.ms.toFixed(0)} ms incl. start-up${cpu(r.bfly)}`})
    rows.push({name: `undici loop, ${label} items (baseline)`, value: rate(r.total, r.undici.ms), unit: 'items/s', note: `${r.undici.ms.toFixed(0)} ms${cpu(r.undici)}, peak RSS ${r.undici.peakMb.toFixed(0)} MB`})
    rows.push({name: `got loop, ${label} items (got alone: why walks use their own transport)`, value: rate(r.total, r.got.ms), unit: 'items/s', note: `${r.got.ms.toFixed(0)} ms${cpu(r.got)}, peak RSS ${r.got.peakMb.toFixed(0)} MB`})
    rows.push({name: `bfly / undici throughput, ${label} items`, value: r.ratio, unit: '×', note: `goal ≥ 0.8× (median of ${ROUNDS} paired rounds)`})
    if (Number.isFinite(r.bfly.cpuMs)) rows.push({name: `bfly / undici CPU per item, ${label} items`, value: r.bfly.cpuMs / r.undici.cpuMs, unit: '×', note: 'less noisy than wall time on a busy machine'})
    rows.push({name: `bfly peak RSS, ${label} items`, value: r.bfly.peakMb, unit: 'MB', note: r.total === 100_000 ? 'goal ≤ 100 MB' : ''})
  }
  rows.push({name: 'bfly peak RSS growth 10k → 100k', value: large.bfly.peakMb - small.bfly.peakMb, unit: 'MB', note: 'goal ≤ 20 MB (flat)'})
  rows.push({name: 'got loop peak RSS growth 10k → 100k', value: large.got.peakMb - small.got.peakMb, unit: 'MB', note: 'the transport alone'})
  return rows
}

if (import.meta.url === `file://${process.argv[1]}`) for (const row of await run()) console.log(row)
