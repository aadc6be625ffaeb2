import type { ClientRecord } from '../core/store.js'
import type { RegisteredClient } from './types.js'

/**
 * The client as the AS sees it: what RFC 7591 §3.2.1 returns plus our lifecycle fields, and never
 * a hash, a sealed secret or a token. Deep-frozen, because one object is shared by every caller of
 * a cached lookup: a caller that could change it would change it for all.
 */
export function registeredClient(record: ClientRecord): RegisteredClient {
  return deepFreeze({
    client_id: record.client_id,
    client_id_issued_at: record.client_id_issued_at,
    ...(record.client_secret_expires_at !== undefined && {
      client_secret_expires_at: record.client_secret_expires_at,
    }),
    metadata: structuredClone(record.metadata),
    source: 'registration',
    ...(record.policy !== undefined && { policy: record.policy }),
    ...(record.lastUsedAt !== undefined && { lastUsedAt: record.lastUsedAt }),
  } satisfies RegisteredClient)
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const member of Object.values(value)) deepFreeze(member)
  }
  return value
}
