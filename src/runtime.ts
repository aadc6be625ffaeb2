import { readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import type { RegistrarConfig } from './core/config.js'
import type { OutboundFetch } from './core/outbound-fetch.js'
import { Registrar } from './core/registration.js'
import type { Store } from './core/store.js'
import { composeRouters } from './http/admin/router.js'
import { clientIp } from './http/client-ip.js'
import { createRequestRouter, createWebAdapter, type RequestRouter } from './http/handler.js'
import { createNodeListener } from './http/node.js'
import { createRedisRateLimiter, MemoryRateLimiter, type RateLimiter } from './http/rate-limit.js'
import type { RegistrantContext } from './http/request.js'
import { createSafeFetch } from './net/safe-fetch.js'
import { attachOperations, createMetrics, type Operations } from './operations.js'

/** Everything a running Registrar is made of, wired from one resolved configuration. */
export interface Runtime {
  registrar: Registrar
  router: RequestRouter
  fetch: (request: Request) => Promise<Response>
  /** `fetch` with the client address the platform knows, for the anonymous-registration limit. */
  handle: (request: Request, context?: RegistrantContext) => Promise<Response>
  nodeListener: (req: IncomingMessage, res: ServerResponse) => void
  outboundFetch: OutboundFetch
  rateLimiter?: RateLimiter
  /** Audit trail, metrics and admin surface (issue 13), as configured. */
  operations: Operations
  /** The routers configured on listeners of their own (`admin.listen`, `metrics.listen`). */
  ownListeners: {
    name: string
    host: string
    port: number
    nodeListener: (req: IncomingMessage, res: ServerResponse) => void
  }[]
  /** Releases the rate limiter's connection; the store belongs to the caller. */
  close(): Promise<void>
}

/** The SSRF-safe fetcher configured by `fetch.*`. */
export function outboundFetchFor(config: Readonly<RegistrarConfig>): OutboundFetch {
  return createSafeFetch({
    timeoutMs: config.fetch.timeoutMs,
    maxBytes: config.fetch.maxBytes,
    maxRedirects: config.fetch.maxRedirects,
    allowedAddresses: config.fetch.allowedAddresses,
    ...(config.fetch.caFile !== undefined && { ca: readFileSync(config.fetch.caFile) }),
  })
}

/** Wires the domain, the outbound fetcher, the rate limiter, the router and its HTTP adapters. */
export async function buildRuntime(
  config: Readonly<RegistrarConfig>,
  store: Store,
  options: {
    logger?: Logger
    clock?: () => number
    outboundFetch?: OutboundFetch
    /** Run background maintenance (the audit retention purge): long-running servers only. */
    maintenance?: boolean
  } = {},
): Promise<Runtime> {
  const logger = options.logger
  // metrics first: the domain gets the timed store and the counted fetcher
  const metrics = createMetrics(config)
  if (metrics) store = metrics.instrumentStore(store)
  const fetcher = options.outboundFetch ?? outboundFetchFor(config)
  const outboundFetch = metrics ? metrics.instrumentFetch(fetcher) : fetcher
  const registrar = new Registrar({
    config,
    store,
    fetch: outboundFetch,
    ...(options.clock !== undefined && { clock: options.clock }),
  })
  const rl = config.rateLimit
  let rateLimiter: RateLimiter | undefined
  if (rl.anonymousRegistrations > 0) {
    rateLimiter =
      rl.store === 'memory'
        ? new MemoryRateLimiter(rl.anonymousRegistrations, rl.windowSeconds)
        : await createRedisRateLimiter(
            rl.store,
            rl.anonymousRegistrations,
            rl.windowSeconds,
            (err) =>
              logger?.warn(
                { err: (err as Error)?.message },
                'rate limit store unavailable; letting requests through',
              ),
          )
    if (metrics) rateLimiter = metrics.instrumentRateLimiter(rateLimiter)
  }
  const operations = attachOperations(config, {
    registrar,
    store,
    ...(metrics && { metrics }),
    ...(logger && { logger }),
    ...(options.clock !== undefined && { clock: options.clock }),
    ...(options.maintenance !== undefined && { maintenance: options.maintenance }),
  })
  const handlerOptions = {
    ...(logger && { logger }),
    ...(rateLimiter && { rateLimiter }),
  }
  // the admin and metrics routers answer only their own paths, and only when enabled
  const router = composeRouters([
    ...operations.routers,
    createRequestRouter(registrar, handlerOptions),
  ])
  const nodeOptions = {
    maxBodyBytes: config.limits.maxBodyBytes,
    clientIp: (req: IncomingMessage) => {
      const xff = req.headers['x-forwarded-for']
      return clientIp(
        req.socket.remoteAddress,
        Array.isArray(xff) ? xff.join(',') : xff,
        rl.trustedProxies,
      )
    },
  }
  const nodeListener = createNodeListener(router, nodeOptions)
  const ownListeners = operations.listeners.map((l) => ({
    name: l.name,
    host: l.host,
    port: l.port,
    nodeListener: createNodeListener(l.router, nodeOptions),
  }))
  const handle = createWebAdapter(router, { maxBodyBytes: config.limits.maxBodyBytes })
  return {
    registrar,
    router,
    // one argument only: a runtime's own second argument (Bun's server, a Worker's env) is no context
    fetch: (request) => handle(request),
    handle,
    nodeListener,
    outboundFetch,
    ...(rateLimiter && { rateLimiter }),
    operations,
    ownListeners,
    close: async () => {
      await operations.close()
      await rateLimiter?.close()
    },
  }
}
