// `npm run demo`: the journey a new user takes, against the embedded sandbox.
// Starts `bfly sandbox` (auto-approve, time scale), logs in with the real device flow, runs
// the everyday and operational commands (each printed before its output), logs out and
// stops everything. Commands this build does not have yet are skipped with a note.
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = join(root, 'bin', 'run.js')
const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8'))
const has = (id) => Boolean(manifest.commands[id])
const configDir = mkdtempSync(join(tmpdir(), 'bfly-demo-'))
const bold = (s) => (process.stdout.isTTY ? `\u001B[1m${s}\u001B[22m` : s)
const dim = (s) => (process.stdout.isTTY ? `\u001B[2m${s}\u001B[22m` : s)

const env = {...process.env, BFLY_CONFIG_DIR: configDir, BFLY_KEYCHAIN: 'off'}
for (const key of ['BFLY_TOKEN', 'BUTTERFLY_API_KEY', 'BFLY_CLIENT_ID', 'BFLY_CLIENT_SECRET', 'BFLY_PROFILE', 'BFLY_ISSUER']) delete env[key]

function step(args, {expect = [0], id} = {}) {
  const commandId = id ?? args.filter((a) => !a.startsWith('-')).slice(0, 2).join(':')
  const known = has(commandId) || has(args[0])
  console.log(`\n${bold('$ bfly ' + args.join(' '))}`)
  if (!known) {
    console.log(dim(`(skipped: \`bfly ${commandId.replace(':', ' ')}\` is not in this build yet)`))
    return {skipped: true}
  }
  const result = spawnSync(process.execPath, [bin, ...args], {env, stdio: 'inherit', timeout: 120_000})
  if (!expect.includes(result.status ?? -1)) {
    throw new Error(`bfly ${args.join(' ')} exited ${result.status ?? result.signal}, expected ${expect.join(' or ')}`)
  }
  return {code: result.status}
}

async function startSandbox() {
  if (!has('sandbox')) throw new Error('this build has no `bfly sandbox` command')
  const child = spawn(process.execPath, [bin, 'sandbox', '--port', '0', '--json', '--auto-approve', '--time-scale', '60', '--seed', '7'], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const line = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the sandbox did not start within 15 s')), 15_000)
    createInterface({input: child.stdout}).once('line', (l) => {
      clearTimeout(timer)
      resolve(l)
    })
    child.once('exit', (code) => reject(new Error(`the sandbox exited early (${code})`)))
  })
  return {child, info: JSON.parse(line)}
}

let sandbox
let failed = false
try {
  console.log(bold('Starting the embedded sandbox (a local BUTTERFLY API and OAuth server)…'))
  sandbox = await startSandbox()
  env.BFLY_API_URL = sandbox.info.apiUrl
  console.log(`API ${sandbox.info.apiUrl}, issuer ${sandbox.info.issuer}`)

  step(['login', '--device'])
  step(['auth', 'status'])
  step(['doctor'], {expect: [0, 8]})
  step(['capsules', 'list', '--size', '5'])
  const first = spawnSync(process.execPath, [bin, 'capsules', 'list', '--size', '1', '--json'], {env, encoding: 'utf8'})
  const capsuleId = first.status === 0 ? JSON.parse(first.stdout)[0]?.id : undefined
  if (capsuleId) step(['capsules', 'get', capsuleId])
  step(['history', 'rim:entity:finance:EURUSD', '--size', '5'])
  const status = step(['integrations', 'status'], {expect: [0, 8]})
  if (!status.skipped) {
    const list = spawnSync(process.execPath, [bin, 'integrations', 'status', '--json'], {env, encoding: 'utf8'})
    const open = JSON.parse(list.stdout || '[]').find((i) => i.circuit_state === 'open')
    if (open) step(['integrations', 'reset', open.name, '--yes'])
    step(['integrations', 'status', '--fail-on', 'unhealthy'], {expect: [0, 8]})
  }
  const hooks = spawnSync(process.execPath, [bin, 'webhooks', 'list', '--json'], {env, encoding: 'utf8'})
  const webhookId = hooks.status === 0 ? JSON.parse(hooks.stdout)[0]?.id : 'wh_1'
  step(['webhooks', 'list'])
  step(['webhooks', 'deliveries', webhookId ?? 'wh_1', '--status', 'failed'])
  step(['webhooks', 'retry', '--webhook', webhookId ?? 'wh_1', '--status', 'failed', '--dry-run'], {id: 'webhooks:retry'})
  step(['plans', 'execute', 'plan_123', '--watch'], {expect: [0, 6], id: 'plans:execute'})
  step(['probe', '/api/v1/capsules?size=1', '--rate', '50', '--duration', '5s', '--assert', 'p99<500ms'], {expect: [0, 8], id: 'probe'})
  step(['circuit', 'status'])
  step(['logout'])
} catch (error) {
  failed = true
  console.error(`demo failed: ${error.message}`)
} finally {
  if (sandbox) {
    sandbox.child.kill('SIGINT')
    await new Promise((resolve) => {
      const timer = setTimeout(() => {
        sandbox.child.kill('SIGKILL')
        resolve()
      }, 5000)
      sandbox.child.once('exit', () => {
        clearTimeout(timer)
        resolve()
      })
    })
  }
  rmSync(configDir, {recursive: true, force: true})
}
console.log(failed ? '' : `\n${bold('Demo finished.')} Every command above ran against the local sandbox; nothing left running.`)
process.exit(failed ? 1 : 0)
