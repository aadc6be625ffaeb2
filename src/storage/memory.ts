import {
  type AdminTokenRecord,
  type AuditEntry,
  type AuditQuery,
  type ClientAssertionRecord,
  type ClientChangeEvent,
  type ClientCount,
  type ClientPosition,
  type ClientQuery,
  type ClientRecord,
  type CreateClientOptions,
  clientPosition,
  type IdleClientQuery,
  type InitialAccessTokenRecord,
  initialAccessTokenUsable,
  type MetadataDocumentCache,
  type MetadataDocumentDecision,
  type MetadataDocumentRecord,
  registrationSource,
  type Store,
} from '../core/store.js'
import { ClientChangeListeners } from './client-changes.js'
import { InProcessLocks } from './exclusive.js'
import { matchesSearch } from './rows.js'

/** A stored client: its serialised record, plus what compare-and-swap and counting need. */
interface Entry {
  json: string
  version: number
  policy: string | undefined
  /** Store-managed (recordClientUse), kept apart from the record so replaces leave it alone. */
  lastUsedAt: number | undefined
}

/** A metadata document URL's row: the serialised cache plus the store-managed columns. */
interface DocumentEntry {
  cache: string | undefined
  decision: MetadataDocumentDecision | undefined
  lastUsedAt: number | undefined
  leaseUntil: number | undefined
}

/** Expired assertion records are swept at most this often (seconds). */
const PURGE_INTERVAL = 60

/**
 * In-process store, for tests and single-process deployments that accept losing everything on
 * restart. Records are kept serialised: callers can never alias stored state, and a JSON string
 * costs far less memory than the object graph it describes.
 */
export class MemoryStore implements Store {
  readonly #clients = new Map<string, Entry>()
  readonly #perPolicy = new Map<string, number>()
  readonly #tokens = new Map<string, InitialAccessTokenRecord>()
  #audit: string[] = []
  #auditIds = 0
  readonly #adminTokens = new Map<string, AdminTokenRecord>()
  /** `clientId NUL jti` → expiresAt. */
  readonly #assertions = new Map<string, number>()
  #lastPurge = 0
  readonly #watchers = new ClientChangeListeners()
  readonly #documents = new Map<string, DocumentEntry>()
  readonly #locks = new InProcessLocks()
  #closed = false

  // Every method runs synchronously up to its return: no other call can interleave between a
  // check and the write it guards, which is what makes each of them atomic.

