// The CLI's own surface as a user meets it: version, help, start-up weight, an old Node,
// typos, oclif's usage errors with --json, discovery (`commands --json`) and completion.
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {delimiter, join} from 'node:path'
import {describe, test} from 'node:test'
import {pathToFileURL} from 'node:url'
import {BIN, ROOT, cleanEnv, runCli, tempConfigDir} from '../../helpers/cli.ts'

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
const versionLine = `bfly/${pkg.version} ${process.platform}-${process.arch} node-${process.version}`
const tracer = pathToFileURL(join(ROOT, 'test', 'fixtures', 'trace-loads.mjs')).href

/** The modules a bfly run loads (ESM, CommonJS), via a preloaded module hook. */
function loadedModules(args: string[]): {modules: string[]; status: number | null; stdout: string} {
  const dir = mkdtempSync(join(tmpdir(), 'bfly-loads-'))
  const out = join(dir, 'loads.txt')
  try {
    const r = spawnSync(process.execPath, ['--import', tracer, BIN, ...args], {env: cleanEnv({BFLY_TRACE_LOADS: out, BFLY_CONFIG_DIR: dir}), encoding: 'utf8'})
    return {modules: readFileSync(out, 'utf8').trim().split('\n'), status: r.status, stdout: r.stdout}
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

const heavy = /node_modules\/(got|conf|undici|@napi-rs|ajv|ora|cli-table3|hdr-histogram-js|oidc-provider|ws)\/|dist\/vendor\/(?!oclif\.js|code-cache\.js)/

describe('start-up', () => {
  test('--version and -v print the version line without loading oclif or any dependency', () => {
    for (const flag of ['--version', '-v']) {
      const r = loadedModules([flag])
      assert.equal(r.status, 0)
      assert.equal(r.stdout, `${versionLine}\n`)
      assert.deepEqual(r.modules.filter((m) => m.includes('node_modules') || m.includes('/dist/')), [], `${flag} loaded more than bin/run.js`)
    }
  })

  test('--version with other arguments goes through oclif and prints the same line', async () => {
    const r = await runCli(['--version', '--no-color'], {env: {BFLY_CONFIG_DIR: tempConfigDir()}})
    assert.equal(r.code, 0)
    assert.equal(r.stdout.trim(), versionLine)
  })

  test('help comes from the manifest: no command module, no HTTP stack, no config library', () => {
    const r = loadedModules(['capsules', 'get', '--help'])
    assert.equal(r.status, 0)
    assert.match(r.stdout, /USAGE\n\s+\$ bfly capsules get ID/)
    assert.match(r.stdout, /EXAMPLES/)
    assert.deepEqual(r.modules.filter((m) => m.includes('/dist/commands/')), [])
    assert.deepEqual(r.modules.filter((m) => heavy.test(m)), [])
    // oclif comes as the one bundled file the build makes, not as its ~150 modules.
    assert.ok(r.modules.some((m) => m.endsWith('/dist/vendor/oclif.js')))
    assert.deepEqual(r.modules.filter((m) => m.includes('node_modules/@oclif/core/')), [])
  })

  test('a read-only command does not load the config writer (conf, ajv) or the load-test stack', () => {
    const r = loadedModules(['config', 'list', '--json'])
    assert.equal(r.status, 0)
    assert.deepEqual(r.modules.filter((m) => /node_modules\/(conf|ajv|undici|hdr-histogram-js|oidc-provider)\//.test(m)), [])
  })

  test('an old Node gets one line and exit 1, not a stack trace', () => {
    // Simulated with a preload (any machine), and for real when an older node is on PATH.
    const fake = 'data:text/javascript,Object.defineProperty(process.versions,"node",{value:"20.11.1"})'
    const r = spawnSync(process.execPath, ['--import', fake, BIN, 'capsules', 'list'], {env: cleanEnv(), encoding: 'utf8'})
    assert.equal(r.status, 1)
    assert.equal(r.stdout, '')
    assert.equal(r.stderr, 'bfly needs Node.js >= 22 (found v20.11.1)\n')
    for (const dir of (process.env.PATH ?? '').split(delimiter)) {
      if (!dir || dir.includes('node_modules')) continue
      const candidate = join(dir, 'node')
      const v = spawnSync(candidate, ['-p', 'process.versions.node'], {encoding: 'utf8'})
      if (v.status !== 0 || Number(v.stdout.split('.')[0]) >= 22) continue
      const real = spawnSync(candidate, [BIN, '--version'], {env: cleanEnv(), encoding: 'utf8'})
      assert.equal(real.status, 1, `${candidate} (v${v.stdout.trim()})`)
      assert.equal(real.stderr, `bfly needs Node.js >= 22 (found v${v.stdout.trim()})\n`)
      break
    }
  })
})

describe('usage errors', () => {
  const env = () => ({BFLY_CONFIG_DIR: tempConfigDir()})

  test('a mistyped command exits 2 and suggests the right one', async () => {
    const r = await runCli(['capsules', 'lst'], {env: env()})
    assert.equal(r.code, 2)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, /unknown command "capsules lst" — did you mean `bfly capsules list`\?/)
    assert.equal(r.stderr.trim().split('\n').length, 1)
  })

  test('a mistyped flag exits 2 and suggests the right one', async () => {
    const r = await runCli(['capsules', 'list', '--limt', '5'], {env: env()})
    assert.equal(r.code, 2)
    assert.match(r.stderr, /Nonexistent flag: --limt — did you mean --limit\?/)
  })

  for (const [what, args] of [
    ['unknown command', ['nope', '--json']],
    ['unknown flag', ['capsules', 'get', 'cap_1', '--nope', '--json']],
    ['missing argument', ['capsules', 'get', '--json']],
    ['bad option value', ['capsules', 'list', '--size', 'many', '--json']],
    ['unexpected argument', ['circuit', 'status', 'extra', 'words', '--json']],
  ] as const) {
    test(`${what} with --json: stdout empty, one JSON error line, exit 2`, async () => {
      const r = await runCli([...args], {env: env()})
      assert.equal(r.code, 2, r.stderr)
      assert.equal(r.stdout, '')
      const lines = r.stderr.trim().split('\n')
      assert.equal(lines.length, 1, r.stderr)
      const body = JSON.parse(lines[0])
      assert.equal(body.error.exitCode, 2)
      assert.equal(body.error.code, 'USAGE')
      assert.equal(typeof body.error.message, 'string')
    })
  }
})

test('a config file that is not JSON: one line naming it, exit 1, and the file left as it was', async () => {
  const dir = tempConfigDir()
  writeFileSync(join(dir, 'config.json'), '{"profiles": {"default": ')
  for (const args of [['config', 'list'], ['config', 'set', 'api-url', 'https://api.example.com']]) {
    const r = await runCli(args, {env: {BFLY_CONFIG_DIR: dir}})
    assert.equal(r.code, 1, r.stderr)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, /^Error: the config file .*config\.json is not valid JSON .* fix it by hand or move it aside/)
    assert.equal(r.stderr.trim().split('\n').length, 1)
  }
  assert.equal(readFileSync(join(dir, 'config.json'), 'utf8'), '{"profiles": {"default": ')
})

describe('discovery and completion', () => {
  test('`commands --json` lists the public surface', async () => {
    const r = await runCli(['commands', '--json'], {env: {BFLY_CONFIG_DIR: tempConfigDir()}})
    assert.equal(r.code, 0, r.stderr)
    const ids = (JSON.parse(r.stdout) as {id: string}[]).map((c) => c.id)
    for (const id of ['capsules:list', 'capsules:get', 'history', 'integrations:reset', 'webhooks:retry', 'probe', 'login', 'autocomplete']) {
      assert.ok(ids.includes(id), `${id} missing from ${ids.join(' ')}`)
    }
  })

  test('`autocomplete bash|zsh|fish` build completions with topics, commands and their flags', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'bfly-ac-'))
    try {
      const env = {BFLY_CONFIG_DIR: tempConfigDir(), XDG_CACHE_HOME: cache, HOME: cache}
      const build = await runCli(['autocomplete', 'bash'], {env})
      assert.equal(build.code, 0, build.stderr)
      assert.match(build.stdout, /bfly autocomplete script bash/)
      const setup = await runCli(['autocomplete', 'script', 'bash'], {env})
      assert.equal(setup.code, 0, setup.stderr)
      assert.match(setup.stdout, /BFLY_AC_BASH_SETUP_PATH=.*bash_setup/)
      const dir = join(cache, 'bfly', 'autocomplete', 'functions', 'bash')
      const script = readFileSync(join(dir, readdirSync(dir)[0]), 'utf8')
      assert.match(script, /^capsules:list .*--ndjson/m)
      assert.match(script, /^webhooks:retry .*--yes/m)
      const zsh = await runCli(['autocomplete', 'script', 'zsh'], {env})
      assert.equal(zsh.code, 0, zsh.stderr)
      const fish = await runCli(['autocomplete', 'fish'], {env})
      assert.equal(fish.code, 0, fish.stderr)
      assert.equal(fish.stderr, '', 'instructions only on a terminal')
      assert.match(fish.stdout, /^complete -c bfly -n '__fish_seen_subcommand_from capsules; and __fish_seen_subcommand_from list' -l ndjson /m)
      assert.match(fish.stdout, /^complete -c bfly -n __fish_use_subcommand -a 'webhooks' /m)
    } finally {
      rmSync(cache, {recursive: true, force: true})
    }
  })
})
