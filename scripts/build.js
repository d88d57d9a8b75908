// Compiles src/ to dist/ and regenerates oclif.manifest.json from the compiled commands,
// so the manifest can never drift from the code it describes.
import {execFileSync} from 'node:child_process'
import {rmSync} from 'node:fs'
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
execFileSync(bin('oclif'), ['manifest'], {stdio: ['ignore', 'ignore', 'inherit'], cwd: root})
