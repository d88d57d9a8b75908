// Start-up cost of bfly as ratios to a bare `node -e 0` measured in the same run (medians).
// Each round runs every case once, in turn, so drift on a busy machine hits all alike.
// `capsules get` is the whole authenticated path (login read from the 0600 file, one GET to
// a loopback server): what a script pays per call.
import {spawn} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {createServer} from 'node:http'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const bin = join(root, 'bin', 'run.js')

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

function once(args, env, input) {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint()
    const child = spawn(process.execPath, args, {stdio: ['pipe', 'ignore', 'pipe'], env: {...process.env, ...env}})
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (code) => resolve({ms: Number(process.hrtime.bigint() - start) / 1e6, code, stderr}))
    child.stdin.end(input ?? '')
  })
}

export async function run({runs = Number(process.env.BENCH_RUNS ?? 21)} = {}) {
  const server = createServer((req, res) => {
    if (req.url.startsWith('/api/v1/capsules/')) {
      res.writeHead(200, {'content-type': 'application/json'})
      res.end(JSON.stringify({data: {id: 'cap_1', scopeId: 'rim:a:b:c', timestamp: '2025-12-03T10:00:00Z', payload: {}}, meta: {requestId: 'req-1'}}))
    } else {
      res.writeHead(404, {'content-type': 'application/json'})
      res.end('{"error":{"code":"NOT_FOUND","message":"no such thing"}}')
    }
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const env = {
    BFLY_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'bfly-bench-startup-')),
    BFLY_API_URL: `http://127.0.0.1:${server.address().port}`,
    BFLY_ISSUER: 'https://issuer.bench.invalid',
    BFLY_KEYCHAIN: 'off',
  }
  try {
    const login = await once([bin, 'login', '--with-token'], env, 'bench-access-token\n')
    if (login.code !== 0) throw new Error(`bfly login --with-token failed: ${login.stderr}`)
    const cases = [
      {name: 'node -e 0 (baseline)', args: ['-e', '0']},
      {name: 'bfly --version', args: [bin, '--version'], goal: 4},
      {name: 'bfly --help', args: [bin, '--help']},
      {name: 'bfly capsules get --help', args: [bin, 'capsules', 'get', '--help']},
      {name: 'bfly capsules get <id> (stored login, loopback GET)', args: [bin, 'capsules', 'get', 'cap_1'], goal: 8},
    ]
    const times = cases.map(() => [])
    for (let round = 0; round < runs + 2; round++) {
      for (const [i, c] of cases.entries()) {
        const r = await once(c.args, env)
        if (r.code !== 0) throw new Error(`${c.name} exited ${r.code}: ${r.stderr}`)
        if (round >= 2) times[i].push(r.ms)
      }
    }
    const baseline = median(times[0])
    return cases.map((c, i) => {
      const ms = median(times[i])
      if (i === 0) return {name: c.name, value: ms, unit: 'ms', note: `median of ${runs}`}
      const ratio = ms / baseline
      return {name: c.name, value: ratio, unit: '×', note: `${ms.toFixed(1)} ms${c.goal ? `, goal ≤ ${c.goal}× (${ratio <= c.goal ? 'met' : 'NOT met'})` : ''}`}
    })
  } finally {
    server.close()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) for (const row of await run()) console.log(row)
