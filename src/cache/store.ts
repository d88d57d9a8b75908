// The disk side of the read cache: one SQLite file per profile (node:sqlite, built into
// Node, imported only when a cached read or a write needs it). SQLite gives what the cache
// must survive: concurrent bfly processes (WAL, a busy timeout, BEGIN IMMEDIATE so a writer
// never deadlocks upgrading a read lock), and a crash at any point (kill -9 mid-write rolls
// the transaction back on the next open: an entry is all there or not there).
import {closeSync, mkdirSync, openSync, rmSync, statSync} from 'node:fs'
import {dirname} from 'node:path'
import type {DatabaseSync, StatementSync} from 'node:sqlite'
import type {Headers} from './freshness.js'

export const CACHE_FILE = 'http-cache.sqlite'
export const DEFAULT_MAX_BYTES = 50 * 1024 * 1024
const SCHEMA_VERSION = 2

export interface CacheEntry {
  key: string
  partition: string
  /** host[:port] of the API origin */
  host: string
  /** URL path without the query, for invalidation */
  path: string
  /** normalized URL with the query */
  url: string
  status: number
  /** response headers, secrets and hop-by-hop fields removed */
  headers: Headers
  /** values of the request headers the response Vary-ed on */
  vary: Record<string, string>
  requestTime: number
  responseTime: number
  accessedAt: number
  size: number
  body: Uint8Array
}

export type NewEntry = Omit<CacheEntry, 'accessedAt' | 'size'>

export interface EntrySummary {
  key: string
  host: string
  url: string
  status: number
  size: number
  requestTime: number
  responseTime: number
  accessedAt: number
  headers: Headers
}

export interface StoreOptions {
  maxBytes?: number
  now?: () => number
  /** Busy timeout for a lock held by another process (ms). */
  busyTimeoutMs?: number
}

interface Row {
  key: string
  partition: string
  host: string
  path: string
  url: string
  status: number
  headers: string
  vary: string
  request_time: number
  response_time: number
  accessed_at: number
  size: number
  body?: Uint8Array
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    partition TEXT NOT NULL,
    host TEXT NOT NULL,
    path TEXT NOT NULL,
    url TEXT NOT NULL,
    status INTEGER NOT NULL,
    headers TEXT NOT NULL,
    vary TEXT NOT NULL,
    request_time INTEGER NOT NULL,
    response_time INTEGER NOT NULL,
    accessed_at INTEGER NOT NULL,
    size INTEGER NOT NULL
  );
  -- Bodies apart: SQLite rewrites a whole record when one column changes, and the use time
  -- (every read) and the headers (every 304) change often while the body does not.
  CREATE TABLE IF NOT EXISTS bodies (key TEXT PRIMARY KEY, body BLOB NOT NULL);
  CREATE INDEX IF NOT EXISTS entries_by_path ON entries(host, path);
  CREATE INDEX IF NOT EXISTS entries_by_use ON entries(accessed_at);
  -- The running total the size bound is checked against, kept by the same statements
  -- that change the rows, so it cannot drift from them.
  CREATE TABLE IF NOT EXISTS totals (id INTEGER PRIMARY KEY CHECK (id = 1), bytes INTEGER NOT NULL, entries INTEGER NOT NULL);
  INSERT OR IGNORE INTO totals (id, bytes, entries) VALUES (1, 0, 0);
  CREATE TRIGGER IF NOT EXISTS entries_insert AFTER INSERT ON entries BEGIN
    UPDATE totals SET bytes = bytes + new.size, entries = entries + 1 WHERE id = 1;
  END;
  CREATE TRIGGER IF NOT EXISTS entries_delete AFTER DELETE ON entries BEGIN
    UPDATE totals SET bytes = bytes - old.size, entries = entries - 1 WHERE id = 1;
    DELETE FROM bodies WHERE key = old.key;
  END;
  CREATE TRIGGER IF NOT EXISTS entries_update AFTER UPDATE OF size ON entries BEGIN
    UPDATE totals SET bytes = bytes - old.size + new.size WHERE id = 1;
  END;
