// Start-up cost of bfly as ratios to a bare `node -e 0` measured in the same run (medians).
import {execFileSync} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const bin = join(root, 'bin', 'run.js')

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

export function timeCommand(args, {runs = 21, env = {}} = {}) {
  const times = []
  for (let i = 0; i < runs + 2; i++) {
    const start = process.hrtime.bigint()
    try {
      execFileSync(process.execPath, args, {stdio: 'ignore', env: {...process.env, ...env}})
    } catch {
      // exit codes do not matter for timing
    }
    if (i >= 2) times.push(Number(process.hrtime.bigint() - start) / 1e6)
  }
  return median(times)
}

export async function run() {
  const env = {BFLY_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'bfly-bench-'))}
  // Interleave so drift on a busy machine hits both sides alike.
  const base = timeCommand(['-e', '0'])
  const version = timeCommand([bin, '--version'], {env})
  const help = timeCommand([bin, 'capsules', 'get', '--help'], {env})
  const base2 = timeCommand(['-e', '0'])
  const baseline = (base + base2) / 2
  return [
    {name: 'node -e 0 (baseline)', value: baseline, unit: 'ms'},
    {name: 'bfly --version', value: version / baseline, unit: '×', note: `${version.toFixed(1)} ms, goal ≤ 3.5×`},
    {name: 'bfly capsules get --help', value: help / baseline, unit: '×', note: `${help.toFixed(1)} ms`},
  ]
}

if (import.meta.url === `file://${process.argv[1]}`) for (const row of await run()) console.log(row)
