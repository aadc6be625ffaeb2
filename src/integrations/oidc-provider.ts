import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import Provider, {
  type Adapter,
  type AdapterPayload,
  type Configuration,
  errors,
  type KoaContextWithOIDC,
} from 'oidc-provider'
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js'
import { registrarMiddleware } from '../adapters/express.js'
import type { RegistrarApp } from '../app.js'
import type { AuthenticatedClient, ClientRegistry, RegisteredClient } from '../as/types.js'
import { type OutboundFetch, OutboundFetchError } from '../core/outbound-fetch.js'
import { createSafeFetch } from '../net/safe-fetch.js'

/**
 * What this integration needs of a Registrar: the AS-side API, its configuration, its domain
 * object (the metadata registration enforces) and its router. The object `createRegistrar()`
 * returns.
 */
export type RegistrarForOidcProvider = ClientRegistry &
  Pick<RegistrarApp, 'config' | 'registrar' | 'router' | 'store'> &
  Partial<Pick<RegistrarApp, 'outboundFetch'>>

/** Options of {@link OidcProviderIntegration} and {@link createProvider}. */
export interface OidcProviderIntegrationOptions {
  /**
   * Problems that reach no client: a failed `recordUse`, a registered client oidc-provider cannot
   * represent (treated as unknown). Default: `console.warn`.
   */
  onError?: (err: unknown, context: string) => void
}

type ClientInstance = InstanceType<Provider['Client']> & { noManage?: boolean }
type Assertion = NonNullable<Configuration['assertJwtClientAuthClaimsAndHeader']>
type Features = NonNullable<Configuration['features']>
type JWA = NonNullable<Configuration['enabledJWA']>
type MTLS = NonNullable<Features['mTLS']>
type ProviderFetch = NonNullable<Configuration['fetch']>
type BodyLimits = NonNullable<Configuration['fetchResponseBodyLimits']>

/** Bound of the client_id → RegisteredClient map the redirect-URI check reads (one per request). */
const SEEN_MAX = 10_000
/** oidc-provider's routes that authenticate the client (its `client_auth` middleware). */
const CLIENT_AUTHENTICATION_ROUTES = new Set<string | undefined>([
  'token',
  'introspection',
  'revocation',
  'pushed_authorization_request',
  'backchannel_authentication',
  'device_authorization',
])

/**
 * oidc-provider 9 with Registrar as its client registry (docs/as-side.md; issue 10 item 2):
 *
 * - oidc-provider's `Client` model is read from Registrar (`getClient`): unknown, deleted, disabled
 *   and pending clients are unknown to oidc-provider on the next request, whatever it cached,
 *   because it asks its adapter on every `Client.find`. Every other model stays with your adapter.
 * - oidc-provider's own registration is off; Registrar's RFC 7591 / 7592 endpoints (`/register`,
 *   `/register/{client_id}`) are served on the provider's origin and advertised in its discovery.
 * - Client authentication goes through `authenticateClient`, for every request at a
 *   client-authenticating endpoint and before oidc-provider's own checks (assertion signature,
 *   registered method), so every failure counts towards `clientAuthentication.failureLimit` and a
 *   throttled address gets the same 429 whatever client_id it names (AS-BP-06). Secrets are
 *   stored hashed, so `client_secret_basic` / `client_secret_post` are verified by Registrar
 *   alone; `private_key_jwt` and `client_secret_jwt` assertions by Registrar (its audience,
 *   lifetime cap and `jti` replay record in the store of record) and then by oidc-provider, so
 *   the stricter rule of the two applies; `tls_client_auth` with the certificate of oidc-provider's
 *   `features.mTLS.getCertificate`.
 * - Redirect URIs are matched by `matchRedirectUri` (exact, any port on http loopback for every
 *   client, RFC 8252 §7.3) at `/authorize`, and in oidc-provider's error handler before it
 *   redirects an error.
 * - `recordUse` is called on every successful client authentication (introspection and
 *   revocation emit no oidc-provider event) and on oidc-provider's success events (an
 *   authorization request authenticates no client).
 * - oidc-provider's own outbound requests (a client's `jwks_uri`, `sector_identifier_uri`,
 *   back-channel logout and CIBA notifications) go through Registrar's SSRF-safe fetcher (RFC 7591
 *   §5, RFC 9700 §4.15 / §2.6): https only, every resolved address checked before connecting
 *   (`fetch.allowedAddresses`), `fetch.caFile`, `fetch.timeoutMs`, `fetch.maxBytes`, no redirects;
 *   and every `fetchResponseBodyLimits` entry is finite. A `fetch` of your configuration replaces
 *   it, and with it this protection (you opt out). oidc-provider's own Client ID Metadata Document
 *   feature must stay off: Registrar resolves those clients (`clientIdMetadataDocuments`).
 *
 * Where oidc-provider needs the secret itself (RFC 7518 §3.2 HMAC: `client_secret_jwt`, HS-signed
 * ID tokens or userinfo; OIDC Core §10.2 symmetric encryption) it gets the plaintext Registrar
 * seals for exactly those clients (`registration.secretEncryptionKey`; without the key Registrar
 * refuses such metadata at registration). Every other client's secret is a hash: oidc-provider
 * sees a random per-process stand-in, which nothing outside this process can know, so HMAC use of
 * it fails closed.
 */
