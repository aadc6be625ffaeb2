import { readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  connectionLimits,
  createNodeListener,
  listen,
  type RunningServer,
} from './adapters/node.js'
import { createWebAdapter } from './adapters/web.js'
import { type ClientRegistryService, createClientRegistry } from './as/client-registry.js'
import { ClientAuthenticationFailureLimit } from './as/failure-limit.js'
import type { ClientRegistry } from './as/types.js'
import { importOptional } from './config/optional-dependency.js'
import { resolveConfig } from './config/resolve.js'
import type { RegistrarConfig, RegistrarConfigInput } from './config/schema.js'
import { createInitialAccessToken } from './core/initial-access-token.js'
import type { OutboundFetch } from './core/outbound-fetch.js'
import { Registrar } from './core/registration.js'
import type { InitialAccessTokenRecord, Store } from './core/store.js'
import { composeRouters } from './http/admin/router.js'
import { clientIpOf } from './http/client-ip.js'
import { createRedisRateLimiter, MemoryRateLimiter, type RateLimiter } from './http/rate-limit.js'
import type { RegistrantContext } from './http/request.js'
import { type AccessLogger, createRequestRouter, type RequestRouter } from './http/router.js'
import { createSafeFetch } from './net/safe-fetch.js'
import { attachOperations, createMetrics, type Operations } from './operations.js'
import { openStore } from './storage/open-store.js'

/** Options of {@link createRegistrar}. */
export interface CreateRegistrarOptions {
  /** Configuration, as in the JSON config file; `issuer` is required. */
  config: RegistrarConfigInput
  /** A store instance, or a store URL; default: `config.store` (`sqlite:./data/registrar.db`). */
  store?: Store | string
  /**
   * A logger for the access log (a pino logger fits), or false for none. Default: pino at
   * `config.log.level`, loaded only then.
   */
  logger?: AccessLogger | false
  /** Seconds since the epoch; for tests. */
  clock?: () => number
}

/**
 * An embeddable Registrar: the domain, its router, a web-standard handler and a `node:http`
 * listener. The Express and Fastify adapters (`registrar/express`, `registrar/fastify`) take it
 * whole.
 *
 * @see [RFC 7591 §3](https://www.rfc-editor.org/rfc/rfc7591.html#section-3)
 * @see [RFC 7592 §2](https://www.rfc-editor.org/rfc/rfc7592.html#section-2)
 * @see [RFC 8414 §3](https://www.rfc-editor.org/rfc/rfc8414.html#section-3)
 */
export interface RegistrarApp extends Required<ClientRegistry> {
  /** The domain object; emits `registration.*` events. */
  readonly registrar: Registrar
  /**
   * The AS side (`getClient`, `authenticateClient`, `matchRedirectUri`, `recordUse`,
   * `symmetricSecret`, also on the app itself); emits `client.authenticated` and
   * `client.authentication_failed`.
   */
  readonly clientRegistry: ClientRegistryService
  /** The resolved, frozen configuration. */
  readonly config: Readonly<RegistrarConfig>
  /**
   * The outbound fetcher the domain uses (`jwks_uri`, `sector_identifier_uri`, issuer JWKS): the
   * SSRF-safe fetcher `fetch.*` configures unless one was injected. Integrations route their
   * libraries' own fetches through it (registrar/oidc-provider).
   */
  readonly outboundFetch: OutboundFetch
  /** The store of record (the one passed in, or the one opened from a URL). */
  readonly store: Store
  /**
   * Transport-neutral routing: `router.matches(path)` tells whether a path is Registrar's (an
   * adapter lets every other path through to its framework); `router.paths` lists them.
   */
  readonly router: RequestRouter
  /**
   * `(Request) => Promise<Response>`: mount in any fetch-based framework or runtime (Hono, Next.js
   * route handlers, Bun, Deno, Workers). It knows no client address: with
   * `rateLimit.anonymousRegistrations` on, use {@link RegistrarApp.handle} instead.
   */
  readonly fetch: (request: Request) => Promise<Response>
  /**
   * `fetch`, with the client address the platform knows (`getConnInfo(c)` in Hono,
   * `server.requestIP(request)` in Bun, `info.remoteAddr` in Deno): it keys the per-IP limit on
   * anonymous registration (RFC 7591 §3 allows open registration to be rate-limited).
   */
  readonly handle: (request: Request, context?: RegistrantContext) => Promise<Response>
  /**
   * `(req, res)`: for `http.createServer`. Paths that are not Registrar's get 404; inside Express,
   * Connect or Fastify use the adapters, which hand them back to the framework.
   */
  readonly nodeListener: (req: IncomingMessage, res: ServerResponse) => void
  /** Starts a `node:http` server on host:port. */
  listen(options?: { port?: number; host?: string }): Promise<RunningServer>
  /** Issues an initial access token (RFC 7591 §3); the token is returned once, stored hashed. */
  createInitialAccessToken(options?: {
    maxUses?: number
    expiresIn?: number
    policy?: string
  }): Promise<{ token: string; record: InitialAccessTokenRecord }>
  /** Audit trail, metrics and admin surface, as configured (`audit.*`, `metrics.*`, `admin.*`). */
  readonly operations: Operations
  /**
   * The routers configured on listeners of their own (`admin.listen`, `metrics.listen`), for
   * `registrar serve` to start; empty when they share the public listener.
   */
  readonly ownListeners: readonly {
    name: string
    host: string
    port: number
    nodeListener: (req: IncomingMessage, res: ServerResponse) => void
  }[]
  /** Closes the rate limiter's connection, and the store if this app opened it. */
  close(): Promise<void>
}

