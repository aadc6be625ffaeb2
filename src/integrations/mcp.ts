import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import type { OAuthRegisteredClientsStore } from '@modelcontextprotocol/sdk/server/auth/clients.js'
import type { OAuthServerProvider } from '@modelcontextprotocol/sdk/server/auth/provider.js'
import {
  type AuthRouterOptions,
  createOAuthMetadata,
  mcpAuthRouter,
} from '@modelcontextprotocol/sdk/server/auth/router.js'
import type { OAuthClientInformationFull } from '@modelcontextprotocol/sdk/shared/auth.js'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { registrarMiddleware } from '../adapters/express.js'
import type { RegistrarApp } from '../app.js'
import { clientAuthenticationErrorHeaders } from '../as/errors.js'
import type { AuthenticateClientOptions, ClientRegistry, RegisteredClient } from '../as/types.js'
import { RegistrationError } from '../core/errors.js'

/**
 * What this integration needs of a Registrar: the AS-side API, its configuration, its domain
 * object (the metadata registration enforces) and its router. The object `createRegistrar()`
 * returns.
 */
export type RegistrarForMcp = ClientRegistry & Pick<RegistrarApp, 'config' | 'registrar' | 'router'>

/** Options of {@link McpIntegration}. */
export interface McpIntegrationOptions {
  /** Problems that reach no client (a failed `recordUse`). Default: `console.warn`. */
  onError?: (err: unknown, context: string) => void
  /**
   * The client's TLS certificate for `tls_client_auth` / `self_signed_tls_client_auth` (RFC 8705
   * §2), as your TLS terminator hands it over (AS-BP-15: never from a header anyone can
   * send). Without it, those methods fail as `invalid_client`.
   */
  clientCertificate?: (req: Request) => AuthenticateClientOptions['clientCertificate'] | undefined
}

/**
 * The Express the SDK's `mcpAuthRouter` is built with (resolved from the SDK, not from the host),
 * so this integration's checks are mounted with the very path matching the SDK's endpoints use.
 */
const sdkExpress = createRequire(
  import.meta.resolve('@modelcontextprotocol/sdk/server/auth/router.js'),
)('express') as typeof import('express')

/** What the SDK's authorization server can serve (its token handler's grants, its authorize handler). */
const SDK_GRANT_TYPES = ['authorization_code', 'refresh_token']
const SDK_RESPONSE_TYPES = ['code']
/** Cap on a form body read here (token, revocation, authorization by POST). */
const MAX_FORM_BYTES = 64 * 1024

/**
 * Registrar as the client registry of an `@modelcontextprotocol/sdk` authorization server
 * (`mcpAuthRouter` + your `OAuthServerProvider`; issue 10 item 3).
 *
 * The SDK's token and revocation endpoints authenticate clients by comparing the stored
 * `client_secret` with `!==`, read credentials from the body only, and let a client whose stored
 * record has no `client_secret` in with its `client_id` alone. Registrar stores secrets hashed. So
 * this integration authenticates every token and revocation request through `authenticateClient`
 * first (all registered methods, Basic included, constant time, expiry, `invalid_client` 401), and
 * only then hands the SDK a request its own check accepts. The clients store gives every client
 * that is not public (`none`) a random per-process stand-in `client_secret`: without the
 * integration's authentication in front, the SDK's own check can never pass for them.
 *
 * Registration is Registrar's RFC 7591 / 7592 endpoint (policies, hashed secrets, management),
 * not the SDK's.
 */
export class McpIntegration {
  readonly #app: RegistrarForMcp
  readonly #standIn = randomBytes(32).toString('base64url')
  readonly #onError: (err: unknown, context: string) => void
  readonly #certificate: McpIntegrationOptions['clientCertificate']
  /** The SDK's `OAuthRegisteredClientsStore`, backed by Registrar's `getClient`. */
  readonly clientsStore: OAuthRegisteredClientsStore