export class OidcProviderIntegration {
  readonly #app: RegistrarForOidcProvider
  readonly #onError: (err: unknown, context: string) => void
  /** Stand-in `client_secret` of clients whose secret is hashed (oidc-provider requires one). */
  readonly #standIn = randomBytes(32).toString('base64url')
  /** The registered client behind each oidc-provider Client found lately (by client_id). */
  readonly #seen = new Map<string, RegisteredClient>()
  readonly #authentications = new WeakMap<object, Promise<AuthenticatedClient | undefined>>()
  /** oidc-provider's `features.mTLS.getCertificate`, when the feature is on. */
  #certificate: MTLS['getCertificate']

  constructor(app: RegistrarForOidcProvider, options: OidcProviderIntegrationOptions = {}) {
    this.#app = app
    this.#onError =
      options.onError ??
      ((err, context) => console.warn(`registrar/oidc-provider: ${context}:`, String(err)))
  }

  /** Registrar's issuer; the provider must be constructed with it. */
  get issuer(): string {
    return this.#app.config.issuer
  }

  /**
   * Your oidc-provider configuration with Registrar wired in. Refuses (throws) settings that
   * contradict it: oidc-provider's own registration, or an algorithm / method / grant list that
   * leaves out something Registrar's registration endpoint accepts. Lists you leave unset are
   * taken from Registrar's, so discovery and registration agree (RDISC-X-a).
   */
  configuration(configuration: Configuration = {}): Configuration {
    const features: Features = { ...configuration.features }
    for (const name of ['registration', 'registrationManagement'] as const) {
      if (features[name]?.enabled) {
        throw new Error(
          `registrar/oidc-provider: features.${name} must stay off; Registrar serves RFC 7591/7592 registration at /register`,
        )
      }
    }
    // Registrar resolves metadata document clients (its policy, cache and SSRF-safe fetcher);
    // oidc-provider's own resolver would bypass all three
    if (features.clientIdMetadataDocument?.enabled) {
      throw new Error(
        'registrar/oidc-provider: features.clientIdMetadataDocument must stay off; Registrar resolves Client ID Metadata Document clients (clientIdMetadataDocuments.enabled)',
      )
    }
    features.clientIdMetadataDocument = {
      ...features.clientIdMetadataDocument,
      enabled: false,
    }
    const metadata = this.#app.registrar.serverMetadata()
    const supported = (member: string): string[] =>
      Array.isArray(metadata[member]) ? (metadata[member] as string[]) : []
    const jwa: JWA = { ...configuration.enabledJWA }
    // RFC 8705 §2: Registrar verifies tls_client_auth / self_signed_tls_client_auth too, with
    // the certificate oidc-provider's mTLS feature reads from the request
    const mTLS = features.mTLS
    this.#certificate = mTLS?.enabled && mTLS.getCertificate ? mTLS.getCertificate : undefined
    const result: Configuration = {
      ...configuration,
      adapter: this.#adapterFactory(configuration.adapter),
      features,
      enabledJWA: jwa,
      discovery: {
        ...configuration.discovery,
        registration_endpoint: `${this.issuer}/register`,
        // CIMD-7-a, CIMD-BP-23: exactly when Registrar resolves metadata document clients
        ...(metadata.client_id_metadata_document_supported === true && {
          client_id_metadata_document_supported: true,
        }),
      },
      // AS-BP-05: an omitted redirect_uri is refused rather than defaulted (OpenID Connect always
      // sends one; a port-less loopback URI must never be defaulted)
      allowOmittingSingleRegisteredRedirectUri:
        configuration.allowOmittingSingleRegisteredRedirectUri ?? false,
      assertJwtClientAuthClaimsAndHeader: this.#assertion(
        configuration.assertJwtClientAuthClaimsAndHeader,
      ),
      // RFC 7591 §5, RFC 9700 §4.15: client-supplied URLs are fetched SSRF-safely; yours opts out
      fetch: configuration.fetch ?? providerFetch(this.#outboundFetch()),
      fetchResponseBodyLimits: this.#bodyLimits(configuration.fetchResponseBodyLimits),
    }
    result.clientAuthMethods = aligned(
      configuration.clientAuthMethods,
      supported('token_endpoint_auth_methods_supported'),
      'clientAuthMethods',
      'token_endpoint_auth_methods_supported',
    ) as Configuration['clientAuthMethods']
    result.responseTypes = aligned(
      configuration.responseTypes,
      supported('response_types_supported'),
      'responseTypes',
      'response_types_supported',
    ) as Configuration['responseTypes']
    const algorithms: [keyof JWA, string][] = [
      ['clientAuthSigningAlgValues', 'token_endpoint_auth_signing_alg_values_supported'],
      ['idTokenSigningAlgValues', 'id_token_signing_alg_values_supported'],
      ['userinfoSigningAlgValues', 'userinfo_signing_alg_values_supported'],
      ['idTokenEncryptionAlgValues', 'id_token_encryption_alg_values_supported'],
      ['idTokenEncryptionEncValues', 'id_token_encryption_enc_values_supported'],
      ['userinfoEncryptionAlgValues', 'userinfo_encryption_alg_values_supported'],
      ['userinfoEncryptionEncValues', 'userinfo_encryption_enc_values_supported'],
    ]
    for (const [key, member] of algorithms) {
      const values = supported(member)
      if (values.length === 0) continue
      ;(jwa as Record<string, unknown>)[key] = aligned(
        jwa[key] as Iterable<string> | undefined,
        values,
        `enabledJWA.${key}`,
        member,
      )
    }
    // members registration accepts need the feature that serves them
    if (supported('userinfo_signing_alg_values_supported').length > 0) {
      features.jwtUserinfo = needed(
        features.jwtUserinfo,
        'jwtUserinfo',
        'userinfo_signed_response_alg',
      )
    }
    if (
      supported('id_token_encryption_alg_values_supported').length > 0 ||
      supported('userinfo_encryption_alg_values_supported').length > 0
    ) {
      features.encryption = needed(features.encryption, 'encryption', '*_encrypted_response_alg')
    }
    for (const grant of supported('grant_types_supported')) {
      if (grant === 'client_credentials') {
        features.clientCredentials = needed(features.clientCredentials, 'clientCredentials', grant)
      } else if (grant === 'urn:ietf:params:oauth:grant-type:device_code') {
        features.deviceFlow = needed(features.deviceFlow, 'deviceFlow', grant)
      } else if (!['authorization_code', 'refresh_token', 'implicit'].includes(grant)) {
        throw new Error(
          `registrar/oidc-provider: Registrar accepts grant type ${grant} (metadata.grant_types_supported) that this integration cannot enable in oidc-provider`,
        )
      }
    }
    return result
  }

