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
// got as one file (see src/vendor/got.ts): same code, a fraction of the module loading.
try {
  execFileSync(bin('esbuild'), [join(root, 'src', 'vendor', 'got.ts'), '--bundle', '--platform=node', '--format=esm', '--target=node22',
    '--log-level=warning', `--outfile=${join(root, 'dist', 'vendor', 'got.js')}`, '--allow-overwrite'], {stdio: 'inherit', cwd: root})
} catch {
  console.error('build: bundling got failed (see above)')
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
