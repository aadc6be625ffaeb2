import type { AdminKeys } from '../../admin/keys.js'
import type { AdminService } from '../../admin/service.js'
import type { RegistrarConfig } from '../../config/schema.js'
import { RegistrationError } from '../../core/errors.js'
import { epochSeconds } from '../../shared/epoch.js'
import type { HttpRequest } from '../request.js'
import { errorResponse, type HttpResponse } from '../respond.js'
import type { AccessLogger, RequestRouter } from '../router.js'
import { adminApi } from './api.js'
import { AdminAuthenticator } from './auth.js'
import { adminConsole } from './console/console.js'

/** Options of {@link createAdminRouter}. */
export interface AdminRouterOptions {
  service: AdminService
  config: Readonly<RegistrarConfig>
  keys: AdminKeys
  /** The issuer's path (`''` at the root): the admin surface lives at `{path}/admin`. */
  basePath: string
  logger?: AccessLogger
  /** Seconds since the epoch. */
  clock?: () => number
}

/**
 * The admin surface's own router (issue 13 items 4 and 5): the JSON API at `{path}/admin/api/…`
 * (admin tokens as bearer tokens) and the web console at `{path}/admin/…` (a session cookie), with
 * their own authentication. It answers only its own paths; compose it in front of the public
 * router only when `admin.enabled`, so that the public router never serves them.
 */
export function createAdminRouter(options: AdminRouterOptions): RequestRouter {
  const base = `${options.basePath}/admin`
  const api = `${base}/api`
  const clock = options.clock ?? epochSeconds
  const auth = new AdminAuthenticator({
    store: options.service.store,
    keys: options.keys,
    sessionLifetime: options.config.admin.sessionLifetime,
    clock,
  })
  const { logger } = options
  const onError = (err: unknown, request: HttpRequest) =>
    logger?.error({ err, method: request.method, path: request.path }, 'unexpected error')

  function matches(path: string): boolean {
    return path === base || path.startsWith(`${base}/`)
  }

  async function serve(request: HttpRequest): Promise<HttpResponse> {
    const started = performance.now()
    let response: HttpResponse
    const { path } = request
    if (path === api || path.startsWith(`${api}/`)) {
      try {
        response = await adminApi(request, path.slice(api.length), {
          service: options.service,
          auth,
          clock,
        })
      } catch (err) {
        response = errorResponse(err, { onUnexpected: (e) => onError(e, request) })
      }
    } else if (matches(path)) {
      response = await adminConsole(request, path.slice(base.length), {
        service: options.service,
        auth,
        config: options.config,
        base,
        clock,
        onError: (e) => onError(e, request),
      })
    } else {
      response = errorResponse(
        new RegistrationError('invalid_request', 'no such endpoint', { status: 404 }),
      )
    }
    // one line per request, as the public router writes: never a token, a cookie or a query
    logger?.info(
      {
        method: request.method,
        path,
        status: response.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
        admin: true,
      },
      'request',
    )
    return response
  }

  return Object.assign(serve, {
    matches,
    paths: Object.freeze([base, `${base}/*`]),
  })
}

/**
 * Several routers as one: a request goes to the first whose `matches()` accepts its path, else to
 * the last (the public router, which answers 404 for paths that are nobody's).
 */
export function composeRouters(routers: RequestRouter[]): RequestRouter {
  const fallback = routers.at(-1)
  if (!fallback) throw new TypeError('composeRouters needs at least one router')
  if (routers.length === 1) return fallback
  const serve = (request: HttpRequest) =>
    (routers.find((r) => r.matches(request.path)) ?? fallback)(request)
  return Object.assign(serve, {
    matches: (path: string) => routers.some((r) => r.matches(path)),
    paths: Object.freeze(routers.flatMap((r) => r.paths)),
  })
}
