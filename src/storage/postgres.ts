import type { Client, DatabaseError, Pool, PoolClient, QueryResult, QueryResultRow } from 'pg'
import { importOptional } from '../config/optional-dependency.js'
import { DEFAULTS } from '../config/resolve.js'
import type { RegistrarConfig } from '../config/schema.js'
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

/** Key of the advisory lock that serialises migrations between processes (any constant would do). */
const MIGRATION_LOCK = 75917592

/**
 * The client-side query timeout is a backstop for a server that stops answering altogether (a
 * network partition, a frozen host): statement_timeout, enforced by the server, fires first
 * whenever the server is still talking to us.
 */
const QUERY_TIMEOUT_MARGIN_MS = 1000

/** Column types, for the statement that must cast its parameters (INSERT … SELECT). */
const CLIENT_COLUMN_TYPES: Record<(typeof CLIENT_COLUMNS)[number], string> = {
  client_id: 'text',
  client_id_issued_at: 'bigint',
  client_secret_expires_at: 'bigint',
  client_secret_hash: 'text',
  client_secret_encrypted: 'text',
  registration_access_token_hash: 'text',
  metadata: 'text',
  software_statement: 'text',
  status: 'text',
  policy: 'text',
  initial_access_token_id: 'text',
  updated_at: 'bigint',
  version: 'integer',
  previous_client_secrets: 'text',
}

const N = CLIENT_COLUMNS.length
const CLIENT_LIST = CLIENT_COLUMNS.join(', ')
const INSERT_CLIENT = `INSERT INTO clients (${CLIENT_LIST})
  VALUES (${CLIENT_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`

/** RFC 7591 §3 initial access token still usable: known, not expired, uses left. */
function tokenUsable(hash: string, now: string): string {
  return `token_hash = ${hash} AND (max_uses IS NULL OR uses < max_uses)
    AND (expires_at IS NULL OR expires_at > ${now})`
}

// One statement, so both writes commit or neither does, without a client-side transaction (which
// would hold a pooled connection across round trips). Under READ COMMITTED the UPDATE re-checks
// `uses < max_uses` after waiting for a concurrent consumer's row lock, so exactly max_uses succeed.
const INSERT_CLIENT_CONSUMING_TOKEN = `WITH token AS (
    UPDATE initial_access_tokens SET uses = uses + 1
    WHERE ${tokenUsable(`$${N + 1}`, `$${N + 2}`)}
    RETURNING id
  )
  INSERT INTO clients (${CLIENT_LIST})
  SELECT ${CLIENT_COLUMNS.map((c, i) => `$${i + 1}::${CLIENT_COLUMN_TYPES[c]}`).join(', ')}
  FROM token`

const REPLACE_CLIENT = `UPDATE clients SET ${CLIENT_COLUMNS.slice(1)
  .map((c, i) => `${c} = $${i + 2}`)
  .join(', ')} WHERE client_id = $1 AND version = $${N + 1}`

const LIST_CLIENTS = 'SELECT * FROM clients ORDER BY client_id_issued_at, client_id LIMIT $1'

// An `after` that names no client (deleted meanwhile) starts from the beginning, as in the other
// stores.
const LIST_CLIENTS_AFTER = `WITH anchor AS (
    SELECT client_id_issued_at, client_id FROM clients WHERE client_id = $1
  )
  SELECT clients.* FROM clients
  WHERE NOT EXISTS (SELECT 1 FROM anchor)
    OR (clients.client_id_issued_at, clients.client_id) > (SELECT client_id_issued_at, client_id FROM anchor)
  ORDER BY client_id_issued_at, client_id LIMIT $2`

const QUERY_CLIENTS = `SELECT * FROM clients
  WHERE ($1::text IS NULL OR status = $1)
    AND ($2::text IS NULL OR policy = $2)
    AND ($3::text IS NULL OR ${SOURCE_SQL} = $3)
    AND ($4::int IS NULL
      OR (${RANK_SQL}, -client_id_issued_at, client_id) > ($4::int, -$5::bigint, $6::text))
  ORDER BY ${RANK_SQL}, client_id_issued_at DESC, client_id
  LIMIT $7`

