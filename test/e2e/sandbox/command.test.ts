// `bfly sandbox` as a user runs it: one JSON line for scripts, the human banner with the
// export line, clean shutdown on SIGTERM/SIGINT with exit 0, usage errors with exit 2.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {createInterface} from 'node:readline'
import {test, type TestContext} from 'node:test'
import {BIN, cleanEnv, runCli, tempConfigDir} from '../../helpers/cli.ts'
import {call} from './client.ts'

function start(t: TestContext, args: string[]) {
  const child = spawn(process.execPath, [BIN, 'sandbox', ...args], {env: cleanEnv({BFLY_CONFIG_DIR: tempConfigDir()}), stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const lines = createInterface({input: child.stdout})
  lines.on('line', (l) => (stdout += l + '\n'))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  // Whatever the assertions say, the child does not outlive the test.
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  const firstLine = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no output within 15 s; stderr: ${stderr}`)), 15_000)
    lines.once('line', (l) => {
      clearTimeout(timer)
      resolve(l)
    })
    void exited.then((code) => reject(new Error(`exited ${code} before printing; stderr: ${stderr}`)))
  })
  return {child, firstLine, exited, output: () => ({stdout, stderr})}
}

test('--json prints one line with the URLs and credentials; SIGTERM closes cleanly with exit 0', async (t) => {
  const started = performance.now()
  const s = start(t, ['--json', '--insecure-demo-tokens', '--seed', '3'])
  const info = JSON.parse(await s.firstLine)
  const readyMs = performance.now() - started
  assert.match(info.apiUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
  assert.equal(info.issuer, `${info.apiUrl}/oauth`)
  assert.equal(info.ciClient.id, 'bfly-ci')
  assert.match(info.ciClient.secret, /^cis_/)
  assert.deepEqual(info.demoTokens, {admin: 'sbx_demo_admin', read: 'sbx_demo_read'})
  assert.ok(info.demoUsers.length >= 1 && info.demoUsers[0].username && info.demoUsers[0].password)
  // Generous: the goal is well under a second on an idle machine; CI boxes are busy.
  assert.ok(readyMs < 5000, `ready after ${readyMs} ms`)

  assert.equal((await call(info.apiUrl, '/api/v1/capsules/cap_01JD9Z8K2M', {token: info.demoTokens.admin})).status, 200)
  const discovery = await call(info.issuer, '/.well-known/openid-configuration')
  assert.equal(discovery.json.issuer, info.issuer)

  // An open keep-alive connection must not hold the shutdown up.
  const held = fetch(`${info.apiUrl}/api/v1/capsules`, {headers: {authorization: 'Bearer sbx_demo_admin'}}).then((r) => r.text())
  await held
  s.child.kill('SIGTERM')
  assert.equal(await s.exited, 0)
  assert.equal(s.output().stdout.trim().split('\n').length, 1, 'stdout is the one JSON line')
  await assert.rejects(fetch(`${info.apiUrl}/api/v1/capsules`), 'nothing listens any more')
})

test('the human banner has the API URL, issuer, users, CI client and the export line; --verbose logs requests; Ctrl-C exits 0', async (t) => {
  const s = start(t, ['--auto-approve', '--verbose'])
  await s.firstLine
  let out = s.output().stdout
  for (let i = 0; i < 100 && !out.includes('export BFLY_API_URL='); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    out = s.output().stdout
  }
  const url = /export BFLY_API_URL=(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1]
  assert.ok(url, out)
  assert.match(out, new RegExp(`Issuer\\s+${url}/oauth`))
  assert.match(out, /demo \/ demo-password/)
  assert.match(out, /CI client\s+bfly-ci \/ cis_/)
  assert.doesNotMatch(out, /sbx_demo_admin/, 'demo tokens only with --insecure-demo-tokens')
  await call(url, '/api/v1/capsules?size=1', {headers: {'x-request-id': 'req-logged'}})
  for (let i = 0; i < 100 && !s.output().stderr.includes('req-logged'); i++) await new Promise((resolve) => setTimeout(resolve, 20))
  assert.match(s.output().stderr, /GET \/api\/v1\/capsules\?size=1 401 [\d.]+ms req-logged/)
  s.child.kill('SIGINT')
  assert.equal(await s.exited, 0)
  assert.match(s.output().stderr, /Press Ctrl-C to stop/)
})

test('bad specs and a non-loopback host are usage errors (exit 2) with a clear message', async () => {
  const env = {BFLY_CONFIG_DIR: tempConfigDir()}
  const chaos = await runCli(['sandbox', '--chaos', '503:2'], {env})
  assert.equal(chaos.code, 2)
  assert.match(chaos.stderr, /invalid chaos spec "503:2": probability of 503 "2" is not a probability/)
  const latency = await runCli(['sandbox', '--latency', 'fixed:20', '--json'], {env})
  assert.equal(latency.code, 2)
  assert.equal(JSON.parse(latency.stderr.trim()).error.exitCode, 2)
  const host = await runCli(['sandbox', '--host', '0.0.0.0'], {env})
  assert.equal(host.code, 2)
  assert.match(host.stderr, /refusing to listen on 0\.0\.0\.0.*--expose/)
  const scale = await runCli(['sandbox', '--time-scale', 'fast'], {env})
  assert.equal(scale.code, 2)
  const rate = await runCli(['sandbox', '--rate-limit', 'lots'], {env})
  assert.equal(rate.code, 2)
})
