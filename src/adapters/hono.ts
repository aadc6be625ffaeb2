import type { Context, MiddlewareHandler } from 'hono'
import type { GetConnInfo } from 'hono/conninfo'
import type { RegistrarApp } from '../app.js'
import { clientIp } from '../http/client-ip.js'

/** Options of {@link registrarMiddleware}. */
export interface RegistrarHonoOptions {
  /**
   * The runtime's `getConnInfo` (`@hono/node-server/conninfo`, `hono/bun`, `hono/deno`,
   * `hono/cloudflare-workers`, …): the socket peer, resolved through `X-Forwarded-For` when
   * `rateLimit.trustedProxies` is configured. Without it (and without `clientIp`) Registrar knows
   * no client address, and every anonymous registration shares one rate-limit bucket.
   */
  getConnInfo?: GetConnInfo
  /** The client address that keys the per-IP limit on anonymous registration, found your way. */
  clientIp?: (c: Context) => string | undefined
}

/**
 * Registrar as Hono middleware: `hono.use(registrarMiddleware(app, { getConnInfo }))`. It answers
 * Registrar's own paths (`app.router.paths`: registration, client configuration, discovery,
 * `/healthz`) with `app.handle` and calls `next()` for every other one. Registrar reads the raw
 * request body itself, so no body has to be parsed before it. Hono is imported for its types only.
 *
 * @see [RFC 7591 §3](https://www.rfc-editor.org/rfc/rfc7591.html#section-3)
 * @see [RFC 7592 §2](https://www.rfc-editor.org/rfc/rfc7592.html#section-2)
 */
export function registrarMiddleware(
  app: Pick<RegistrarApp, 'registrar' | 'router' | 'handle'>,
  options: RegistrarHonoOptions = {},
): MiddlewareHandler {
  const trustedProxies = app.registrar.config.rateLimit.trustedProxies
  const { getConnInfo } = options
  const ipOf =
    options.clientIp ??
    (getConnInfo
      ? (c: Context) =>
          clientIp(getConnInfo(c).remote.address, c.req.header('x-forwarded-for'), trustedProxies)
      : () => undefined)
  return async function registrar(c, next) {
    if (!app.router.matches(c.req.path)) return next()
    const ip = ipOf(c)
    return app.handle(c.req.raw, ip === undefined ? {} : { ip })
  }
}