  /**
   * Hooks Registrar into a provider built from {@link OidcProviderIntegration.configuration}:
   * client authentication, redirect-URI matching, `recordUse`, and Registrar's registration
   * endpoints on the provider's origin. Returns the provider.
   */
  attach(provider: Provider): Provider {
    if (provider.issuer !== this.issuer) {
      throw new Error(
        `registrar/oidc-provider: the provider's issuer ${provider.issuer} differs from Registrar's ${this.issuer}`,
      )
    }
    const Client = provider.Client
    const integration = this
    const seen = this.#seen

    // a registered client oidc-provider's schema refuses is unknown, not a 500 (fail closed)
    const find = Client.find.bind(Client)
    ;(Client as { find: typeof Client.find }).find = async (id: string) => {
      try {
        const found = (await find(id)) as ClientInstance | undefined
        if (found?.noManage) return found // a static client of yours
        // the client a client-authenticating endpoint is about to authenticate (none yet on the
        // request): Registrar authenticates it first, known or unknown, before oidc-provider's
        // own checks (assertion signature, registered method), so that every failure counts
        // towards the limit, a throttled request is refused alike for every client_id (RFC 6749
        // §2.3.1, as-side AS-BP-06), and a refused known client reads like an unknown one
        const ctx = Provider.ctx
        if (
          ctx &&
          CLIENT_AUTHENTICATION_ROUTES.has(ctx.oidc?.route) &&
          ctx.oidc.entities?.Client === undefined
        ) {
          const authenticated = await integration.#authenticate(ctx)
          if (authenticated?.client.client_id !== id) return undefined
        }
        return found
      } catch (err) {
        if (err instanceof errors.InvalidClientMetadata) {
          integration.#onError(err, `client ${id} cannot be used by oidc-provider`)
          return undefined
        }
        throw err
      }
    }

    const redirectUriAllowed = Client.prototype.redirectUriAllowed
    Client.prototype.redirectUriAllowed = function (this: ClientInstance, uri: string) {
      if (this.noManage) return redirectUriAllowed.call(this, uri) // a static client of yours
      const registered = seen.get(this.clientId)
      return registered !== undefined && integration.#app.matchRedirectUri(registered, uri) === uri
    }

    const compareClientSecret = Client.prototype.compareClientSecret
    Client.prototype.compareClientSecret = async function (this: ClientInstance, actual: string) {
      if (this.noManage) return compareClientSecret.call(this, actual)
      const ctx = Provider.ctx
      if (!ctx) return false
      const authenticated = await integration.#authenticate(ctx)
      return authenticated?.client.client_id === this.clientId
    }

    const used = (ctx: KoaContextWithOIDC) => {
      const client = ctx.oidc?.entities?.Client as ClientInstance | undefined
      if (!client || client.noManage) return
      this.#app
        .recordUse(client.clientId)
        .catch((err) => this.#onError(err, `recordUse(${client.clientId}) failed`))
    }
    const events = [
      'authorization.success',
      'grant.success',
      'pushed_authorization_request.success',
      'device_authorization.success',
      'backchannel.success',
    ]
    // untyped on purpose: @types/oidc-provider types each event in its own overload
    const emitter = provider as unknown as { on(event: string, listener: typeof used): void }
    for (const event of events) emitter.on(event, used)

    const base = new URL(this.issuer).pathname.replace(/\/+$/, '')
    const register = `${base}/register`
    // RFC 7591 §3 / RFC 7592 §2 are Registrar's: the raw request is handed over (its body
    // reading, rate limit and log); only these paths, discovery stays oidc-provider's
    const registration = registrarMiddleware(this.#app)
    provider.use(async (ctx, next) => {
      if (ctx.path !== register && !ctx.path.startsWith(`${register}/`)) return next()
      ctx.respond = false
      const closed = once(ctx.res, 'close')
      let failed: unknown
      registration(ctx.req, ctx.res, (err) => {
        failed = err ?? new Error('Registrar did not answer its own path')
        ctx.res.destroy()
      })
      await closed
      if (failed) this.#onError(failed, `${ctx.method} ${ctx.path}`)
    })
    return provider
  }

  /** Registrar's SSRF-safe fetcher: the app's, or one configured by its `fetch.*`. */
  #outboundFetch(): OutboundFetch {
    if (this.#app.outboundFetch) return this.#app.outboundFetch
    const fetch = this.#app.config.fetch
    return createSafeFetch({
      timeoutMs: fetch.timeoutMs,
      maxBytes: fetch.maxBytes,
      maxRedirects: fetch.maxRedirects,
      allowedAddresses: fetch.allowedAddresses,
      ...(fetch.caFile !== undefined && { ca: readFileSync(fetch.caFile) }),
    })
  }

  /** oidc-provider's per-purpose body caps, all finite: yours where finite, else `fetch.maxBytes`. */
  #bodyLimits(user: BodyLimits | undefined): BodyLimits {
    const maxBytes = this.#app.config.fetch.maxBytes
    const limits: BodyLimits = {
      'client_id metadata document': this.#app.config.clientIdMetadataDocuments.maxBytes,
      jwks_uri: maxBytes,
      sector_identifier_uri: maxBytes,
    }
    for (const [purpose, limit] of Object.entries(user ?? {})) {
      if (limit !== undefined && Number.isFinite(limit)) limits[purpose] = limit
    }
    return limits
  }

  /** The adapter factory: `Client` from Registrar, every other model from yours. */
  #adapterFactory(user: Configuration['adapter']): (name: string) => Adapter {
    const clients = this.#clientAdapter()
    return (name) => {
      if (name === 'Client') return clients
      if (user === undefined) return new MemoryAdapter(name)
      return isConstructor(user) ? new user(name) : user(name)
    }
  }