/** What {@link composeRegistrar} takes besides the configuration and the store. */
export interface RegistrarDeps {
  /** The access log; none by default. */
  logger?: AccessLogger
  /** Seconds since the epoch; for tests. */
  clock?: () => number
  /** The outbound fetcher; default: the SSRF-safe fetcher configured by `fetch.*`. */
  fetch?: OutboundFetch
  /**
   * The anonymous-registration limiter. Default: none when `rateLimit.anonymousRegistrations` is
   * 0, a per-process one for `rateLimit.store: memory`; a Redis one must be opened first
   * ({@link openRateLimiter}), since that is asynchronous.
   */
  rateLimiter?: RateLimiter
  /** Run background maintenance (the audit retention purge, the idle-expiry sweep): long-running servers only. */
  maintenance?: boolean
  /**
   * The brute-force limits of client authentication (`clientAuthentication.failureLimit`).
   * Default: per-process counts; shared through Redis they must be opened first
   * ({@link openClientAuthenticationFailureLimit}), since that is asynchronous.
   */
  failureLimit?: ClientAuthenticationFailureLimit
}

/**
 * Creates an embeddable Registrar: RFC 7591 registration and RFC 7592 management over a store,
 * with discovery, as a fetch handler and a `node:http` listener. Resolves the configuration, opens
 * the store (when given a URL) and the rate limiter, then {@link composeRegistrar}s the rest.
 *
 * @example
 * const app = await createRegistrar({ config: { issuer: 'https://as.example.com' }, store: 'memory' })
 * http.createServer(app.nodeListener).listen(3000)
 */
export async function createRegistrar(options: CreateRegistrarOptions): Promise<RegistrarApp> {
  const config = resolveConfig({
    file: options.config,
    ...(typeof options.store === 'string' && { flags: { store: options.store } }),
  })
  const logger =
    options.logger === false
      ? undefined
      : (options.logger ??
        (
          await importOptional<typeof import('pino')>('pino', 'log.level', 'the default access log')
        ).pino({ level: config.log.level }))
  const ownsStore = typeof options.store !== 'object'
  const store =
    typeof options.store === 'object'
      ? options.store
      : await openStore(config.store, { postgres: config.postgres })
  const rateLimiter = await openRateLimiter(config, logger)
  const failureLimit = await openClientAuthenticationFailureLimit(config, logger, options.clock)
  const app = composeRegistrar(config, store, {
    ...(logger && { logger }),
    ...(rateLimiter && { rateLimiter }),
    failureLimit,
    ...(options.clock !== undefined && { clock: options.clock }),
    // the app is long-lived: it runs the audit retention purge (stopped by close())
    maintenance: true,
  })
  return {
    ...app,
    close: async () => {
      await app.close()
      if (ownsStore) await store.close()
    },
  }
}

/**
 * The one place the app is wired, synchronously, from a resolved configuration and an open store:
 * the domain, its outbound fetcher, the rate limiter, the router and its web and `node:http`
 * adapters. The store stays the caller's; `close()` releases only the rate limiter.
 */