const LIST_IDLE = `SELECT * FROM clients
  WHERE ${idleSql('$1')}
    AND ($2::boolean OR policy IS NOT DISTINCT FROM $3::text)
    AND (policy IS NULL OR NOT (policy = ANY ($4::text[])))
    AND ($5::text IS NULL OR client_id > $5)
  ORDER BY client_id LIMIT $6`

const DELETE_IDLE = `DELETE FROM clients
  WHERE client_id = ANY ($1::text[]) AND ${idleSql('$2')}
  RETURNING client_id`

/** Two-key advisory locks of {@link PostgresStore.runExclusive}: this constant, then the name's hash. */
const EXCLUSIVE_LOCK_SPACE = 75917591

const LIST_AUDIT = `SELECT * FROM audit_entries
  WHERE ($1::text IS NULL OR client_id = $1)
    AND ($2::bigint IS NULL OR at >= $2)
    AND ($3::bigint IS NULL OR id < $3)
  ORDER BY id DESC LIMIT $4`

/** The channel migration 002's trigger notifies on every client insert, update and delete. */
const CLIENT_CHANGES_CHANNEL = 'registrar_client_changes'

/** Expired assertion records are deleted at most this often (seconds), per instance. */
const PURGE_INTERVAL = 60

/**
 * How often the LISTEN connection is probed: a connection that died without a reset (a partition,
 * a frozen host) is noticed within this time plus the probe's timeout, and caches stop trusting
 * themselves until it is back.
 */
const LISTEN_PROBE_MS = 5000
const LISTEN_RETRY_MAX_MS = 5000

const RECORD_USE = `UPDATE clients SET last_used_at = $2
  WHERE client_id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)`

// Under READ COMMITTED a concurrent insert of the same key waits for the first to commit, then
// takes the conflict path and sees its row: exactly one of them records it.
const RECORD_ASSERTION = `INSERT INTO client_assertion_jtis (client_id, jti, expires_at)
  VALUES ($1, $2, $3)
  ON CONFLICT (client_id, jti) DO UPDATE SET expires_at = EXCLUDED.expires_at
  WHERE client_assertion_jtis.expires_at < $4`

const SAVE_DOCUMENT = `INSERT INTO metadata_documents (client_id, cache) VALUES ($1, $2)
  ON CONFLICT (client_id) DO UPDATE SET cache = EXCLUDED.cache, lease_until = NULL`

const DECIDE_DOCUMENT = `INSERT INTO metadata_documents (client_id, decision) VALUES ($1, $2)
  ON CONFLICT (client_id) DO UPDATE SET decision = EXCLUDED.decision`

// one statement: the row goes when no decision keeps it, otherwise only its cached copy
const FORGET_DOCUMENT = `WITH d AS (
    DELETE FROM metadata_documents WHERE client_id = $1 AND decision IS NULL RETURNING 1
  ), u AS (
    UPDATE metadata_documents SET cache = NULL, lease_until = NULL
    WHERE client_id = $1 AND decision IS NOT NULL RETURNING 1
  ) SELECT (SELECT count(*) FROM d) + (SELECT count(*) FROM u) AS n`

// Under READ COMMITTED two instances racing for a lease serialise on the row: the second sees the
// first's lease_until and its WHERE fails, so exactly one fetches.
const LEASE_DOCUMENT = `INSERT INTO metadata_documents (client_id, lease_until) VALUES ($1, $2)
  ON CONFLICT (client_id) DO UPDATE SET lease_until = EXCLUDED.lease_until
  WHERE metadata_documents.lease_until IS NULL OR metadata_documents.lease_until <= $3`

const RECORD_DOCUMENT_USE = `UPDATE metadata_documents SET last_used_at = $2
  WHERE client_id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)`

const INSERT_TOKEN = `INSERT INTO initial_access_tokens
  (id, token_hash, created_at, expires_at, max_uses, uses, policy, description)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`

