import type { ClientMetadata } from './client-metadata.js'

/**
 * A registered client as persisted. Spec fields keep their RFC spelling; our own fields are
 * camelCase. Credentials are never stored in the clear: the registration access token and the
 * client secret as SHA-256 hashes, or the secret encrypted when the AS needs it as an HMAC key
 * (design §4).
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
  /** `disabled` clients wait for an operator's approval (registration policies). */
  status: 'active' | 'disabled'
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
  /** Atomically: exists, not expired, uses < maxUses → uses += 1 and return it; else undefined. */
  consumeInitialAccessToken(
    tokenHash: string,
    now: number,
  ): Promise<InitialAccessTokenRecord | undefined>
  listInitialAccessTokens(): Promise<InitialAccessTokenRecord[]>
  revokeInitialAccessToken(id: string): Promise<boolean>

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

  /** Resolves when the store answers; used by /healthz. */
  ping(): Promise<void>
  close(): Promise<void>
}

/** True when an IAT record can still be used at `now` (seconds). */
export function initialAccessTokenUsable(t: InitialAccessTokenRecord, now: number): boolean {
  return (t.expiresAt === null || t.expiresAt > now) && (t.maxUses === null || t.uses < t.maxUses)
}