  #clientAdapter(): Adapter {
    const managed = () =>
      Promise.reject(
        new Error(
          'clients are managed by Registrar (RFC 7591/7592 at /register), not oidc-provider',
        ),
      )
    return {
      find: async (id) => {
        let client: RegisteredClient | undefined
        try {
          client = await this.#app.getClient(id)
        } catch (err) {
          throw unavailable(err)
        }
        this.#seen.delete(id)
        if (!client) return undefined
        this.#seen.set(id, client)
        if (this.#seen.size > SEEN_MAX) {
          this.#seen.delete(this.#seen.keys().next().value as string)
        }
        return this.#payload(client)
      },
      upsert: managed,
      destroy: managed,
      consume: managed,
      revokeByGrantId: managed,
      findByUid: async () => undefined,
      findByUserCode: async () => undefined,
    }
  }

  /** The client as oidc-provider's schema takes it (RFC 7591 §2 / OIDC Registration §2 names). */
  async #payload(client: RegisteredClient): Promise<AdapterPayload> {
    const payload: Record<string, unknown> = {
      ...client.metadata,
      client_id: client.client_id,
      client_id_issued_at: client.client_id_issued_at,
    }
    if (client.client_secret_expires_at !== undefined) {
      payload.client_secret_expires_at = client.client_secret_expires_at
      let secret: string | undefined
      try {
        secret = await this.#app.symmetricSecret?.(client.client_id)
      } catch (err) {
        throw unavailable(err)
      }
      payload.client_secret = secret ?? this.#standIn
    }
    return payload as AdapterPayload
  }

  /**
   * Runs Registrar's client authentication on the request oidc-provider is handling. `undefined`
   * when Registrar answers `invalid_client` (oidc-provider then answers it, 401); its other refusals
   * become oidc-provider's errors.
   */
  #authenticate(ctx: KoaContextWithOIDC): Promise<AuthenticatedClient | undefined> {
    // once per request: oidc-provider may ask twice (find, then the secret), and a failure must
    // count once towards clientAuthentication.failureLimit
    let done = this.#authentications.get(ctx)
    if (!done) {
      done = this.#authenticateOnce(ctx)
      this.#authentications.set(ctx, done)
    }
    return done
  }

  async #authenticateOnce(ctx: KoaContextWithOIDC): Promise<AuthenticatedClient | undefined> {
    const oidc = ctx.oidc as typeof ctx.oidc & { body?: Record<string, unknown> }
    try {
      const certificate = this.#certificate?.(ctx)
      const authenticated = await this.#app.authenticateClient(
        {
          headers: ctx.headers,
          body: oidc.body ?? {},
          query: ctx.query,
        },
        {
          endpoint: oidc.urlFor(oidc.route),
          // Koa's ctx.ip: the peer, or X-Forwarded-For when the app sets `proxy` (trusts it)
          ...(ctx.ip && { clientAddress: ctx.ip }),
          ...(certificate && { clientCertificate: certificate }),
        },
      )
      // an authentication is a use (idle expiry): introspection and revocation emit no
      // oidc-provider event; the registry writes at most once a minute per client
      const clientId = authenticated.client.client_id
      this.#app
        .recordUse(clientId)
        .catch((err) => this.#onError(err, `recordUse(${clientId}) failed`))
      return authenticated
    } catch (err) {
      const code = (err as { error?: unknown }).error
      if (code === 'invalid_client') return undefined
      if (code === 'invalid_request') {
        throw new errors.InvalidRequest(
          (err as { error_description?: string }).error_description ??
            'invalid client authentication',
        )
      }
      if ((err as { status?: unknown }).status === 429) throw tooManyRequests(ctx, err)
      throw unavailable(err)
    }
  }

  /** Composes `assertJwtClientAuthClaimsAndHeader`: yours, then Registrar's authentication. */
  #assertion(user: Assertion | undefined): Assertion {
    return async (ctx, claims, header, client) => {
      await user?.(ctx, claims, header, client)
      if ((client as ClientInstance).noManage) return
      const authenticated = await this.#authenticate(ctx)
      if (authenticated?.client.client_id !== client.clientId) {
        throw new errors.InvalidClientAuth('the client assertion was refused')
      }
    }
  }
}