/** SQLSTATE classes that mean "not now" rather than "never": retrying later can succeed. */
const TRANSIENT_CLASSES = new Set([
  '08', // connection exception
  '28', // invalid authorization: credentials rotated under a running service
  '3D', // invalid catalog name: the database is gone (being restored, renamed)
  '40', // transaction rollback: serialization failure, deadlock
  '53', // insufficient resources: too many connections, disk full, out of memory
  '57', // operator intervention: statement timeout, admin / crash shutdown, starting up
  '58', // system error: I/O
])
const TRANSIENT_CODES = new Set([
  '25006', // read_only_sql_transaction: connected to a standby after a failover
  '55P03', // lock_not_available
])

/**
 * The PostgreSQL store, for several stateless instances sharing one database. Built on a `pg`
 * pool; every operation is one statement, so atomicity never depends on a connection surviving
 * between round trips. A registration is committed (and, with the default synchronous_commit, on
 * disk) before its 201 is sent.
 *
 * A database that cannot be reached, does not answer within the timeouts or is shutting down makes
 * every operation reject with a 503 `temporarily_unavailable` {@link storeUnavailable} error; the
 * pool drops broken connections and opens new ones when the database is back, so the service
 * recovers by itself.
 */
export class PostgresStore implements Store {
  readonly #pool: Pool
  readonly #databaseError: typeof DatabaseError
  readonly #newListenClient: (() => Client) | undefined
  readonly #watchers = new ClientChangeListeners()
  #listen: ChangeListener | undefined
  #lastPurge = 0
  #closed = false

  /**
   * @param newListenClient makes the dedicated (unpooled) connection that LISTENs for client
   *   changes; without it, only the changes made through this store object are reported.
   */
  readonly #newLockClient: (() => Client) | undefined

  /**
   * @param newLockClient makes the dedicated (unpooled) connection {@link runExclusive} holds its
   *   advisory lock on, so the work it runs never waits for its own pooled connection; without
   *   it, a pooled connection is held.
   */
  constructor(
    pool: Pool,
    databaseError: typeof DatabaseError,
    newListenClient?: () => Client,
    newLockClient?: () => Client,
  ) {
    this.#pool = pool
    this.#databaseError = databaseError
    this.#newListenClient = newListenClient
    this.#newLockClient = newLockClient
  }

  async createClient(client: ClientRecord, options?: CreateClientOptions): Promise<boolean> {
    const row = clientToRow(client)
    if (options?.ceiling) {
      return this.#changedIf(await this.#createUnderCeiling(row, options), client.client_id)
    }
    if (!options?.initialAccessToken) {
      await this.#query(INSERT_CLIENT, row)
      return this.#changedIf(true, client.client_id)
    }
    const { tokenHash, now } = options.initialAccessToken
    const result = await this.#query(INSERT_CLIENT_CONSUMING_TOKEN, [...row, tokenHash, now])
    return this.#changedIf(result.rowCount === 1, client.client_id)
  }

