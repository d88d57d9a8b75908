// The read cache: got's built-in RFC 7234 cache (its `cache` option, cacheable-request, with a
// node:sqlite Keyv store) against the cache bfly uses (src/cache, got without `cache`), on one
// loopback server in the same run. Per-request medians, bytes written per 304, and the
// behaviours the choice turned on: does a stored answer survive a 5xx revalidation (needed
// for --stale-if-error), and what does a 5xx on a miss leave in the store.
import {createServer} from 'node:http'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const dist = (p) => pathToFileURL(join(root, 'dist', p)).href

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

/** The obvious Keyv store on node:sqlite: what "got's cache with a disk store" means. */
async function keyvSqliteStore(path) {
  const {DatabaseSync} = await import('node:sqlite')
  const db = new DatabaseSync(path)
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)')
  const stats = {bytesWritten: 0, sets: 0, deletes: 0}
  const store = {
    stats,
    get: async (key) => db.prepare('SELECT value FROM kv WHERE key = ?').get(key)?.value,
    set: async (key, value) => {
      stats.sets++
      stats.bytesWritten += value.length
      db.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value)
      return true
    },
    delete: async (key) => {
      stats.deletes++
      return db.prepare('DELETE FROM kv WHERE key = ?').run(key).changes > 0
    },
    clear: async () => void db.exec('DELETE FROM kv'),
    raw: (key) => db.prepare('SELECT value FROM kv WHERE key = ?').get(key)?.value,
  }
  return store
}

async function startServer() {
  const state = {mode: 'etag', body: '{}', hits: 0}
  const server = createServer((req, res) => {
    state.hits++
    if (state.mode === 'fail') {
      res.writeHead(503, {'content-type': 'application/json'})
      return res.end('{"error":{"code":"SERVICE_UNAVAILABLE","message":"down"}}')
    }
    const headers = {'content-type': 'application/json', etag: '"v1"', ...(req.url.includes('fresh') ? {'cache-control': 'private, max-age=600'} : {})}
    if (req.headers['if-none-match'] === '"v1"') {
      res.writeHead(304, {etag: '"v1"'})
      return res.end()
    }
    res.writeHead(200, headers)
    res.end(state.body)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {state, url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r))}
}

export async function run() {
  // cacheable-request adds an 'error' listener to its Keyv for every request and does not
  // always remove it; past 100, Keyv says so with console.warn. Count instead of printing.
  const warn = console.warn
  let leakWarnings = 0
  console.warn = (...args) => {
    if (String(args[0]).startsWith('MaxListenersExceededWarning')) leakWarnings++
    else warn(...args)
  }
  try {
    return await measure(() => leakWarnings)
  } finally {
    console.warn = warn
  }
}

