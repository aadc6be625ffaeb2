import { closeSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import type Database from 'better-sqlite3'
import { requireOptional } from '../config/optional-dependency.js'
import type {
  AdminTokenRecord,
  AuditEntry,
  AuditQuery,
  ClientAssertionRecord,
  ClientChangeEvent,
  ClientCount,
  ClientPosition,
  ClientQuery,
  ClientRecord,
  CreateClientOptions,
  IdleClientQuery,
  InitialAccessTokenRecord,
  MetadataDocumentCache,
  MetadataDocumentDecision,
  MetadataDocumentRecord,
  Store,
} from '../core/store.js'
import { epochSeconds } from '../shared/epoch.js'
import { ClientChangeListeners } from './client-changes.js'
import { InProcessLocks } from './exclusive.js'
import { MIGRATIONS } from './migrations.js'
import {
  type AdminTokenRow,
  AUDIT_COLUMNS,
  type AuditEntryRow,
  adminTokenToRow,
  auditEntryToRow,
  CLIENT_COLUMNS,
  type ClientRow,
  clientToRow,
  type InitialAccessTokenRow,
  idleSql,
  METADATA_DOCUMENT_COLUMNS,
  type MetadataDocumentRow,
  mergeCounts,
  RANK_SQL,
  rowToAdminToken,
  rowToAuditEntry,
  rowToClient,
  rowToMetadataDocument,
  rowToToken,
  SOURCE_SQL,
  searchClients,
  tokenToRow,
} from './rows.js'
import { storeUnavailable } from './unavailable.js'

/** Named parameters of QUERY_CLIENTS; null = no such criterion. */
interface ClientQueryParams {
  status: string | null
  policy: string | null
  source: string | null
  rank: number | null
  issuedAt: number | null
  clientId: string | null
  limit: number
}

const LIST_IDLE = `SELECT * FROM clients
  WHERE ${idleSql('@idleSince')}
    AND (@anyPolicy = 1 OR policy IS @policy)
    AND (policy IS NULL OR policy NOT IN (SELECT value FROM json_each(@exclude)))
    AND (@after IS NULL OR client_id > @after)
  ORDER BY client_id LIMIT @limit`

const QUERY_CLIENTS = `SELECT * FROM clients
  WHERE (@status IS NULL OR status = @status)
    AND (@policy IS NULL OR policy = @policy)
    AND (@source IS NULL OR ${SOURCE_SQL} = @source)
    AND (@rank IS NULL OR (${RANK_SQL}, -client_id_issued_at, client_id) > (@rank, -@issuedAt, @clientId))
  ORDER BY ${RANK_SQL}, client_id_issued_at DESC, client_id
  LIMIT @limit`

const LIST_AUDIT = `SELECT * FROM audit_entries
  WHERE (@clientId IS NULL OR client_id = @clientId)
    AND (@since IS NULL OR at >= @since)
    AND (@beforeId IS NULL OR id < @beforeId)
  ORDER BY id DESC LIMIT @limit`

const CONSUME = `UPDATE initial_access_tokens SET uses = uses + 1
  WHERE token_hash = ? AND (max_uses IS NULL OR uses < max_uses) AND (expires_at IS NULL OR expires_at > ?)
  RETURNING *`

/** Expired assertion records are deleted at most this often (seconds). */
const PURGE_INTERVAL = 60

/** A write waiting for the next group commit. */
interface PendingWrite {
  op: () => unknown
  resolve: (value: unknown) => void
  reject: (err: unknown) => void
}

/**
 * The embedded default store (better-sqlite3, WAL). `synchronous = FULL`: a registration is on disk
 * before its 201 is sent, even across a power failure. Statements are prepared once.
 *
 * Writes use group commit: the writes that arrive while the event loop is busy are applied in one
 * transaction, each inside its own savepoint (so one failing write does not affect the others),
 * and every promise settles only after the single COMMIT — one fsync for the whole group instead
 * of one per write. Durability per acknowledged write is unchanged.
 */
export class SqliteStore implements Store {
  readonly #db: Database.Database
  readonly #stmt: ReturnType<SqliteStore['prepare']>
  #pending: PendingWrite[] = []
  #flushScheduled = false
  readonly #watchers = new ClientChangeListeners()
  readonly #locks = new InProcessLocks()
  #lastPurge = 0

  /**
   * @param options.busyTimeoutMs how long a write waits for another process's write lock (an admin
   *   CLI, a second server on the same file) before answering 503; default 5000.
   */
  constructor(path: string, options: { busyTimeoutMs?: number } = {}) {
    if (path !== ':memory:') {
      // the database holds credential hashes and sealed secrets: owner only (issue 12 item 10).
      // SQLite gives its -wal and -shm files the mode of the database file.
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
      closeSync(openSync(path, 'a', 0o600))
    }
    // an optional peer dependency, loaded only for a SQLite store (CommonJS, so the constructor stays synchronous)
    const Sqlite = requireOptional<typeof Database>('better-sqlite3', 'store', 'a sqlite: store')
    this.#db = new Sqlite(path)
    this.#db.pragma('journal_mode = WAL')
    this.#db.pragma('synchronous = FULL')
    this.#db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`)
    this.#db.pragma('foreign_keys = ON')
    this.migrate()
    this.#stmt = this.prepare()
  }

  /** Applies pending migrations, each in its own transaction (IMMEDIATE: one writer at a time). */
  migrate(): void {
    this.#db.exec(
      'CREATE TABLE IF NOT EXISTS registrar_migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)',
    )
    for (const m of MIGRATIONS) {
      this.#db
        .transaction(() => {
          if (this.#db.prepare('SELECT 1 FROM registrar_migrations WHERE id = ?').get(m.id)) return
          for (const sql of m.sqlite) this.#db.exec(sql)
          this.#db
            .prepare('INSERT INTO registrar_migrations (id, applied_at) VALUES (?, ?)')
            .run(m.id, epochSeconds())
        })
        .immediate()
    }
  }

  private prepare() {
    const db = this.#db
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
      queryClients: db.prepare<[ClientQueryParams], ClientRow>(QUERY_CLIENTS),
      countByStatusAndSource: db.prepare<[], { status: string; source: string; n: number }>(
        `SELECT status, ${SOURCE_SQL} AS source, count(*) AS n FROM clients GROUP BY 1, 2`,
      ),
      appendAudit: db.prepare(
        `INSERT INTO audit_entries (${AUDIT_COLUMNS.join(', ')}) VALUES (${AUDIT_COLUMNS.map(() => '?').join(', ')})`,
      ),
      listAudit: db.prepare<
        [
          {
            clientId: string | null
            since: number | null
            beforeId: number | null
            limit: number
          },
        ],
        AuditEntryRow
      >(LIST_AUDIT),
      purgeAudit: db.prepare('DELETE FROM audit_entries WHERE at < ?'),
      insertAdminToken: db.prepare(
        'INSERT INTO admin_tokens (id, token_hash, created_at, expires_at, read_only, description) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      findAdminToken: db.prepare<[string], AdminTokenRow>(
        'SELECT * FROM admin_tokens WHERE token_hash = ?',
      ),
      listAdminTokens: db.prepare<[], AdminTokenRow>(
        'SELECT * FROM admin_tokens ORDER BY created_at, id',
      ),
      revokeAdminToken: db.prepare('DELETE FROM admin_tokens WHERE id = ?'),
      findDocument: db.prepare<[string], MetadataDocumentRow>(
        `SELECT ${METADATA_DOCUMENT_COLUMNS} FROM metadata_documents WHERE client_id = ?`,
      ),
      saveDocument: db.prepare(
        `INSERT INTO metadata_documents (client_id, cache) VALUES (?, ?)
         ON CONFLICT (client_id) DO UPDATE SET cache = excluded.cache, lease_until = NULL`,
      ),
      decideDocument: db.prepare(
        `INSERT INTO metadata_documents (client_id, decision) VALUES (?, ?)
         ON CONFLICT (client_id) DO UPDATE SET decision = excluded.decision`,
      ),
      forgetUndecided: db.prepare(
        'DELETE FROM metadata_documents WHERE client_id = ? AND decision IS NULL',
      ),
      forgetCache: db.prepare(
        'UPDATE metadata_documents SET cache = NULL, lease_until = NULL WHERE client_id = ?',
      ),
      listDocuments: db.prepare<[string, number], MetadataDocumentRow>(
        `SELECT ${METADATA_DOCUMENT_COLUMNS} FROM metadata_documents WHERE client_id > ?
         ORDER BY client_id LIMIT ?`,
      ),
      leaseDocument: db.prepare(
        `INSERT INTO metadata_documents (client_id, lease_until) VALUES (?, ?)
         ON CONFLICT (client_id) DO UPDATE SET lease_until = excluded.lease_until
         WHERE metadata_documents.lease_until IS NULL OR metadata_documents.lease_until <= ?`,
      ),
      recordDocumentUse: db.prepare(
        'UPDATE metadata_documents SET last_used_at = ? WHERE client_id = ? AND (last_used_at IS NULL OR last_used_at <= ?)',
      ),
      recordUse: db.prepare(
        'UPDATE clients SET last_used_at = ? WHERE client_id = ? AND (last_used_at IS NULL OR last_used_at <= ?)',
      ),
      // a record that expired may be taken over by the same (client_id, jti); a live one may not
      recordAssertion: db.prepare(
        `INSERT INTO client_assertion_jtis (client_id, jti, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (client_id, jti) DO UPDATE SET expires_at = excluded.expires_at
         WHERE client_assertion_jtis.expires_at < ?`,
      ),
      purgeAssertions: db.prepare('DELETE FROM client_assertion_jtis WHERE expires_at < ?'),
      listIdle: db.prepare<
        [
          {
            idleSince: number
            anyPolicy: number
            policy: string | null
            exclude: string
            after: string | null
            limit: number
          },
        ],
        ClientRow
      >(LIST_IDLE),
      deleteIdle: db.prepare<[{ id: string; idleSince: number }]>(
        `DELETE FROM clients WHERE client_id = @id AND ${idleSql('@idleSince')}`,
      ),
      ping: db.prepare('SELECT 1'),
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT registrar_write'),
      release: db.prepare('RELEASE registrar_write'),
      rollbackTo: db.prepare('ROLLBACK TO registrar_write'),
    }
  }

  async createClient(client: ClientRecord, options?: CreateClientOptions): Promise<boolean> {
    const row = clientToRow(client)
    return this.#write(() => {
      // inside the write's savepoint: a failed insert also undoes the consumption; SQLite has one
      // writer, so the ceiling count cannot change between this check and the insert
      if (options?.ceiling) {
        const { policy, maxClients } = options.ceiling
        if ((this.#stmt.countPolicy.get(policy)?.n ?? 0) >= maxClients) return false
      }
      if (options?.initialAccessToken) {
        const { tokenHash, now } = options.initialAccessToken
        if (this.#stmt.consume.get(tokenHash, now) === undefined) return false
      }
      this.#stmt.insert.run(...row)
      return true
    }).then((created) => this.#changedIf(created, client.client_id))
  }

  async findClient(clientId: string): Promise<ClientRecord | undefined> {
    return this.#run(() => {
      const row = this.#stmt.find.get(clientId)
      return row && rowToClient(row)
    })
  }

  async replaceClient(client: ClientRecord, expectedVersion: number): Promise<boolean> {
    const [id, ...rest] = clientToRow(client)
    return this.#write(
      () => this.#stmt.replace.run(...rest, id, expectedVersion).changes === 1,
    ).then((replaced) => this.#changedIf(replaced, client.client_id))
  }

  async deleteClient(clientId: string, expectedVersion?: number): Promise<boolean> {
    return this.#write(
      () =>
        (expectedVersion === undefined
          ? this.#stmt.delete.run(clientId)
          : this.#stmt.deleteVersion.run(clientId, expectedVersion)
        ).changes === 1,
    ).then((deleted) => this.#changedIf(deleted, clientId))
  }

  /**
   * Reports the changes made through this store object. Another process writing to the same file
   * (the admin CLI, a second server) is not seen: caches fall back on their TTL for those.
   */
  async watchClientChanges(
    listener: (event: ClientChangeEvent) => void,
  ): Promise<() => Promise<void>> {
    if (!this.#db.open) throw new Error('store is closed')
    return this.#watchers.add(listener)
  }

  #changedIf(changed: boolean, clientId: string): boolean {
    if (changed) this.#watchers.changed(clientId)
    return changed
  }

  async recordClientUse(clientId: string, now: number, minInterval: number): Promise<boolean> {
    return this.#write(
      () => this.#stmt.recordUse.run(now, clientId, now - minInterval).changes === 1,
    )
  }

  async findMetadataDocument(clientId: string): Promise<MetadataDocumentRecord | undefined> {
    return this.#run(() => {
      const row = this.#stmt.findDocument.get(clientId)
      return row && rowToMetadataDocument(row)
    })
  }

  async saveMetadataDocument(cache: MetadataDocumentCache): Promise<void> {
    await this.#write(() => this.#stmt.saveDocument.run(cache.client_id, JSON.stringify(cache)))
    this.#watchers.changed(cache.client_id)
  }

  async decideMetadataDocument(
    clientId: string,
    decision: MetadataDocumentDecision | undefined,
  ): Promise<void> {
    await this.#write(() => this.#stmt.decideDocument.run(clientId, decision ?? null))
    this.#watchers.changed(clientId)
  }

  async forgetMetadataDocument(clientId: string): Promise<boolean> {
    return this.#changedIf(
      await this.#write(
        () =>
          this.#stmt.forgetUndecided.run(clientId).changes === 1 ||
          this.#stmt.forgetCache.run(clientId).changes === 1,
      ),
      clientId,
    )
  }

  async listMetadataDocuments(
    options: { limit?: number; after?: string } = {},
  ): Promise<MetadataDocumentRecord[]> {
    return this.#run(() =>
      this.#stmt.listDocuments
        .all(options.after ?? '', options.limit ?? -1)
        .map(rowToMetadataDocument),
    )
  }

  async leaseMetadataDocumentFetch(
    clientId: string,
    now: number,
    seconds: number,
  ): Promise<boolean> {
    return this.#write(
      () => this.#stmt.leaseDocument.run(clientId, now + seconds, now).changes === 1,
    )
  }

  async recordMetadataDocumentUse(
    clientId: string,
    now: number,
    minInterval: number,
  ): Promise<boolean> {
    return this.#write(
      () => this.#stmt.recordDocumentUse.run(now, clientId, now - minInterval).changes === 1,
    )
  }

  async listIdleClients(query: IdleClientQuery): Promise<ClientRecord[]> {
    return this.#run(() =>
      this.#stmt.listIdle
        .all({
          idleSince: query.idleSince,
          anyPolicy: query.policy === undefined ? 1 : 0,
          policy: query.policy ?? null,
          exclude: JSON.stringify(query.excludePolicies ?? []),
          after: query.after ?? null,
          limit: query.limit,
        })
        .map(rowToClient),
    )
  }

  async deleteIdleClients(clientIds: readonly string[], idleSince: number): Promise<string[]> {
    const ids = [...new Set(clientIds)]
    const deleted = await this.#write(() =>
      ids.filter((id) => this.#stmt.deleteIdle.run({ id, idleSince }).changes === 1),
    )
    for (const id of deleted) this.#watchers.changed(id)
    return deleted
  }

  runExclusive<T>(
    name: string,
    fn: () => Promise<T>,
  ): Promise<{ ran: true; value: T } | { ran: false }> {
    if (!this.#db.open) return Promise.reject(new Error('store is closed'))
    return this.#locks.run(name, fn)
  }

  async recordClientAssertion(assertion: ClientAssertionRecord, now: number): Promise<boolean> {
    return this.#write(() => {
      if (now - this.#lastPurge >= PURGE_INTERVAL) {
        this.#lastPurge = now
        this.#stmt.purgeAssertions.run(now)
      }
      const { clientId, jti, expiresAt } = assertion
      return this.#stmt.recordAssertion.run(clientId, jti, expiresAt, now).changes === 1
    })
  }

  async listClients(options: { limit?: number; after?: string } = {}): Promise<ClientRecord[]> {
    return this.#run(() => {
      const limit = options.limit ?? -1
      const rows =
        options.after === undefined
          ? this.#stmt.list.all(limit)
          : this.#stmt.listAfter.all(options.after, options.after, options.after, limit)
      return rows.map(rowToClient)
    })
  }

  async countClients(filter: { policy?: string } = {}): Promise<number> {
    return this.#run(() => {
      const row =
        filter.policy === undefined
          ? this.#stmt.count.get()
          : this.#stmt.countPolicy.get(filter.policy)
      return row?.n ?? 0
    })
  }

  async createInitialAccessToken(token: InitialAccessTokenRecord): Promise<void> {
    const row = tokenToRow(token)
    await this.#write(() => this.#stmt.insertToken.run(...row))
  }

  async findInitialAccessToken(tokenHash: string): Promise<InitialAccessTokenRecord | undefined> {
    return this.#run(() => {
      const row = this.#stmt.findToken.get(tokenHash)
      return row && rowToToken(row)
    })
  }

  async listInitialAccessTokens(): Promise<InitialAccessTokenRecord[]> {
    return this.#run(() => this.#stmt.listTokens.all().map(rowToToken))
  }

  async revokeInitialAccessToken(id: string): Promise<boolean> {
    return this.#write(() => this.#stmt.revokeToken.run(id).changes === 1)
  }

  async queryClients(query: ClientQuery): Promise<ClientRecord[]> {
    const page = async (after: ClientPosition | undefined, limit: number) =>
      this.#run(() =>
        this.#stmt.queryClients
          .all({
            status: query.status ?? null,
            policy: query.policy ?? null,
            source: query.source ?? null,
            rank: after?.rank ?? null,
            issuedAt: after?.issuedAt ?? null,
            clientId: after?.clientId ?? null,
            limit,
          })
          .map(rowToClient),
      )
    const { search } = query
    return search === undefined
      ? page(query.after, query.limit)
      : searchClients({ ...query, search }, page)
  }

  async countClientsByStatusAndSource(): Promise<ClientCount[]> {
    return this.#run(() => mergeCounts(this.#stmt.countByStatusAndSource.all()))
  }

  async appendAuditEntry(entry: Omit<AuditEntry, 'id'>): Promise<void> {
    const row = auditEntryToRow(entry)
    await this.#write(() => this.#stmt.appendAudit.run(...row))
  }

  async listAuditEntries(query: AuditQuery): Promise<AuditEntry[]> {
    return this.#run(() =>
      this.#stmt.listAudit
        .all({
          clientId: query.clientId ?? null,
          since: query.since ?? null,
          beforeId: query.beforeId ?? null,
          limit: query.limit,
        })
        .map(rowToAuditEntry),
    )
  }

  async purgeAuditEntries(before: number): Promise<number> {
    return this.#write(() => this.#stmt.purgeAudit.run(before).changes)
  }

  async createAdminToken(token: AdminTokenRecord): Promise<void> {
    const row = adminTokenToRow(token)
    row[4] = token.readOnly ? 1 : 0
    await this.#write(() => this.#stmt.insertAdminToken.run(...row))
  }

  async findAdminToken(tokenHash: string): Promise<AdminTokenRecord | undefined> {
    return this.#run(() => {
      const row = this.#stmt.findAdminToken.get(tokenHash)
      return row && rowToAdminToken(row)
    })
  }

  async listAdminTokens(): Promise<AdminTokenRecord[]> {
    return this.#run(() => this.#stmt.listAdminTokens.all().map(rowToAdminToken))
  }

  async revokeAdminToken(id: string): Promise<boolean> {
    return this.#write(() => this.#stmt.revokeAdminToken.run(id).changes === 1)
  }

  async ping(): Promise<void> {
    return this.#run(() => {
      this.#stmt.ping.get()
    })
  }

  async close(): Promise<void> {
    this.#watchers.clear()
    this.#flush()
    if (this.#db.open) this.#db.close()
  }

  /** Queues a write for the next group commit; settles once that commit is durable. */
  #write<T>(op: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (!this.#db.open) {
        reject(new Error('store is closed'))
        return
      }
      this.#pending.push({ op, resolve: resolve as (value: unknown) => void, reject })
      if (!this.#flushScheduled) {
        this.#flushScheduled = true
        setImmediate(() => this.#flush())
      }
    })
  }

  /** Applies every queued write in one transaction, one savepoint each, then commits once. */
  #flush(): void {
    this.#flushScheduled = false
    const batch = this.#pending
    this.#pending = []
    if (batch.length === 0) return
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = []
    try {
      this.#stmt.begin.run()
      for (const write of batch) {
        this.#stmt.savepoint.run()
        try {
          const value = write.op()
          this.#stmt.release.run()
          outcomes.push({ ok: true, value })
        } catch (error) {
          this.#stmt.rollbackTo.run()
          this.#stmt.release.run()
          outcomes.push({ ok: false, error })
        }
      }
      this.#stmt.commit.run()
    } catch (err) {
      // BEGIN or COMMIT failed (locked past busy_timeout, disk full): nothing in the group is stored
      if (this.#db.inTransaction) {
        try {
          this.#stmt.rollback.run()
        } catch {
          // the connection already rolled back
        }
      }
      for (const write of batch) write.reject(isTransient(err) ? storeUnavailable(err) : err)
      return
    }
    batch.forEach((write, i) => {
      const outcome = outcomes[i]!
      if (outcome.ok) write.resolve(outcome.value)
      else
        write.reject(isTransient(outcome.error) ? storeUnavailable(outcome.error) : outcome.error)
    })
  }

  /** Runs a statement; a database that is locked, full or failing I/O becomes a 503. */
  #run<T>(statement: () => T): T {
    try {
      return statement()
    } catch (err) {
      throw isTransient(err) ? storeUnavailable(err) : err
    }
  }
}

/**
 * SQLITE_BUSY and SQLITE_LOCKED: another process (an admin CLI, a second server) held the write
 * lock past busy_timeout. SQLITE_FULL and SQLITE_IOERR: the disk is full or failing. None is the
 * request's fault, and a retry can succeed once the condition passes.
 */
function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^SQLITE_(BUSY|LOCKED|FULL|IOERR)/.test(code)
}
