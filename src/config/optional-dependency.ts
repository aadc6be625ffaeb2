import { createRequire } from 'node:module'
import { ConfigError } from './resolve.js'

/**
 * The drivers and extras a deployment may not need (better-sqlite3, pg, ioredis, pino,
 * prom-client) are optional peer dependencies: a relying party installing `registrar/client` must
 * not compile SQLite. Each is loaded when a setting asks for it, and a missing one is a
 * ConfigError naming the setting and the install command, never a bare module-not-found trace.
 */
function missing(err: unknown, name: string): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    // the package itself, not something it failed to load in turn
    String((err as Error).message).includes(`'${name}'`)
  )
}

function configError(name: string, key: string, purpose: string): ConfigError {
  return new ConfigError(key, `${purpose} needs ${name} — npm install ${name}`)
}

/** `import(name)`, or a ConfigError on `key` when the package is not installed. */
export async function importOptional<T>(name: string, key: string, purpose: string): Promise<T> {
  try {
    return (await import(name)) as T
  } catch (err) {
    throw missing(err, name) ? configError(name, key, purpose) : err
  }
}

/** `require(name)` for a CommonJS package loaded synchronously, with the same error. */
export function requireOptional<T>(name: string, key: string, purpose: string): T {
  try {
    return createRequire(import.meta.url)(name) as T
  } catch (err) {
    throw missing(err, name) ? configError(name, key, purpose) : err
  }
}