  async findClient(clientId: string): Promise<ClientRecord | undefined> {
    const { rows } = await this.#query<ClientRow>('SELECT * FROM clients WHERE client_id = $1', [
      clientId,
    ])
    return rows[0] && rowToClient(rows[0])
  }

  async replaceClient(client: ClientRecord, expectedVersion: number): Promise<boolean> {
    const result = await this.#query(REPLACE_CLIENT, [...clientToRow(client), expectedVersion])
    return this.#changedIf(result.rowCount === 1, client.client_id)
  }

  async deleteClient(clientId: string, expectedVersion?: number): Promise<boolean> {
    const result =
      expectedVersion === undefined
        ? await this.#query('DELETE FROM clients WHERE client_id = $1', [clientId])
        : await this.#query('DELETE FROM clients WHERE client_id = $1 AND version = $2', [
            clientId,
            expectedVersion,
          ])
    return this.#changedIf(result.rowCount === 1, clientId)
  }

  /**
   * Reports client changes: at once those made through this store object, and those of every other
   * process on the database through `LISTEN` on the channel migration 002's trigger notifies
   * (PostgreSQL delivers a notification when its transaction commits). One dedicated connection
   * serves every listener; when it breaks, listeners get `lost` and, once it is back, `resumed`.
   * Resolves once the connection listens; rejects (503) when it cannot.
   */
  async watchClientChanges(
    listener: (event: ClientChangeEvent) => void,
  ): Promise<() => Promise<void>> {
    if (this.#closed) throw new Error('store is closed')
    const remove = this.#watchers.add(listener)
    if (this.#newListenClient) {
      this.#listen ??= new ChangeListener(this.#newListenClient, this.#watchers)
      try {
        await this.#listen.ready()
      } catch (err) {
        await remove()
        throw storeUnavailable(err)
      }
    }
    return async () => {
      await remove()
      if (this.#watchers.size === 0 && this.#listen) {
        const listen = this.#listen
        this.#listen = undefined
        await listen.close()
      }
    }
  }

  #changedIf(changed: boolean, clientId: string): boolean {
    if (changed) this.#watchers.changed(clientId)
    return changed
  }

  async recordClientUse(clientId: string, now: number, minInterval: number): Promise<boolean> {
    const result = await this.#query(RECORD_USE, [clientId, now, now - minInterval])
    return result.rowCount === 1
  }

  async findMetadataDocument(clientId: string): Promise<MetadataDocumentRecord | undefined> {
    const { rows } = await this.#query<MetadataDocumentRow>(
      `SELECT ${METADATA_DOCUMENT_COLUMNS} FROM metadata_documents WHERE client_id = $1`,
      [clientId],
    )
    return rows[0] && rowToMetadataDocument(rows[0])
  }

  async saveMetadataDocument(cache: MetadataDocumentCache): Promise<void> {
    await this.#query(SAVE_DOCUMENT, [cache.client_id, JSON.stringify(cache)])
    this.#watchers.changed(cache.client_id)
  }

  async decideMetadataDocument(
    clientId: string,
    decision: MetadataDocumentDecision | undefined,
  ): Promise<void> {
    await this.#query(DECIDE_DOCUMENT, [clientId, decision ?? null])
    this.#watchers.changed(clientId)
  }

  async forgetMetadataDocument(clientId: string): Promise<boolean> {
    const { rows } = await this.#query<{ n: string }>(FORGET_DOCUMENT, [clientId])
    return this.#changedIf(Number(rows[0]?.n) > 0, clientId)
  }

  async listMetadataDocuments(
    options: { limit?: number; after?: string } = {},
  ): Promise<MetadataDocumentRecord[]> {
    const { rows } = await this.#query<MetadataDocumentRow>(
      `SELECT ${METADATA_DOCUMENT_COLUMNS} FROM metadata_documents WHERE client_id > $1
       ORDER BY client_id LIMIT $2`,
      [options.after ?? '', options.limit ?? null],
    )
    return rows.map(rowToMetadataDocument)
  }

  async leaseMetadataDocumentFetch(
    clientId: string,
    now: number,
    seconds: number,
  ): Promise<boolean> {
    const result = await this.#query(LEASE_DOCUMENT, [clientId, now + seconds, now])
    return result.rowCount === 1
  }

  async recordMetadataDocumentUse(
    clientId: string,
    now: number,
    minInterval: number,
  ): Promise<boolean> {
    const result = await this.#query(RECORD_DOCUMENT_USE, [clientId, now, now - minInterval])
    return result.rowCount === 1
  }

  async listIdleClients(query: IdleClientQuery): Promise<ClientRecord[]> {
    const { rows } = await this.#query<ClientRow>(LIST_IDLE, [
      query.idleSince,
      query.policy === undefined,
      query.policy ?? null,
      query.excludePolicies ?? [],
      query.after ?? null,
      query.limit,
    ])
    return rows.map(rowToClient)
  }

  async deleteIdleClients(clientIds: readonly string[], idleSince: number): Promise<string[]> {
    if (clientIds.length === 0) return []
    const { rows } = await this.#query<{ client_id: string }>(DELETE_IDLE, [
      [...new Set(clientIds)],
      idleSince,
    ])
    const deleted = rows.map((r) => r.client_id)
    for (const id of deleted) this.#watchers.changed(id)
    return deleted
  }

  /**
   * A session-level `pg_try_advisory_lock` on a connection of its own: one holder across every
   * instance on this database. The lock ends with the session, so a holder that crashes or loses
   * its connection frees it for the next; a holder that hangs with its connection alive keeps it
   * (bounded by what `fn` waits on: every store call has its statement timeout).
   */
  async runExclusive<T>(
    name: string,
    fn: () => Promise<T>,
  ): Promise<{ ran: true; value: T } | { ran: false }> {
    if (this.#closed) throw new Error('store is closed')
    let connection: Pick<PoolClient, 'query'> & { done(): Promise<void> }
    try {
      if (this.#newLockClient) {
        const client = this.#newLockClient()
        client.on('error', () => {}) // a broken connection rejects the pending query instead
        await client.connect()
        connection = Object.assign(client, { done: () => client.end() })
      } else {
        const pooled = await this.#pool.connect()
        connection = Object.assign(pooled, { done: async () => pooled.release() })
      }
    } catch (err) {
      throw this.#translate(err)
    }
    try {
      let locked: boolean
      try {
        const { rows } = await connection.query<{ locked: boolean }>(
          'SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked',
          [EXCLUSIVE_LOCK_SPACE, name],
        )
        locked = rows[0]?.locked === true
      } catch (err) {
        throw this.#translate(err)
      }
      if (!locked) return { ran: false }
      try {
        return { ran: true, value: await fn() } // fn's own errors pass through as they are
      } finally {
        await connection
          .query('SELECT pg_advisory_unlock($1, hashtext($2))', [EXCLUSIVE_LOCK_SPACE, name])
          .catch(() => {}) // ending the session below releases it anyway
      }
    } finally {
      await connection.done().catch(() => {})
    }
  }

  async recordClientAssertion(assertion: ClientAssertionRecord, now: number): Promise<boolean> {
    if (now - this.#lastPurge >= PURGE_INTERVAL) {
      this.#lastPurge = now
      // off the request's path; a failed purge is retried a minute later
      this.#query('DELETE FROM client_assertion_jtis WHERE expires_at < $1', [now]).catch(() => {
        this.#lastPurge = 0
      })
    }
    const { clientId, jti, expiresAt } = assertion
    const result = await this.#query(RECORD_ASSERTION, [clientId, jti, expiresAt, now])
    return result.rowCount === 1
  }

  async listClients(options: { limit?: number; after?: string } = {}): Promise<ClientRecord[]> {
    const limit = options.limit ?? null // LIMIT NULL is LIMIT ALL
    const { rows } =
      options.after === undefined
        ? await this.#query<ClientRow>(LIST_CLIENTS, [limit])
        : await this.#query<ClientRow>(LIST_CLIENTS_AFTER, [options.after, limit])
    return rows.map(rowToClient)
  }

  async countClients(filter: { policy?: string } = {}): Promise<number> {
    const { rows } =
      filter.policy === undefined
        ? await this.#query<{ n: string }>('SELECT count(*) AS n FROM clients')
        : await this.#query<{ n: string }>('SELECT count(*) AS n FROM clients WHERE policy = $1', [
            filter.policy,
          ])
    return Number(rows[0]?.n ?? 0)
  }

  async createInitialAccessToken(token: InitialAccessTokenRecord): Promise<void> {
    await this.#query(INSERT_TOKEN, tokenToRow(token))
  }

  async findInitialAccessToken(tokenHash: string): Promise<InitialAccessTokenRecord | undefined> {
    const { rows } = await this.#query<InitialAccessTokenRow>(
      'SELECT * FROM initial_access_tokens WHERE token_hash = $1',
      [tokenHash],
    )
    return rows[0] && rowToToken(rows[0])
  }

  async listInitialAccessTokens(): Promise<InitialAccessTokenRecord[]> {
    const { rows } = await this.#query<InitialAccessTokenRow>(
      'SELECT * FROM initial_access_tokens ORDER BY created_at, id',
    )
    return rows.map(rowToToken)
  }

  async revokeInitialAccessToken(id: string): Promise<boolean> {
    const result = await this.#query('DELETE FROM initial_access_tokens WHERE id = $1', [id])
    return result.rowCount === 1
  }

  async queryClients(query: ClientQuery): Promise<ClientRecord[]> {
    const page = async (after: ClientPosition | undefined, limit: number) => {
      const { rows } = await this.#query<ClientRow>(QUERY_CLIENTS, [
        query.status ?? null,
        query.policy ?? null,
        query.source ?? null,
        after?.rank ?? null,
        after?.issuedAt ?? null,
        after?.clientId ?? null,
        limit,
      ])
      return rows.map(rowToClient)
    }
    const { search } = query
    return search === undefined
      ? page(query.after, query.limit)
      : searchClients({ ...query, search }, page)
  }

  async countClientsByStatusAndSource(): Promise<ClientCount[]> {
    const { rows } = await this.#query<{ status: string; source: string; n: string }>(
      `SELECT status, ${SOURCE_SQL} AS source, count(*) AS n FROM clients GROUP BY 1, 2`,
    )
    return mergeCounts(rows)
  }

  async appendAuditEntry(entry: Omit<AuditEntry, 'id'>): Promise<void> {
    await this.#query(
      `INSERT INTO audit_entries (${AUDIT_COLUMNS.join(', ')})
        VALUES (${AUDIT_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`,
      auditEntryToRow(entry),
    )
  }

  async listAuditEntries(query: AuditQuery): Promise<AuditEntry[]> {
    const { rows } = await this.#query<AuditEntryRow>(LIST_AUDIT, [
      query.clientId ?? null,
      query.since ?? null,
      query.beforeId ?? null,
      query.limit,
    ])
    return rows.map(rowToAuditEntry)
  }

  async purgeAuditEntries(before: number): Promise<number> {
    const result = await this.#query('DELETE FROM audit_entries WHERE at < $1', [before])
    return result.rowCount ?? 0
  }

  async createAdminToken(token: AdminTokenRecord): Promise<void> {
    await this.#query(
      `INSERT INTO admin_tokens (id, token_hash, created_at, expires_at, read_only, description)
        VALUES ($1, $2, $3, $4, $5, $6)`,
      adminTokenToRow(token),
    )
  }

  async findAdminToken(tokenHash: string): Promise<AdminTokenRecord | undefined> {
    const { rows } = await this.#query<AdminTokenRow>(
      'SELECT * FROM admin_tokens WHERE token_hash = $1',
      [tokenHash],
    )
    return rows[0] && rowToAdminToken(rows[0])
  }

  async listAdminTokens(): Promise<AdminTokenRecord[]> {
    const { rows } = await this.#query<AdminTokenRow>(
      'SELECT * FROM admin_tokens ORDER BY created_at, id',
    )
    return rows.map(rowToAdminToken)
  }

  async revokeAdminToken(id: string): Promise<boolean> {
    const result = await this.#query('DELETE FROM admin_tokens WHERE id = $1', [id])
    return result.rowCount === 1
  }

  async ping(): Promise<void> {
    await this.#query('SELECT 1')
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#watchers.clear()
    await this.#listen?.close()
    this.#listen = undefined
    await this.#pool.end()
  }

  /**
   * A registration under a policy ceiling: a transaction that takes an advisory lock per policy,
   * so the count it then reads (a new snapshot, READ COMMITTED) includes every concurrent
   * registration of that policy that committed before it, and the insert happens only below the
   * ceiling. The token consumption, if any, is in the same transaction.
   */
  async #createUnderCeiling(row: unknown[], options: CreateClientOptions): Promise<boolean> {
    const { policy, maxClients } = options.ceiling as { policy: string; maxClients: number }
    if (this.#closed) throw new Error('store is closed')
    let connection: PoolClient | undefined
    try {
      connection = await this.#pool.connect()
      await connection.query('BEGIN')
      await connection.query("SELECT pg_advisory_xact_lock(hashtext('registrar:policy:' || $1))", [
        policy,
      ])
      const { rows } = await connection.query<{ n: string }>(
        'SELECT count(*) AS n FROM clients WHERE policy = $1',
        [policy],
      )
      let inserted = false
      if (Number(rows[0]?.n ?? 0) < maxClients) {
        const token = options.initialAccessToken
        const result = token
          ? await connection.query(INSERT_CLIENT_CONSUMING_TOKEN, [
              ...row,
              token.tokenHash,
              token.now,
            ])
          : await connection.query(INSERT_CLIENT, row)
        inserted = result.rowCount === 1
      }
      await connection.query(inserted ? 'COMMIT' : 'ROLLBACK')
      return inserted
    } catch (err) {
      await connection?.query('ROLLBACK').catch(() => {})
      throw this.#translate(err)
    } finally {
      connection?.release()
    }
  }

  async #query<R extends QueryResultRow = QueryResultRow>(
    text: string,
    values: unknown[] = [],
  ): Promise<QueryResult<R>> {
    if (this.#closed) throw new Error('store is closed')
    try {
      // named: each pooled connection parses and plans a statement once, then only binds it
      return await this.#pool.query<R>({ name: statementName(text), text, values })
    } catch (err) {
      throw this.#translate(err)
    }
  }

  /**
   * Errors the database raised about our statement (constraint violations, bugs) pass through as
   * they are; anything that says the database cannot serve us now becomes a 503. Errors without a
   * SQLSTATE come from the driver or the socket: refused or reset connections, connect and query
   * timeouts, a pool with no free connection within connectTimeoutMs.
   */
  #translate(err: unknown): unknown {
    if (err instanceof this.#databaseError) {
      const code = err.code ?? ''
      return TRANSIENT_CLASSES.has(code.slice(0, 2)) || TRANSIENT_CODES.has(code)
        ? storeUnavailable(err)
        : err
    }
    if (err instanceof TypeError || err instanceof RangeError) return err // our bug, not an outage
    return storeUnavailable(err)
  }
}

