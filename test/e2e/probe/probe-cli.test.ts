// `bfly probe` as a user runs it, against loopback servers started here. Runs are short
// (≤ 1 s of load) and timing checks have generous margins.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {createServer as createHttpServer} from 'node:http'
import {connect, type AddressInfo} from 'node:net'
import {join} from 'node:path'
import {after, test} from 'node:test'
import {BIN, cleanEnv, runCli, tempConfigDir} from '../../helpers/cli.ts'
import {startLoadServer, type LoadServer} from './load-server.ts'

const servers: LoadServer[] = []
after(async () => {
  for (const s of servers) await s.close()
})

async function server(behave?: LoadServer['behave']): Promise<LoadServer> {
  const s = await startLoadServer(behave)
  servers.push(s)
  return s
}

const env = (url: string, extra: Record<string, string> = {}) => ({BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: url, BFLY_TOKEN: 'probe-secret-token', ...extra})

test('fixed 20 ms latency: percentiles in range, every request counted, credentials and contract headers on each', async () => {
  const s = await server(() => ({delayMs: 20}))
  const result = await runCli(['probe', '/api/v1/capsules', '-c', '4', '--duration', '1s', '--json'], {env: env(s.url)})
  assert.equal(result.code, 0, result.stderr)
  const report = JSON.parse(result.stdout)
  // The documented shape (cli-spec), then the additions: errors by kind, the series, the self-check.
  assert.deepEqual(Object.keys(report), ['model', 'rate', 'concurrency', 'requests', 'durationMs', 'throughput', 'errors', 'errorRate',
    'statusCodes', 'latencyMs', 'histogram', 'assertions', 'errorsByKind', 'series', 'selfCheck'])
  assert.deepEqual(Object.keys(report.latencyMs), ['min', 'mean', 'stdev', 'p50', 'p75', 'p90', 'p95', 'p99', 'p999', 'max'])
  assert.deepEqual(Object.keys(report.series[0]), ['t', 'requests', 'rps', 'p50', 'p99', 'errors'])
  assert.equal(report.model, 'closed')
  assert.equal(report.rate, null)
  assert.equal(report.concurrency, 4)
  assert.equal(report.requests, s.received, 'the report counts exactly what the server received')
  assert.ok(report.requests >= 40 && report.requests <= 210, `requests ${report.requests}`)
  assert.deepEqual(report.statusCodes, {200: report.requests})
  assert.equal(report.errors, 0)
  assert.ok(report.latencyMs.min >= 19.5, `min ${report.latencyMs.min}`)
  assert.ok(report.latencyMs.p50 >= 19.5 && report.latencyMs.p50 < 80, `p50 ${report.latencyMs.p50}`)
  assert.ok(report.latencyMs.p99 >= report.latencyMs.p50 && report.latencyMs.max >= report.latencyMs.p99)
  assert.equal(report.histogram.reduce((n: number, b: {count: number}) => n + b.count, 0), report.requests)
  assert.ok(Array.isArray(report.series) && report.series.length >= 1)
  assert.equal(typeof report.selfCheck.ok, 'boolean')
  const ids = new Set<string>()
  for (const h of s.headers) {
    assert.equal(h.authorization, 'Bearer probe-secret-token')
    assert.equal(h.accept, 'application/json')
    assert.match(String(h['user-agent']), /^bfly\//)
    assert.match(String(h.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
    ids.add(String(h['x-request-id']))
  }
  assert.equal(ids.size, s.headers.length, 'a fresh X-Request-ID per request')
  assert.equal(new Set(s.headers.map((h) => h['x-correlation-id'])).size, 1, 'one correlation id per run')
  assert.ok(!result.stderr.includes('probe-secret-token'))
})

test('error injection: 500s, 429s (apart) and resets are counted as the server produced them', async () => {
  const s = await server((n) => (n % 5 === 0 ? {status: 500} : n % 5 === 1 ? {status: 429} : n % 7 === 3 ? 'reset' : {}))
  const result = await runCli(['probe', '/x', '-c', '2', '-n', '100', '--json'], {env: env(s.url)})
  assert.equal(result.code, 0, result.stderr)
  const report = JSON.parse(result.stdout)
  const answered = (status: number) => s.statuses.get(status) ?? 0
  assert.equal(report.statusCodes['500'], answered(500))
  assert.equal(report.statusCodes['429'], answered(429))
  assert.equal(report.statusCodes['200'], answered(200))
  assert.equal(report.errorsByKind.http, answered(500))
  assert.equal(report.errorsByKind.rateLimited, answered(429))
  assert.equal(report.errorsByKind.reset, s.resets)
  assert.ok(s.resets > 0)
  assert.equal(report.errors, answered(500) + answered(429) + s.resets)
  assert.equal(report.requests, 100)
  assert.equal(report.errorRate, report.errors / 100)
})

test('assertions: a failing one exits 8 after printing the report; passing ones exit 0', async () => {
  const s = await server(() => ({delayMs: 5}))
  const failing = await runCli(['probe', '/x', '-c', '2', '-n', '30', '--assert', 'p99<1ms', '--assert', 'errorRate<0.01', '--json'], {env: env(s.url)})
  assert.equal(failing.code, 8, failing.stderr)
  const report = JSON.parse(failing.stdout)
  assert.equal(report.assertions.length, 2)
  assert.deepEqual(report.assertions.map((a: {expr: string; pass: boolean}) => [a.expr, a.pass]), [['p99<1ms', false], ['errorRate<0.01', true]])
  assert.ok(report.assertions[0].actual >= 5)
  const error = JSON.parse(failing.stderr.trim().split('\n').at(-1)!)
  assert.equal(error.error.code, 'CHECK_FAILED')
  assert.equal(error.error.exitCode, 8)
  assert.match(error.error.message, /p99<1ms/)

  const passing = await runCli(['probe', '/x', '-c', '2', '-n', '30', '--assert', 'p99<5s', '--assert', 'throughput>=1', '--assert', 'errorRate<1%'], {env: env(s.url)})
  assert.equal(passing.code, 0, passing.stderr)
  assert.match(passing.stdout, /latency histogram/)
  assert.match(passing.stdout, /pass p99<5s/)
  assert.match(passing.stdout, /self-check: /)
})

test('a bad assertion or a bad flag combination exits 2 before any load is sent', async () => {
  const s = await server()
  for (const args of [['--assert', 'p99<<300ms'], ['--assert', 'p99 below 300ms'], ['--rate', '10', '--concurrency', '2'], ['--rate', 'fast'], ['--duration', '1s', '-n', '5'], ['--body', '{not json']]) {
    const result = await runCli(['probe', '/x', ...args], {env: env(s.url)})
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`)
    assert.equal(result.stdout, '')
  }
  assert.equal(s.received, 0, 'nothing was sent')
})

test('open model: a short fixed-rate run sends the planned count (± 10%) on schedule', async () => {
  const s = await server()
  const result = await runCli(['probe', '/x', '--rate', '100/s', '--duration', '1s', '--json'], {env: env(s.url)})
  assert.equal(result.code, 0, result.stderr)
  const report = JSON.parse(result.stdout)
  assert.equal(report.model, 'open')
  assert.equal(report.rate, 100)
  assert.ok(s.received >= 90 && s.received <= 110, `server received ${s.received}`)
  assert.ok(report.requests >= 90 && report.requests <= 110, `requests ${report.requests}`)
  assert.ok(report.throughput >= 90 && report.throughput <= 110, `throughput ${report.throughput}`)
  assert.ok(report.selfCheck.sendDelayMs.p50 < 5, `send delay p50 ${report.selfCheck.sendDelayMs.p50}`)
})

test('timeouts and refused connections are errors of their kind; the run still ends on time', async () => {
  const s = await server(() => 'hang')
  const started = Date.now()
  const hung = await runCli(['probe', '/x', '--rate', '20', '--duration', '500ms', '--timeout', '200ms', '--json'], {env: env(s.url)})
  assert.equal(hung.code, 0, hung.stderr)
  const report = JSON.parse(hung.stdout)
  assert.equal(report.errorsByKind.timeout, report.requests)
  assert.ok(report.requests >= 9, `requests ${report.requests}`)
  assert.deepEqual(report.latencyMs.p99, null)
  assert.ok(Date.now() - started < 8000)

  // A port nobody listens on: take one from a server and close it.
  const gone = await startLoadServer()
  await gone.close()
  const refused = await runCli(['probe', '/x', '-c', '1', '-n', '10', '--assert', 'errorRate<0.5', '--json'], {env: env(gone.url)})
  assert.equal(refused.code, 8, refused.stderr)
  assert.equal(JSON.parse(refused.stdout).errorsByKind.refused, 10)
})

test('a load above the API budget to a non-loopback host needs --yes when not on a terminal', async () => {
  const result = await runCli(['probe', '/api/v1/capsules', '--rate', '100', '--duration', '1m'], {env: env('https://api.example.invalid')})
  assert.equal(result.code, 2, result.stderr)
  assert.match(result.stderr, /above the API budget/)
  assert.match(result.stderr, /--yes/)
})

test('no credentials: exit 3 before any load', async () => {
  const s = await server()
  const result = await runCli(['probe', '/x', '-n', '5'], {env: {BFLY_CONFIG_DIR: tempConfigDir(), BFLY_API_URL: s.url}})
  assert.equal(result.code, 3, result.stderr)
  assert.equal(s.received, 0)
})

test('--export writes a k6 script instead of running, with no credentials in it', async () => {
  const s = await server()
  const result = await runCli(['probe', '/api/v1/capsules', '--rate', '50', '--duration', '30s', '--assert', 'p99<300ms', '--export', 'k6'], {env: env(s.url)})
  assert.equal(result.code, 0, result.stderr)
  assert.match(result.stdout, /constant-arrival-rate/)
  assert.match(result.stdout, /p\(99\)<300/)
  assert.ok(!result.stdout.includes('probe-secret-token'))
  assert.equal(s.received, 0)
})

test('--hdr-out writes an HdrHistogram interval log', async () => {
  const s = await server()
  const file = join(tempConfigDir(), 'run.hlog')
  const result = await runCli(['probe', '/x', '-c', '2', '--duration', '1200ms', '--hdr-out', file, '--json'], {env: env(s.url)})
  assert.equal(result.code, 0, result.stderr)
  const log = readFileSync(file, 'utf8').split('\n')
  assert.equal(log[0], '#[Histogram log format version 1.3]')
  assert.ok(log.some((l) => l.startsWith('#[StartTime: ')))
  const intervals = log.filter((l) => /^\d+\.\d{3},\d+\.\d{3},\d+\.\d{3},HISTF/.test(l))
  assert.equal(intervals.length, 2, log.join('\n'))
})

test('Ctrl-C stops the run: what finished is reported on stdout, exit 130', async () => {
  const s = await server()
  const child = spawn(process.execPath, [BIN, 'probe', '/x', '--rate', '50', '--duration', '20s', '--json'], {env: cleanEnv(env(s.url))})
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  for (let i = 0; i < 400 && s.received < 20; i++) await new Promise((r) => setTimeout(r, 25))
  child.kill('SIGINT')
  const code = await new Promise((resolve) => child.on('close', resolve))
  assert.equal(code, 130, stderr)
  const report = JSON.parse(stdout)
  assert.ok(report.requests >= 20 && report.requests <= s.received, `requests ${report.requests}, received ${s.received}`)
  assert.equal(JSON.parse(stderr.trim().split('\n').at(-1)!).error.code, 'INTERRUPTED')
})

// Through a proxy (HTTPS_PROXY to an https target, 407, untrusted certificates): test/e2e/network.
test('HTTP_PROXY is not used for a loopback target: a proxy cannot reach this machine\'s loopback', async () => {
  const s = await server()
  let tunnels = 0
  const proxy = createHttpServer()
  proxy.on('connect', (req, client, head) => {
    tunnels++
    const [host, port] = String(req.url).split(':')
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  try {
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
    const result = await runCli(['probe', '/x', '-c', '2', '-n', '20', '--json'], {env: env(s.url, {HTTP_PROXY: proxyUrl})})
    assert.equal(result.code, 0, result.stderr)
    assert.equal(JSON.parse(result.stdout).statusCodes['200'], 20)
    assert.equal(s.received, 20)
    assert.equal(tunnels, 0, `tunnels ${tunnels}`)
  } finally {
    proxy.closeAllConnections()
    await new Promise((resolve) => proxy.close(resolve))
  }
})
