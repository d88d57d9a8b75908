// `npm pack` / `npm publish`: ship the lockfile as npm-shrinkwrap.json so an installed bfly
// runs the exact dependency tree the tests ran (npm's advice for command-line tools).
// It does not build: run `npm run build` first (the package needs dist/ and the manifest).
import {copyFileSync, existsSync, rmSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const shrinkwrap = join(root, 'npm-shrinkwrap.json')
if (process.argv[2] === 'post') {
  rmSync(shrinkwrap, {force: true})
} else {
  for (const needed of ['dist/main.js', 'oclif.manifest.json']) {
    if (!existsSync(join(root, needed))) {
      console.error(`prepack: ${needed} is missing; run \`npm run build\` first`)
      process.exit(1)
    }
  }
  copyFileSync(join(root, 'package-lock.json'), shrinkwrap)
}