export function composeRegistrar(
  config: Readonly<RegistrarConfig>,
  store: Store,
  deps: RegistrarDeps = {},
): RegistrarApp {
  // metrics first: the domain gets the timed store and the counted fetcher
  const metrics = createMetrics(config)
  if (metrics) store = metrics.instrumentStore(store)
  const fetcher = deps.fetch ?? safeFetchFor(config)
  const fetch = metrics ? metrics.instrumentFetch(fetcher) : fetcher
  const registrar = buildRegistrar(config, store, {
    fetch,
    ...(deps.clock !== undefined && { clock: deps.clock }),
  })
  const caFile = config.clientAuthentication.tlsClientAuthCaFile
  const failureLimit = deps.failureLimit ?? memoryFailureLimit(config, deps.clock)
  const clientRegistry = createClientRegistry({
    registrar,
    fetch,
    failureLimit,
    ...(caFile !== undefined && { tlsClientAuthTrustAnchors: readFileSync(caFile) }),
    ...(config.clientIdMetadataDocuments.enabled && {
      metadataDocumentFetch: metadataDocumentFetchFor(config),
    }),
    ...(deps.clock !== undefined && { clock: deps.clock }),
  })
  if (deps.logger) logMetadataDocuments(clientRegistry, deps.logger)
  let rateLimiter = deps.rateLimiter ?? memoryRateLimiter(config)
  if (metrics && rateLimiter) rateLimiter = metrics.instrumentRateLimiter(rateLimiter)
  const operations = attachOperations(config, {
    registrar,
    store,
    ...(metrics && { metrics }),
    ...(deps.logger && { logger: deps.logger }),
    ...(deps.clock !== undefined && { clock: deps.clock }),
    ...(deps.maintenance !== undefined && { maintenance: deps.maintenance }),
  })
  // authentication outcomes feed the metrics and the audit trail's failure-burst detector
  operations.observeClientAuthentication(clientRegistry)
  // the admin and metrics routers answer only their own paths, and only when enabled
  const router = composeRouters([
    ...operations.routers,
    createRequestRouter(registrar, {
      ...(deps.logger && { logger: deps.logger }),
      ...(rateLimiter && { rateLimiter }),
    }),
  ])
  const maxBodyBytes = config.limits.maxBodyBytes
  const trustedProxies = config.rateLimit.trustedProxies
  const nodeOptions = {
    maxBodyBytes,
    bodyIdleTimeoutMs: config.limits.bodyIdleTimeoutMs,
    clientIp: (req: IncomingMessage) => clientIpOf(req, trustedProxies),
  }
  const nodeListener = createNodeListener(router, nodeOptions)
  const ownListeners = operations.listeners.map((l) => ({
    name: l.name,
    host: l.host,
    port: l.port,
    nodeListener: createNodeListener(l.router, nodeOptions),
  }))
  const handle = createWebAdapter(router, { maxBodyBytes })
  return {
    registrar,
    clientRegistry,
    getClient: (clientId) => clientRegistry.getClient(clientId),
    authenticateClient: (request, options) => clientRegistry.authenticateClient(request, options),
    matchRedirectUri: (client, redirectUri) => clientRegistry.matchRedirectUri(client, redirectUri),
    recordUse: (clientId) => clientRegistry.recordUse(clientId),
    symmetricSecret: (clientId) => clientRegistry.symmetricSecret(clientId),
    config,
    outboundFetch: fetch,
    store,
    router,
    operations,
    ownListeners,
    // one argument only: a runtime's own second argument (Bun's server, a Worker's env) is no context
    fetch: (request) => handle(request),
    handle,
    nodeListener,
    listen: (o = {}) =>
      listen(nodeListener, {
        port: o.port ?? config.port,
        host: o.host ?? config.host,
        ...connectionLimits(config),
      }),
    createInitialAccessToken: (o = {}) => createInitialAccessToken(store, o),
    close: async () => {
      await clientRegistry.close()
      await operations.close()
      await rateLimiter?.close()
      await failureLimit.close()
    },
  }
}

/**
 * The bare domain object, with the SSRF-safe fetcher `fetch.*` configures and nothing of HTTP
 * (no rate limiter, no router): what `registrar policy dry-run` evaluates against.
 */
export function buildRegistrar(
  config: Readonly<RegistrarConfig>,
  store: Store,
  deps: Pick<RegistrarDeps, 'clock' | 'fetch'> = {},
): Registrar {
  return new Registrar({
    config,
    store,
    fetch: deps.fetch ?? safeFetchFor(config),
    ...(deps.clock !== undefined && { clock: deps.clock }),
  })
}

/**
 * Opens the anonymous-registration limiter `rateLimit.*` configures: none, per-process, or shared
 * through Redis (whose outage lets requests through and is logged).
 */
export async function openRateLimiter(
  config: Readonly<RegistrarConfig>,
  logger?: AccessLogger,
): Promise<RateLimiter | undefined> {
  const rl = config.rateLimit
  if (rl.anonymousRegistrations === 0 || rl.store === 'memory') return memoryRateLimiter(config)
  return createRedisRateLimiter(
    rl.store,
    rl.anonymousRegistrations,
    rl.windowSeconds,
    (err) =>
      logger?.warn(
        { err: (err as Error)?.message },
        'rate limit store unavailable; letting requests through',
      ),
    { ipv6Prefix: rl.ipv6Prefix },
  )
}

/**
 * Opens the brute-force limits of client authentication (`clientAuthentication.failureLimit`),
 * their counts per process, or shared through the Redis of `rateLimit.store` (an outage lets
 * attempts through, logged, as the registration limit does).
 */