  async createClient(client: ClientRecord, options?: CreateClientOptions): Promise<boolean> {
    this.#open()
    if (this.#clients.has(client.client_id)) throw new Error('client_id already exists')
    if (options?.ceiling) {
      const { policy, maxClients } = options.ceiling
      if ((this.#perPolicy.get(policy) ?? 0) >= maxClients) return false
    }
    if (options?.initialAccessToken) {
      const { tokenHash, now } = options.initialAccessToken
      if (!this.#consume(tokenHash, now)) return false
    }
    this.#set(client, undefined)
    this.#changed(client.client_id)
    return true
  }

  async findClient(clientId: string): Promise<ClientRecord | undefined> {
    this.#open()
    const entry = this.#clients.get(clientId)
    return entry === undefined ? undefined : parseEntry(entry)
  }

  async replaceClient(client: ClientRecord, expectedVersion: number): Promise<boolean> {
    this.#open()
    const entry = this.#clients.get(client.client_id)
    if (entry === undefined || entry.version !== expectedVersion) return false
    this.#count(entry.policy, -1)
    this.#set(client, entry.lastUsedAt)
    this.#changed(client.client_id)
    return true
  }

  async deleteClient(clientId: string, expectedVersion?: number): Promise<boolean> {
    this.#open()
    const entry = this.#clients.get(clientId)
    if (entry === undefined) return false
    if (expectedVersion !== undefined && entry.version !== expectedVersion) return false
    this.#count(entry.policy, -1)
    this.#clients.delete(clientId)
    this.#changed(clientId)
    return true
  }

  #set(client: ClientRecord, lastUsedAt: number | undefined): void {
    const { lastUsedAt: _managed, ...record } = client
    this.#clients.set(client.client_id, {
      json: JSON.stringify(record),
      version: client.version,
      policy: client.policy,
      lastUsedAt,
    })
    this.#count(client.policy, 1)
  }

  #count(policy: string | undefined, delta: number): void {
    if (policy === undefined) return
    const n = (this.#perPolicy.get(policy) ?? 0) + delta
    if (n === 0) this.#perPolicy.delete(policy)
    else this.#perPolicy.set(policy, n)
  }

  async listClients(options: { limit?: number; after?: string } = {}): Promise<ClientRecord[]> {
    this.#open()
    const all = [...this.#clients.values()].map(parseEntry).sort(byIssued)
    const start =
      options.after === undefined ? 0 : all.findIndex((c) => c.client_id === options.after) + 1
    return all.slice(start, options.limit === undefined ? undefined : start + options.limit)
  }

  async countClients(filter: { policy?: string } = {}): Promise<number> {
    this.#open()
    return filter.policy === undefined
      ? this.#clients.size
      : (this.#perPolicy.get(filter.policy) ?? 0)
  }

  async createInitialAccessToken(token: InitialAccessTokenRecord): Promise<void> {
    this.#open()
    this.#tokens.set(token.tokenHash, { ...token })
  }

  async findInitialAccessToken(tokenHash: string): Promise<InitialAccessTokenRecord | undefined> {
    this.#open()
    const t = this.#tokens.get(tokenHash)
    return t && { ...t }
  }

  async listInitialAccessTokens(): Promise<InitialAccessTokenRecord[]> {
    this.#open()
    return [...this.#tokens.values()]
      .map((t) => ({ ...t }))
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
  }

  async revokeInitialAccessToken(id: string): Promise<boolean> {
    this.#open()
    for (const [hash, t] of this.#tokens) {
      if (t.id === id) return this.#tokens.delete(hash)
    }
    return false
  }

  async queryClients(query: ClientQuery): Promise<ClientRecord[]> {
    this.#open()
    const out: ClientRecord[] = []
    for (const entry of this.#clients.values()) {
      const c = parseEntry(entry)
      if (query.status !== undefined && c.status !== query.status) continue
      if (query.policy !== undefined && c.policy !== query.policy) continue
      if (query.source !== undefined && registrationSource(c) !== query.source) continue
      if (query.search !== undefined && !matchesSearch(c, query.search)) continue
      if (query.after !== undefined && comparePositions(clientPosition(c), query.after) <= 0) {
        continue
      }
      out.push(c)
    }
    return out
      .sort((a, b) => comparePositions(clientPosition(a), clientPosition(b)))
      .slice(0, query.limit)
  }

  async countClientsByStatusAndSource(): Promise<ClientCount[]> {
    this.#open()
    const counts = new Map<string, ClientCount>()
    for (const entry of this.#clients.values()) {
      const c = JSON.parse(entry.json) as ClientRecord
      const source = registrationSource(c)
      const key = `${c.status} ${source}`
      const n = counts.get(key) ?? { status: c.status, source, count: 0 }
      n.count += 1
      counts.set(key, n)
    }
    return [...counts.values()]
  }

  async appendAuditEntry(entry: Omit<AuditEntry, 'id'>): Promise<void> {
    this.#open()
    this.#audit.push(JSON.stringify({ ...entry, id: ++this.#auditIds }))
  }

  async listAuditEntries(query: AuditQuery): Promise<AuditEntry[]> {
    this.#open()
    const out: AuditEntry[] = []
    for (let i = this.#audit.length - 1; i >= 0 && out.length < query.limit; i--) {
      const e = JSON.parse(this.#audit[i] as string) as AuditEntry
      if (query.beforeId !== undefined && e.id >= query.beforeId) continue
      if (query.clientId !== undefined && e.client_id !== query.clientId) continue
      if (query.since !== undefined && e.at < query.since) continue
      out.push(e)
    }
    return out
  }

  async purgeAuditEntries(before: number): Promise<number> {
    this.#open()
    const kept = this.#audit.filter((json) => (JSON.parse(json) as AuditEntry).at >= before)
    const purged = this.#audit.length - kept.length
    this.#audit = kept
    return purged
  }

  async createAdminToken(token: AdminTokenRecord): Promise<void> {
    this.#open()
    for (const t of this.#adminTokens.values()) {
      if (t.id === token.id) throw new Error('admin token id already exists')
    }
    if (this.#adminTokens.has(token.tokenHash)) throw new Error('admin token already exists')
    this.#adminTokens.set(token.tokenHash, { ...token })
  }

  async findAdminToken(tokenHash: string): Promise<AdminTokenRecord | undefined> {
    this.#open()
    const t = this.#adminTokens.get(tokenHash)
    return t && { ...t }
  }

  async listAdminTokens(): Promise<AdminTokenRecord[]> {
    this.#open()
    return [...this.#adminTokens.values()]
      .map((t) => ({ ...t }))
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
  }

  async revokeAdminToken(id: string): Promise<boolean> {
    this.#open()
    for (const [hash, t] of this.#adminTokens) {
      if (t.id === id) return this.#adminTokens.delete(hash)
    }
    return false
  }

  async recordClientUse(clientId: string, now: number, minInterval: number): Promise<boolean> {
    this.#open()
    const entry = this.#clients.get(clientId)
    if (entry === undefined) return false
    if (entry.lastUsedAt !== undefined && entry.lastUsedAt > now - minInterval) return false
    entry.lastUsedAt = now
    return true
  }

  async findMetadataDocument(clientId: string): Promise<MetadataDocumentRecord | undefined> {
    this.#open()
    const e = this.#documents.get(clientId)
    return e === undefined ? undefined : documentRecord(clientId, e)
  }

  async saveMetadataDocument(cache: MetadataDocumentCache): Promise<void> {
    this.#open()
    const e = this.#documents.get(cache.client_id)
    const json = JSON.stringify(cache)
    if (e === undefined) {
      this.#documents.set(cache.client_id, {
        cache: json,
        decision: undefined,
        lastUsedAt: undefined,
        leaseUntil: undefined,
      })
    } else {
      e.cache = json
      e.leaseUntil = undefined
    }
    this.#watchers.changed(cache.client_id)
  }

  async decideMetadataDocument(
    clientId: string,
    decision: MetadataDocumentDecision | undefined,
  ): Promise<void> {
    this.#open()
    const e = this.#documents.get(clientId)
    if (e === undefined) {
      if (decision === undefined) return
      this.#documents.set(clientId, {
        cache: undefined,
        decision,
        lastUsedAt: undefined,
        leaseUntil: undefined,
      })
    } else {
      e.decision = decision
    }
    this.#watchers.changed(clientId)
  }

  async forgetMetadataDocument(clientId: string): Promise<boolean> {
    this.#open()
    const e = this.#documents.get(clientId)
    if (e === undefined) return false
    if (e.decision === undefined) this.#documents.delete(clientId)
    else {
      e.cache = undefined
      e.leaseUntil = undefined
    }
    this.#watchers.changed(clientId)
    return true
  }

  async listMetadataDocuments(
    options: { limit?: number; after?: string } = {},
  ): Promise<MetadataDocumentRecord[]> {
    this.#open()
    const ids = [...this.#documents.keys()]
      .filter((id) => options.after === undefined || id > options.after)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, options.limit ?? Number.POSITIVE_INFINITY)
    return ids.map((id) => documentRecord(id, this.#documents.get(id) as DocumentEntry))
  }

  async leaseMetadataDocumentFetch(
    clientId: string,
    now: number,
    seconds: number,
  ): Promise<boolean> {
    this.#open()
    const e = this.#documents.get(clientId)
    if (e === undefined) {
      this.#documents.set(clientId, {
        cache: undefined,
        decision: undefined,
        lastUsedAt: undefined,
        leaseUntil: now + seconds,
      })
      return true
    }
    if (e.leaseUntil !== undefined && e.leaseUntil > now) return false
    e.leaseUntil = now + seconds
    return true
  }

  async recordMetadataDocumentUse(
    clientId: string,
    now: number,
    minInterval: number,
  ): Promise<boolean> {
    this.#open()
    const e = this.#documents.get(clientId)
    if (e === undefined) return false
    if (e.lastUsedAt !== undefined && e.lastUsedAt > now - minInterval) return false
    e.lastUsedAt = now
    return true
  }

  async listIdleClients(query: IdleClientQuery): Promise<ClientRecord[]> {
    this.#open()
    const exclude = new Set(query.excludePolicies ?? [])
    const out: ClientRecord[] = []
    for (const entry of this.#clients.values()) {
      const c = parseEntry(entry)
      if (!isIdle(c, query.idleSince)) continue
      if (query.policy === null && c.policy !== undefined) continue
      if (typeof query.policy === 'string' && c.policy !== query.policy) continue
      if (c.policy !== undefined && exclude.has(c.policy)) continue
      if (query.after !== undefined && c.client_id <= query.after) continue
      out.push(c)
    }
    return out
      .sort((a, b) => (a.client_id < b.client_id ? -1 : a.client_id > b.client_id ? 1 : 0))
      .slice(0, query.limit)
  }

  async deleteIdleClients(clientIds: readonly string[], idleSince: number): Promise<string[]> {
    this.#open()
    const deleted: string[] = []
    for (const id of new Set(clientIds)) {
      const entry = this.#clients.get(id)
      if (entry === undefined || !isIdle(parseEntry(entry), idleSince)) continue
      this.#count(entry.policy, -1)
      this.#clients.delete(id)
      deleted.push(id)
    }
    for (const id of deleted) this.#changed(id)
    return deleted
  }

  async runExclusive<T>(
    name: string,
    fn: () => Promise<T>,
  ): Promise<{ ran: true; value: T } | { ran: false }> {
    this.#open()
    return this.#locks.run(name, fn)
  }

  async recordClientAssertion(assertion: ClientAssertionRecord, now: number): Promise<boolean> {
    this.#open()
    if (now - this.#lastPurge >= PURGE_INTERVAL) {
      this.#lastPurge = now
      for (const [key, expiresAt] of this.#assertions) {
        if (expiresAt < now) this.#assertions.delete(key)
      }
    }
    const key = `${assertion.clientId}\u0000${assertion.jti}`
    const recorded = this.#assertions.get(key)
    if (recorded !== undefined && recorded >= now) return false
    this.#assertions.set(key, assertion.expiresAt)
    return true
  }

  /** Reports the changes made through this store object (there is no other writer). */
  async watchClientChanges(
    listener: (event: ClientChangeEvent) => void,
  ): Promise<() => Promise<void>> {
    this.#open()
    return this.#watchers.add(listener)
  }

  async ping(): Promise<void> {
    this.#open()
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#watchers.clear()
  }

  #changed(clientId: string): void {
    this.#watchers.changed(clientId)
  }

  #consume(tokenHash: string, now: number): InitialAccessTokenRecord | undefined {
    const t = this.#tokens.get(tokenHash)
    if (!t || !initialAccessTokenUsable(t, now)) return undefined
    t.uses += 1
    return { ...t }
  }

  #open(): void {
    if (this.#closed) throw new Error('store is closed')
  }
}

function parseEntry(entry: Entry): ClientRecord {
  const record = JSON.parse(entry.json) as ClientRecord
  if (entry.lastUsedAt !== undefined) record.lastUsedAt = entry.lastUsedAt
  return record
}

/** See IdleClientQuery: active, neither used nor changed at or after `idleSince`. */
function isIdle(c: ClientRecord, idleSince: number): boolean {
  return (
    c.status === 'active' &&
    c.updatedAt < idleSince &&
    (c.lastUsedAt === undefined || c.lastUsedAt < idleSince)
  )
}

function byIssued(a: ClientRecord, b: ClientRecord): number {
  return a.client_id_issued_at - b.client_id_issued_at || (a.client_id < b.client_id ? -1 : 1)
}

/** The order of {@link Store.queryClients}: rank, then newest first, then client_id. */
function comparePositions(a: ClientPosition, b: ClientPosition): number {
  return (
    a.rank - b.rank ||
    b.issuedAt - a.issuedAt ||
    (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0)
  )
}

/** A document row as a record: the cache members plus the store-managed ones. */
function documentRecord(clientId: string, e: DocumentEntry): MetadataDocumentRecord {
  return {
    ...(e.cache === undefined ? {} : (JSON.parse(e.cache) as MetadataDocumentCache)),
    client_id: clientId,
    ...(e.decision !== undefined && { decision: e.decision }),
    ...(e.lastUsedAt !== undefined && { lastUsedAt: e.lastUsedAt }),
  }
}
