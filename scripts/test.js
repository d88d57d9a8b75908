// Runs the whole suite with node's own test runner (one summary for CI).
// Tiers: test/unit (pure logic, fake clocks), test/commands (in-process, nock),
// test/e2e (spawned bin/run.js against loopback servers the tests start).
import {spawnSync} from 'node:child_process'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const patterns = process.argv.slice(2).length > 0
  ? process.argv.slice(2)
  : ['test/unit/**/*.test.ts', 'test/commands/**/*.test.ts', 'test/e2e/**/*.test.ts']
const args = ['--test', '--test-timeout=120000', ...patterns]
const result = spawnSync(process.execPath, args, {cwd: root, stdio: 'inherit', env: {...process.env, NODE_ENV: 'test'}})
process.exit(result.status ?? 1)
