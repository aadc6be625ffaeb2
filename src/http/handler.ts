import { RegistrationError } from '../core/errors.js'
import type { Registrar } from '../core/registration.js'
import { clientConfigurationEndpoint } from './client-configuration-endpoint.js'
import { bodyIncomplete, bodyTooLarge } from './json-body.js'
import type { RateLimiter } from './rate-limit.js'
import { registrationEndpoint } from './registration-endpoint.js'
import type { HttpRequest, RegistrantContext } from './request.js'
import { errorResponse, type HttpResponse, json } from './respond.js'

/** The subset of a pino logger the HTTP layer writes to. */
export interface AccessLogger {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

/** Options of {@link createHandler} and {@link createRequestRouter}. */
export interface HandlerOptions {
  /** One line per request: method, path, status, duration, client_id. Never a token or secret. */
  logger?: AccessLogger
  /** Web adapter only: how to find the client address of a `Request` (the platform knows). */
  clientIp?: (request: Request) => string | undefined
  /** Per-IP limit on anonymous `POST /register` (`rateLimit.*` in the config). */
  rateLimiter?: RateLimiter
}

/**
 * Routes an {@link HttpRequest} to its endpoint; the core of every adapter. Paths it does not serve
 * are answered 404 here; a framework adapter asks {@link RequestRouter.matches} first and hands
 * such paths back to its framework instead.
 *
 * @see [RFC 8414 §3.1](https://www.rfc-editor.org/rfc/rfc8414.html#section-3.1)
 */
export interface RequestRouter {
  (request: HttpRequest): Promise<HttpResponse>
  /** Whether `path` (percent-encoded, no query) is one of Registrar's, whatever the method. */
  matches(path: string): boolean
  /**
   * The paths served, absolute from the root of the origin: exact paths, and `…/register/*` for
   * the client configuration endpoints. Derived from the issuer's path (RFC 8414 §3.1 puts one
   * discovery document outside it, at `/.well-known/oauth-authorization-server{path}`).
   */
  readonly paths: readonly string[]
}

const REGISTER_ALLOW = 'POST, OPTIONS'
const CONFIGURATION_ALLOW = 'GET, PUT, DELETE, OPTIONS'
const DISCOVERY_ALLOW = 'GET, HEAD, OPTIONS'

/**
 * Builds the router: `POST /register`, `GET|PUT|DELETE /register/{client_id}`, the two discovery
 * documents (RFC 8414 path insertion, and the OIDC path appended), `/healthz`, CORS preflights and
 * 405 with `Allow` for other methods. Paths are relative to the issuer's path.
 */
export function createRequestRouter(
  registrar: Registrar,
  options: HandlerOptions = {},
): RequestRouter {
  const base = new URL(registrar.issuer).pathname.replace(/\/+$/, '')
  const register = `${base}/register`
  const registerPrefix = `${register}/`
  const metadataBody = JSON.stringify(registrar.serverMetadata())
  const discovery = new Set([
    `/.well-known/oauth-authorization-server${base}`,
    `/.well-known/openid-configuration${base}`,
    `${base}/.well-known/openid-configuration`,
    `${base}/.well-known/oauth-authorization-server`,
  ])
  const health = new Set(['/healthz', `${base}/healthz`])
  const origins = registrar.config.cors.allowedOrigins
  const logger = options.logger

  function cors(request: HttpRequest, headers: Record<string, string>): void {
    const origin = request.header('origin')
    if (origin === undefined) return
    if (origins.includes('*')) headers['access-control-allow-origin'] = '*'
    else if (origins.includes(origin)) {
      headers['access-control-allow-origin'] = origin
      headers.vary = 'Origin'
    } else return
    headers['access-control-expose-headers'] =
      'WWW-Authenticate, Retry-After, RateLimit, RateLimit-Policy'
  }

  function preflight(request: HttpRequest, allow: string): HttpResponse {
    const headers: Record<string, string> = { allow }
    cors(request, headers)
    if (headers['access-control-allow-origin']) {
      headers['access-control-allow-methods'] = allow
      headers['access-control-allow-headers'] = 'Authorization, Content-Type'
      headers['access-control-max-age'] = '600'
    }
    return { status: 204, headers }
  }

  function methodNotAllowed(method: string, allow: string): HttpResponse {
    const response = errorResponse(
      new RegistrationError('invalid_request', `method ${method} is not allowed here`, {
        status: 405,
      }),
    )
    response.headers.allow = allow
    return response
  }

  function matches(path: string): boolean {
    return (
      path === register ||
      path.startsWith(registerPrefix) ||
      discovery.has(path) ||
      health.has(path)
    )
  }

  async function route(request: HttpRequest, trace: Trace): Promise<HttpResponse> {
    const { method, path } = request
    if (path === register) {
      if (method === 'POST') {
        trace.operation = 'register'
        return registrationEndpoint(request, registrar, options.rateLimiter)
      }
      if (method === 'OPTIONS') return preflight(request, REGISTER_ALLOW)
      return methodNotAllowed(method, REGISTER_ALLOW)
    }
    if (path.startsWith(registerPrefix)) {
      const clientId = decodeClientId(path.slice(registerPrefix.length))
      if (method === 'GET' || method === 'PUT' || method === 'DELETE') {
        trace.operation = method === 'GET' ? 'read' : method === 'PUT' ? 'update' : 'delete'
        if (clientId !== INVALID_CLIENT_ID) trace.clientId = clientId
        return clientConfigurationEndpoint(request, registrar, clientId)
      }
      if (method === 'OPTIONS') return preflight(request, CONFIGURATION_ALLOW)
      return methodNotAllowed(method, CONFIGURATION_ALLOW)
    }
    if (discovery.has(path)) {
      if (method === 'GET' || method === 'HEAD') {
        return {
          status: 200,
          headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' },
          body: metadataBody,
        }
      }
      if (method === 'OPTIONS') return preflight(request, DISCOVERY_ALLOW)
      return methodNotAllowed(method, DISCOVERY_ALLOW)
    }
    if (health.has(path)) {
      if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(method, 'GET, HEAD')
      try {
        await registrar.store.ping()
        return json(200, { status: 'ok' }, { 'cache-control': 'no-store' })
      } catch {
        return json(
          503,
          {
            status: 'unavailable',
            error: 'temporarily_unavailable',
            error_description: 'the store does not answer',
          },
          { 'cache-control': 'no-store' },
        )
      }
    }
    throw new RegistrationError('invalid_request', 'no such endpoint', { status: 404 })
  }

  async function serve(request: HttpRequest): Promise<HttpResponse> {
    const started = performance.now()
    const trace: Trace = {}
    let response: HttpResponse
    let failure: RegistrationError | undefined
    try {
      response = await route(request, trace)
    } catch (err) {
      if (err instanceof RegistrationError) failure = err
      if (err instanceof RegistrationError && err.status >= 500) {
        // the client sees a bare 503; the operator sees why
        logger?.warn(
          {
            method: request.method,
            path: request.path,
            error: err.error,
            cause: describeCause(err.cause),
          },
          'request failed: service unavailable',
        )
      }
      response = errorResponse(err, {
        onUnexpected: (e) =>
          logger?.error({ err: e, method: request.method, path: request.path }, 'unexpected error'),
      })
    }
    cors(request, response.headers)
    if (logger) {
      // one line per request; for the registration endpoints it names the event of the
      // Registrar's event stream (registration.created … registration.error) it corresponds to
      const clientId = response.clientId ?? trace.clientId
      const operation = trace.operation
      logger.info(
        {
          method: request.method,
          path: request.path,
          status: response.status,
          ms: Math.round((performance.now() - started) * 10) / 10,
          ...(clientId !== undefined && { client_id: clientId }),
          ...(operation !== undefined &&
            (response.status < 400
              ? { event: `registration.${PAST[operation]}` }
              : {
                  event: 'registration.error',
                  operation,
                  error: failure?.error ?? 'server_error',
                })),
        },
        'request',
      )
    }
    return response
  }
  return Object.assign(serve, {
    matches,
    paths: Object.freeze([register, `${registerPrefix}*`, ...discovery, ...health]),
  })
}

/** What the access log needs to know about a request beyond its response. */
interface Trace {
  operation?: 'register' | 'read' | 'update' | 'delete'
  clientId?: string
}

const PAST = { register: 'created', read: 'read', update: 'updated', delete: 'deleted' } as const

const INVALID_CLIENT_ID = '\u0000invalid'

function decodeClientId(segment: string): string {
  try {
    const id = decodeURIComponent(segment)
    if (id.length > 0 && id.length <= 255) return id
  } catch {
    // fall through: a malformed id names no client
  }
  // RFC 7592 §2.1, OIDR §4.4: an unknown client is 401, never 404
  return INVALID_CLIENT_ID
}

/**
 * The web-standard handler: `(Request) => Promise<Response>`, for any runtime or framework that
 * speaks fetch (Hono, Next.js route handlers, Bun, Deno, Workers).
 */
export function createHandler(
  registrar: Registrar,
  options: HandlerOptions = {},
): (request: Request) => Promise<Response> {
  const handle = createWebAdapter(createRequestRouter(registrar, options), {
    maxBodyBytes: registrar.config.limits.maxBodyBytes,
    ...(options.clientIp && { clientIp: options.clientIp }),
  })
  // one argument only: runtimes call fetch handlers with their own second argument (Bun's
  // server, a Worker's env), which must never be taken for a client address
  return (request) => handle(request)
}

/**
 * Adapts a router to fetch: `(Request, { ip }?) => Promise<Response>`. The client address, when
 * the platform knows it (a socket, `getConnInfo()` in Hono, `server.requestIP()` in Bun), keys the
 * anonymous-registration rate limit; `clientIp` finds it in the `Request` otherwise.
 *
 * @see [RFC 7591 §3](https://www.rfc-editor.org/rfc/rfc7591.html#section-3)
 */
export function createWebAdapter(
  router: (request: HttpRequest) => Promise<HttpResponse>,
  options: { maxBodyBytes: number; clientIp?: (request: Request) => string | undefined },
): (request: Request, context?: RegistrantContext) => Promise<Response> {
  const limit = options.maxBodyBytes
  return async (request, context) => {
    const ip = context?.ip ?? options.clientIp?.(request)
    const url = new URL(request.url)
    const response = await router({
      method: request.method,
      path: url.pathname,
      ...(url.search !== '' && { query: url.search.slice(1) }),
      header: (name) => request.headers.get(name) ?? undefined,
      body: () => readLimited(request, limit),
      ...(ip !== undefined && { ip }),
    })
    return new Response(request.method === 'HEAD' ? null : (response.body ?? null), {
      status: response.status,
      headers: response.headers,
    })
  }
}

async function readLimited(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN)
  if (declared > limit) throw bodyTooLarge(limit)
  if (!request.body) return new Uint8Array(0)
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = request.body.getReader()
  for (;;) {
    const { done, value } = await reader.read().catch((cause: unknown) => {
      throw bodyIncomplete(cause)
    })
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel()
      throw bodyTooLarge(limit)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks)
}

function describeCause(cause: unknown): string | undefined {
  if (cause === undefined) return undefined
  const e = cause as { code?: unknown; message?: unknown }
  return [e.code, e.message].filter((x) => typeof x === 'string').join(': ') || String(cause)
}
