// The published package: `npm pack` from the built tree, then installed the way npm installs
// it for a user (its npm-shrinkwrap.json, production dependencies only) from the local npm
// cache, offline, and run. Nothing outside the package may be needed, and no dev file ships.
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {ROOT, cleanEnv} from '../../helpers/cli.ts'

const npm = (args: string[], cwd: string) => {
  const execPath = process.env.npm_execpath
  const [command, argv] = execPath && /\.c?js$/.test(execPath) ? [process.execPath, [execPath, ...args]] : ['npm', args]
  return spawnSync(command, argv, {cwd, encoding: 'utf8', env: {...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false'}, timeout: 120_000})
}

describe('npm pack', () => {
  const work = mkdtempSync(join(tmpdir(), 'bfly-pack-'))
  let files: string[] = []
  let pkgDir = ''

  before(() => {
    const packed = npm(['pack', '--json', '--pack-destination', work], ROOT)
    assert.equal(packed.status, 0, packed.stderr)
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[')))
    files = info.files.map((f: {path: string}) => f.path)
    const untar = spawnSync('tar', ['xzf', join(work, info.filename), '-C', work], {encoding: 'utf8'})
    assert.equal(untar.status, 0, untar.stderr)
    pkgDir = join(work, 'package')
  })
  after(() => rmSync(work, {recursive: true, force: true}))

  test('ships the CLI, its manifest and a shrinkwrap, and no dev files', () => {
    for (const needed of ['bin/run.js', 'dist/main.js', 'dist/commands/capsules/get.js', 'oclif.manifest.json', 'npm-shrinkwrap.json', 'package.json', 'README.md']) {
      assert.ok(files.includes(needed), `${needed} is not in the package`)
    }
    const dev = files.filter((f) => /^(src|test|scripts|\.ci|node_modules)\/|\.ts$|\.map$|^tsconfig|^\.gitignore$|^package-lock\.json$/.test(f))
    assert.deepEqual(dev, [])
    assert.equal(existsSync(join(ROOT, 'npm-shrinkwrap.json')), false, 'postpack leaves no shrinkwrap behind in the repository')
    const manifest = JSON.parse(readFileSync(join(pkgDir, 'oclif.manifest.json'), 'utf8'))
    assert.ok(manifest.commands['capsules:list'])
  })

  test('installs offline with production dependencies only and runs', () => {
    const install = npm(['ci', '--omit=dev', '--offline', '--no-audit', '--no-fund'], pkgDir)
    assert.equal(install.status, 0, install.stderr)
    for (const dev of ['typescript', 'oclif', 'nock', 'node', 'autocannon']) {
      assert.equal(existsSync(join(pkgDir, 'node_modules', dev)), false, `dev dependency ${dev} was installed`)
    }
    const bin = join(pkgDir, JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).bin.bfly)
    const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], {encoding: 'utf8', env: cleanEnv({BFLY_CONFIG_DIR: work})})
    const version = run(['--version'])
    assert.equal(version.status, 0, version.stderr)
    assert.match(version.stdout, /^bfly\/\d+\.\d+\.\d+ /)
    const help = run(['capsules', 'list', '--help'])
    assert.equal(help.status, 0, help.stderr)
    assert.match(help.stdout, /--ndjson/)
    const config = run(['config', 'set', 'api-url', 'https://api.example.com', '--json'])
    assert.equal(config.status, 0, config.stderr)
    const listed = run(['config', 'get', 'api-url', '--json'])
    assert.equal(JSON.parse(listed.stdout).value, 'https://api.example.com')
  })
})