/**
 * The connection that LISTENs for client changes, kept open and re-opened when it breaks: after a
 * break, changes may have been missed, so listeners get `lost` at once and `resumed` once a new
 * connection listens again (they drop everything cached in between). A probe every few seconds
 * notices a connection that died silently.
 */
class ChangeListener {
  readonly #newClient: () => Client
  readonly #listeners: ClientChangeListeners
  #client: Client | undefined
  #connecting: Promise<void> | undefined
  #timer: NodeJS.Timeout | undefined
  #live = false
  #closed = false
  #retryMs = 100

  constructor(newClient: () => Client, listeners: ClientChangeListeners) {
    this.#newClient = newClient
    this.#listeners = listeners
  }

  /** Resolves once listening; the first attempt's failure rejects (later ones retry). */
  ready(): Promise<void> {
    if (this.#live) return Promise.resolve()
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined
    })
    return this.#connecting
  }

  async #connect(): Promise<void> {
    const client = this.#newClient()
    client.on('error', () => this.#lost(client))
    client.on('end', () => this.#lost(client))
    client.on('notification', (message) => {
      if (message.channel === CLIENT_CHANGES_CHANNEL && message.payload) {
        this.#listeners.changed(message.payload)
      }
    })
    try {
      await client.connect()
      await client.query(`LISTEN ${CLIENT_CHANGES_CHANNEL}`)
    } catch (err) {
      client.removeAllListeners('end')
      await client.end().catch(() => {})
      throw err
    }
    if (this.#closed) {
      await client.end().catch(() => {})
      return
    }
    this.#client = client
    this.#live = true
    this.#retryMs = 100
    this.#schedule(LISTEN_PROBE_MS, () => this.#probe(client))
  }

  #schedule(ms: number, run: () => void): void {
    clearTimeout(this.#timer)
    if (this.#closed) return
    this.#timer = setTimeout(run, ms)
    this.#timer.unref()
  }

  async #probe(client: Client): Promise<void> {
    if (client !== this.#client) return
    const timeout = new Promise<never>((_, reject) => {
      setTimeout(
        () => reject(new Error('LISTEN connection probe timed out')),
        LISTEN_PROBE_MS,
      ).unref()
    })
    try {
      await Promise.race([client.query('SELECT 1'), timeout])
      this.#schedule(LISTEN_PROBE_MS, () => this.#probe(client))
    } catch {
      this.#lost(client)
    }
  }

  #lost(client: Client): void {
    if (client !== this.#client || this.#closed) return
    this.#client = undefined
    this.#live = false
    client.end().catch(() => {})
    this.#listeners.emit({ type: 'lost' })
    this.#retry()
  }

  #retry(): void {
    this.#schedule(this.#retryMs, () => {
      this.ready().then(
        () => this.#listeners.emit({ type: 'resumed' }),
        () => {
          this.#retryMs = Math.min(this.#retryMs * 2, LISTEN_RETRY_MAX_MS)
          this.#retry()
        },
      )
    })
  }

  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#timer)
    const client = this.#client
    this.#client = undefined
    this.#live = false
    await this.#connecting?.catch(() => {})
    await client?.end().catch(() => {})
  }
}