  constructor(app: RegistrarForMcp, options: McpIntegrationOptions = {}) {
    this.#app = app
    this.#onError =
      options.onError ?? ((err, context) => console.warn(`registrar/mcp: ${context}:`, String(err)))
    this.#certificate = options.clientCertificate
    this.clientsStore = {
      getClient: async (clientId) => {
        const client = await app.getClient(clientId)
        return client && this.#information(client)
      },
    }
  }

  get issuer(): string {
    return this.#app.config.issuer
  }

  /**
   * Express middleware for the token and revocation endpoints: authenticates the client through
   * Registrar (RFC 6749 §2.3, RFC 7523), answers `invalid_client` (401, `WWW-Authenticate`) or
   * `invalid_request` itself, and otherwise records the use (`recordUse`) and rewrites the
   * parsed body into what the SDK's own client check accepts for the authenticated client.
   */
  clientAuthentication(): RequestHandler {
    return (req, res, next) => {
      this.#authenticateClient(req, res, next, `${this.issuer}${req.baseUrl}${req.path}`).catch(
        next,
      )
    }
  }

  /**
   * Express middleware for the authorization endpoint: checks the client, then the redirect URI
   * (`matchRedirectUri`), before anything else, and answers an error page without redirecting when
   * either fails (AS-6749-4.1.2.1-a, AS-BP-01). Once both hold, every redirect back to the client
   * carries `iss` (RFC 9207).
   */
  authorizationCheck(): RequestHandler {
    return (req, res, next) => {
      this.#checkAuthorization(req, res, next).catch(next)
    }
  }

  /**
   * RFC 8414 authorization server metadata: the SDK's, with Registrar's issuer, its
   * `registration_endpoint` and the client authentication methods it verifies.
   */
  authorizationServerMetadata(options: AuthRouterOptions): Record<string, unknown> {
    const registrars = this.#app.registrar.serverMetadata()
    const sdk = createOAuthMetadata({ ...options, provider: this.provider(options.provider) })
    const list = (member: string) =>
      Array.isArray(registrars[member]) ? (registrars[member] as string[]) : undefined
    const methods = list('token_endpoint_auth_methods_supported')
    const algorithms = list('token_endpoint_auth_signing_alg_values_supported')
    return dropEmpty({
      ...sdk,
      issuer: this.issuer,
      registration_endpoint: `${this.issuer}/register`,
      token_endpoint_auth_methods_supported: methods,
      token_endpoint_auth_signing_alg_values_supported: algorithms,
      revocation_endpoint_auth_methods_supported: sdk.revocation_endpoint ? methods : undefined,
      revocation_endpoint_auth_signing_alg_values_supported: sdk.revocation_endpoint
        ? algorithms
        : undefined,
      grant_types_supported: list('grant_types_supported') ?? SDK_GRANT_TYPES,
      response_types_supported: list('response_types_supported') ?? SDK_RESPONSE_TYPES,
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      // CIMD-7-a: exactly when Registrar resolves metadata document clients
      client_id_metadata_document_supported:
        registrars.client_id_metadata_document_supported === true ? true : undefined,
    })
  }

  /** Your provider with its `clientsStore` replaced by {@link McpIntegration.clientsStore}. */
  provider(provider: OAuthServerProvider): OAuthServerProvider {
    const store = this.clientsStore
    const revokeToken = provider.revokeToken?.bind(provider)
    return {
      get clientsStore() {
        return store
      },
      authorize: (client, params, res) => provider.authorize(client, params, res),
      challengeForAuthorizationCode: (client, code) =>
        provider.challengeForAuthorizationCode(client, code),
      exchangeAuthorizationCode: (client, code, verifier, redirectUri, resource) =>
        provider.exchangeAuthorizationCode(client, code, verifier, redirectUri, resource),
      exchangeRefreshToken: (client, token, scopes, resource) =>
        provider.exchangeRefreshToken(client, token, scopes, resource),
      verifyAccessToken: (token) => provider.verifyAccessToken(token),
      ...(revokeToken && { revokeToken }),
      ...(provider.skipLocalPkceValidation !== undefined && {
        skipLocalPkceValidation: provider.skipLocalPkceValidation,
      }),
    }
  }

  /**
   * The SDK's `mcpAuthRouter(options)` with Registrar as the client registry: Registrar's
   * `/register` endpoints, the SDK's `/authorize`, `/token` and `/revoke` behind
   * {@link McpIntegration.authorizationCheck} and {@link McpIntegration.clientAuthentication},
   * and the metadata documents (RFC 8414, and RFC 9728 for `resourceServerUrl`) naming Registrar's
   * issuer. Install it at the application root, as the SDK's.
   */
  router(options: AuthRouterOptions): RequestHandler {
    if (new URL(this.issuer).pathname !== '/') {
      throw new Error(
        'registrar/mcp: the SDK serves its endpoints at the origin root; use an issuer without a path',
      )
    }
    const registrars = this.#app.registrar.serverMetadata()
    for (const [member, served] of [
      ['grant_types_supported', SDK_GRANT_TYPES],
      ['response_types_supported', SDK_RESPONSE_TYPES],
    ] as const) {
      const extra = ((registrars[member] as string[] | undefined) ?? []).filter(
        (v) => !served.includes(v),
      )
      if (extra.length > 0) {
        throw new Error(
          `registrar/mcp: Registrar's registration accepts ${extra.join(', ')} (metadata.${member}), which the SDK's authorization server cannot serve`,
        )
      }
    }
    const sdk = mcpAuthRouter({ ...options, provider: this.provider(options.provider) })
    const metadata = JSON.stringify(this.authorizationServerMetadata(options))
    const resource = options.resourceServerUrl ?? options.baseUrl ?? options.issuerUrl
    const resourcePath = new URL(resource.href).pathname
    const protectedResource = JSON.stringify(
      dropEmpty({
        resource: resource.href,
        authorization_servers: [this.issuer],
        scopes_supported: options.scopesSupported,
        resource_name: options.resourceName,
        resource_documentation: options.serviceDocumentationUrl?.href,
        bearer_methods_supported: ['header'],
      }),
    )
    const sdkMetadata = createOAuthMetadata({
      ...options,
      provider: this.provider(options.provider),
    })
    // The SDK mounts each endpoint with Express's `router.use(path)`: case-insensitive, with or
    // without a trailing slash, sub-paths included. Registrar's checks are mounted the same way on
    // a router of the SDK's Express, so no spelling of a path reaches an SDK handler unchecked
    // (AS-BP-06, RFC 9207).
    const guard = sdkExpress.Router()
    guard.use('/.well-known/oauth-authorization-server', (req: Request, res: Response) =>
      serveDocument(req, res, metadata),
    )
    guard.use(
      `/.well-known/oauth-protected-resource${resourcePath === '/' ? '' : resourcePath}`,
      (req: Request, res: Response) => serveDocument(req, res, protectedResource),
    )
    guard.use(new URL(sdkMetadata.authorization_endpoint).pathname, this.authorizationCheck())
    const endpoints = [sdkMetadata.token_endpoint, sdkMetadata.revocation_endpoint]
    for (const endpoint of endpoints) {
      if (endpoint === undefined) continue
      // the audience an assertion may name is the endpoint, however the path was spelt
      guard.use(new URL(endpoint).pathname, (req: Request, res: Response, next: NextFunction) => {
        // other methods: the SDK answers 405 before it looks at the client
        if (req.method !== 'POST') return next()
        this.#authenticateClient(req, res, next, endpoint).catch(next)
      })
    }
    // RFC 7591 §3 / RFC 7592 §2 are Registrar's (its body reading, rate limit and log)
    const registration = registrarMiddleware(this.#app)
    return (req, res, next) => {
      const path = req.path
      if (path === '/register' || path.startsWith('/register/')) {
        registration(req, res, next)
        return
      }
      guard(req, res, (err?: unknown) => (err ? next(err) : sdk(req, res, next)))
    }
  }

  /** RFC 7591 §3.2.1 client information as the SDK's schema has it; never a real secret. */
  #information(client: RegisteredClient): OAuthClientInformationFull {
    const { metadata } = client
    const information: Record<string, unknown> = {
      ...metadata,
      redirect_uris: metadata.redirect_uris ?? [],
      client_id: client.client_id,
      client_id_issued_at: client.client_id_issued_at,
      ...(client.client_secret_expires_at !== undefined && {
        client_secret_expires_at: client.client_secret_expires_at,
      }),
    }
    // every non-public client: the SDK's own check must fail unless this integration authenticated
    if (metadata.token_endpoint_auth_method !== 'none') information.client_secret = this.#standIn
    return information as OAuthClientInformationFull
  }

  async #authenticateClient(
    req: Request,
    res: Response,
    next: NextFunction,
    endpoint: string,
  ): Promise<void> {
    const params = await formParameters(req, res)
    if (params === undefined) return
    let client: RegisteredClient
    const certificate = this.#certificate?.(req)
    try {
      ;({ client } = await this.#app.authenticateClient(
        { headers: req.headers, body: params, query: queryParameters(req) },
        {
          endpoint,
          ...(certificate !== undefined && { clientCertificate: certificate }),
          // Express's req.ip: the peer, or X-Forwarded-For per the app's `trust proxy`
          ...(req.ip && { clientAddress: req.ip }),
        },
      ))
    } catch (err) {
      // a refusal is answered here; anything else is a fault for the host's error handler
      if (!(err instanceof RegistrationError)) throw err
      sendError(res, err, this.issuer)
      return
    }
    this.#app
      .recordUse(client.client_id)
      .catch((err) => this.#onError(err, `recordUse(${client.client_id}) failed`))
    // the SDK's own client check, now given what it accepts for the authenticated client
    const body: Record<string, string> = {}
    for (const [name, value] of params) {
      if (!CREDENTIAL_PARAMETERS.has(name)) body[name] = value
    }
    body.client_id = client.client_id
    if (client.metadata.token_endpoint_auth_method !== 'none') body.client_secret = this.#standIn
    req.body = body
    next()
  }

  async #checkAuthorization(req: Request, res: Response, next: NextFunction): Promise<void> {
    let params: URLSearchParams | undefined
    if (req.method === 'POST') {
      params = await formParameters(req, res)
      if (params === undefined) return
      req.body = Object.fromEntries(params)
    } else if (req.method === 'GET') {
      params = queryParameters(req)
    } else {
      next() // the SDK answers 405
      return
    }
    // RFC 6749 §3.1: parameters must not be repeated
    const clientIds = params.getAll('client_id')
    const redirectUris = params.getAll('redirect_uri')
    if (clientIds.length !== 1 || clientIds[0] === '') {
      errorPage(res, 'The request does not name exactly one client (client_id).')
      return
    }
    if (redirectUris.length > 1) {
      errorPage(res, 'The request repeats redirect_uri.')
      return
    }
    let client: RegisteredClient | undefined
    try {
      client = await this.#app.getClient(clientIds[0] as string)
    } catch (err) {
      const status = (err as { status?: unknown }).status
      errorPage(
        res,
        'The authorization server cannot look up clients right now. Try again later.',
        typeof status === 'number' && status >= 500 ? 503 : 500,
      )
      return
    }
    if (!client) {
      errorPage(res, 'The client is unknown, disabled or awaiting approval.')
      return
    }
    const redirectUri = this.#app.matchRedirectUri(client, redirectUris[0])
    if (redirectUri === undefined) {
      errorPage(
        res,
        redirectUris[0] === undefined
          ? 'The request must name its redirect_uri.'
          : 'The redirect_uri is not registered for this client.',
      )
      return
    }
    // RFC 9207 §2: `iss` in every authorization response, success or error
    const redirect = res.redirect.bind(res) as (status: number, url: string) => void
    const issuer = this.issuer
    ;(res as { redirect: unknown }).redirect = (a: number | string, b?: string) => {
      const [status, url] = typeof a === 'number' ? [a, b as string] : [302, a]
      redirect(status, withIssuer(url, redirectUri, issuer))
    }
    next()
  }
}

