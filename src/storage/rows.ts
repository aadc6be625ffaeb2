import {
  type AdminTokenRecord,
  type AuditEntry,
  type ClientCount,
  type ClientPosition,
  type ClientQuery,
  type ClientRecord,
  type ClientStatus,
  clientPosition,
  type InitialAccessTokenRecord,
  type MetadataDocumentCache,
  type MetadataDocumentRecord,
  type PreviousClientSecret,
  type RegistrationSource,
} from '../core/store.js'

/** A `clients` row as both SQL stores read and write it. */
export interface ClientRow {
  client_id: string
  client_id_issued_at: number | string
  client_secret_expires_at: number | string | null
  client_secret_hash: string | null
  client_secret_encrypted: string | null
  registration_access_token_hash: string
  metadata: string
  software_statement: string | null
  status: string
  policy: string | null
  initial_access_token_id: string | null
  updated_at: number | string
  version: number
  /** Written only by recordClientUse (migration 004). */
  last_used_at?: number | string | null
  /** Migration 006: the secrets renewals replaced, still valid, as a JSON array. */
  previous_client_secrets: string | null
}

export interface InitialAccessTokenRow {
  id: string
  token_hash: string
  created_at: number | string
  expires_at: number | string | null
  max_uses: number | null
  uses: number
  policy: string | null
  description: string | null
}

/** Column order used by INSERT and UPDATE statements. */
export const CLIENT_COLUMNS = [
  'client_id',
  'client_id_issued_at',
  'client_secret_expires_at',
  'client_secret_hash',
  'client_secret_encrypted',
  'registration_access_token_hash',
  'metadata',
  'software_statement',
  'status',
  'policy',
  'initial_access_token_id',
  'updated_at',
  'version',
  'previous_client_secrets',
] as const

export function clientToRow(c: ClientRecord): unknown[] {
  return [
    c.client_id,
    c.client_id_issued_at,
    c.client_secret_expires_at ?? null,
    c.clientSecretHash ?? null,
    c.clientSecretEncrypted ?? null,
    c.registrationAccessTokenHash,
    JSON.stringify(c.metadata),
    c.software_statement ?? null,
    c.status,
    c.policy ?? null,
    c.initialAccessTokenId ?? null,
    c.updatedAt,
    c.version,
    c.previousClientSecrets?.length ? JSON.stringify(c.previousClientSecrets) : null,
  ]
}

export function rowToClient(r: ClientRow): ClientRecord {
  return {
    client_id: r.client_id,
    client_id_issued_at: Number(r.client_id_issued_at),
    ...(r.client_secret_expires_at !== null && {
      client_secret_expires_at: Number(r.client_secret_expires_at),
    }),
    ...(r.client_secret_hash !== null && { clientSecretHash: r.client_secret_hash }),
    ...(r.client_secret_encrypted !== null && { clientSecretEncrypted: r.client_secret_encrypted }),
    registrationAccessTokenHash: r.registration_access_token_hash,
    metadata: JSON.parse(r.metadata),
    ...(r.software_statement !== null && { software_statement: r.software_statement }),
    // a status this code does not know reads as 'disabled': never as 'active' (fail closed)
    status: statusOf(r.status),
    ...(r.policy !== null && { policy: r.policy }),
    ...(r.initial_access_token_id !== null && { initialAccessTokenId: r.initial_access_token_id }),
    updatedAt: Number(r.updated_at),
    version: Number(r.version),
    ...(r.last_used_at !== undefined &&
      r.last_used_at !== null && { lastUsedAt: Number(r.last_used_at) }),
    ...(r.previous_client_secrets !== null && {
      previousClientSecrets: previousSecrets(r.previous_client_secrets),
    }),
  }
}

/** The JSON of `previous_client_secrets`, keeping only well-formed entries (fails closed). */
function previousSecrets(json: string): PreviousClientSecret[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch {
    return []
  }
  if (!Array.isArray(parsed)) return []
  return parsed.flatMap((e: Partial<PreviousClientSecret> | null) =>
    e !== null &&
    typeof e === 'object' &&
    typeof e.expiresAt === 'number' &&
    (typeof e.hash === 'string' || typeof e.encrypted === 'string')
      ? [
          {
            ...(typeof e.hash === 'string' && { hash: e.hash }),
            ...(typeof e.encrypted === 'string' && { encrypted: e.encrypted }),
            expiresAt: e.expiresAt,
          },
        ]
      : [],
  )
}

/**
 * SQL condition of an idle client (`IdleClientQuery`) at the cut-off parameter `cutoff`: active,
 * not used since, not registered, updated or approved since.
 */
export function idleSql(cutoff: string): string {
  return `status = 'active' AND updated_at < ${cutoff}
    AND (last_used_at IS NULL OR last_used_at < ${cutoff})`
}

export function tokenToRow(t: InitialAccessTokenRecord): unknown[] {
  return [
    t.id,
    t.tokenHash,
    t.createdAt,
    t.expiresAt,
    t.maxUses,
    t.uses,
    t.policy ?? null,
    t.description ?? null,
  ]
}

export function rowToToken(r: InitialAccessTokenRow): InitialAccessTokenRecord {
  return {
    id: r.id,
    tokenHash: r.token_hash,
    createdAt: Number(r.created_at),
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
    maxUses: r.max_uses === null ? null : Number(r.max_uses),
    uses: Number(r.uses),
    ...(r.policy !== null && { policy: r.policy }),
    ...(r.description !== null && { description: r.description }),
  }
}

export interface AuditEntryRow {
  id: number | string
  at: number | string
  event: string
  client_id: string | null
  actor_type: string
  actor_id: string | null
  actor_address: string | null
  changes: string | null
  details: string | null
}

