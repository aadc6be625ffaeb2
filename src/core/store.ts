import type { ClientMetadata } from '../metadata/types.js'

/**
 * A registered client as persisted. Spec fields keep their RFC spelling; our own fields are
 * camelCase. Credentials are never stored in the clear: the registration access token and the
 * client secret as SHA-256 hashes, or the secret encrypted when the AS needs it as an HMAC key
 * (docs/design-decisions.md).
 */
export interface ClientRecord {
  client_id: string
  /** Seconds since the epoch, as on the wire (RFC 7591 §3.2.1). */
  client_id_issued_at: number
  /** Present iff a secret exists; 0 = never (RFC 7591 §3.2.1). */
  client_secret_expires_at?: number
  clientSecretHash?: string
  /** AES-256-GCM sealed secret, for client_secret_jwt and symmetric algorithms. */
  clientSecretEncrypted?: string
  registrationAccessTokenHash: string
  /** Validated metadata, defaults applied. */
  metadata: ClientMetadata
  /** The software statement as presented, echoed unmodified (RFC 7591 §3.2.1). */
  software_statement?: string
  /**
   * Only `active` clients may be used. `pending`: awaiting an operator's approval (a policy's
   * `requireApproval`); `disabled`: switched off by an operator (or, in stores written before
   * `pending` existed, awaiting approval).
   */
  status: ClientStatus
  /** Name of the registration policy that admitted the client. */
  policy?: string
  /** Id of the initial access token used to register, if any. */
  initialAccessTokenId?: string
  updatedAt: number
  /** Incremented by every replace; replaceClient compares it (optimistic concurrency). */
  version: number
  /**
   * Seconds since the epoch of the last use recorded by {@link Store.recordClientUse}. Managed by
   * the store: createClient and replaceClient neither write nor clear it.
   */
  lastUsedAt?: number
  /**
   * The secrets renewals replaced (RFC 7592 §2.2 PUT carrying a `client_secret`), each still
   * accepted until its own `expiresAt` (seconds) so that no client instance is stranded
   * mid-rotation (`lifecycle.secretRotationGracePeriod`, docs/lifecycle.md). Hashed or sealed like
   * the current one; at most {@link MAX_PREVIOUS_CLIENT_SECRETS}, none whose `expiresAt` passed
   * when the record was written.
   */
  previousClientSecrets?: PreviousClientSecret[]
}

/** The most {@link ClientRecord.previousClientSecrets} a client has at once. */
export const MAX_PREVIOUS_CLIENT_SECRETS = 8

/** See {@link ClientRecord.previousClientSecrets}. */
export interface PreviousClientSecret {
  hash?: string
  encrypted?: string
  /** Seconds since the epoch; the previous secret authenticates only before it. */
  expiresAt: number
}

/**
 * Idle clients ({@link Store.listIdleClients}): `active` clients neither used (recordClientUse)
 * nor registered, updated or approved (`updatedAt`) at or after `idleSince`.
 */
export interface IdleClientQuery {
  /** Seconds since the epoch: the cut-off. */
  idleSince: number
  /** Only clients recorded under this policy; `null`: only clients recorded under none. */
  policy?: string | null
  /** Leave out clients recorded under these policies (clients under none stay in). */
  excludePolicies?: readonly string[]
  /** Continue after this client_id (the listing is ordered by client_id). */
  after?: string
  limit: number
}

/** See {@link ClientRecord.status}. */
export type ClientStatus = 'active' | 'pending' | 'disabled'

/**
 * How a client came to be registered, derived from its record: with a software statement, with an
 * initial access token, or anonymously (open registration).
 */
export type RegistrationSource = 'software_statement' | 'initial_access_token' | 'anonymous'

/** The {@link RegistrationSource} of a stored client. */
export function registrationSource(c: ClientRecord): RegistrationSource {
  if (c.software_statement !== undefined) return 'software_statement'
  if (c.initialAccessTokenId !== undefined) return 'initial_access_token'
  return 'anonymous'
}

/**
 * Where a page of {@link Store.queryClients} ends: the sort key of its last client. Clients awaiting
 * approval come first (`rank` 0, every other status 1), then the newest, then by client_id.
 */
export interface ClientPosition {
  rank: 0 | 1
  issuedAt: number
  clientId: string
}

/** The sort key of a client in {@link Store.queryClients}. */
export function clientPosition(c: ClientRecord): ClientPosition {
  return {
    rank: c.status === 'pending' ? 0 : 1,
    issuedAt: c.client_id_issued_at,
    clientId: c.client_id,
  }
}

