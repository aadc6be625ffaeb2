import { Worker } from 'node:worker_threads'
import type Database from 'better-sqlite3'
import type {
  ClientRecord,
  CreateClientOptions,
  InitialAccessTokenRecord,
  Store,
} from '../core/store.js'
import {
  clientToRow,
  type InitialAccessTokenRow,
  rowToClient,
  rowToToken,
  tokenToRow,
} from './rows.js'
import {
  commitGroup,
  isTransient,
  migrate,
  openDatabase,
  prepareStatements,
  type SqliteStatements,
  type WriteOp,
  type WriteOutcome,
} from './sqlite-database.js'
import { storeUnavailable } from './unavailable.js'

/** Where writes go: a writer thread (files), or this thread (`:memory:`, which has one connection). */
interface Writer {
  submit(op: WriteOp): Promise<unknown>
  close(): Promise<void>
}

/**
 * The embedded default store (better-sqlite3, WAL). `synchronous = FULL`: a registration is on disk
 * before its 201 is sent, even across a power failure. Statements are prepared once.
 *
 * Writes use group commit on a writer thread: the writes that arrive while the writer is busy are
 * applied in one transaction, each inside its own savepoint (a failing write is undone alone), and
 * every promise settles only after the single COMMIT — one fsync for the whole group instead of
 * one per write, and the fsync blocks the writer thread, not the one serving requests. Reads run
 * here, on a connection of their own (WAL lets them proceed while the writer commits), and see
 * every write whose promise has settled.
 */
export class SqliteStore implements Store {
  readonly #db: Database.Database
  readonly #stmt: SqliteStatements
  readonly #writer: Writer

  /**
   * @param options.busyTimeoutMs how long a write waits for another process's write lock (an admin
   *   CLI, a second server on the same file) before answering 503; default 5000.
   * @param options.writerThread write from a worker thread (default, for files); false writes on
   *   this thread (still group-committed).
   */
  constructor(path: string, options: { busyTimeoutMs?: number; writerThread?: boolean } = {}) {
    const busyTimeoutMs = options.busyTimeoutMs ?? 5000
    this.#db = openDatabase(path, busyTimeoutMs)
    migrate(this.#db)
    this.#stmt = prepareStatements(this.#db)
    this.#writer =
      path === ':memory:' || options.writerThread === false
        ? new InThreadWriter(this.#db, this.#stmt)
        : new WorkerWriter(path, busyTimeoutMs)
  }

  async createClient(client: ClientRecord, options?: CreateClientOptions): Promise<boolean> {
    return (await this.#write({
      kind: 'createClient',
      row: clientToRow(client),
      ...(options?.initialAccessToken && { initialAccessToken: options.initialAccessToken }),
      ...(options?.ceiling && { ceiling: options.ceiling }),
    })) as boolean
  }

  async findClient(clientId: string): Promise<ClientRecord | undefined> {
    return this.#read(() => {
      const row = this.#stmt.find.get(clientId)
      return row && rowToClient(row)
    })
  }

  async replaceClient(client: ClientRecord, expectedVersion: number): Promise<boolean> {
    return (await this.#write({
      kind: 'replaceClient',
      row: clientToRow(client),
      expectedVersion,
    })) as boolean
  }

  async deleteClient(clientId: string, expectedVersion?: number): Promise<boolean> {
    return (await this.#write({
      kind: 'deleteClient',
      clientId,
      ...(expectedVersion !== undefined && { expectedVersion }),
    })) as boolean
  }

  async listClients(options: { limit?: number; after?: string } = {}): Promise<ClientRecord[]> {
    return this.#read(() => {
      const limit = options.limit ?? -1
      const rows =
        options.after === undefined
          ? this.#stmt.list.all(limit)
          : this.#stmt.listAfter.all(options.after, options.after, options.after, limit)
      return rows.map(rowToClient)
    })
  }

  async countClients(filter: { policy?: string } = {}): Promise<number> {
    return this.#read(() => {
      const row =
        filter.policy === undefined
          ? this.#stmt.count.get()
          : this.#stmt.countPolicy.get(filter.policy)
      return row?.n ?? 0
    })
  }

  async createInitialAccessToken(token: InitialAccessTokenRecord): Promise<void> {
    await this.#write({ kind: 'createToken', row: tokenToRow(token) })
  }

  async findInitialAccessToken(tokenHash: string): Promise<InitialAccessTokenRecord | undefined> {
    return this.#read(() => {
      const row = this.#stmt.findToken.get(tokenHash)
      return row && rowToToken(row)
    })
  }

  async consumeInitialAccessToken(
    tokenHash: string,
    now: number,
  ): Promise<InitialAccessTokenRecord | undefined> {
    const row = (await this.#write({ kind: 'consumeToken', tokenHash, now })) as
      | InitialAccessTokenRow
      | undefined
    return row && rowToToken(row)
  }

  async listInitialAccessTokens(): Promise<InitialAccessTokenRecord[]> {
    return this.#read(() => this.#stmt.listTokens.all().map(rowToToken))
  }

  async revokeInitialAccessToken(id: string): Promise<boolean> {
    return (await this.#write({ kind: 'revokeToken', id })) as boolean
  }

  async ping(): Promise<void> {
    return this.#read(() => {
      this.#stmt.ping.get()
    })
  }

  async close(): Promise<void> {
    await this.#writer.close()
    if (this.#db.open) this.#db.close()
  }

  #write(op: WriteOp): Promise<unknown> {
    if (!this.#db.open) return Promise.reject(new Error('store is closed'))
    return this.#writer.submit(op)
  }

  /** Runs a read; a database that is locked or failing I/O becomes a 503. */
  #read<T>(statement: () => T): T {
    try {
      return statement()
    } catch (err) {
      throw isTransient(err) ? storeUnavailable(err) : err
    }
  }
}

