import type { RegistrarConfig } from '../config/schema.js'
import type { Store } from '../core/store.js'

/**
 * Opens a store by URL and applies pending migrations: `memory`, `sqlite:PATH`, or
 * `postgres://…` (the driver is loaded only then).
 */
export async function openStore(
  url: string,
  options: { postgres?: RegistrarConfig['postgres'] } = {},
): Promise<Store> {
  if (url === 'memory') {
    const { MemoryStore } = await import('./memory.js')
    return new MemoryStore()
  }
  if (url.startsWith('sqlite:')) {
    const { SqliteStore } = await import('./sqlite.js')
    return new SqliteStore(url.slice('sqlite:'.length))
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const { openPostgresStore } = await import('./postgres.js')
    return openPostgresStore(url, options.postgres)
  }
  throw new Error(`unknown store '${url}': use memory, sqlite:PATH or postgres://…`)
}

/**
 * A store URL fit for a log line: a PostgreSQL URL may carry a password in its user information
 * and in the `password` / `sslpassword` query parameters (libpq connection URIs, RFC 3986 §3.2.1).
 */
export function redactStoreUrl(url: string): string {
  return url
    .replace(/\/\/([^:/@?#]*):[^@/?#]*@/, '//$1:***@')
    .replace(/([?&](?:ssl)?password=)[^&#]*/gi, '$1***')
}
