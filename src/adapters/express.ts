import type { IncomingMessage, ServerResponse } from 'node:http'
import type { RegistrarApp } from '../app.js'
import { clientIpOf } from '../http/client-ip.js'
import { nodeHttpRequest, requestPath, sendNodeResponse } from './node.js'

/**
 * The parts of an Express or Connect request the middleware reads, structurally: no import of
 * express, so Express 4, Express 5 and Connect requests all fit.
 */
export interface ExpressLikeRequest extends IncomingMessage {
  /** Express and Connect: the request target before mount paths were stripped from `url`. */
  originalUrl?: string
  /** Express: the client address, after its `trust proxy` setting. */
  ip?: string | undefined
}

/** Options of {@link registrarMiddleware}. */
export interface RegistrarMiddlewareOptions {
  /**
   * The client address that keys the per-IP limit on anonymous registration. Default: when
   * `rateLimit.trustedProxies` is configured, the socket peer resolved through it (as in the
   * standalone server); otherwise Express's `req.ip` (which follows `app.set('trust proxy', …)`),
   * or the socket peer where there is no `req.ip` (Connect).
   */
  clientIp?: (req: ExpressLikeRequest) => string | undefined
}

/**
 * Registrar as Express 4 / 5 or Connect middleware: `(req, res, next)`.
 *
 * It answers Registrar's own paths — `POST {issuer path}/register`, `GET | PUT | DELETE
 * {issuer path}/register/{client_id}`, the discovery documents and `/healthz` — and calls `next()`
 * for every other path, so it can be mounted anywhere, at the root preferably. Paths are matched on
 * `req.originalUrl` (Express strips the mount path from `req.url`), so mounting it under the
 * issuer's path (`app.use('/oauth', …)` for issuer `https://as.example.com/oauth`) works too,
 * except for the RFC 8414 document at `/.well-known/oauth-authorization-server/oauth`, which lies
 * outside that mount (mount the same middleware at `/.well-known` as well, or at the root).
 *
 * Registrar reads the request body itself (media type, UTF-8, duplicate member names, its own size
 * limit): mount it before any body parser such as `express.json()`. A body already consumed is
 * answered 500 `server_error`, with the reason in Registrar's log, rather than left hanging.
 *
 * @example
 * const app = await createRegistrar({ config: { issuer: 'https://as.example.com' }, store: 'memory' })
 * const server = express()
 * server.use(registrarMiddleware(app))
 * server.use(express.json()) // your routes' parser, after Registrar
 *
 * @see [RFC 7591 §3](https://www.rfc-editor.org/rfc/rfc7591.html#section-3)
 * @see [RFC 7592 §2](https://www.rfc-editor.org/rfc/rfc7592.html#section-2)
 * @see [RFC 8414 §3.1](https://www.rfc-editor.org/rfc/rfc8414.html#section-3.1)
 */
export function registrarMiddleware(
  app: Pick<RegistrarApp, 'registrar' | 'router'>,
  options: RegistrarMiddlewareOptions = {},
): (req: ExpressLikeRequest, res: ServerResponse, next: (err?: unknown) => void) => void {
  const { router } = app
  const { config } = app.registrar
  const maxBodyBytes = config.limits.maxBodyBytes
  const trustedProxies = config.rateLimit.trustedProxies
  const ipOf =
    options.clientIp ??
    ((req: ExpressLikeRequest) =>
      clientIpOf(req, trustedProxies, typeof req.ip === 'string' ? req.ip : undefined))
  return function registrar(req, res, next) {
    const path = requestPath(req.originalUrl ?? req.url ?? '/')
    if (!router.matches(path)) {
      next()
      return
    }
    const ip = ipOf(req)
    const { request, tooLarge } = nodeHttpRequest(req, {
      path,
      maxBodyBytes,
      bodyIdleTimeoutMs: config.limits.bodyIdleTimeoutMs,
      ...(ip !== undefined && { ip }),
    })
    router(request)
      .then((response) => sendNodeResponse(res, request.method, response, tooLarge()))
      .catch(next)
  }
}