/** Group commit on the calling thread: for `:memory:` databases (one connection only). */
class InThreadWriter implements Writer {
  readonly #db: Database.Database
  readonly #stmt: SqliteStatements
  #pending: { op: WriteOp; resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = []
  #scheduled = false

  constructor(db: Database.Database, stmt: SqliteStatements) {
    this.#db = db
    this.#stmt = stmt
  }

  submit(op: WriteOp): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ op, resolve, reject })
      if (!this.#scheduled) {
        this.#scheduled = true
        setImmediate(() => this.#flush())
      }
    })
  }

  #flush(): void {
    this.#scheduled = false
    const batch = this.#pending
    this.#pending = []
    if (batch.length === 0 || !this.#db.open) {
      for (const w of batch) w.reject(new Error('store is closed'))
      return
    }
    let outcomes: WriteOutcome[]
    try {
      outcomes = commitGroup(
        this.#db,
        this.#stmt,
        batch.map((w) => w.op),
      )
    } catch (err) {
      for (const w of batch) w.reject(isTransient(err) ? storeUnavailable(err) : err)
      return
    }
    batch.forEach((w, i) => {
      const outcome = outcomes[i]!
      if (outcome.ok) w.resolve(outcome.value)
      else w.reject(isTransient(outcome.error) ? storeUnavailable(outcome.error) : outcome.error)
    })
  }

  async close(): Promise<void> {
    this.#flush()
  }
}

/**
 * Writes through the writer thread (`sqlite-writer`), which owns its own connection and group-
 * commits there. The thread is referenced only while writes are outstanding, so an idle store
 * never keeps a process alive.
 */
class WorkerWriter implements Writer {
  readonly #worker: Worker
  readonly #waiting = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: unknown) => void }
  >()
  #next = 1
  #failure: unknown
  #exited: Promise<void>

  constructor(path: string, busyTimeoutMs: number) {
    const workerData = { path, busyTimeoutMs }
    if (import.meta.url.endsWith('.ts')) {
      // running from source under tsx (the tests): the worker needs tsx's loader too
      const source = new URL('./sqlite-writer.ts', import.meta.url).href
      this.#worker = new Worker(
        `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}) })`,
        { eval: true, workerData },
      )
    } else {
      this.#worker = new Worker(new URL('./sqlite-writer.js', import.meta.url), { workerData })
    }
    this.#worker.unref()
    this.#worker.on(
      'message',
      (m: { id: number; ok: boolean; value?: unknown; error?: WireError }) => {
        const waiter = this.#waiting.get(m.id)
        if (!waiter) return
        this.#waiting.delete(m.id)
        if (this.#waiting.size === 0) this.#worker.unref()
        if (m.ok) waiter.resolve(m.value)
        else waiter.reject(fromWire(m.error as WireError))
      },
    )
    this.#worker.on('error', (err) => this.#fail(err))
    this.#exited = new Promise((resolve) =>
      this.#worker.once('exit', () => {
        this.#fail(new Error('the SQLite writer thread stopped'))
        resolve()
      }),
    )
  }

  submit(op: WriteOp): Promise<unknown> {
    if (this.#failure !== undefined) return Promise.reject(storeUnavailable(this.#failure))
    return new Promise((resolve, reject) => {
      const id = this.#next++
      this.#waiting.set(id, { resolve, reject })
      this.#worker.ref()
      this.#worker.postMessage({ id, op })
    })
  }

  #fail(err: unknown): void {
    this.#failure ??= err
    for (const waiter of this.#waiting.values()) waiter.reject(storeUnavailable(err))
    this.#waiting.clear()
  }

  async close(): Promise<void> {
    if (this.#failure === undefined) {
      this.#worker.ref()
      this.#worker.postMessage({ close: true })
    }
    await this.#exited
  }
}

interface WireError {
  message: string
  code?: string
  name?: string
}

/** Rebuilds an error the writer thread reported; transient ones become 503s. */
function fromWire(e: WireError): unknown {
  const err = Object.assign(new Error(e.message), e.code !== undefined && { code: e.code })
  return isTransient(err) ? storeUnavailable(err) : err
}