export async function openClientAuthenticationFailureLimit(
  config: Readonly<RegistrarConfig>,
  logger?: AccessLogger,
  /** Seconds since the epoch, for per-process counts (Redis keeps its own time). */
  clock?: () => number,
): Promise<ClientAuthenticationFailureLimit> {
  const url = config.rateLimit.store
  if (url === 'memory') return memoryFailureLimit(config, clock)
  const { perClient, perAddress } = config.clientAuthentication.failureLimit
  const onError = (err: unknown) =>
    logger?.warn(
      { err: (err as Error)?.message },
      'client authentication failure counts unavailable; letting attempts through',
    )
  const open = (l: { max: number; windowSeconds: number }) =>
    l.max === 0 ? undefined : createRedisRateLimiter(url, l.max, l.windowSeconds, onError)
  const [client, address] = await Promise.all([open(perClient), open(perAddress)])
  return new ClientAuthenticationFailureLimit({
    ...(client && { perClient: client }),
    ...(address && { perAddress: address }),
    ipv6Prefix: config.rateLimit.ipv6Prefix,
  })
}

/** Per-process counts of `clientAuthentication.failureLimit`, on the app's clock. */
function memoryFailureLimit(
  config: Readonly<RegistrarConfig>,
  clock?: () => number,
): ClientAuthenticationFailureLimit {
  const { perClient, perAddress } = config.clientAuthentication.failureLimit
  const options = {
    maxKeys: config.rateLimit.maxKeys,
    ...(clock !== undefined && { now: () => clock() * 1000 }),
  }
  const limiter = (l: { max: number; windowSeconds: number }) =>
    l.max === 0 ? undefined : new MemoryRateLimiter(l.max, l.windowSeconds, options)
  const client = limiter(perClient)
  const address = limiter(perAddress)
  return new ClientAuthenticationFailureLimit({
    ...(client && { perClient: client }),
    ...(address && { perAddress: address }),
    ipv6Prefix: config.rateLimit.ipv6Prefix,
  })
}

function memoryRateLimiter(config: Readonly<RegistrarConfig>): RateLimiter | undefined {
  const rl = config.rateLimit
  if (rl.anonymousRegistrations === 0) return undefined
  if (rl.store !== 'memory') {
    throw new TypeError(
      `rateLimit.store ${rl.store} is opened asynchronously: pass deps.rateLimiter ` +
        '(openRateLimiter) to composeRegistrar, or use createRegistrar',
    )
  }
  return new MemoryRateLimiter(rl.anonymousRegistrations, rl.windowSeconds, {
    maxKeys: rl.maxKeys,
    ipv6Prefix: rl.ipv6Prefix,
  })
}

/** The SSRF-safe fetcher configured by `fetch.*`. */
function safeFetchFor(config: Readonly<RegistrarConfig>): OutboundFetch {
  return createSafeFetch({
    timeoutMs: config.fetch.timeoutMs,
    maxBytes: config.fetch.maxBytes,
    maxRedirects: config.fetch.maxRedirects,
    allowedAddresses: config.fetch.allowedAddresses,
    ...(config.fetch.caFile !== undefined && { ca: readFileSync(config.fetch.caFile) }),
  })
}

/**
 * The fetcher of Client ID Metadata Documents: the SSRF-safe fetcher with the documents' own
 * limits (`clientIdMetadataDocuments.maxBytes`, `timeoutMs`), never following a redirect
 * (CIMD-5-d), sharing `fetch.allowedAddresses` and `fetch.caFile` with every outbound fetch.
 */
export function metadataDocumentFetchFor(config: Readonly<RegistrarConfig>): OutboundFetch {
  const cimd = config.clientIdMetadataDocuments
  return createSafeFetch({
    timeoutMs: cimd.timeoutMs,
    maxBytes: cimd.maxBytes,
    maxRedirects: 0,
    allowedAddresses: config.fetch.allowedAddresses,
    ...(config.fetch.caFile !== undefined && { ca: readFileSync(config.fetch.caFile) }),
  })
}

/** Every refusal of a metadata document client is logged with its reason (issue 11). */
function logMetadataDocuments(registry: ClientRegistryService, logger: AccessLogger): void {
  registry.on('metadata_document.refused', (e) =>
    logger.warn({ event: 'metadata_document.refused', ...e }, 'metadata document client refused'),
  )
  registry.on('metadata_document.fetched', (e) =>
    logger.info({ event: 'metadata_document.fetched', ...e }, 'metadata document fetched'),
  )
  registry.on('metadata_document.changed', (e) =>
    logger.warn({ event: 'metadata_document.changed', ...e }, 'metadata document changed'),
  )
  registry.on('metadata_document.stale', (e) =>
    logger.warn(
      { event: 'metadata_document.stale', ...e },
      'metadata document origin failing; serving the cached copy',
    ),
  )
  registry.on('metadata_document.warning', (e) =>
    logger.warn({ event: 'metadata_document.warning', ...e }, 'metadata document URL warning'),
  )
}
