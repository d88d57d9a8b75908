// Compiles src/ to dist/ and regenerates oclif.manifest.json from the compiled commands,
// so the manifest can never drift from the code it describes.
import {execFileSync} from 'node:child_process'
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = (name) => join(root, 'node_modules', '.bin', name)
rmSync(join(root, 'dist'), {recursive: true, force: true})
try {
  execFileSync(bin('tsc'), ['-p', join(root, 'tsconfig.json')], {stdio: 'inherit', cwd: root})
} catch {
  console.error('build: TypeScript reported errors (see above)')
  process.exit(1)
}
// got and @oclif/core as one file each (see src/vendor/): same code, a fraction of the
// module loading.
const {build} = await import('esbuild')
const vendor = (name, options = {}) =>
  build({
    entryPoints: [join(root, 'src', 'vendor', `${name}.ts`)],
    outfile: join(root, 'dist', 'vendor', `${name}.js`),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    logLevel: 'warning',
    allowOverwrite: true,
    ...options,
  })

// oclif sorts each plugin's commands with String#localeCompare, which builds an ICU collator:
// ~8 ms and ~3 MB of resident ICU data on every run, to order ids made of [a-z0-9:-], where
// code-unit order is the same order. The build fails if the line is not found, so an upgrade
// of @oclif/core cannot drop the change silently.
const SORT = '.sort((a, b) => a.id.localeCompare(b.id));'
const oclifPatches = {
  name: 'oclif-patches',
  setup(b) {
    b.onLoad({filter: /@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/}, (args) => {
      const source = readFileSync(args.path, 'utf8')
      if (!source.includes(SORT)) throw new Error(`${args.path}: the command sort to patch is gone (see scripts/build.js)`)
      return {contents: source.replace(SORT, '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));'), loader: 'js'}
    })
  },
}

try {
  await vendor('got')
  await vendor('oclif', {
    // oclif's CommonJS modules call require() (node: built-ins, and commands by path).
    banner: {js: "import {createRequire as __bflyCreateRequire} from 'node:module';\nconst require = __bflyCreateRequire(import.meta.url);"},
    // Only reached to run TypeScript sources in development, which bfly never does.
    external: ['typescript', 'ts-node', 'tsx'],
    plugins: [oclifPatches],
  })
} catch (error) {
  console.error(`build: bundling a vendored package failed: ${error.message}`)
  process.exit(1)
}
try {
  execFileSync(bin('oclif'), ['manifest'], {stdio: 'pipe', cwd: root})
} catch (error) {
  console.error(String(error.stderr ?? error))
  console.error('build: oclif manifest generation failed')
  process.exit(1)
}

// oclif lists commands in file-system order, which differs between machines: sort them so
// the checked-in manifest only changes when a command does.
const manifestPath = join(root, 'oclif.manifest.json')
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'))
manifest.commands = Object.fromEntries(Object.entries(manifest.commands).sort(([a], [b]) => a.localeCompare(b)))
writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n')