const statementNames = new Map<string, string>()

/** A stable prepared-statement name per SQL text (the texts are our constants: a small set). */
function statementName(text: string): string {
  let name = statementNames.get(text)
  if (name === undefined) {
    name = `registrar_${statementNames.size + 1}`
    statementNames.set(text, name)
  }
  return name
}

/**
 * Opens the PostgreSQL store at `url` (`postgres://user:password@host:port/database?sslmode=…`)
 * and applies pending migrations first. The `pg` driver is loaded here, so deployments on SQLite
 * never load it. Rejects when the database cannot be reached or migrated: an instance that cannot
 * reach its database at start should fail loudly and be restarted by its supervisor.
 */
export async function openPostgresStore(
  url: string,
  options: RegistrarConfig['postgres'] = DEFAULTS.postgres,
): Promise<PostgresStore> {
  const pg = (await importOptional<typeof import('pg')>('pg', 'store', 'a postgres:// store'))
    .default
  const connection = {
    connectionString: url,
    application_name: 'registrar',
    // 0 disables the limit, as in pg; every other value bounds how long a request may wait for a
    // connection, including waiting for a free one when the pool is exhausted.
    connectionTimeoutMillis: options.connectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  }

  // Migrations get their own connection without statement or query timeouts: waiting for another
  // instance's migration, or building an index on a large table, may legitimately take long.
  const migrator = new pg.Client(connection)
  migrator.on('error', () => {}) // a dead connection also rejects the pending query, reported below
  try {
    await migrator.connect()
    await migrate(migrator)
  } catch (err) {
    throw new Error(`cannot open the PostgreSQL store: ${describeError(err)}`, { cause: err })
  } finally {
    await migrator.end().catch(() => {})
  }

  const statementTimeout = options.statementTimeoutMs
  const pool = new pg.Pool({
    ...connection,
    max: Math.max(1, options.poolSize),
    ...(statementTimeout > 0 && {
      statement_timeout: statementTimeout,
      query_timeout: statementTimeout + QUERY_TIMEOUT_MARGIN_MS,
    }),
  })
  // An idle pooled connection that breaks (database restart, network reset) is reported here.
  // pg-pool has already discarded it and will open a new one on demand; without a listener the
  // 'error' event would crash the process.
  pool.on('error', () => {})
  // its own name, so an operator can tell it from the pool in pg_stat_activity
  const listen = { ...connection, application_name: 'registrar-listen' }
  const lock = { ...connection, application_name: 'registrar-lock' }
  return new PostgresStore(
    pool,
    pg.DatabaseError,
    () => new pg.Client(listen),
    () => new pg.Client(lock),
  )
}

/**
 * Applies pending {@link MIGRATIONS}, each in its own transaction under a transaction-level
 * advisory lock: instances starting together queue on the lock, and each finds the migrations the
 * first one applied already recorded in `registrar_migrations`.
 */
async function migrate(client: Client): Promise<void> {
  for (const m of MIGRATIONS) {
    await client.query('BEGIN')
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
      await client.query(
        'CREATE TABLE IF NOT EXISTS registrar_migrations (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)',
      )
      const applied = await client.query('SELECT 1 FROM registrar_migrations WHERE id = $1', [m.id])
      if (applied.rowCount === 0) {
        for (const sql of m.postgres) await client.query(sql)
        await client.query('INSERT INTO registrar_migrations (id, applied_at) VALUES ($1, $2)', [
          m.id,
          epochSeconds(),
        ])
      }
      await client.query('COMMIT')
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {})
      throw err
    }
  }
}

/** Socket errors for several addresses (AggregateError) carry their reason only in `code`. */
function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const code = (err as { code?: unknown }).code
  return err.message || (typeof code === 'string' ? code : err.name)
}
