#!/usr/bin/env node
// Keep this file syntax-compatible with old Node versions: it must be able to say
// "too old" in one line instead of failing to parse.
var major = Number(process.versions.node.split('.')[0])
if (major < 22) {
  process.stderr.write('bfly needs Node.js >= 22 (found v' + process.versions.node + ')\n')
  process.exit(1)
}
var argv = process.argv.slice(2)
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
  // The one answer scripts ask for most, without loading oclif: the same line oclif prints.
  import('node:fs').then(function (fs) {
    var pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
    process.stdout.write(pkg.name + '/' + pkg.version + ' ' + process.platform + '-' + process.arch + ' node-' + process.version + '\n')
  })
} else {
  import('node:module')
    .then(function (m) {
      if (m.enableCompileCache) {
        try { m.enableCompileCache() } catch (e) { /* best effort: a read-only cache dir is fine */ }
      }
      return import('../dist/main.js')
    })
    .then(function (main) { return main.main(argv, import.meta.url) })
}
