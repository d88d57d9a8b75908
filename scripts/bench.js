// `npm run bench`: every scripts/bench/*.js module exports `run()` resolving to rows
// {name, value, unit, note?}; ratios are always against a baseline measured in the same run.
// Benchmarks are reports, not pass/fail tests. `npm run bench -- startup` runs one.
import {readdirSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const dir = join(dirname(fileURLToPath(import.meta.url)), 'bench')
const only = process.argv.slice(2)
const files = readdirSync(dir).filter((f) => f.endsWith('.js') && (only.length === 0 || only.some((o) => f.startsWith(o)))).sort()
for (const file of files) {
  const mod = await import(pathToFileURL(join(dir, file)).href)
  if (typeof mod.run !== 'function') continue
  console.log(`\n## ${file.replace(/\.js$/, '')}`)
  const rows = await mod.run()
  for (const row of rows) {
    const value = typeof row.value === 'number' ? (Math.abs(row.value) >= 100 ? row.value.toFixed(0) : row.value.toFixed(2)) : row.value
    console.log(`${row.name.padEnd(58)} ${String(value).padStart(10)} ${row.unit ?? ''}${row.note ? `   ${row.note}` : ''}`)
  }
}
