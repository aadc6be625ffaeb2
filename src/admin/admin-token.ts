import { randomId, randomToken, sha256 } from '../core/crypto.js'
import type { AdminTokenRecord, Store } from '../core/store.js'
import { epochSeconds } from '../shared/epoch.js'

/**
 * Issues an admin token for the admin API and console: a 256-bit bearer token, stored only as its
 * SHA-256 and returned once. It lives in a table of its own, so no registration access token or
 * initial access token can ever pass for one (and the reverse).
 */
export async function createAdminToken(
  store: Store,
  options: { readOnly?: boolean; expiresIn?: number; description?: string; now?: number } = {},
): Promise<{ token: string; record: AdminTokenRecord }> {
  const now = options.now ?? epochSeconds()
  const token = randomToken()
  const record: AdminTokenRecord = {
    id: randomId(9),
    tokenHash: sha256(token),
    createdAt: now,
    expiresAt: options.expiresIn === undefined ? null : now + options.expiresIn,
    readOnly: options.readOnly ?? false,
    ...(options.description !== undefined && { description: options.description }),
  }
  await store.createAdminToken(record)
  return { token, record }
}

/**
 * The admin token record of `token` if it exists and has not expired at `now`. The lookup is by
 * hash, so the time taken does not depend on how much of a guess is right.
 */
export async function verifyAdminToken(
  store: Store,
  token: string,
  now: number,
): Promise<AdminTokenRecord | undefined> {
  const record = await store.findAdminToken(sha256(token))
  if (!record || (record.expiresAt !== null && record.expiresAt <= now)) return undefined
  return record
}