/**
 * oidc-provider with Registrar as its client registry: `new Provider(issuer, configuration)` with
 * {@link OidcProviderIntegration} applied. The issuer is Registrar's.
 *
 * @example
 * const registrar = await createRegistrar({ config: { issuer, registration: { mode: 'open' } } })
 * const provider = createProvider(registrar, { findAccount, jwks, cookies: { keys } })
 * http.createServer(provider.callback()).listen(port)
 */
export function createProvider(
  app: RegistrarForOidcProvider,
  configuration: Configuration = {},
  options: OidcProviderIntegrationOptions = {},
): Provider {
  const integration = new OidcProviderIntegration(app, options)
  return integration.attach(
    new Provider(integration.issuer, integration.configuration(configuration)),
  )
}

/**
 * oidc-provider's `fetch(url, init)` on Registrar's fetcher. oidc-provider sets `signal` (its own
 * 2.5 s deadline, kept besides `fetch.timeoutMs`), an empty `user-agent` (Registrar's is sent
 * instead) and an undici `dispatcher` (ignored: the fetcher makes its own checked connections).
 */
export function providerFetch(outbound: OutboundFetch): ProviderFetch {
  return async (input, init = {}) => {
    const url = input instanceof Request ? input.url : String(input)
    const method = (init.method ?? 'GET').toUpperCase()
    if (method !== 'GET' && method !== 'POST') {
      throw new OutboundFetchError(`${method} is not an outbound method Registrar sends`)
    }
    const headers = new Headers(init.headers)
    headers.delete('user-agent')
    let body: string | undefined
    if (init.body !== undefined && init.body !== null) {
      if (typeof init.body === 'string') body = init.body
      else if (init.body instanceof URLSearchParams) body = init.body.toString()
      else throw new OutboundFetchError('only string and form bodies are sent')
    }
    return outbound(url, {
      method,
      headers,
      ...(init.signal && { signal: init.signal }),
      ...(body !== undefined && { body }),
    })
  }
}

