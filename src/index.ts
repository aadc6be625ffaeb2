import { readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { type Logger, pino } from 'pino'
import { type ClientRegistryService, createClientRegistry } from './as/client-registry.js'
import type { ClientRegistry } from './as/types.js'
import { type RegistrarConfig, resolveConfig } from './core/config.js'
import { createInitialAccessToken } from './core/initial-access-token.js'
import type { Registrar } from './core/registration.js'
import type { InitialAccessTokenRecord, Store } from './core/store.js'
import type { RequestRouter } from './http/handler.js'
import { listen, type RunningServer } from './http/node.js'
import type { RegistrantContext } from './http/request.js'
import { buildRuntime } from './runtime.js'
import { openStore } from './storage/open-store.js'

export * from './as/index.js'
export type { ClientInformation } from './core/client-information.js'
export type { ClientMetadata, ClientMetadataRules } from './core/client-metadata.js'
export { validateClientMetadata } from './core/client-metadata.js'
export type { RegistrarConfig, RegistrationPolicy, TrustedIssuer } from './core/config.js'
export { ConfigError, DEFAULTS, resolveConfig } from './core/config.js'
export type { ErrorCode } from './core/errors.js'
export { RegistrationError } from './core/errors.js'
export type { OutboundFetch } from './core/outbound-fetch.js'
export { OutboundFetchError } from './core/outbound-fetch.js'
export type { RegistrationEvaluation, RegistrationEvents } from './core/registration.js'
export { Registrar } from './core/registration.js'
export type {
  ClientAssertionRecord,
  ClientChangeEvent,
  ClientRecord,
  CreateClientOptions,
  InitialAccessTokenRecord,
  Store,
} from './core/store.js'
export type { HandlerOptions, RequestRouter } from './http/handler.js'
export { createHandler } from './http/handler.js'
export type { RunningServer } from './http/node.js'
export type { RateLimiter } from './http/rate-limit.js'
export type { HttpRequest, RegistrantContext } from './http/request.js'
export type { HttpResponse } from './http/respond.js'
export { createSafeFetch, type SafeFetchOptions } from './net/safe-fetch.js'
export { openStore } from './storage/open-store.js'

/** Deep-partial configuration accepted by {@link createRegistrar}. */
export type RegistrarConfigInput = {
  [K in keyof RegistrarConfig]?: RegistrarConfig[K] extends unknown[]
    ? RegistrarConfig[K]
    : RegistrarConfig[K] extends object
      ? Partial<RegistrarConfig[K]>
      : RegistrarConfig[K]
}

/** Options of {@link createRegistrar}. */
export interface CreateRegistrarOptions {
  /** Configuration, as in the JSON config file; `issuer` is required. */
  config: RegistrarConfigInput
  /** A store instance, or a store URL; default: `config.store` (`sqlite:./data/registrar.db`). */
  store?: Store | string
  /** A pino logger for the access log, or false for none. Default: pino at `config.log.level`. */
  logger?: Logger | false
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
export interface RegistrarApp extends ClientRegistry {
  /** The domain object; emits `registration.*` events. */
  readonly registrar: Registrar
  /**
   * The AS side (`getClient`, `authenticateClient`, `matchRedirectUri`, `recordUse`, also on the
   * app itself); emits `client.authenticated` and `client.authentication_failed`.
   */
  readonly clientRegistry: ClientRegistryService
  /** The resolved, frozen configuration. */
  readonly config: Readonly<RegistrarConfig>
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
  /** Closes the store if this app opened it. */
  close(): Promise<void>
}

/**
 * Creates an embeddable Registrar: RFC 7591 registration and RFC 7592 management over a store,
 * with discovery, as a fetch handler and a `node:http` listener.
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
  if (!config.issuer) throw new Error('createRegistrar: config.issuer is required')
  const ownsStore = typeof options.store !== 'object'
  const store =
    typeof options.store === 'object'
      ? options.store
      : await openStore(config.store, { postgres: config.postgres })
  const logger =
    options.logger === false ? undefined : (options.logger ?? pino({ level: config.log.level }))
  const runtime = await buildRuntime(config, store, {
    ...(logger && { logger }),
    ...(options.clock !== undefined && { clock: options.clock }),
  })
  const { registrar, nodeListener } = runtime
  const caFile = config.clientAuthentication.tlsClientAuthCaFile
  const clientRegistry = createClientRegistry({
    registrar,
    fetch: runtime.outboundFetch,
    ...(caFile !== undefined && { tlsClientAuthTrustAnchors: readFileSync(caFile) }),
    ...(options.clock !== undefined && { clock: options.clock }),
  })
  return {
    registrar,
    clientRegistry,
    getClient: (clientId) => clientRegistry.getClient(clientId),
    authenticateClient: (request, o) => clientRegistry.authenticateClient(request, o),
    matchRedirectUri: (client, redirectUri) => clientRegistry.matchRedirectUri(client, redirectUri),
    recordUse: (clientId) => clientRegistry.recordUse(clientId),
    config,
    store,
    router: runtime.router,
    fetch: runtime.fetch,
    handle: runtime.handle,
    nodeListener,
    listen: (o = {}) =>
      listen(nodeListener, { port: o.port ?? config.port, host: o.host ?? config.host }),
    createInitialAccessToken: (o = {}) => createInitialAccessToken(store, o),
    close: async () => {
      await clientRegistry.close()
      await runtime.close()
      if (ownsStore) await store.close()
    },
  }
}
