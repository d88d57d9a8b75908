import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {paginate} from '../../../dist/api/paginate.js'
import {ApiError, Interrupted} from '../../../dist/errors.js'

interface Item {
  id: string
}

/** An API over a list that can change between requests, recording the pages asked for. */
function listApi(items: Item[], options: {beforeEach?: (page: number) => void; fail?: (page: number) => Error | undefined; hang?: (page: number) => boolean; events?: string[]} = {}) {
  const asked: number[] = []
  let inFlight = 0
  let maxInFlight = 0
  const api = {
    async request(spec: {query: {page: number; size?: number}; onReceived?: () => Promise<void> | void}) {
      const page = Number(spec.query.page)
      const size = Number(spec.query.size ?? 20)
      asked.push(page)
      options.events?.push(`ask ${page}`)
      let arrived = false
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      try {
        await new Promise((r) => setImmediate(r))
        if (options.hang?.(page)) await new Promise(() => {})
        const error = options.fail?.(page)
        if (error) throw error
        options.beforeEach?.(page)
        const data = items.slice(page * size, page * size + size)
        const response = {data, meta: {pagination: {page, size, totalElements: items.length, totalPages: Math.ceil(items.length / size)}}}
        // As ApiClient does for a walk's page: told once the response is in, before decoding.
        if (options.events) {
          const events = options.events
          Object.defineProperty(response, 'data', {get: () => (events.push(`decoded ${page}`), data)})
          options.events.push(`arrived ${page}`)
          inFlight--
          arrived = true
          await spec.onReceived?.()
        }
        return response
      } finally {
        if (!arrived) inFlight--
      }
    },
  }
  return {api: api as never, asked, maxInFlight: () => maxInFlight}
}

const ids = (n: number, prefix = 'c') => Array.from({length: n}, (_, i) => ({id: `${prefix}${String(i).padStart(3, '0')}`}))

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}

