import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
  errors as joseErrors,
} from 'jose'
import { LRUCache } from 'lru-cache'
import type { OutboundFetch } from '../core/outbound-fetch.js'
import type { ClientMetadata } from '../metadata/types.js'

/** A client's keys, resolved for one lookup. */
export interface ClientKeys {
  /** For jose's verify functions (picks the key by `kid`, `alg`, `kty`, `use`). */
  getKey: JWTVerifyGetKey
  /** The JWK Set as currently known (fetched first when a jwks_uri was never fetched). */
  jwks(): Promise<JSONWebKeySet | undefined>
  /** Fetches a jwks_uri again, unless it was fetched within the cool-down. */
  refresh(): Promise<boolean>
}

/** A jwks_uri that could not be fetched now (or failed within the cool-down). */
export class KeysUnavailable extends Error {
  constructor(options?: { cause?: unknown }) {
    super('the client keys could not be fetched', options)
    this.name = 'KeysUnavailable'
  }
}

interface RemoteSet {
  keys: ReturnType<typeof createRemoteJWKSet>
  /** Until when (ms since the epoch) a failed fetch is not repeated. */
  failedUntil: number
}

/**
 * The public keys clients authenticate with (RFC 7523 `private_key_jwt`, RFC 8705
 * `self_signed_tls_client_auth`): the registered `jwks`, or the `jwks_uri` fetched through the
 * SSRF-safe fetcher only, cached (jose's 10 minutes), and re-fetched for an unknown `kid` at most
 * once per cool-down (AS-BP-11: the token endpoint must not become an unauthenticated fetch
 * trigger). A failed fetch is not repeated within the cool-down either.
 */
export class ClientKeySets {
  readonly #fetch: OutboundFetch
  readonly #cooldownMs: number
  readonly #remote: LRUCache<string, RemoteSet>

  constructor(options: { fetch: OutboundFetch; cooldownSeconds: number; max?: number }) {
    this.#fetch = options.fetch
    this.#cooldownMs = options.cooldownSeconds * 1000
    this.#remote = new LRUCache({ max: options.max ?? 1000 })
  }

  /** The client's keys, or undefined when it registered none. */
  for(metadata: Readonly<ClientMetadata>): ClientKeys | undefined {
    if (metadata.jwks) {
      const jwks = metadata.jwks as JSONWebKeySet
      const getKey = createLocalJWKSet(jwks)
      return { getKey, jwks: async () => jwks, refresh: async () => false }
    }
    const uri = metadata.jwks_uri
    if (uri === undefined) return undefined
    const set = this.#remoteSet(uri)
    const guarded = async <T>(run: () => Promise<T>): Promise<T> => {
      if (Date.now() < set.failedUntil) throw new KeysUnavailable()
      try {
        return await run()
      } catch (err) {
        if (isFetchFailure(err)) {
          set.failedUntil = Date.now() + this.#cooldownMs
          throw new KeysUnavailable({ cause: err })
        }
        throw err
      }
    }
    return {
      getKey: (header, token) => guarded(() => set.keys(header, token)),
      jwks: () =>
        guarded(async () => {
          if (!set.keys.fresh) await set.keys.reload()
          return set.keys.jwks()
        }),
      refresh: () =>
        guarded(async () => {
          if (set.keys.coolingDown) return false
          await set.keys.reload()
          return true
        }),
    }
  }

  #remoteSet(uri: string): RemoteSet {
    let set = this.#remote.get(uri)
    if (!set) {
      set = {
        keys: createRemoteJWKSet(new URL(uri), {
          [customFetch]: this.#fetch as never,
          cooldownDuration: this.#cooldownMs,
        }),
        failedUntil: 0,
      }
      this.#remote.set(uri, set)
    }
    return set
  }
}

/**
 * Errors of getting the document, as opposed to errors of what it holds (no matching key, a bad
 * signature): the fetcher's refusals and failures, timeouts, non-200 answers, non-JSON bodies.
 */
function isFetchFailure(err: unknown): boolean {
  if (
    err instanceof joseErrors.JWKSNoMatchingKey ||
    err instanceof joseErrors.JWKSMultipleMatchingKeys ||
    err instanceof joseErrors.JWSSignatureVerificationFailed ||
    err instanceof joseErrors.JOSENotSupported ||
    err instanceof joseErrors.JOSEAlgNotAllowed ||
    err instanceof joseErrors.JWSInvalid ||
    err instanceof joseErrors.JWTInvalid
  ) {
    return false
  }
  return true
}