`

/** SQLite said the file is not a database, or a damaged one: the cache starts over. */
function unreadable(error: unknown): boolean {
  const e = error as {errcode?: number; message?: string}
  // SQLITE_CORRUPT 11, SQLITE_NOTADB 26 (extended codes keep the low byte)
  return [11, 26].includes((e?.errcode ?? 0) & 0xff) || /not a database|malformed/i.test(e?.message ?? '')
}

/**
 * node:sqlite, without the ExperimentalWarning Node 22 and 23 print when it loads (Node 24
 * prints none): bfly's stderr belongs to the user. Only that warning is held back, and only
 * while the module loads.
 */
async function loadSqlite(): Promise<typeof import('node:sqlite')> {
  const emitWarning = process.emitWarning
  process.emitWarning = function (this: unknown, warning: string | Error, ...rest: unknown[]) {
    if (/SQLite is an experimental feature/i.test(typeof warning === 'string' ? warning : warning?.message ?? '')) return
    return (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest)
  } as typeof process.emitWarning
  try {
    return await import('node:sqlite')
  } finally {
    process.emitWarning = emitWarning
  }
}

export class CacheStore {
  readonly maxBytes: number
  private readonly now: () => number
  private readonly statements = new Map<string, StatementSync>()

  private constructor(
    readonly path: string,
    private readonly db: DatabaseSync,
    options: StoreOptions,
  ) {
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES
    this.now = options.now ?? Date.now
  }

  /** Opens (creating when missing) the cache file; a damaged one is replaced by an empty one. */
  static async open(path: string, options: StoreOptions = {}): Promise<CacheStore> {
    const {DatabaseSync} = await loadSqlite()
    mkdirSync(dirname(path), {recursive: true, mode: 0o700})
    // Created 0600 before SQLite sees it: SQLite gives its -wal and -shm files the same mode.
    closeSync(openSync(path, 'a', 0o600))
    const connect = () => {
      const empty = statSync(path).size === 0
      const db = new DatabaseSync(path)
      try {
        db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.round(options.busyTimeoutMs ?? 5000))}`)
        // Only possible in a new file, before WAL mode and the first table (and not worth its
        // milliseconds on every later open).
        if (empty) db.exec('PRAGMA auto_vacuum = INCREMENTAL')
        db.exec('PRAGMA journal_mode = WAL')
        // NORMAL in WAL mode: a process crash loses nothing committed; power loss may lose
        // the last commits but never corrupts. Right for a cache.
        db.exec('PRAGMA synchronous = NORMAL')
        // The WAL file would otherwise keep the size of the largest write ever made.
        db.exec('PRAGMA journal_size_limit = 8388608')
        const version = (db.prepare('PRAGMA user_version').get() as {user_version: number}).user_version
        if (version !== SCHEMA_VERSION) {
          db.exec('BEGIN IMMEDIATE')
          try {
            const current = (db.prepare('PRAGMA user_version').get() as {user_version: number}).user_version
            if (current !== SCHEMA_VERSION) {
              // An older or newer layout: a cache may always be dropped.
              db.exec('DROP TABLE IF EXISTS entries; DROP TABLE IF EXISTS bodies; DROP TABLE IF EXISTS totals')
              db.exec(SCHEMA)
              db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`)
            }
            db.exec('COMMIT')
          } catch (error) {
            if (db.isTransaction) db.exec('ROLLBACK')
            throw error
          }
        }
        return db
      } catch (error) {
        db.close()
        throw error
      }
    }
    let db: DatabaseSync
    try {
      db = connect()
    } catch (error) {
      if (!unreadable(error)) throw error
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, {force: true})
      closeSync(openSync(path, 'a', 0o600))
      db = connect()
    }
    return new CacheStore(path, db, options)
  }

  private statement(sql: string): StatementSync {
    let statement = this.statements.get(sql)
    if (!statement) {
      statement = this.db.prepare(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }

  private transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE')
    try {
      const result = fn()
      this.db.exec('COMMIT')
      return result
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK')
      throw error
    }
  }

  /** The entry, marked as just used (least recently used entries are evicted first). */
  get(key: string): CacheEntry | undefined {
    const row = this.statement('SELECT entries.*, bodies.body FROM entries JOIN bodies USING (key) WHERE key = ?').get(key) as Row | undefined
    if (!row) return undefined
    const now = this.now()
    this.statement('UPDATE entries SET accessed_at = ? WHERE key = ?').run(now, key)
    return {
      key: row.key,
      partition: row.partition,
      host: row.host,
      path: row.path,
      url: row.url,
      status: row.status,
      headers: JSON.parse(row.headers) as Headers,
      vary: JSON.parse(row.vary) as Record<string, string>,
      requestTime: row.request_time,
      responseTime: row.response_time,
      accessedAt: now,
      size: row.size,
      body: row.body ?? new Uint8Array(),
    }
  }

  /** Stores (or replaces) an entry, then evicts the least recently used down to the bound. False when it can never fit. */
  put(entry: NewEntry): boolean {
    const headers = JSON.stringify(entry.headers)
    const vary = JSON.stringify(entry.vary)
    const size = entry.body.byteLength + headers.length + vary.length + entry.url.length
    if (size > this.maxBytes) {
      this.delete(entry.key)
      return false
    }
    const now = this.now()
    this.transaction(() => {
      this.statement(`INSERT INTO entries (key, partition, host, path, url, status, headers, vary, request_time, response_time, accessed_at, size)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT(key) DO UPDATE SET status = excluded.status, headers = excluded.headers, vary = excluded.vary,
          request_time = excluded.request_time, response_time = excluded.response_time, accessed_at = excluded.accessed_at,
          size = excluded.size`)
        .run(entry.key, entry.partition, entry.host, entry.path, entry.url, entry.status, headers, vary, entry.requestTime, entry.responseTime, now, size)
      this.statement('INSERT INTO bodies (key, body) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET body = excluded.body').run(entry.key, entry.body)
      this.evict(entry.key)
    })
    return true
  }

  private evict(keep: string): void {
    let {bytes} = this.statement('SELECT bytes FROM totals WHERE id = 1').get() as {bytes: number}
    if (bytes <= this.maxBytes) return
    const oldest = this.statement('SELECT key, size FROM entries ORDER BY accessed_at ASC, key ASC').iterate() as Iterable<{key: string; size: number}>
    const doomed: string[] = []
    for (const row of oldest) {
      if (bytes <= this.maxBytes) break
      if (row.key === keep) continue
      doomed.push(row.key)
      bytes -= row.size
    }
    const remove = this.statement('DELETE FROM entries WHERE key = ?')
    for (const key of doomed) remove.run(key)
    // Give the freed pages back to the file system so the file stays near the bound.
    if (doomed.length > 0) this.db.exec('PRAGMA incremental_vacuum')
  }

  /** After a 304: the stored body stands, with the server's updated headers and a new age. */
  refresh(key: string, headers: Headers, timing: {requestTime: number; responseTime: number}): void {
    const text = JSON.stringify(headers)
    this.transaction(() => {
      const row = this.statement('SELECT size, headers FROM entries WHERE key = ?').get(key) as {size: number; headers: string} | undefined
      if (!row) return
      this.statement('UPDATE entries SET headers = ?, request_time = ?, response_time = ?, accessed_at = ?, size = ? WHERE key = ?')
        .run(text, timing.requestTime, timing.responseTime, this.now(), row.size - row.headers.length + text.length, key)
    })
  }

  delete(key: string): void {
    this.statement('DELETE FROM entries WHERE key = ?').run(key)
  }

  /**
   * Forget every answer (of any partition) for these paths of a host: `paths` exactly (any
   * query), `prefixes` and everything below them. Returns how many went.
   */
  invalidate(host: string, paths: string[], prefixes: string[] = []): number {
    return this.transaction(() => {
      let removed = 0
      const exact = this.statement('DELETE FROM entries WHERE host = ? AND path = ?')
      for (const path of new Set(paths)) removed += Number(exact.run(host, path).changes)
      // A range instead of LIKE: ids may hold _ and %, which LIKE would read as wildcards.
      const below = this.statement("DELETE FROM entries WHERE host = ? AND (path = ? OR (path >= ? || '/' AND path < ? || '0'))")
      for (const prefix of new Set(prefixes)) removed += Number(below.run(host, prefix, prefix, prefix).changes)
      return removed
    })
  }

  totals(): {entries: number; bytes: number} {
    const row = this.statement('SELECT entries, bytes FROM totals WHERE id = 1').get() as {entries: number; bytes: number}
    return {entries: row.entries, bytes: row.bytes}
  }

  list(): EntrySummary[] {
    const rows = this.statement('SELECT key, host, url, status, size, headers, request_time, response_time, accessed_at FROM entries ORDER BY accessed_at DESC').all() as unknown as Row[]
    return rows.map((r) => ({
      key: r.key,
      host: r.host,
      url: r.url,
      status: r.status,
      size: r.size,
      requestTime: r.request_time,
      responseTime: r.response_time,
      accessedAt: r.accessed_at,
      headers: JSON.parse(r.headers) as Headers,
    }))
  }

  /** Empties the cache and gives the space back. Returns how many entries went. */
  clear(): number {
    const removed = this.transaction(() => Number(this.statement('DELETE FROM entries').run().changes))
    try {
      this.db.exec('VACUUM')
    } catch {
      // Another process is reading: the entries are gone all the same, the space comes back later.
    }
    return removed
  }

  /** SQLite's own check of the file (used by tests after a crash). */
  integrity(): string {
    return (this.db.prepare('PRAGMA integrity_check').get() as {integrity_check: string}).integrity_check
  }

  close(): void {
    this.statements.clear()
    if (this.db.isOpen) this.db.close()
  }
}