/**
 * The SDK's `mcpAuthRouter` with Registrar as the client registry: a drop-in for
 * `mcpAuthRouter(options)`, see {@link McpIntegration.router}.
 *
 * @example
 * const registrar = await createRegistrar({ config: { issuer, registration: { mode: 'open' } } })
 * app.use(registrarAuthRouter(registrar, { provider, issuerUrl: new URL(issuer), resourceServerUrl }))
 */
export function registrarAuthRouter(
  app: RegistrarForMcp,
  options: AuthRouterOptions,
  integration: McpIntegrationOptions = {},
): RequestHandler {
  return new McpIntegration(app, integration).router(options)
}

const CREDENTIAL_PARAMETERS = new Set([
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
])

function queryParameters(req: Request): URLSearchParams {
  const url = req.originalUrl ?? req.url ?? ''
  const q = url.indexOf('?')
  return new URLSearchParams(q === -1 ? '' : url.slice(q + 1))
}

/**
 * The `application/x-www-form-urlencoded` body (RFC 6749 §3.2, §4.1.3), read here or taken from a
 * body parser that ran before. Answers 400 / 413 itself and resolves `undefined` when it cannot.
 */
async function formParameters(req: Request, res: Response): Promise<URLSearchParams | undefined> {
  if (req.readableEnded || req.complete) {
    const body = req.body
    const params = new URLSearchParams()
    if (body && typeof body === 'object') {
      for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
        for (const v of Array.isArray(value) ? value : [value]) {
          if (typeof v === 'string') params.append(name, v)
        }
      }
    }
    return params
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
  if (type !== 'application/x-www-form-urlencoded') {
    sendError(
      res,
      new RegistrationError(
        'invalid_request',
        'the body must be application/x-www-form-urlencoded',
      ),
    )
    return undefined
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_FORM_BYTES) {
      sendError(
        res,
        new RegistrationError('invalid_request', 'the body is too large', { status: 413 }),
      )
      return undefined
    }
    chunks.push(chunk)
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
}