describe('paginate', () => {
  test('walks every page once, stopping at totalPages', async () => {
    const {api, asked} = listApi(ids(25))
    const items = await collect(paginate<Item>(api, {path: '/x', size: 10}))
    assert.equal(items.length, 25)
    assert.deepEqual(asked, [0, 1, 2])
  })

  test('items pushed onto the next page by insertions are shown once; none that existed is skipped', async () => {
    const items = ids(50)
    let inserted = 0
    // Newest first: every request finds 3 new items at the head, shifting everything down.
    const {api} = listApi(items, {beforeEach: () => items.unshift(...ids(3, `new${inserted++}-`))})
    const seen = (await collect(paginate<Item>(api, {path: '/x', size: 10}))).map((i) => i.id)
    assert.equal(new Set(seen).size, seen.length, 'no duplicates')
    for (const {id} of ids(50)) assert.ok(seen.includes(id), `${id} was not skipped`)
  })

  test('the de-dup window is bounded but never smaller than two pages', async () => {
    const items = ids(40)
    const {api} = listApi(items, {beforeEach: (page) => page > 0 && page < 3 && items.unshift(...ids(10, `n${page}-`))})
    const seen = (await collect(paginate<Item>(api, {path: '/x', size: 10, remember: 1}))).map((i) => i.id)
    assert.equal(new Set(seen).size, seen.length, 'a shift of a whole page is still caught')
  })

  test('--limit stops after N items without asking for pages it does not need', async () => {
    const {api, asked} = listApi(ids(100))
    const items = await collect(paginate<Item>(api, {path: '/x', size: 10, limit: 15}))
    assert.equal(items.length, 15)
    assert.deepEqual(asked, [0, 1], 'page 1 satisfies the limit: no prefetch of page 2')
    const single = listApi(ids(100))
    assert.equal((await collect(paginate<Item>(single.api, {path: '/x', size: 10, single: true, startPage: 3})))[0].id, 'c030')
    assert.deepEqual(single.asked, [3])
  })

  test('the next page is asked for while this one is consumed, one request at a time', async () => {
    const walk = listApi(ids(30))
    const iterator = paginate<Item>(walk.api, {path: '/x', size: 10})
    await iterator.next()
    assert.deepEqual(walk.asked, [0, 1], 'page 1 is on its way while page 0 is written')
    await collect({[Symbol.asyncIterator]: () => iterator})
    assert.deepEqual(walk.asked, [0, 1, 2], 'nothing past the last page')
    assert.equal(walk.maxInFlight(), 1)
    const serial = listApi(ids(30))
    const it2 = paginate<Item>(serial.api, {path: '/x', size: 10, prefetch: false})
    await it2.next()
    assert.deepEqual(serial.asked, [0])
  })

  test('once a page has arrived, the next is asked for before it is decoded: one at a time, in order, never past the end', async () => {
    const events: string[] = []
    const walk = listApi(ids(50), {events})
    let seenPage = -1
    for await (const item of paginate<Item>(walk.api, {path: '/x', size: 10})) {
      const page = Math.floor(Number(item.id.slice(1)) / 10)
      if (page !== seenPage) events.push(`consumed ${(seenPage = page)}`)
    }
    assert.deepEqual(walk.asked, [0, 1, 2, 3, 4])
    assert.equal(walk.maxInFlight(), 1)
    const at = (event: string) => events.indexOf(event)
    // Page 0 says how many pages there are: page 1 is asked for once page 0 is decoded.
    assert.ok(at('ask 1') > at('decoded 0'))
    assert.ok(at('ask 1') < at('consumed 0'))
    for (let k = 1; k < 4; k++) {
      // Served in order: asked only once the page before it has arrived ...
      assert.ok(at(`ask ${k + 1}`) > at(`arrived ${k}`), `ask ${k + 1} after page ${k} arrived`)
      // ... and before that page was decoded: the server works while this side decodes and writes.
      assert.ok(at(`ask ${k + 1}`) < at(`decoded ${k}`), `ask ${k + 1} before page ${k} is decoded: ${events.join(', ')}`)
    }
  })

  test('asking on arrival: a limit asks only for what it can use; a list changing ahead of the walk skips nothing', async () => {
    const limited = listApi(ids(50), {events: []})
    assert.equal((await collect(paginate<Item>(limited.api, {path: '/x', size: 10, limit: 35}))).length, 35)
    assert.deepEqual(limited.asked, [0, 1, 2, 3])
    // Newest first: each request inserts three items at the front, pushing every page down.
    const originals = ids(60, 'o')
    const list = [...originals]
    let n = 0
    const changing = listApi(list, {events: [], beforeEach: () => list.unshift(...ids(3, `n${n++}_`))})
    const got = (await collect(paginate<Item>(changing.api, {path: '/x', size: 10}))).map((i) => i.id)
    assert.equal(new Set(got).size, got.length, 'no duplicates')
    assert.deepEqual(originals.filter((o) => !got.includes(o.id)), [], 'none skipped that existed throughout')
    assert.equal(changing.maxInFlight(), 1)
  })

  test('without pagination metadata a short or empty page ends the walk', async () => {
    const pages = [[{id: 'a'}, {id: 'b'}], [{id: 'c'}]]
    const api = {request: async (spec: {query: {page: number}}) => ({data: pages[spec.query.page] ?? []})}
    assert.deepEqual((await collect(paginate<Item>(api as never, {path: '/x', size: 2}))).map((i) => i.id), ['a', 'b', 'c'])
  })

  test('a failure mid-walk names the failing page and how to resume; what came before was yielded', async () => {
    const {api} = listApi(ids(50), {fail: (page) => (page === 2 ? new ApiError('backend down', {code: 'INTERNAL_ERROR', status: 500}) : undefined)})
    const got: Item[] = []
    await assert.rejects(
      (async () => {
        for await (const item of paginate<Item>(api, {path: '/x', size: 10, resume: (page) => `--page ${page} --size 10 --all`})) got.push(item)
      })(),
      (e: ApiError) => {
        assert.equal(e.exitCode, 6)
        assert.match(e.hint!, /^page 2 failed; 20 items already printed; resume with `--page 2 --size 10 --all`; the service failed/)
        return true
      },
    )
    assert.equal(got.length, 20)
  })

  test('Ctrl-C while a page is in flight: Interrupted with how far it got and where to resume', async () => {
    const controller = new AbortController()
    // Like ApiClient on Ctrl-C: the request in flight fails with Interrupted.
    const aborted = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(new Interrupted('interrupted: GET /x did not finish'))))
    aborted.catch(() => {})
    const {api} = listApi(ids(50), {hang: (page) => page === 1})
    const hanging = {request: (spec: never) => Promise.race([api.request(spec), aborted])}
    const got: Item[] = []
    const walk = (async () => {
      for await (const item of paginate<Item>(hanging as never, {path: '/x', size: 10, signal: controller.signal, resume: (page) => `--page ${page} --all`})) got.push(item)
    })()
    while (got.length < 10) await new Promise((r) => setImmediate(r))
    controller.abort()
    await assert.rejects(walk, (e: Interrupted) => {
      assert.equal(e.exitCode, 130)
      assert.equal(e.message, 'interrupted after 10 items, while fetching page 1')
      assert.equal(e.hint, 'resume with `--page 1 --all`')
      return true
    })
    assert.equal(got.length, 10)
  })
})