/** A search of the registered clients, for the admin service. Every criterion narrows. */
export interface ClientQuery {
  /**
   * Case-insensitive (ASCII) substring of the client_id, the `client_name`, or the `redirect_uris`
   * (so a host name finds the clients redirecting there).
   */
  search?: string
  status?: ClientStatus
  policy?: string
  source?: RegistrationSource
  /** Continue after this position (the last client of the previous page). */
  after?: ClientPosition
  limit: number
}

/** How many clients have each status and source; pairs with no client are left out. */
export interface ClientCount {
  status: ClientStatus
  source: RegistrationSource
  count: number
}

/**
 * Who did something recorded in the audit trail. Addresses are the client address the server
 * saw (after trusted proxies).
 */
export interface AuditActor {
  /**
   * `anonymous`: an open registration; `initial_access_token`: a registration with that token
   * (`id` = its id); `client`: the client itself through its registration access token (`id` =
   * client_id); `admin`: an admin token of the admin API or console (`id` = its id); `operator`: an
   * admin command on the store (`id` = the operating-system user); `system`: Registrar itself (a
   * sweep, a burst detector).
   */
  type: 'anonymous' | 'initial_access_token' | 'client' | 'admin' | 'operator' | 'system'
  id?: string
  address?: string
}

/** What an audit entry records; never a secret, a token or a hash. */
export type AuditEvent =
  | 'registered'
  | 'read'
  | 'updated'
  | 'deleted'
  | 'approved'
  | 'disabled'
  | 'enabled'
  | 'expired'
  | 'initial_access_token_created'
  | 'initial_access_token_revoked'
  | 'admin_token_created'
  | 'admin_token_revoked'
  | 'authentication_failures'
  /** Failed client authentications reached `clientAuthentication.failureLimit` (RFC 6749 §2.3.1). */
  | 'authentication_limit_reached'

/** One entry of the append-only audit trail. */
export interface AuditEntry {
  /** Assigned by the store: increasing in the order entries were appended. */
  id: number
  /** Seconds since the epoch. */
  at: number
  event: AuditEvent
  client_id?: string
  actor: AuditActor
  /** Changed members, before → after (absent = the member did not exist on that side). */
  changes?: Record<string, { before?: unknown; after?: unknown }>
  /** Event-specific facts: a token id, a policy, a count of failures. */
  details?: Record<string, unknown>
}

/** A query of the audit trail: newest first. */
export interface AuditQuery {
  clientId?: string
  /** Entries at or after this time (seconds). */
  since?: number
  /** Entries older than this id (the last id of the previous page). */
  beforeId?: number
  limit: number
}

/** An admin token of the admin API and console, stored by hash only. */
export interface AdminTokenRecord {
  /** Public identifier: listed, revoked, and recorded as the actor in the audit trail. */
  id: string
  tokenHash: string
  createdAt: number
  /** Seconds since the epoch, or null for no expiry. */
  expiresAt: number | null
  /** A read-only token may look but never change anything (403). */
  readOnly: boolean
  description?: string
}

/** RFC 7591 §1.2 initial access token, stored by hash only. */
export interface InitialAccessTokenRecord {
  /** Public identifier for listing and revoking; never the token. */
  id: string
  tokenHash: string
  createdAt: number
  /** Seconds since the epoch, or null for no expiry. */
  expiresAt: number | null
  /** null for unlimited uses. */
  maxUses: number | null
  uses: number
  /** Registration policy the token's registrants fall under. */
  policy?: string
  description?: string
}

/** Options of {@link Store.createClient}. */
export interface CreateClientOptions {
  /**
   * Consume one use of this initial access token in the same atomic operation as the insert: both
   * happen or neither does.
   */
  initialAccessToken?: { tokenHash: string; now: number }
  /**
   * A registration policy's client ceiling: insert only while fewer than `maxClients` clients carry
   * `policy`, checked atomically with the insert (concurrent registrations cannot overshoot).
   */
  ceiling?: { policy: string; maxClients: number }
}

/** A client assertion's `jti` as recorded for replay detection (RFC 7523 §3 item 7). */
export interface ClientAssertionRecord {
  clientId: string
  jti: string
  /** Seconds since the epoch after which the record may be purged (the assertion's `exp` + skew). */
  expiresAt: number
}