/**
 * RFC 6749 §5.2 error response, rendered as Registrar renders `authenticateClient`'s refusals:
 * `invalid_client` is 401 with a Basic challenge (AS-6749-5.2-a: Registrar answers 401 for every
 * `invalid_client`, so MCP clients register again), no-store; anything unexpected is a 500
 * `server_error` without details.
 */
function sendError(res: Response, err: unknown, realm?: string): void {
  if (!(err instanceof RegistrationError)) {
    res.status(500).set(clientAuthenticationErrorHeaders(err)).send('{"error":"server_error"}')
    return
  }
  res
    .status(err.status)
    .set(clientAuthenticationErrorHeaders(err, realm === undefined ? {} : { realm }))
    .send(JSON.stringify(err.toJSON()))
}

/** The authorization endpoint's error page: shown to the user, never redirected (RFC 6749 §4.1.2.1). */
function errorPage(res: Response, message: string, status = 400): void {
  res.status(status)
  res.set({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
  res.send(
    `<!doctype html><meta charset="utf-8"><title>Authorization error</title><h1>Authorization error</h1><p>${escapeHtml(message)}</p>`,
  )
}

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  )
}

/** Adds `iss` to a redirect that goes back to the client's redirect URI (RFC 9207 §2). */
function withIssuer(url: string, redirectUri: string, issuer: string): string {
  const next = url.charAt(redirectUri.length)
  if (!url.startsWith(redirectUri) || !['', '?', '#'].includes(next)) return url
  try {
    const target = new URL(url)
    if (!target.searchParams.has('iss')) target.searchParams.set('iss', issuer)
    return target.href
  } catch {
    return url
  }
}

function serveDocument(req: Request, res: Response, document: string): void {
  res.set({ 'access-control-allow-origin': '*' })
  if (req.method === 'OPTIONS') {
    res.set({ 'access-control-allow-methods': 'GET, HEAD, OPTIONS' }).status(204).end()
    return
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.set('allow', 'GET, HEAD, OPTIONS')
    sendError(res, {
      error: 'invalid_request',
      error_description: 'method not allowed',
      status: 405,
    })
    return
  }
  res.status(200).type('application/json').send(document)
}

function dropEmpty(doc: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(doc).filter(
      ([, v]) => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0),
    ),
  )
}
