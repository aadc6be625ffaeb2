import { openSecret, sealSecret } from '../core/crypto.js'
import { RegistrationError } from '../core/errors.js'

/**
 * Pagination cursors of the admin API: the position after the last item of a page and the query
 * it belongs to, sealed with AES-256-GCM. Opaque (clients cannot read or build one) and
 * tamper-proof (a changed cursor fails to open), so a cursor can carry a position the store trusts.
 */
export class CursorSealer {
  readonly #key: Buffer

  constructor(key: Buffer) {
    this.#key = key
  }

  /** A cursor for `position` within the listing `kind` under `query` (its filters). */
  seal(kind: string, query: object, position: unknown): string {
    return sealSecret(JSON.stringify({ q: fingerprint(query), p: position }), this.#key, aad(kind))
  }

  /**
   * The position of a cursor made by {@link seal} for the same `kind` and `query`; a 400
   * `invalid_request` for anything else (tampered, truncated, another listing or other filters).
   */
  open(kind: string, query: object, cursor: string): unknown {
    // base64url decoding ignores stray trailing bits: only the canonical spelling is ours
    if (!canonical(cursor)) throw invalidCursor()
    let payload: { q?: unknown; p?: unknown }
    try {
      payload = JSON.parse(openSecret(cursor, this.#key, aad(kind)))
    } catch {
      throw invalidCursor()
    }
    if (payload.q !== fingerprint(query)) throw invalidCursor()
    return payload.p
  }
}

export function invalidCursor(): RegistrationError {
  return new RegistrationError(
    'invalid_request',
    'the cursor is invalid: use the next_cursor of a response to the same query, unchanged',
  )
}

function canonical(cursor: string): boolean {
  const parts = cursor.split('.')
  return (
    parts.length === 4 &&
    parts[0] === 'v1' &&
    parts
      .slice(1)
      .every(
        (p) =>
          /^[A-Za-z0-9_-]+$/.test(p) && Buffer.from(p, 'base64url').toString('base64url') === p,
      )
  )
}

function aad(kind: string): string {
  return `registrar admin cursor ${kind}`
}

/** The filters of a query, in a stable order, absent ones left out. */
function fingerprint(query: object): string {
  return JSON.stringify(
    Object.entries(query)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  )
}