/**
 * What {@link Store.watchClientChanges} reports: a client was created, replaced or deleted
 * (`changed`); or changes may have been missed (`lost`, e.g. the notification connection broke)
 * until `resumed`.
 */
export type ClientChangeEvent =
  | { type: 'changed'; clientId: string }
  | { type: 'lost' }
  | { type: 'resumed' }

/**
 * Persistence port of the domain. Implementations: memory, SQLite, PostgreSQL; all pass
 * `test/storage/store.contract.ts`. Every method either completes durably or rejects.
 */
export interface Store {
  /**
   * Inserts a client. Resolves false (and inserts nothing, consumes nothing) when the IAT could not
   * be consumed or the policy ceiling is reached.
   */
  createClient(client: ClientRecord, options?: CreateClientOptions): Promise<boolean>
  findClient(clientId: string): Promise<ClientRecord | undefined>
  /**
   * RFC 7592 §2.2 update: replaces the whole record if its stored version still equals
   * `expectedVersion`; resolves false otherwise (changed or deleted meanwhile).
   */
  replaceClient(client: ClientRecord, expectedVersion: number): Promise<boolean>
  /**
   * RFC 7592 §2.3 delete. With `expectedVersion`, deletes only if the stored version still equals
   * it (compare-and-delete, like {@link Store.replaceClient}); resolves false when nothing was
   * deleted.
   */
  deleteClient(clientId: string, expectedVersion?: number): Promise<boolean>
  /** Clients ordered by client_id_issued_at then client_id; `after` is the last client_id seen. */
  listClients(options?: { limit?: number; after?: string }): Promise<ClientRecord[]>
  countClients(filter?: { policy?: string }): Promise<number>

  createInitialAccessToken(token: InitialAccessTokenRecord): Promise<void>
  findInitialAccessToken(tokenHash: string): Promise<InitialAccessTokenRecord | undefined>
  listInitialAccessTokens(): Promise<InitialAccessTokenRecord[]>
  revokeInitialAccessToken(id: string): Promise<boolean>

  /**
   * The admin service's search: clients matching every criterion of `query`, clients awaiting
   * approval first, then the newest first ({@link clientPosition} order), at most `limit`.
   */
  queryClients(query: ClientQuery): Promise<ClientRecord[]>
  /** Counts of clients by status and source (the metrics' gauge). */
  countClientsByStatusAndSource(): Promise<ClientCount[]>

  /** Appends an entry to the audit trail; the store assigns its id. Entries are never changed. */
  appendAuditEntry(entry: Omit<AuditEntry, 'id'>): Promise<void>
  /** Audit entries matching `query`, newest (highest id) first. */
  listAuditEntries(query: AuditQuery): Promise<AuditEntry[]>
  /** Retention: deletes the entries older than `before` (seconds); resolves how many. */
  purgeAuditEntries(before: number): Promise<number>

  createAdminToken(token: AdminTokenRecord): Promise<void>
  findAdminToken(tokenHash: string): Promise<AdminTokenRecord | undefined>
  listAdminTokens(): Promise<AdminTokenRecord[]>
  revokeAdminToken(id: string): Promise<boolean>

  /**
   * Records that the client was used at `now` (seconds), unless a use was already recorded within
   * the last `minInterval` seconds: a conditional write, so N instances write at most once per
   * interval between them. Resolves true when it wrote, false otherwise (or for an unknown client).
   */
  recordClientUse(clientId: string, now: number, minInterval: number): Promise<boolean>

  /**
   * Atomically records a client assertion's `(clientId, jti)` unless a record of it exists that has
   * not expired at `now`: resolves true the first time, false for a replay (RFC 7523 §3 item 7,
   * OIDC Core §9). Expired records are purged from time to time.
   */
  recordClientAssertion(assertion: ClientAssertionRecord, now: number): Promise<boolean>

  /**
   * Reports client changes as they happen, so that caches can drop their copy: writes made through
   * this store object (every implementation that has the method), and on a shared database the
   * writes of other processes too (PostgreSQL: `LISTEN/NOTIFY`). Resolves once the listener is
   * live, to a function that removes it. Optional: without it, caches rely on their TTL.
   */
  watchClientChanges?(listener: (event: ClientChangeEvent) => void): Promise<() => Promise<void>>

