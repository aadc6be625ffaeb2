import type { ClientRecord, InitialAccessTokenRecord } from '../core/store.js'

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
  /** Written only by recordClientUse (migration 002). */
  last_used_at?: number | string | null
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
    // as written: a status this code does not know must never read as 'active' (fail closed)
    status: r.status as ClientRecord['status'],
    ...(r.policy !== null && { policy: r.policy }),
    ...(r.initial_access_token_id !== null && { initialAccessTokenId: r.initial_access_token_id }),
    updatedAt: Number(r.updated_at),
    version: Number(r.version),
    ...(r.last_used_at !== undefined &&
      r.last_used_at !== null && { lastUsedAt: Number(r.last_used_at) }),
  }
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
