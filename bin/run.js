#!/usr/bin/env node
// Keep this file syntax-compatible with old Node versions: it must be able to say
// "too old" in one line instead of failing to parse.
var major = Number(process.versions.node.split('.')[0])
if (major < 22) {
  process.stderr.write('bfly needs Node.js >= 22 (found v' + process.versions.node + ')\n')
  process.exit(1)
}
import('node:module')
  .then(function (m) {
    if (m.enableCompileCache) {
      try { m.enableCompileCache() } catch (e) { /* best effort: a read-only cache dir is fine */ }
    }
    return import('../dist/main.js')
  })
  .then(function (main) { return main.main(process.argv.slice(2), import.meta.url) })
