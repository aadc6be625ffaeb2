import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { MIGRATIONS } from './migrations.js'
import { CLIENT_COLUMNS, type ClientRow, type InitialAccessTokenRow } from './rows.js'

// The parts of the SQLite store shared by the thread that serves requests (reads) and the worker
// thread that writes (src/storage/sqlite-writer.ts).

const CONSUME = `UPDATE initial_access_tokens SET uses = uses + 1
  WHERE token_hash = ? AND (max_uses IS NULL OR uses < max_uses) AND (expires_at IS NULL OR expires_at > ?)
  RETURNING *`

/**
 * Opens a connection in WAL mode with `synchronous = FULL`: a commit is on disk (WAL fsync'ed)
 * before it returns, so an acknowledged registration survives a crash or a power failure.
 */
export function openDatabase(path: string, busyTimeoutMs: number): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`)
  db.pragma('foreign_keys = ON')
  return db
}

/** Applies pending migrations, each in its own transaction (IMMEDIATE: one writer at a time). */
export function migrate(db: Database.Database): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS registrar_migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)',
  )
  for (const m of MIGRATIONS) {
    db.transaction(() => {
      if (db.prepare('SELECT 1 FROM registrar_migrations WHERE id = ?').get(m.id)) return
      for (const sql of m.sqlite) db.exec(sql)
      db.prepare('INSERT INTO registrar_migrations (id, applied_at) VALUES (?, ?)').run(
        m.id,
        Math.floor(Date.now() / 1000),
      )
    }).immediate()
  }
}

type Statement<P extends unknown[] = unknown[], R = unknown> = Database.Statement<P, R>

/** Every statement the store runs, prepared once per connection. */
export interface SqliteStatements {
  insert: Statement
  find: Statement<[string], ClientRow>
  replace: Statement
  delete: Statement
  deleteVersion: Statement
  list: Statement<[number], ClientRow>
  listAfter: Statement<[string, string, string, number], ClientRow>
  count: Statement<[], { n: number }>
  countPolicy: Statement<[string], { n: number }>
  insertToken: Statement
  findToken: Statement<[string], InitialAccessTokenRow>
  consume: Statement<[string, number], InitialAccessTokenRow>
  listTokens: Statement<[], InitialAccessTokenRow>
  revokeToken: Statement
  ping: Statement
  begin: Statement
  commit: Statement
  rollback: Statement
  savepoint: Statement
  release: Statement
  rollbackTo: Statement
}

export function prepareStatements(db: Database.Database): SqliteStatements {
  const placeholders = CLIENT_COLUMNS.map(() => '?').join(', ')
  return {
    insert: db.prepare(
      `INSERT INTO clients (${CLIENT_COLUMNS.join(', ')}) VALUES (${placeholders})`,
    ),
    find: db.prepare<[string], ClientRow>('SELECT * FROM clients WHERE client_id = ?'),
    replace: db.prepare(
      `UPDATE clients SET ${CLIENT_COLUMNS.slice(1)
        .map((c) => `${c} = ?`)
        .join(', ')} WHERE client_id = ? AND version = ?`,
    ),
    delete: db.prepare('DELETE FROM clients WHERE client_id = ?'),
    deleteVersion: db.prepare('DELETE FROM clients WHERE client_id = ? AND version = ?'),
    list: db.prepare<[number], ClientRow>(
      'SELECT * FROM clients ORDER BY client_id_issued_at, client_id LIMIT ?',
    ),
    listAfter: db.prepare<[string, string, string, number], ClientRow>(
      `SELECT * FROM clients WHERE (client_id_issued_at, client_id) >
         ((SELECT client_id_issued_at FROM clients WHERE client_id = ?), ?)
         OR NOT EXISTS (SELECT 1 FROM clients WHERE client_id = ?)
       ORDER BY client_id_issued_at, client_id LIMIT ?`,
    ),
    count: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM clients'),
    countPolicy: db.prepare<[string], { n: number }>(
      'SELECT count(*) AS n FROM clients WHERE policy = ?',
    ),
    insertToken: db.prepare(
      'INSERT INTO initial_access_tokens (id, token_hash, created_at, expires_at, max_uses, uses, policy, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    findToken: db.prepare<[string], InitialAccessTokenRow>(
      'SELECT * FROM initial_access_tokens WHERE token_hash = ?',
    ),
    consume: db.prepare<[string, number], InitialAccessTokenRow>(CONSUME),
    listTokens: db.prepare<[], InitialAccessTokenRow>(
      'SELECT * FROM initial_access_tokens ORDER BY created_at, id',
    ),
    revokeToken: db.prepare('DELETE FROM initial_access_tokens WHERE id = ?'),
    ping: db.prepare('SELECT 1'),
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
    savepoint: db.prepare('SAVEPOINT registrar_write'),
    release: db.prepare('RELEASE registrar_write'),
    rollbackTo: db.prepare('ROLLBACK TO registrar_write'),
  }
}

/** A write, as plain data: it crosses to the writer thread by structured clone. */
export type WriteOp =
  | {
      kind: 'createClient'
      row: unknown[]
      initialAccessToken?: { tokenHash: string; now: number }
      ceiling?: { policy: string; maxClients: number }
    }
  | { kind: 'replaceClient'; row: unknown[]; expectedVersion: number }
  | { kind: 'deleteClient'; clientId: string; expectedVersion?: number }
  | { kind: 'createToken'; row: unknown[] }
  | { kind: 'consumeToken'; tokenHash: string; now: number }
  | { kind: 'revokeToken'; id: string }

/** Runs one write; the result is plain data (a boolean, a row, or nothing). */
export function applyWrite(s: SqliteStatements, op: WriteOp): unknown {
  switch (op.kind) {
    case 'createClient': {
      // SQLite has one writer: nothing can change between these checks and the insert
      if (op.ceiling) {
        const { policy, maxClients } = op.ceiling
        if ((s.countPolicy.get(policy)?.n ?? 0) >= maxClients) return false
      }
      if (op.initialAccessToken) {
        const { tokenHash, now } = op.initialAccessToken
        if (s.consume.get(tokenHash, now) === undefined) return false
      }
      s.insert.run(...op.row)
      return true
    }
    case 'replaceClient': {
      const [id, ...rest] = op.row
      return s.replace.run(...rest, id, op.expectedVersion).changes === 1
    }
    case 'deleteClient':
      return (
        (op.expectedVersion === undefined
          ? s.delete.run(op.clientId)
          : s.deleteVersion.run(op.clientId, op.expectedVersion)
        ).changes === 1
      )
    case 'createToken':
      s.insertToken.run(...op.row)
      return undefined
    case 'consumeToken':
      return s.consume.get(op.tokenHash, op.now)
    case 'revokeToken':
      return s.revokeToken.run(op.id).changes === 1
  }
}

export type WriteOutcome = { ok: true; value: unknown } | { ok: false; error: unknown }

/**
 * Group commit: applies writes in one transaction, each inside its own savepoint (a failing write
 * is undone alone), and commits once — one fsync for the group. Throws, with nothing stored, when
 * the transaction itself cannot begin or commit (locked past busy_timeout, disk full).
 */
export function commitGroup(
  db: Database.Database,
  s: SqliteStatements,
  ops: readonly WriteOp[],
): WriteOutcome[] {
  const outcomes: WriteOutcome[] = []
  try {
    s.begin.run()
    for (const op of ops) {
      s.savepoint.run()
      try {
        const value = applyWrite(s, op)
        s.release.run()
        outcomes.push({ ok: true, value })
      } catch (error) {
        s.rollbackTo.run()
        s.release.run()
        outcomes.push({ ok: false, error })
      }
    }
    s.commit.run()
  } catch (err) {
    if (db.inTransaction) {
      try {
        s.rollback.run()
      } catch {
        // the connection already rolled back
      }
    }
    throw err
  }
  return outcomes
}

/**
 * SQLITE_BUSY and SQLITE_LOCKED: another process (an admin CLI, a second server) held the write
 * lock past busy_timeout. SQLITE_FULL and SQLITE_IOERR: the disk is full or failing. None is the
 * request's fault, and a retry can succeed once the condition passes.
 */
export function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^SQLITE_(BUSY|LOCKED|FULL|IOERR)/.test(code)
}
