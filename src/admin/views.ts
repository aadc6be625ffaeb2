import {
  type AdminTokenRecord,
  type AuditEntry,
  type ClientRecord,
  type InitialAccessTokenRecord,
  initialAccessTokenUsable,
  type MetadataDocumentRecord,
  registrationSource,
} from '../core/store.js'

/**
 * What an operator sees of a client (admin API, `registrar clients show`/`list --json`):
 * everything but credential hashes and sealed secrets.
 */
export function clientView(c: ClientRecord): Record<string, unknown> {
  return {
    client_id: c.client_id,
    status: c.status,
    source: registrationSource(c),
    ...(c.policy !== undefined && { policy: c.policy }),
    ...(c.initialAccessTokenId !== undefined && {
      initial_access_token_id: c.initialAccessTokenId,
    }),
    client_id_issued_at: c.client_id_issued_at,
    ...(c.client_secret_expires_at !== undefined && {
      client_secret_expires_at: c.client_secret_expires_at,
    }),
    updated_at: c.updatedAt,
    ...(c.lastUsedAt !== undefined && { last_used_at: c.lastUsedAt }),
    version: c.version,
    metadata: c.metadata,
    ...(c.software_statement !== undefined && { software_statement: c.software_statement }),
  }
}

/**
 * The status of a metadata document client as an operator sees it: `blocked` (clients block),
 * `pending` (a requireApproval policy, not yet approved), `failing` (no usable copy, the last fetch
 * failed), `active` otherwise.
 */
export function metadataDocumentStatus(
  d: MetadataDocumentRecord,
  requireApproval: boolean,
  now: number,
): 'active' | 'pending' | 'blocked' | 'failing' {
  if (d.decision === 'blocked') return 'blocked'
  if (requireApproval && d.decision !== 'approved') return 'pending'
  const usable = d.metadata !== undefined && Math.max(d.expiresAt ?? 0, d.staleUntil ?? 0) > now
  if (!usable && d.failure !== undefined) return 'failing'
  return 'active'
}

/**
 * What an operator sees of a Client ID Metadata Document client (`registrar clients show URL`,
 * `list --json`, the admin API): its source, last fetch, cache expiry, last use and the copy in use.
 */
export function metadataDocumentView(
  d: MetadataDocumentRecord,
  requireApproval: boolean,
  now: number,
): Record<string, unknown> {
  return {
    client_id: d.client_id,
    status: metadataDocumentStatus(d, requireApproval, now),
    source: 'metadata_document',
    ...(d.decision !== undefined && { decision: d.decision }),
    ...(d.policy !== undefined && { policy: d.policy }),
    ...(d.fetchedAt !== undefined && { last_fetch: d.fetchedAt }),
    ...(d.expiresAt !== undefined && { cache_expires_at: d.expiresAt }),
    ...(d.staleUntil !== undefined && { stale_until: d.staleUntil }),
    ...(d.bytes !== undefined && { bytes: d.bytes }),
    ...(d.lastUsedAt !== undefined && { last_used_at: d.lastUsedAt }),
    ...(d.failure !== undefined && { last_failure: d.failure }),
    ...(d.metadata !== undefined && { metadata: d.metadata }),
  }
}

/** An initial access token as listed (admin API, `registrar token list --json`): never the token, nor its hash. */
export function initialAccessTokenView(
  t: InitialAccessTokenRecord,
  now: number,
): Record<string, unknown> {
  return {
    id: t.id,
    created_at: t.createdAt,
    expires_at: t.expiresAt,
    uses: t.uses,
    max_uses: t.maxUses,
    usable: initialAccessTokenUsable(t, now),
    ...(t.policy !== undefined && { policy: t.policy }),
    ...(t.description !== undefined && { description: t.description }),
  }
}

/** An admin token as listed: never the token, nor its hash. */
export function adminTokenView(t: AdminTokenRecord): Record<string, unknown> {
  return {
    id: t.id,
    created_at: t.createdAt,
    expires_at: t.expiresAt,
    read_only: t.readOnly,
    ...(t.description !== undefined && { description: t.description }),
  }
}

/** An audit entry on the wire (it holds no credential to begin with). */
export function auditEntryView(e: AuditEntry): Record<string, unknown> {
  return {
    id: e.id,
    at: e.at,
    event: e.event,
    ...(e.client_id !== undefined && { client_id: e.client_id }),
    actor: e.actor,
    ...(e.changes !== undefined && { changes: e.changes }),
    ...(e.details !== undefined && { details: e.details }),
  }
}
