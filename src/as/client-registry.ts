import { EventEmitter } from 'node:events'
import { LRUCache } from 'lru-cache'
import { ConfigError } from '../config/resolve.js'
import { secretKeyBytes } from '../config/schema.js'
import { looksLikeClientIdUrl } from '../core/client-id-metadata-document.js'
import { openSecret } from '../core/crypto.js'
import { RegistrationError } from '../core/errors.js'
import { type OutboundFetch, OutboundFetchError } from '../core/outbound-fetch.js'
import type { Registrar } from '../core/registration.js'
import type { ClientChangeEvent } from '../core/store.js'
import { createSafeFetch } from '../net/safe-fetch.js'
import { epochSeconds } from '../shared/epoch.js'
import { type AuthenticationAttempt, ClientAuthenticator } from './client-authentication.js'
import type { ActiveClient } from './client-cache.js'
import { ClientCache } from './client-cache.js'
import { ClientKeySets } from './client-key-set.js'
import {
  type ClientAuthenticationFailureReason,
  type FailureLimitScope,
  failureReason,
  throttleScope,
} from './errors.js'
import type { ClientAuthenticationFailureLimit, FailureLimitReached } from './failure-limit.js'
import {
  type MetadataDocumentReports,
  MetadataDocumentResolver,
} from './metadata-document-resolver.js'
import { parseTrustAnchors } from './mutual-tls.js'
import { matchRedirectUri } from './redirect-uri.js'
import type {
  AuthenticateClientOptions,
  AuthenticatedClient,
  ClientAuthenticationMethod,
  ClientAuthenticationRequest,
  ClientRegistry,
  RegisteredClient,
} from './types.js'

/** Payloads of the events a {@link ClientRegistryService} emits; never a secret or an assertion. */
export interface ClientRegistryEvents {
  'client.authenticated': [{ client_id: string; method: ClientAuthenticationMethod }]
  'client.authentication_failed': [
    {
      /** The client the request named, when it named one (it may not exist). */
      client_id?: string
      /** The method tried, when the request got far enough to tell. */
      method?: string
      /** Why, for operators; the client only ever sees `invalid_client` or `invalid_request`. */
      reason: ClientAuthenticationFailureReason
      /** Which check failed, when there is more to say than the reason. */
      detail?: string
      error: string
      status: number
      /** The source address the host passed (`clientAddress`). */
      address?: string
    },
  ]
  /** A Client ID Metadata Document client was refused, before or after a fetch (issue 11). */
  'metadata_document.refused': [Parameters<MetadataDocumentReports['refused']>[0]]
  /** A document was fetched and accepted; the copy is used until `expires_at`. */
  'metadata_document.fetched': [Parameters<MetadataDocumentReports['fetched']>[0]]
  /** A refetched document differs from the copy it replaces (CIMD-BP-22). */
  'metadata_document.changed': [Parameters<MetadataDocumentReports['changed']>[0]]
  /** The origin failed transiently; the expired copy is served until `stale_until`. */
  'metadata_document.stale': [Parameters<MetadataDocumentReports['stale']>[0]]
  /** A URL accepted with a warning (a path of `/`, CIMD-3-c). */
  'metadata_document.warning': [Parameters<MetadataDocumentReports['warning']>[0]]
  /**
   * An attempt refused (429) by `clientAuthentication.failureLimit` before its credentials were
   * checked (RFC 6749 §2.3.1).
   */
  'client.authentication_throttled': [
    {
      client_id?: string
      address?: string
      scope: FailureLimitScope
      retry_after: number
    },
  ]
  /** A key's failures just reached its limit: once per key and window, not once per attempt. */
  'client.authentication_limit_reached': [FailureLimitReached]
}

/** Options of {@link createClientRegistry}. */
export interface CreateClientRegistryOptions {
  /** The registration domain: its store, configuration and issuer; its events keep caches true. */
  registrar: Registrar
  /** The SSRF-safe fetcher (`createSafeFetch`) for clients' `jwks_uri`; without it they fail. */
  fetch?: OutboundFetch
  /** PEM of the CAs `tls_client_auth` certificates must be issued by (RFC 8705 §2.1). */
  tlsClientAuthTrustAnchors?: string | Buffer
  /**
   * The fetcher for Client ID Metadata Documents (`clientIdMetadataDocuments.enabled`): SSRF-safe,
   * no redirects, the documents' size cap and deadline. Default: built from the configuration
   * (`fetch.allowedAddresses`; pass one built with `ca` for a private or test CA).
   */
  metadataDocumentFetch?: OutboundFetch
  /** Seconds since the epoch; for tests. */
  clock?: () => number
  /** Brute-force protection (`clientAuthentication.failureLimit`); none without it. */
  failureLimit?: ClientAuthenticationFailureLimit
}

