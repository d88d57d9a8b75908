// Runs the whole suite with node's own test runner (one summary for CI).
// Tiers: test/unit (pure logic, fake clocks), test/commands (in-process, nock),
// test/e2e (spawned bin/run.js against loopback servers the tests start).
//
// The keychain tests need a real Secret Service. Where `dbus-run-session` and
// `gnome-keyring-daemon` exist (.ci/run installs them), the runner goes inside a private
// D-Bus session with a throwaway keyring, unlocked, in temporary XDG directories; the
// keychain tests see BFLY_TEST_SECRET_SERVICE=1. Elsewhere they skip and say why.
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const patterns = process.argv.slice(2).length > 0
  ? process.argv.slice(2)
  : ['test/unit/**/*.test.ts', 'test/commands/**/*.test.ts', 'test/e2e/**/*.test.ts']
const args = ['--test', '--test-timeout=120000', ...patterns]
const env = {...process.env, NODE_ENV: 'test'}
delete env.BFLY_TEST_SECRET_SERVICE

const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], {stdio: 'ignore'}).status === 0

function secretServiceProblem() {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`
  if (process.env.BFLY_TEST_SECRET_SERVICE === 'off') return 'BFLY_TEST_SECRET_SERVICE=off'
  const missing = ['dbus-run-session', 'gnome-keyring-daemon'].filter((c) => !has(c))
  return missing.length > 0 ? `${missing.join(' and ')} not installed (apt-get install gnome-keyring dbus)` : undefined
}

const problem = secretServiceProblem()
let result
if (problem) {
  env.BFLY_TEST_SECRET_SERVICE_MISSING = problem
  result = spawnSync(process.execPath, args, {cwd: root, stdio: 'inherit', env})
} else {
  const home = mkdtempSync(join(tmpdir(), 'bfly-keyring-'))
  const runtime = join(home, 'runtime')
  mkdirSync(runtime, {mode: 0o700})
  mkdirSync(join(home, 'data'))
  try {
    // The daemon creates the default keyring with this password and leaves it unlocked; it
    // lives and dies with the private bus, so nothing outlives the run.
    const script = 'printf %s throwaway | gnome-keyring-daemon --unlock --components=secrets >/dev/null; exec "$@"'
    result = spawnSync('dbus-run-session', ['--', 'sh', '-c', script, 'sh', process.execPath, ...args], {
      cwd: root,
      stdio: 'inherit',
      env: {...env, XDG_DATA_HOME: join(home, 'data'), XDG_RUNTIME_DIR: runtime, BFLY_TEST_SECRET_SERVICE: '1'},
    })
  } finally {
    rmSync(home, {recursive: true, force: true})
  }
}
process.exit(result.status ?? 1)