/**
 * The list oidc-provider should use for one capability: Registrar's when yours is unset; yours
 * when it covers Registrar's; otherwise a setup error, since registration would accept clients the
 * provider cannot serve.
 */
function aligned(
  configured: Iterable<string> | undefined,
  registrars: string[],
  setting: string,
  member: string,
): string[] {
  if (configured === undefined) return [...registrars]
  const mine = [...configured]
  const missing = registrars.filter((v) => !mine.includes(v))
  if (missing.length > 0) {
    throw new Error(
      `registrar/oidc-provider: ${setting} lacks ${missing.join(', ')}, which Registrar's registration accepts (set Registrar's metadata.${member} to match)`,
    )
  }
  return [...mine]
}

/** A feature registration depends on: on unless you turned it off, which is a setup error. */
function needed<T extends { enabled?: boolean }>(
  feature: T | undefined,
  name: string,
  member: string,
): T {
  if (feature?.enabled === false) {
    throw new Error(
      `registrar/oidc-provider: features.${name} is off, but Registrar's registration accepts ${member}`,
    )
  }
  return { ...feature, enabled: true } as T
}

/** oidc-provider's own test: a function with a prototype object is called with `new`. */
function isConstructor(
  adapter: NonNullable<Configuration['adapter']>,
): adapter is new (
  name: string,
) => Adapter {
  return typeof adapter.prototype === 'object' && adapter.prototype !== null
}

/**
 * Registrar's 429 (`clientAuthentication.failureLimit`, RFC 6749 §2.3.1) as an oidc-provider
 * error of that status, its `Retry-After` set on the response (oidc-provider's error handler
 * keeps the headers already set).
 */
function tooManyRequests(ctx: KoaContextWithOIDC, cause: unknown): Error {
  const retryAfter = (cause as { headers?: Record<string, string> }).headers?.['retry-after']
  if (retryAfter !== undefined) ctx.set('retry-after', retryAfter)
  const err = new errors.CustomOIDCProviderError(
    'too_many_requests',
    (cause as { error_description?: string }).error_description ??
      'too many failed client authentications',
  )
  Object.assign(err, { status: 429, statusCode: 429, expose: true })
  return err
}

/**
 * A registry failure (store unreachable: `temporarily_unavailable`, 503) as oidc-provider's error
 * of that name and status; anything else is rethrown as it is.
 */
function unavailable(cause: unknown): unknown {
  const status = (cause as { status?: unknown }).status
  if (typeof status !== 'number' || status < 500) return cause
  const err = new errors.TemporarilyUnavailable('the client registry is unavailable')
  Object.assign(err, { status: 503, statusCode: 503, expose: true, cause })
  return err
}
