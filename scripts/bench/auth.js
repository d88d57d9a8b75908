// What a stored login costs per command: `capsules get` with BFLY_TOKEN (no storage) against
// the same with the login in the 0600 file and in the OS keychain (a bounded helper process
// per read), as ratios measured in the same run. The keychain rows need a Secret Service that
// answers, e.g. run inside `dbus-run-session` with an unlocked gnome-keyring.
import {spawn} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {createServer} from 'node:http'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const bin = join(root, 'bin', 'run.js')

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

function once(args, env) {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint()
    const child = spawn(process.execPath, args, {stdio: ['ignore', 'ignore', 'pipe'], env: {...process.env, ...env}})
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (code) => resolve({ms: Number(process.hrtime.bigint() - start) / 1e6, code, stderr}))
  })
}

async function timed(args, env, runs = 15) {
  const times = []
  for (let i = 0; i < runs + 2; i++) {
    const r = await once(args, env)
    if (r.code !== 0) throw new Error(`bfly ${args.slice(1).join(' ')} failed: ${r.stderr}`)
    if (i >= 2) times.push(r.ms)
  }
  return median(times)
}

async function timedCall(fn, runs = 21) {
  const times = []
  for (let i = 0; i < runs + 2; i++) {
    const start = process.hrtime.bigint()
    await fn()
    if (i >= 2) times.push(Number(process.hrtime.bigint() - start) / 1e6)
  }
  return median(times)
}

export async function run() {
  const server = createServer((req, res) => {
    if (req.url.startsWith('/api/v1/capsules/')) {
      res.writeHead(200, {'content-type': 'application/json'})
      res.end(JSON.stringify({data: {id: 'cap_1', scopeId: 'rim:a:b:c', timestamp: '2025-12-03T10:00:00Z'}, meta: {requestId: 'req-1'}}))
    } else {
      res.writeHead(404, {'content-type': 'application/json'})
      res.end('{"error":{"code":"NOT_FOUND","message":"no"}}')
    }
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const apiUrl = `http://127.0.0.1:${server.address().port}`
  const configDir = mkdtempSync(join(tmpdir(), 'bfly-bench-auth-'))
  const common = {BFLY_CONFIG_DIR: configDir, BFLY_API_URL: apiUrl, BFLY_ISSUER: 'https://issuer.bench.invalid'}
  const rows = []
  try {
    const {Keychain} = await import(pathToFileURL(join(root, 'dist', 'auth', 'keychain.js')).href)
    const keychain = new Keychain({env: process.env})
    const keychainWorks = await keychain.set('bench:probe', 'x').then(() => keychain.delete('bench:probe').then(() => true), () => false)

    const login = (profile, keychainSetting) =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [bin, 'login', '--with-token', '--profile', profile], {stdio: ['pipe', 'ignore', 'pipe'], env: {...process.env, ...common, BFLY_KEYCHAIN: keychainSetting}})
        let stderr = ''
        child.stderr.on('data', (d) => (stderr += d))
        child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(stderr))))
        child.stdin.end('bench-access-token\n')
      })
    await login('file', 'off')
    if (keychainWorks) await login('keychain', 'on')

    const base = await timed(['-e', '0'], {})
    const envToken = await timed([bin, 'capsules', 'get', 'cap_1'], {...common, BFLY_TOKEN: 'bench-access-token'})
    const file = await timed([bin, 'capsules', 'get', 'cap_1', '--profile', 'file'], {...common, BFLY_KEYCHAIN: 'off'})
    const stored = keychainWorks ? await timed([bin, 'capsules', 'get', 'cap_1', '--profile', 'keychain'], {...common, BFLY_KEYCHAIN: 'on'}) : undefined
    const base2 = await timed(['-e', '0'], {})
    const baseline = (base + base2) / 2
    rows.push({name: 'node -e 0 (baseline)', value: baseline, unit: 'ms'})
    rows.push({name: 'capsules get, BFLY_TOKEN (nothing stored)', value: envToken / baseline, unit: '×', note: `${envToken.toFixed(1)} ms`})
    rows.push({name: 'capsules get, login in the 0600 file', value: file / baseline, unit: '×', note: `${file.toFixed(1)} ms, ${(file - envToken).toFixed(1)} ms over BFLY_TOKEN`})
    if (stored !== undefined) {
      rows.push({name: 'capsules get, login in the OS keychain', value: stored / baseline, unit: '×', note: `${stored.toFixed(1)} ms, ${(stored - envToken).toFixed(1)} ms over BFLY_TOKEN`})
      await keychain.set('bench:read', 'value')
      const viaChild = await timedCall(() => keychain.get('bench:read'))
      const {AsyncEntry} = createRequire(join(root, 'package.json'))('@napi-rs/keyring')
      const inProcess = await timedCall(() => new AsyncEntry('bfly', 'bench:read', {linux: {store: 'secret-service'}}).getPassword())
      await keychain.delete('bench:read')
      rows.push({name: 'one keychain read, in-process (unbounded)', value: inProcess, unit: 'ms'})
      rows.push({name: 'one keychain read, bounded helper process', value: viaChild, unit: 'ms', note: `${(viaChild / inProcess).toFixed(1)}× in-process`})
    } else {
      rows.push({name: 'keychain rows', value: 'skipped', unit: '', note: 'no Secret Service answering (run inside dbus-run-session with gnome-keyring)'})
    }
  } finally {
    server.close()
  }
  return rows
}

if (import.meta.url === `file://${process.argv[1]}`) for (const row of await run()) console.log(row)
