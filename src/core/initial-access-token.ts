import { epochSeconds } from '../shared/epoch.js'
import { randomId, randomToken, sha256 } from './crypto.js'
import type { InitialAccessTokenRecord, Store } from './store.js'

/**
 * Issues an initial access token (RFC 7591 §1.2, §3): a 256-bit bearer token that authorizes
 * registrations. Only its SHA-256 is stored; the token itself is returned once.
 *
 * @see [RFC 7591 §3](https://www.rfc-editor.org/rfc/rfc7591.html#section-3)
 */
export async function createInitialAccessToken(
  store: Store,
  options: {
    maxUses?: number | null
    expiresIn?: number | null
    policy?: string
    description?: string
    now?: number
  } = {},
): Promise<{ token: string; record: InitialAccessTokenRecord }> {
  const now = options.now ?? epochSeconds()
  const token = randomToken()
  const record: InitialAccessTokenRecord = {
    id: randomId(9),
    tokenHash: sha256(token),
    createdAt: now,
    expiresAt: options.expiresIn == null ? null : now + options.expiresIn,
    maxUses: options.maxUses ?? null,
    uses: 0,
    ...(options.policy !== undefined && { policy: options.policy }),
    ...(options.description !== undefined && { description: options.description }),
  }
  await store.createInitialAccessToken(record)
  return { token, record }
}
