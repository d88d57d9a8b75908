// Where sandbox state lives between restarts. In memory by default (no persistence at all);
// with --data FILE, a node:sqlite database. SQLite's journal makes every flush one atomic
// transaction, so a crash mid-write leaves the previous consistent state, never a torn file.
import type {DatabaseSync, StatementSync} from 'node:sqlite'

export interface Persistence {
  /** Queue an upsert; written with the next flush. */
  put(kind: string, id: string, value: unknown): void
  remove(kind: string, id: string): void
  load(kind: string): unknown[]
  getMeta(key: string): string | undefined
  setMeta(key: string, value: string): void
  /** Write everything queued in one transaction. */
  flush(): void
  close(): void
}

export async function openSqlitePersistence(file: string, options: {flushDelayMs?: number} = {}): Promise<Persistence> {
  let sqlite: typeof import('node:sqlite')
  try {
    sqlite = await import('node:sqlite')
  } catch (cause) {
    throw new Error(`--data needs node:sqlite (Node.js 22.13 or newer): ${(cause as Error).message}`)
  }
  const db: DatabaseSync = new sqlite.DatabaseSync(file)
  try {
    // WAL: readers never see half a transaction; NORMAL sync: a power cut may lose the
    // last flush, but the file is always consistent.
    db.exec('PRAGMA journal_mode=WAL')
    db.exec('PRAGMA synchronous=NORMAL')
    db.exec('CREATE TABLE IF NOT EXISTS entities (kind TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (kind, id))')
    db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)')
  } catch (cause) {
    db.close()
    throw new Error(`cannot use ${file} as a sandbox data file: ${(cause as Error).message}`)
  }
  const upsert: StatementSync = db.prepare('INSERT INTO entities (kind, id, body) VALUES (?, ?, ?) ON CONFLICT(kind, id) DO UPDATE SET body = excluded.body')
  const del: StatementSync = db.prepare('DELETE FROM entities WHERE kind = ? AND id = ?')
  const selectKind: StatementSync = db.prepare('SELECT body FROM entities WHERE kind = ?')
  const getMetaStmt: StatementSync = db.prepare('SELECT value FROM meta WHERE key = ?')
  const setMetaStmt: StatementSync = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')

  // Latest write per entity wins: a delivery updated five times in a burst is written once.
  const pending = new Map<string, {kind: string; id: string; body: string | null}>()
  const pendingMeta = new Map<string, string>()
  let timer: NodeJS.Timeout | undefined
  let closed = false
  const delay = options.flushDelayMs ?? 25

  const schedule = () => {
    if (timer || closed) return
    timer = setTimeout(() => {
      timer = undefined
      flush()
    }, delay)
    timer.unref()
  }

  const flush = () => {
    if (pending.size === 0 && pendingMeta.size === 0) return
    const entities = [...pending.values()]
    const meta = [...pendingMeta]
    pending.clear()
    pendingMeta.clear()
    db.exec('BEGIN IMMEDIATE')
    try {
      for (const e of entities) {
        if (e.body === null) del.run(e.kind, e.id)
        else upsert.run(e.kind, e.id, e.body)
      }
      for (const [key, value] of meta) setMetaStmt.run(key, value)
      db.exec('COMMIT')
    } catch (error) {
      db.exec('ROLLBACK')
      throw error
    }
  }

  return {
    put(kind, id, value) {
      pending.set(`${kind}\u0000${id}`, {kind, id, body: JSON.stringify(value)})
      schedule()
    },
    remove(kind, id) {
      pending.set(`${kind}\u0000${id}`, {kind, id, body: null})
      schedule()
    },
    load(kind) {
      return (selectKind.all(kind) as {body: string}[]).map((row) => JSON.parse(row.body))
    },
    getMeta(key) {
      const pendingValue = pendingMeta.get(key)
      if (pendingValue !== undefined) return pendingValue
      const row = getMetaStmt.get(key) as {value: string} | undefined
      return row?.value
    },
    setMeta(key, value) {
      pendingMeta.set(key, value)
      schedule()
    },
    flush,
    close() {
      if (closed) return
      if (timer) clearTimeout(timer)
      timer = undefined
      flush()
      closed = true
      db.close()
    },
  }
}