/** A use is written at most this often per client (seconds). */
const USE_INTERVAL = 60
/** Ids longer than any client_id Registrar issues or a metadata document URL may be. */
const MAX_CLIENT_ID = 2048
/** How soon a failed change-feed subscription is tried again, ms. */
const WATCH_RETRY_MS = 1000
/** Longer than any IP address with a zone; a host's odd value is cut, not stored whole. */
const MAX_ADDRESS = 64

/**
 * The AS side of Registrar ({@link ClientRegistry}) over the registration domain's store, with the
 * in-process client cache, client authentication and its events.
 *
 * Cache bound: a change made through this process (RFC 7592 update or delete, any write through the
 * same store object: approval, deletion) is seen at once. On PostgreSQL, a change made by any other
 * process is seen as soon as its `NOTIFY` arrives (well within a second), and while the
 * notification connection is down the cache is bypassed. On SQLite and memory, a change made by
 * another process (the admin CLI on the same SQLite file) is seen within
 * `clientAuthentication.clientCacheTtlMs` (an unknown id within at most one second).
 */
export class ClientRegistryService
  extends EventEmitter<ClientRegistryEvents>
  implements ClientRegistry
{
  readonly issuer: string
  readonly #registrar: Registrar
  readonly #cache: ClientCache
  /** Resolves Client ID Metadata Document URLs; absent unless enabled. */
  readonly metadataDocuments: MetadataDocumentResolver | undefined
  readonly #authenticator: ClientAuthenticator
  readonly #now: () => number
  readonly #secretKey: Buffer | undefined
  readonly #failureLimit: ClientAuthenticationFailureLimit | undefined
  readonly #recentUses = new LRUCache<string, number>({ max: 10_000 })
  readonly #unsubscribe: (() => void | Promise<void>)[] = []
  #watching: Promise<void> | undefined
  #closed = false

  constructor(options: CreateClientRegistryOptions) {
    super()
    const { registrar } = options
    const { config, store } = registrar
    const settings = config.clientAuthentication
    this.issuer = registrar.issuer
    this.#registrar = registrar
    this.#now = options.clock ?? epochSeconds
    const failureLimit = options.failureLimit
    this.#failureLimit = failureLimit
    this.#cache = new ClientCache({
      load: (id) => store.findClient(id),
      ttlMs: settings.clientCacheTtlMs,
    })
    const key = config.registration.secretEncryptionKey
    this.#secretKey = key === undefined ? undefined : secretKeyBytes(key)
    const fetch =
      options.fetch ??
      (() =>
        Promise.reject(
          new OutboundFetchError('outbound fetching is not configured on this server'),
        ))
    const tokenEndpoint = config.metadata.token_endpoint
    this.#authenticator = new ClientAuthenticator({
      issuer: registrar.issuer,
      tokenEndpoint: typeof tokenEndpoint === 'string' ? tokenEndpoint : undefined,
      strictMethod: settings.strictMethod,
      strictAudience: settings.strictAudience,
      maxAssertionLifetime: settings.maxAssertionLifetime,
      clockSkew: settings.clockSkew,
      maxBodyBytes: config.limits.maxBodyBytes,
      signingAlgorithms: registrar.rules.token_endpoint_auth_signing_alg_values_supported,
      lookup: (id) => this.#lookup(id),
      store,
      keys: new ClientKeySets({
        fetch,
        cooldownSeconds: config.softwareStatement.keyRefreshCooldown,
      }),
      secretKey: this.#secretKey,
      ...(failureLimit && {
        admit: (clientId: string, address: string | undefined) =>
          failureLimit.admitClient(clientId, address),
      }),
      trustAnchors: trustAnchors(
        options.tlsClientAuthTrustAnchors,
        registrar.rules.token_endpoint_auth_methods_supported.includes('tls_client_auth'),
      ),
      now: this.#now,
    })
    const cimd = config.clientIdMetadataDocuments
    this.metadataDocuments = cimd.enabled
      ? new MetadataDocumentResolver({
          registrar,
          fetch:
            options.metadataDocumentFetch ??
            createSafeFetch({
              timeoutMs: cimd.timeoutMs,
              maxBytes: cimd.maxBytes,
              maxRedirects: 0,
              allowedAddresses: config.fetch.allowedAddresses,
            }),
          now: this.#now,
          cacheTtlMs: settings.clientCacheTtlMs,
          reports: {
            refused: (e) => this.emit('metadata_document.refused', e),
            fetched: (e) => this.emit('metadata_document.fetched', e),
            changed: (e) => this.emit('metadata_document.changed', e),
            stale: (e) => this.emit('metadata_document.stale', e),
            warning: (e) => this.emit('metadata_document.warning', e),
          },
        })
      : undefined
    // changes through this process's domain, whatever the store can tell
    const onChange = ({ client_id }: { client_id: string }) => {
      this.#cache.invalidate(client_id)
      this.metadataDocuments?.invalidate(client_id)
    }
    for (const event of ['registration.created', 'registration.updated', 'registration.deleted']) {
      const name = event as 'registration.updated'
      registrar.on(name, onChange)
      this.#unsubscribe.push(() => {
        registrar.off(name, onChange)
      })
    }
    this.#watch()
  }

  /**
   * Subscribes to the store's change feed. Until it is live (and whenever it reports `lost`) the
   * cache is bypassed: a lookup then reads the store, so nothing stale is served.
   */
  #watch(): void {
    const store = this.#registrar.store
    if (!store.watchClientChanges) return
    this.#cache.trusted = false
    const listener = (event: ClientChangeEvent) => {
      if (event.type === 'changed') {
        this.#cache.invalidate(event.clientId)
        this.metadataDocuments?.invalidate(event.clientId)
        return
      }
      this.#cache.invalidate()
      this.metadataDocuments?.invalidate()
      this.#cache.trusted = event.type === 'resumed'
    }
    const attempt = (): Promise<void> =>
      (store.watchClientChanges as NonNullable<typeof store.watchClientChanges>)(listener).then(
        (stop) => {
          if (this.#closed) {
            stop().catch(() => {})
            return
          }
          this.#unsubscribe.push(() => stop().catch(() => {}))
          this.#cache.invalidate()
          this.#cache.trusted = true
        },
        () =>
          new Promise<void>((resolve) => {
            if (this.#closed) return resolve()
            setTimeout(() => resolve(attempt()), WATCH_RETRY_MS).unref()
          }),
      )
    this.#watching = attempt()
  }

  /** Resolves once the cache listens to the store's change feed (immediately without one). */
  async ready(): Promise<void> {
    await this.#watching
  }

  /**
   * The client, or `undefined` when the id names no usable client: unknown, deleted, disabled,
   * awaiting approval (any status but `active`). Rejects only when the store cannot answer (503).
   */
  async getClient(clientId: string): Promise<RegisteredClient | undefined> {
    return (await this.#lookup(clientId))?.client
  }

  /**
   * Stored clients first (CIMD-BP-25: a stored client whose id is an https URL is never fetched),
   * then, when enabled, a Client ID Metadata Document for an https URL.
   */
  async #lookup(clientId: string): Promise<ActiveClient | undefined> {
    if (!usableId(clientId)) return undefined
    // a document client held in process: every change that could make it a stored client, or
    // refuse it, invalidates this copy first (registration events, the store's change feed)
    const documents = this.metadataDocuments
    const held = documents && looksLikeClientIdUrl(clientId) && documents.cached(clientId)
    if (held) return held
    const stored = await this.#cache.get(clientId)
    if (stored || !this.metadataDocuments || !looksLikeClientIdUrl(clientId)) return stored
    return this.metadataDocuments.resolve(clientId)
  }

  async authenticateClient(
    request: Request | ClientAuthenticationRequest,
    options: AuthenticateClientOptions = {},
  ): Promise<AuthenticatedClient> {
    const attempt: AuthenticationAttempt = {}
    const address =
      typeof options.clientAddress === 'string' && options.clientAddress !== ''
        ? options.clientAddress.slice(0, MAX_ADDRESS)
        : undefined
    try {
      // RFC 6749 §2.3.1: an address over its limit is refused before anything is read
      await this.#failureLimit?.admitAddress(address)
      const authenticated = await this.#authenticator.authenticate(
        request,
        options,
        attempt,
        address,
      )
      this.emit('client.authenticated', {
        client_id: authenticated.client.client_id,
        method: authenticated.method,
      })
      return authenticated
    } catch (err) {
      if (err instanceof RegistrationError) {
        const clientId = attempt.clientId?.slice(0, 256)
        const scope = throttleScope(err)
        if (scope !== undefined) {
          this.emit('client.authentication_throttled', {
            ...(clientId !== undefined && { client_id: clientId }),
            ...(address !== undefined && { address }),
            scope,
            retry_after: Number(err.headers?.['retry-after']),
          })
        }
        const reason = failureReason(err)
        if (reason !== undefined) {
          this.emit('client.authentication_failed', {
            ...(clientId !== undefined && { client_id: clientId }),
            ...(attempt.method !== undefined && { method: attempt.method }),
            reason,
            ...(attempt.detail !== undefined && { detail: attempt.detail }),
            error: err.error,
            status: err.status,
            ...(address !== undefined && { address }),
          })
          await this.#countFailure(err, reason, attempt.clientId, address)
        }
      }
      throw err
    }
  }

  /**
   * A failed authentication counts towards the limits (RFC 6749 §2.3.1): every `invalid_client`,
   * whether the client exists or not (AS-BP-06), but not a malformed request (400) nor keys this
   * server could not fetch (the client's credential was never tried).
   */
  async #countFailure(
    err: RegistrationError,
    reason: ClientAuthenticationFailureReason,
    clientId: string | undefined,
    address: string | undefined,
  ): Promise<void> {
    if (!this.#failureLimit || err.error !== 'invalid_client' || reason === 'keys_unavailable') {
      return
    }
    let reached: FailureLimitReached[]
    try {
      reached = await this.#failureLimit.countFailure(clientId, address)
    } catch {
      return // a limiter fault never hides the refusal it was counting
    }
    for (const limit of reached) {
      this.emit('client.authentication_limit_reached', {
        ...limit,
        ...(limit.client_id !== undefined && { client_id: limit.client_id.slice(0, 256) }),
      })
    }
  }

  matchRedirectUri(client: RegisteredClient, redirectUri: string | undefined): string | undefined {
    return matchRedirectUri(client, redirectUri)
  }

  /**
   * Records that the client was used now, at most once a minute per client: skipped in process
   * when this instance wrote within the minute, and a conditional write otherwise, so N instances
   * write at most once a minute between them. Never rejects: a use that cannot be written (store
   * down) is tried again on the next call.
   */
  async recordUse(clientId: string): Promise<void> {
    if (!usableId(clientId)) return
    const now = this.#now()
    const last = this.#recentUses.get(clientId)
    if (last !== undefined && now - last < USE_INTERVAL) return
    this.#recentUses.set(clientId, now)
    try {
      const store = this.#registrar.store
      const recorded = await store.recordClientUse(clientId, now, USE_INTERVAL)
      if (!recorded && this.metadataDocuments && looksLikeClientIdUrl(clientId)) {
        await store.recordMetadataDocumentUse(clientId, now, USE_INTERVAL)
      }
    } catch {
      this.#recentUses.delete(clientId)
    }
  }

  /**
   * The plaintext of a usable client's sealed secret (those Registrar seals: `client_secret_jwt`
   * and HMAC algorithms, RFC 7518 §3.2), for an AS that signs or verifies with it; `undefined` for a
   * hashed secret, an unknown or unusable client, or a seal that does not open (fails closed).
   * Read from the store of record, never cached: the plaintext lives only as long as the caller
   * keeps it.
   */
  async symmetricSecret(clientId: string): Promise<string | undefined> {
    if (!usableId(clientId) || this.#secretKey === undefined) return undefined
    const record = await this.#registrar.store.findClient(clientId)
    if (record?.status !== 'active' || record.clientSecretEncrypted === undefined) return undefined
    try {
      return openSecret(record.clientSecretEncrypted, this.#secretKey, clientId)
    } catch {
      return undefined
    }
  }

  /** Stops listening to the Registrar and the store. */
  async close(): Promise<void> {
    this.#closed = true
    await this.#watching
    await Promise.all(this.#unsubscribe.splice(0).map((unsubscribe) => unsubscribe()))
  }
}

/**
 * An id worth asking the store about: no client has an empty or an overlong id, and such ids must
 * not fill the cache of unknown ids with large keys.
 */
function usableId(clientId: unknown): clientId is string {
  return typeof clientId === 'string' && clientId !== '' && clientId.length <= MAX_CLIENT_ID
}

/**
 * The `tls_client_auth` trust anchors. Offering the method without them, or naming a bundle without
 * a certificate, is a configuration error: no chain could ever be validated (RFC 8705 §2.1).
 */
function trustAnchors(pem: string | Buffer | undefined, offered: boolean) {
  if (pem === undefined) {
    if (!offered) return []
    throw new ConfigError(
      'clientAuthentication.tlsClientAuthCaFile',
      'is required when tls_client_auth is offered (metadata.token_endpoint_auth_methods_supported)',
    )
  }
  let anchors: ReturnType<typeof parseTrustAnchors>
  try {
    anchors = parseTrustAnchors(pem)
  } catch {
    anchors = []
  }
  if (anchors.length === 0) {
    throw new ConfigError(
      'clientAuthentication.tlsClientAuthCaFile',
      'holds no usable PEM certificate',
    )
  }
  return anchors
}

/**
 * Builds the AS-side API over a Registrar: `getClient`, `authenticateClient`, `matchRedirectUri`,
 * `recordUse`, and the `client.authenticated` / `client.authentication_failed` events.
 */
export function createClientRegistry(options: CreateClientRegistryOptions): ClientRegistryService {
  return new ClientRegistryService(options)
}
