import { sha256 } from '../core/crypto.js'
import { type RateLimiter, rateLimitKey } from '../http/rate-limit.js'
import { type FailureLimitScope, tooManyFailedAuthentications } from './errors.js'

/** A failure limit a key has just reached (reported once per key and window). */
export interface FailureLimitReached {
  scope: FailureLimitScope
  /** The client the failures named (`client` scope). */
  client_id?: string
  /** The source address, as counted (an IPv6 address as its network). */
  address?: string
  max: number
  window_seconds: number
}

/** Options of {@link ClientAuthenticationFailureLimit}. */
export interface ClientAuthenticationFailureLimitOptions {
  /** Counts failures naming one client_id from one address (`failureLimit.perClient`). */
  perClient?: RateLimiter
  /** Counts failures from one address whatever the client_id (`failureLimit.perAddress`). */
  perAddress?: RateLimiter
  /** IPv6 addresses are counted by their network of this prefix length (`rateLimit.ipv6Prefix`). */
  ipv6Prefix?: number
}

/**
 * Brute-force protection of client authentication (RFC 6749 §2.3.1: the AS "MUST protect any
 * endpoint utilizing it against brute force attacks"; as-side AS-6749-2.3.1-c). Failed
 * authentications are counted in fixed windows; once a key has `max` failures, further attempts
 * under that key are refused with 429 and `Retry-After` before any credential is checked, until
 * the window ends. Only failures count, and a success resets nothing.
 *
 * Trade-off (RFC 6749 §2.3.1 and §10.10 ask to stop credential guessing; RFC 9700 §2.5 to
 * enforce client authentication): the per-client count is keyed on client_id AND source address.
 * A count per client_id alone would let anyone who knows a client_id (public: RFC 6749 §2.2) lock
 * that client out from everywhere, for as long as they keep sending wrong secrets — the protection
 * would become the denial of service. Keyed with the address, an attacker locks the client out
 * only from the attacker's own address. What a client_id-only count would add, a cap on guesses
 * spread over many addresses, buys little against Registrar's 256-bit secrets (design.md; RFC 9700
 * §2.5 prefers asymmetric methods, which have no secret to guess), while the per-address count
 * bounds what one source tries against all clients, unknown ids included (no enumeration:
 * AS-BP-06). A host that passes no `clientAddress` gets the per-client count on client_id alone:
 * a lockout is then possible, a window at a time, which is why hosts should pass the address.
 *
 * Counts live in the limiter given: per process, or in Redis (`rateLimit.store`) so that every
 * instance sees the same counts. Concurrent attempts may each pass the check before the others
 * are counted, so a burst can exceed `max` by the requests in flight.
 */
export class ClientAuthenticationFailureLimit {
  readonly #perClient: RateLimiter | undefined
  readonly #perAddress: RateLimiter | undefined
  readonly #ipv6Prefix: number

  constructor(options: ClientAuthenticationFailureLimitOptions) {
    this.#perClient = options.perClient
    this.#perAddress = options.perAddress
    this.#ipv6Prefix = options.ipv6Prefix ?? 64
  }

  /** Before anything is read: throws 429 when the address is over its limit. */
  async admitAddress(address: string | undefined): Promise<void> {
    if (this.#perAddress === undefined || address === undefined) return
    const r = await this.#perAddress.peek(this.#addressKey(address))
    if (!r.allowed) throw tooManyFailedAuthentications('address', r.resetSeconds)
  }

  /** Once the request names a client, before its credentials are checked: 429 when over. */
  async admitClient(clientId: string, address: string | undefined): Promise<void> {
    if (this.#perClient === undefined) return
    const r = await this.#perClient.peek(this.#clientKey(clientId, address))
    if (!r.allowed) throw tooManyFailedAuthentications('client', r.resetSeconds)
  }

  /** Counts one failure; resolves the limits this failure just reached. */
  async countFailure(
    clientId: string | undefined,
    address: string | undefined,
  ): Promise<FailureLimitReached[]> {
    const reached: FailureLimitReached[] = []
    const count = async (
      limiter: RateLimiter | undefined,
      key: string,
      scope: FailureLimitScope,
    ): Promise<void> => {
      if (limiter === undefined) return
      const r = await limiter.hit(key)
      // the hit that brings the count to max exactly: later ones are refused before counting
      if (!r.allowed || r.remaining > 0) return
      reached.push({
        scope,
        ...(scope === 'client' && clientId !== undefined && { client_id: clientId }),
        ...(address !== undefined && { address: rateLimitKey(address, this.#ipv6Prefix) }),
        max: limiter.limit,
        window_seconds: limiter.windowSeconds,
      })
    }
    await Promise.all([
      clientId === undefined
        ? undefined
        : count(this.#perClient, this.#clientKey(clientId, address), 'client'),
      address === undefined
        ? undefined
        : count(this.#perAddress, this.#addressKey(address), 'address'),
    ])
    return reached
  }

  async close(): Promise<void> {
    await Promise.all([this.#perClient?.close(), this.#perAddress?.close()])
  }

  #addressKey(address: string): string {
    return `client-auth:address:${rateLimitKey(address, this.#ipv6Prefix)}`
  }

  // hashed: client_ids come from the request (up to 2048 characters for a metadata document URL)
  #clientKey(clientId: string, address: string | undefined): string {
    const where = address === undefined ? null : rateLimitKey(address, this.#ipv6Prefix)
    return `client-auth:client:${sha256(JSON.stringify([clientId, where]))}`
  }
}