/** Columns written by an audit INSERT (the id is the database's). */
export const AUDIT_COLUMNS = [
  'at',
  'event',
  'client_id',
  'actor_type',
  'actor_id',
  'actor_address',
  'changes',
  'details',
] as const

export function auditEntryToRow(e: Omit<AuditEntry, 'id'>): unknown[] {
  return [
    e.at,
    e.event,
    e.client_id ?? null,
    e.actor.type,
    e.actor.id ?? null,
    e.actor.address ?? null,
    e.changes === undefined ? null : JSON.stringify(e.changes),
    e.details === undefined ? null : JSON.stringify(e.details),
  ]
}

export function rowToAuditEntry(r: AuditEntryRow): AuditEntry {
  return {
    id: Number(r.id),
    at: Number(r.at),
    event: r.event as AuditEntry['event'],
    ...(r.client_id !== null && { client_id: r.client_id }),
    actor: {
      type: r.actor_type as AuditEntry['actor']['type'],
      ...(r.actor_id !== null && { id: r.actor_id }),
      ...(r.actor_address !== null && { address: r.actor_address }),
    },
    ...(r.changes !== null && { changes: JSON.parse(r.changes) }),
    ...(r.details !== null && { details: JSON.parse(r.details) }),
  }
}

export interface AdminTokenRow {
  id: string
  token_hash: string
  created_at: number | string
  expires_at: number | string | null
  read_only: number | boolean
  description: string | null
}

export function adminTokenToRow(t: AdminTokenRecord): unknown[] {
  return [t.id, t.tokenHash, t.createdAt, t.expiresAt, t.readOnly, t.description ?? null]
}

export function rowToAdminToken(r: AdminTokenRow): AdminTokenRecord {
  return {
    id: r.id,
    tokenHash: r.token_hash,
    createdAt: Number(r.created_at),
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
    readOnly: r.read_only === true || r.read_only === 1,
    ...(r.description !== null && { description: r.description }),
  }
}

/**
 * Matching of {@link ClientQuery.search} outside SQL (the memory store): the same members and the
 * same ASCII-only case folding as the SQL stores' `lower()`.
 */
export function matchesSearch(c: ClientRecord, search: string): boolean {
  const needle = asciiLower(search)
  const name = c.metadata.client_name
  return (
    asciiLower(c.client_id).includes(needle) ||
    (typeof name === 'string' && asciiLower(name).includes(needle)) ||
    (c.metadata.redirect_uris ?? []).some((u) => asciiLower(u).includes(needle))
  )
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase())
}

/** A stored status; an unknown one is never usable (fail closed). */
export function statusOf(status: string): ClientStatus {
  return status === 'active' || status === 'pending' ? status : 'disabled'
}

/** `CASE` expression giving a row's RegistrationSource, as `registrationSource()` does. */
export const SOURCE_SQL = `CASE WHEN software_statement IS NOT NULL THEN 'software_statement'
  WHEN initial_access_token_id IS NOT NULL THEN 'initial_access_token' ELSE 'anonymous' END`

/** `CASE` expression giving a row's ClientPosition rank, as `clientPosition()` does. */
export const RANK_SQL = `CASE status WHEN 'pending' THEN 0 ELSE 1 END`

/** Rows read per round trip while a search scans. */
const SEARCH_BATCH = 500

/**
 * {@link ClientQuery.search} in the SQL stores. Metadata is JSON text written by registrants, and
 * PostgreSQL's JSON operators fail on some of what JSON allows (`\u0000`, lone surrogates), so the
 * SQL filters by status, policy and source in order and the search is matched here, a batch at a
 * time, until the page is full or the clients run out.
 */
export async function searchClients(
  query: ClientQuery & { search: string },
  page: (after: ClientPosition | undefined, limit: number) => Promise<ClientRecord[]>,
): Promise<ClientRecord[]> {
  const out: ClientRecord[] = []
  let after = query.after
  for (;;) {
    const rows = await page(after, SEARCH_BATCH)
    for (const c of rows) {
      if (!matchesSearch(c, query.search)) continue
      out.push(c)
      if (out.length === query.limit) return out
    }
    const last = rows.at(-1)
    if (rows.length < SEARCH_BATCH || last === undefined) return out
    after = clientPosition(last)
  }
}

/** Grouped counts by stored status; unknown statuses count as `disabled`, as they read. */
export function mergeCounts(
  rows: { status: string; source: string; n: number | string }[],
): ClientCount[] {
  const counts = new Map<string, ClientCount>()
  for (const r of rows) {
    const status = statusOf(r.status)
    const source = r.source as RegistrationSource
    const key = `${status} ${source}`
    const c = counts.get(key) ?? { status, source, count: 0 }
    c.count += Number(r.n)
    counts.set(key, c)
  }
  return [...counts.values()]
}

/** A `metadata_documents` row (migration 005). */
export interface MetadataDocumentRow {
  client_id: string
  cache: string | null
  decision: string | null
  last_used_at: number | string | null
}

/** The columns {@link rowToMetadataDocument} reads. */
export const METADATA_DOCUMENT_COLUMNS = 'client_id, cache, decision, last_used_at'

/** A `metadata_documents` row as a record; an unknown decision reads as `blocked` (fail closed). */
export function rowToMetadataDocument(row: MetadataDocumentRow): MetadataDocumentRecord {
  return {
    ...(row.cache === null ? {} : (JSON.parse(row.cache) as MetadataDocumentCache)),
    client_id: row.client_id,
    ...(row.decision !== null && {
      decision: row.decision === 'approved' ? 'approved' : 'blocked',
    }),
    ...(row.last_used_at !== null && { lastUsedAt: Number(row.last_used_at) }),
  }
}
