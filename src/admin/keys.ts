import { hkdfSync, randomBytes } from 'node:crypto'
import { secretKeyBytes } from '../config/schema.js'

/**
 * The keys of the admin surface, each derived from `admin.secretKey` for one purpose (HKDF,
 * RFC 5869), so a value sealed for one purpose never opens as another: pagination cursors and
 * console sessions. Without a configured key, a random one for this process.
 */
export interface AdminKeys {
  /** Seals pagination cursors (opaque and tamper-proof). */
  cursor: Buffer
  /** Seals console session cookies. */
  session: Buffer
  /** Derives a session's CSRF token. */
  csrf: Buffer
  /** True when the key is random per process (sessions and cursors die with it). */
  ephemeral: boolean
}

export function adminKeys(secretKey: string | undefined): AdminKeys {
  const master =
    (secretKey === undefined ? undefined : secretKeyBytes(secretKey)) ?? randomBytes(32)
  const derive = (purpose: string) =>
    Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `registrar admin ${purpose}`, 32))
  return {
    cursor: derive('cursor'),
    session: derive('session'),
    csrf: derive('csrf'),
    ephemeral: secretKey === undefined,
  }
}