  /** The cached metadata document of a Client Identifier URL, if any. */
  findMetadataDocument(clientId: string): Promise<MetadataDocumentRecord | undefined>
  /**
   * Writes the outcome of a fetch (the copy, its lifetime, the failure record), leaving the
   * decision and the last use as they are, and releases the fetch lease.
   */
  saveMetadataDocument(cache: MetadataDocumentCache): Promise<void>
  /** Sets (or, with `undefined`, clears) the operator's decision about a URL, fetched or not. */
  decideMetadataDocument(
    clientId: string,
    decision: MetadataDocumentDecision | undefined,
  ): Promise<void>
  /**
   * Forgets the cached copy and failure record, so the next use fetches again; an operator's
   * decision is kept. Resolves false when nothing was known about the URL.
   */
  forgetMetadataDocument(clientId: string): Promise<boolean>
  /** Every known metadata document URL, ordered by URL; `after` is the last URL seen. */
  listMetadataDocuments(options?: {
    limit?: number
    after?: string
  }): Promise<MetadataDocumentRecord[]>
  /**
   * Takes the right to fetch a URL for `seconds`, unless another holder has it until after `now`:
   * resolves true for exactly one caller at a time, so instances sharing a database fetch a
   * document once per expiry. Released by {@link Store.saveMetadataDocument} or by expiring.
   */
  leaseMetadataDocumentFetch(clientId: string, now: number, seconds: number): Promise<boolean>
  /** Like {@link Store.recordClientUse}, for a known metadata document URL. */
  recordMetadataDocumentUse(clientId: string, now: number, minInterval: number): Promise<boolean>
  /**
   * Idle clients matching `query` ({@link IdleClientQuery}), ordered by client_id, at most
   * `limit`: the candidates of the idle-expiry sweep.
   */
  listIdleClients(query: IdleClientQuery): Promise<ClientRecord[]>
  /**
   * Batched delete of the sweep: deletes those of `clientIds` that are still idle at `idleSince`
   * (checked again in the same statement, so a client used or changed since it was listed
   * stays) and still `active`; resolves the client_ids it deleted.
   */
  deleteIdleClients(clientIds: readonly string[], idleSince: number): Promise<string[]>
  /**
   * Runs `fn` unless another holder of the lock `name` is running: resolves `{ ran: false }` at
   * once then. PostgreSQL: a session advisory lock (`pg_try_advisory_lock`) on a connection of its
   * own, so one holder across every instance on the database (released if the holder's
   * connection dies). SQLite and memory: within this store object only (one process).
   */
  runExclusive<T>(
    name: string,
    fn: () => Promise<T>,
  ): Promise<{ ran: true; value: T } | { ran: false }>

  /** Resolves when the store answers; used by /healthz. */
  ping(): Promise<void>
  close(): Promise<void>
}

/**
 * A Client ID Metadata Document as the store of record keeps it (CIMD §11 D-10, D-26): the
 * validated copy in use, its lifetime and failure record, the operator's decision and the last use.
 * The document stays the source of truth; this is a cache shared by every instance.
 */
export interface MetadataDocumentRecord {
  /** The Client Identifier URL, byte for byte (CIMD-3-h). */
  client_id: string
  /** Validated metadata of the last accepted document, policy applied. */
  metadata?: ClientMetadata
  /** The `metadata_document` policy applied, if any. */
  policy?: string
  /** Seconds since the epoch of the fetch that produced `metadata`. */
  fetchedAt?: number
  /** Until when `metadata` is used without fetching again (seconds). */
  expiresAt?: number
  /** Until when `metadata` may still be used while the origin fails transiently (seconds). */
  staleUntil?: number
  /** Size in bytes of the accepted document. */
  bytes?: number
  /** The last failed fetch or refused document, remembered until `until` (seconds). */
  failure?: { refusal: string; detail: string; at: number; until: number }
  /** An operator's decision; written only by {@link Store.decideMetadataDocument}. */
  decision?: MetadataDocumentDecision
  /** Written only by {@link Store.recordMetadataDocumentUse}. */
  lastUsedAt?: number
}

/** `approved`: admitted despite `requireApproval`; `blocked`: refused for good. */
export type MetadataDocumentDecision = 'approved' | 'blocked'

/** The members {@link Store.saveMetadataDocument} writes (the fetch's outcome). */
export type MetadataDocumentCache = Omit<MetadataDocumentRecord, 'decision' | 'lastUsedAt'>

/** True when an IAT record can still be used at `now` (seconds). */
export function initialAccessTokenUsable(t: InitialAccessTokenRecord, now: number): boolean {
  return (t.expiresAt === null || t.expiresAt > now) && (t.maxUses === null || t.uses < t.maxUses)
}