async function measure(leaks) {
  const started = performance.now()
  const {CacheStore} = await import(dist('cache/store.js'))
  const file = join(mkdtempSync(join(tmpdir(), 'bfly-bench-')), 'http-cache.sqlite')
  const created = await CacheStore.open(file)
  const createMs = performance.now() - started
  // Left open, as a bfly process leaves it (closing checkpoints and fsyncs: tens of ms at exit).
  const reopenTimes = []
  for (let i = 0; i < 21; i++) {
    const t = performance.now()
    const again = await CacheStore.open(file)
    again.get('missing')
    reopenTimes.push(performance.now() - t)
  }
  created.close()
  const {default: got} = await import('got')
  const {HttpCache} = await import(dist('cache/http-cache.js'))
  const server = await startServer()
  const rows = [
    {name: 'create the cache file (import node:sqlite, schema)', value: createMs, unit: 'ms', note: 'first use of a profile'},
    {name: 'open the cache file and look one key up', value: median(reopenTimes), unit: 'ms', note: 'once per command that reads'},
  ]
  const runs = 60
  const plain = got.extend({responseType: 'text', retry: {limit: 0}})

  const ours = (stateDir) => new HttpCache({
    stateDir, profile: 'bench', env: {BFLY_TOKEN: 'bench-token-0123456789'}, now: Date.now,
    trace: () => {}, warn: () => {}, notice: () => {}, session: async () => undefined,
  })
  // What ApiClient.request does around got for a GET.
  async function oursGet(cache, url) {
    const read = await cache.read({url: new URL(url), headers: {accept: 'application/json'}, credentialSource: 'env', secrets: () => []})
    const reused = read.reuse()
    if (reused) return reused
    const headers = read.validators()
    const response = await plain(url, {headers, throwHttpErrors: false})
    const answer = read.settle({statusCode: response.statusCode, headers: response.headers, body: response.body, url: response.url})
    JSON.parse(answer.body)
    read.commit(answer)
    return answer
  }

  for (const [label, size] of [['2 KB', 2 * 1024], ['1 MB', 1024 * 1024]]) {
    server.state.body = JSON.stringify({data: {id: 'cap_1', payload: {blob: 'x'.repeat(size)}}})
    const url = `${server.url}/api/v1/capsules/cap_1`
    server.state.mode = 'etag'
    const kv = await keyvSqliteStore(join(mkdtempSync(join(tmpdir(), 'bfly-bench-')), 'kv.sqlite'))
    const gotCached = got.extend({responseType: 'text', retry: {limit: 0}, cache: kv, cacheOptions: {shared: false, cacheHeuristic: 0}})
    const cache = ours(mkdtempSync(join(tmpdir(), 'bfly-bench-')))
    const gotGet = (u) => gotCached(u).then((r) => JSON.parse(r.body))
    await Promise.all([gotGet(url), gotGet(`${url}?fresh`), oursGet(cache, url), oursGet(cache, `${url}?fresh`)])
    let writes304 = 0
    const scenarios = {
      baseline: () => plain(url).then((r) => JSON.parse(r.body)),
      gotMiss: (i) => gotGet(`${url}?miss=${label}-${i}`),
      ourMiss: (i) => oursGet(cache, `${url}?miss=${label}-${i}`),
      got304: async () => {
        const before = kv.stats.bytesWritten
        await gotGet(url)
        // cacheable-request stores after the response has been handed over
        await new Promise((r) => setImmediate(r))
        writes304 += kv.stats.bytesWritten - before
      },
      our304: () => oursGet(cache, url),
      gotFresh: () => gotGet(`${url}?fresh`),
      ourFresh: () => oursGet(cache, `${url}?fresh`),
    }
    // Interleaved, so drift on a busy machine hits every variant alike.
    const times = Object.fromEntries(Object.keys(scenarios).map((k) => [k, []]))
    for (let i = 0; i < runs + 3; i++) {
      for (const [name, fn] of Object.entries(scenarios)) {
        const t = performance.now()
        await fn(i)
        if (i >= 3) times[name].push(performance.now() - t)
      }
    }
    const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]))
    const {baseline, gotMiss, ourMiss, got304, our304, gotFresh, ourFresh} = m
    const bytesPer304 = writes304 / (runs + 3)

    rows.push(
      {name: `${label}: plain got GET (baseline)`, value: baseline, unit: 'ms'},
      {name: `${label}: got cache, miss + store`, value: gotMiss / baseline, unit: '×', note: `${gotMiss.toFixed(2)} ms`},
      {name: `${label}: bfly cache, miss + store`, value: ourMiss / baseline, unit: '×', note: `${ourMiss.toFixed(2)} ms`},
      {name: `${label}: got cache, 304 revalidation`, value: got304 / baseline, unit: '×', note: `${got304.toFixed(2)} ms, writes ${Math.round(bytesPer304)} B per 304 (the whole body, base64)`},
      {name: `${label}: bfly cache, 304 revalidation`, value: our304 / baseline, unit: '×', note: `${our304.toFixed(2)} ms, updates the headers only`},
      {name: `${label}: got cache, fresh hit`, value: gotFresh / baseline, unit: '×', note: `${gotFresh.toFixed(2)} ms`},
      {name: `${label}: bfly cache, fresh hit`, value: ourFresh / baseline, unit: '×', note: `${ourFresh.toFixed(2)} ms`},
    )
  }

  // Behaviour: a 503 answering a revalidation, then a 503 on a miss.
  server.state.body = '{"data":{"id":"cap_1"}}'
  server.state.mode = 'etag'
  const kv = await keyvSqliteStore(join(mkdtempSync(join(tmpdir(), 'bfly-bench-')), 'kv.sqlite'))
  const gotCached = got.extend({responseType: 'text', retry: {limit: 0}, throwHttpErrors: false, cache: kv, cacheOptions: {shared: false, cacheHeuristic: 0}})
  const url = `${server.url}/api/v1/capsules/cap_9`
  await gotCached(url)
  server.state.mode = 'fail'
  await gotCached(url)
  await new Promise((r) => setTimeout(r, 50))
  const keyvKey = `cacheable-request:GET:${url}`
  rows.push({name: 'got cache: answer kept after a 503 revalidation', value: kv.raw(keyvKey) ? 'yes' : 'no', unit: '', note: 'needed for --stale-if-error'})
  await gotCached(url)
  await new Promise((r) => setTimeout(r, 50))
  const stored = kv.raw(keyvKey)
  rows.push({name: 'got cache: a 503 on a miss is stored', value: stored ? `yes (${JSON.parse(stored).value.statusCode})` : 'no', unit: '', note: stored ? `policy status ${JSON.parse(stored).value.cachePolicy.st}` : ''})

  server.state.mode = 'etag'
  const cache = ours(mkdtempSync(join(tmpdir(), 'bfly-bench-')))
  await oursGet(cache, url)
  server.state.mode = 'fail'
  await oursGet(cache, url)
  const read = await cache.read({url: new URL(url), headers: {accept: 'application/json'}, credentialSource: 'env', secrets: () => []})
  rows.push({name: 'bfly cache: answer kept after a 503 revalidation', value: read.validators()['if-none-match'] ? 'yes' : 'no', unit: ''})
  rows.push({name: 'got cache: Keyv listener-leak warnings printed', value: String(leaks()), unit: '', note: `over ~${2 * (3 * runs + 12) + 3} cached requests in one process (stderr noise on a long --all walk)`})
  await server.close()
  return rows
}

if (import.meta.url === `file://${process.argv[1]}`) for (const row of await run()) console.log(row)
