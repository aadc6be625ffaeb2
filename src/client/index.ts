/**
 * `registrar/client`: register and manage an OAuth 2.0 client at any RFC 7591 / RFC 7592
 * authorization server, over `fetch` only.
 *
 * - {@link discover} finds the server's metadata (RFC 8414, then OpenID Connect Discovery).
 * - {@link register} sends a client registration request and returns a {@link ClientRegistration}.
 * - {@link ClientRegistration} reads, updates and deletes the registration through its
 *   `registration_client_uri`, used verbatim, and keeps rotated credentials.
 *
 * Every refusal from a server is thrown as the {@link RegistrationError} the Registrar server uses
 * (`error`, `error_description`, `status`). Local mistakes (a malformed or insecure URL, a
 * registration that cannot be managed) are `TypeError`s; an aborted or timed-out call rejects with
 * the signal's reason (`AbortError` / `TimeoutError` `DOMException`), and a network failure with
 * fetch's own `TypeError`.
 *
 * @see [RFC 7591](https://www.rfc-editor.org/rfc/rfc7591.html)
 * @see [RFC 7592](https://www.rfc-editor.org/rfc/rfc7592.html)
 * @see [RFC 8414](https://www.rfc-editor.org/rfc/rfc8414.html)
 * @packageDocumentation
 */
import { SERVER_ISSUED_MEMBERS } from '../core/client-information.js'
import { RegistrationError } from '../core/errors.js'
import type { ClientMetadata } from '../metadata/types.js'
import { isLoopbackHost } from '../shared/loopback.js'
import { readLimited } from '../shared/read-limited.js'

export type { ErrorCode } from '../core/errors.js'
export type { ClientMetadata } from '../metadata/types.js'
export { RegistrationError }

/**
 * Codes this library puts in a {@link RegistrationError} when the server's answer, not the
 * request, is at fault. No server sends them.
 *
 * - `invalid_response`: the response breaks RFC 7591 / 7592 / 8414: a redirect, a success without a
 *   JSON object, a missing or changed `client_id`, a metadata document for another issuer, a
 *   response over 1 MiB.
 * - `metadata_not_found`: discovery found no metadata document at any well-known URL.
 *
 * @see [RFC 7591 §3.2](https://www.rfc-editor.org/rfc/rfc7591.html#section-3.2)
 */
export type ClientErrorCode = 'invalid_response' | 'metadata_not_found'

/**
 * Client metadata for a registration or update request (RFC 7591 §2, OIDC Registration §2). Every
 * member is optional; language-tagged members (`client_name#ja-Jpan-JP`, RFC 7591 §2.2) and
 * extensions are sent as given. `scope` may be an array: it is sent space-joined.
 *
 * @see [RFC 7591 §2](https://www.rfc-editor.org/rfc/rfc7591.html#section-2)
 */
export type ClientMetadataRequest = {
  [K in keyof ClientMetadata as K extends 'scope' ? never : K]?: ClientMetadata[K]
} & { scope?: string | readonly string[] }

/**
 * The Client Information Response as the server sent it (RFC 7591 §3.2.1, RFC 7592 §3). Every
 * member is kept, unknown and language-tagged ones included; only `client_id` is guaranteed.
 *
 * @see [RFC 7591 §3.2.1](https://www.rfc-editor.org/rfc/rfc7591.html#section-3.2.1)
 */
export interface ClientInformationResponse extends Partial<ClientMetadata> {
  client_id: string
  client_secret?: string
  /** Seconds since the epoch. */
  client_id_issued_at?: number
  /** Seconds since the epoch; `0` means the secret never expires. */
  client_secret_expires_at?: number
  software_statement?: string
  registration_client_uri?: string
  registration_access_token?: string
}

/**
 * What a client must keep to manage its registration (RFC 7592 §1, §3): the URL of its client
 * configuration endpoint, used verbatim, and the registration access token, plus the client
 * credentials. Store it as a secret (RFC 7592 §5).
 *
 * @see [RFC 7592 §3](https://www.rfc-editor.org/rfc/rfc7592.html#section-3)
 */
export interface RegistrationCredentials {
  client_id: string
  client_secret?: string
  client_secret_expires_at?: number
  /** Absent when the server does not offer RFC 7592 management. */
  registration_client_uri?: string
  /** Absent when the server does not offer RFC 7592 management. */
  registration_access_token?: string
}

/**
 * RFC 8414 Authorization Server Metadata (or an OpenID Provider Configuration). Members beyond the
 * ones named are kept as sent.
 *
 * @see [RFC 8414 §2](https://www.rfc-editor.org/rfc/rfc8414.html#section-2)
 */
export interface AuthorizationServerMetadata {
  issuer: string
  registration_endpoint?: string
  authorization_endpoint?: string
  token_endpoint?: string
  jwks_uri?: string
  scopes_supported?: string[]
  response_types_supported?: string[]
  grant_types_supported?: string[]
  token_endpoint_auth_methods_supported?: string[]
  code_challenge_methods_supported?: string[]
  [member: string]: unknown
}

/**
 * Options every call takes.
 *
 * @see [RFC 7591 §3](https://www.rfc-editor.org/rfc/rfc7591.html#section-3)
 */
export interface RequestOptions {
  /** Aborts the call; the promise rejects with the signal's reason. */
  signal?: AbortSignal
  /** Milliseconds before the call is aborted with a `TimeoutError`; default 30 000, `Infinity` for none. */
  timeoutMs?: number
  /** The fetch implementation; default `globalThis.fetch`. */
  fetch?: typeof fetch
}

/**
 * Options of {@link register}.
 *
 * @see [RFC 7591 §3.1](https://www.rfc-editor.org/rfc/rfc7591.html#section-3.1)
 */
export interface RegisterOptions
  extends RequestOptions,
    Pick<ClientRegistrationOptions, 'onCredentials'> {
  /** Initial access token, sent as `Authorization: Bearer` (RFC 7591 §3). */
  initialAccessToken?: string
  /** Software statement (a JWS), sent verbatim as `software_statement` (RFC 7591 §2.3). */
  softwareStatement?: string
}

/**
 * Options of a {@link ClientRegistration}; `fetch` and `timeoutMs` are the defaults of its calls.
 *
 * @see [RFC 7592 §2](https://www.rfc-editor.org/rfc/rfc7592.html#section-2)
 */
export interface ClientRegistrationOptions {
  /** The last client information response, if known (it seeds `update(fn)`). */
  information?: ClientInformationResponse
  /**
   * Called, and awaited, whenever a response replaces the registration access token or the client
   * secret, before the call resolves and before any further call is sent. Persist the credentials
   * here: the old ones are dead (RFC 7592 §2.1, §2.2). If it throws, the call rejects with its
   * error, but `credentials` already holds the new values.
   */
  onCredentials?: (credentials: Readonly<RegistrationCredentials>) => void | Promise<void>
  fetch?: typeof fetch
  timeoutMs?: number
}

const DEFAULT_TIMEOUT_MS = 30_000
const MAX_RESPONSE_BYTES = 1 << 20
/** Members a client never sends: the server issues them (RFC 7591 §3.1, RFC 7592 §2.2). */
const SERVER_ISSUED = SERVER_ISSUED_MEMBERS

/**
 * Parses a URL the library is about to send a request (and maybe a token) to. `https:` is
 * required; `http:` is allowed only for `localhost`, `127.0.0.1` and `[::1]`, for development.
 * TLS certificates are always checked by the runtime's fetch (RFC 7591 §5).
 *
 * @throws TypeError when the URL is not absolute, not http(s), or http on a non-loopback host.
 * @see [RFC 7591 §5](https://www.rfc-editor.org/rfc/rfc7591.html#section-5)
 */
export function assertSecureUrl(value: string | URL, label = 'URL'): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new TypeError(`${label} is not an absolute URL: ${String(value)}`)
  }
  if (url.protocol === 'https:') return url
  if (url.protocol === 'http:') {
    if (isLoopbackHost(url.hostname)) return url
    throw new TypeError(
      `refusing ${label} ${url.href}: http is allowed only for localhost, 127.0.0.1 and [::1]; use https`,
    )
  }
  throw new TypeError(`${label} must be an https URL: ${url.href}`)
}

/**
 * The metadata members of a client information response: everything but `client_id`, the
 * credentials and the RFC 7592 management members. The starting point of an update, which must
 * resend the full metadata (RFC 7592 §2.2).
 *
 * @see [RFC 7592 §2.2](https://www.rfc-editor.org/rfc/rfc7592.html#section-2.2)
 */
export function registeredMetadata(information: ClientInformationResponse): ClientMetadataRequest {
  const out: Record<string, unknown> = { ...information }
  for (const member of SERVER_ISSUED) delete out[member]
  return out as ClientMetadataRequest
}

/**
 * Fetches the authorization server's metadata. Tries, in order (MCP 2025-11-25): the RFC 8414 URL
 * with the issuer's path inserted after `/.well-known/oauth-authorization-server`, then OpenID
 * Connect Discovery with the path inserted, then (issuers with a path only) with
 * `/.well-known/openid-configuration` appended. The first 200 JSON object wins, and its `issuer`
 * must be the requested one (RFC 8414 §3.3), else `invalid_response`.
 *
 * @see [RFC 8414 §3](https://www.rfc-editor.org/rfc/rfc8414.html#section-3)
 * @see [OpenID Connect Discovery §4](https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfig)
 */
export async function discover(
  issuer: string | URL,
  options: RequestOptions = {},
): Promise<AuthorizationServerMetadata> {
  const url = assertSecureUrl(issuer, 'issuer')
  if (url.search || url.hash) {
    throw new TypeError(`an issuer identifier has no query or fragment: ${url.href}`)
  }
  const expected = typeof issuer === 'string' ? issuer : issuer.href
  // RFC 8414 §3.1: a terminating "/" of the path is removed before the well-known part goes in
  const path = url.pathname.replace(/\/+$/, '')
  const candidates = [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${url.origin}/.well-known/openid-configuration${path}`,
    ...(path ? [`${url.origin}${path}/.well-known/openid-configuration`] : []),
  ]
  const tried: string[] = []
  let lastStatus = 404
  for (const candidate of candidates) {
    const { response, text } = await send(
      candidate,
      { method: 'GET', headers: JSON_ACCEPT },
      options,
    )
    const body = response.status === 200 ? parseObject(text) : undefined
    if (!body) {
      tried.push(
        `${candidate} (HTTP ${response.status}${response.status === 200 ? ', not JSON' : ''})`,
      )
      lastStatus = response.status
      continue
    }
    if (typeof body.issuer !== 'string' || !sameIssuer(body.issuer, expected)) {
      throw new RegistrationError(
        'invalid_response',
        `the metadata at ${candidate} is for issuer ${JSON.stringify(body.issuer)}, not ${expected} (RFC 8414 section 3.3)`,
        { status: response.status },
      )
    }
    if (
      body.registration_endpoint !== undefined &&
      typeof body.registration_endpoint !== 'string'
    ) {
      throw new RegistrationError('invalid_response', 'registration_endpoint is not a string', {
        status: response.status,
      })
    }
    return body as AuthorizationServerMetadata
  }
  throw new RegistrationError(
    'metadata_not_found',
    `no authorization server metadata for ${expected}; tried ${tried.join(', ')}`,
    { status: lastStatus },
  )
}

/**
 * Registers a client (RFC 7591 §3.1). `server` is the registration endpoint or a metadata document
 * naming one. The request carries `Content-Type` and `Accept: application/json`, the initial
 * access token as a Bearer token, and never a member the server issues (`client_id`,
 * `client_secret`, `registration_*`, …: they are dropped). 201 is success; 200 is accepted with a
 * warning (some servers answer it); anything else throws a {@link RegistrationError}.
 *
 * @see [RFC 7591 §3](https://www.rfc-editor.org/rfc/rfc7591.html#section-3)
 */
export async function register(
  server: string | URL | Pick<AuthorizationServerMetadata, 'registration_endpoint'>,
  metadata: ClientMetadataRequest,
  options: RegisterOptions = {},
): Promise<ClientRegistration> {
  const endpoint =
    typeof server === 'string' || server instanceof URL ? server : server.registration_endpoint
  if (endpoint === undefined) {
    throw new TypeError(
      'the authorization server metadata has no registration_endpoint: it does not offer dynamic registration',
    )
  }
  const url = assertSecureUrl(endpoint, 'registration_endpoint')
  const body = requestBody(metadata)
  if (options.softwareStatement !== undefined) body.software_statement = options.softwareStatement
  const headers: Record<string, string> = { ...JSON_ACCEPT, 'content-type': 'application/json' }
  if (options.initialAccessToken !== undefined) {
    headers.authorization = `Bearer ${options.initialAccessToken}`
  }
  const { response, text } = await send(
    url.href,
    { method: 'POST', headers, body: JSON.stringify(body) },
    options,
  )
  const warnings: string[] = []
  if (response.status === 200) {
    warnings.push('the server answered 200 instead of 201 Created (RFC 7591 section 3.2.1)')
  } else if (response.status !== 201) {
    throw failure(response, text)
  }
  const information = clientInformation(response, text)
  if (
    information.client_secret !== undefined &&
    information.client_secret_expires_at === undefined
  ) {
    warnings.push(
      'the server issued a client_secret without client_secret_expires_at (RFC 7591 section 3.2.1)',
    )
  }
  const hasUri = typeof information.registration_client_uri === 'string'
  const hasToken = typeof information.registration_access_token === 'string'
  if (hasUri !== hasToken) {
    warnings.push(
      'the server returned only one of registration_client_uri and registration_access_token; the registration cannot be managed',
    )
  }
  const credentials: RegistrationCredentials = {
    client_id: information.client_id,
    ...secretOf(information),
    ...(hasUri &&
      hasToken && {
        registration_client_uri: information.registration_client_uri,
        registration_access_token: information.registration_access_token,
      }),
  }
  if (credentials.registration_client_uri !== undefined) {
    try {
      assertSecureUrl(credentials.registration_client_uri, 'registration_client_uri')
    } catch (err) {
      warnings.push(`${(err as Error).message}; management calls will be refused`)
    }
  }
  const registration = new ClientRegistration(credentials, {
    information,
    ...(options.onCredentials && { onCredentials: options.onCredentials }),
    ...(options.fetch && { fetch: options.fetch }),
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
  })
  registration.warnings.push(...warnings)
  return registration
}

/**
 * A registered client and its RFC 7592 management: read, update and delete through the
 * `registration_client_uri`, used verbatim with the registration access token. Calls on one
 * instance run one at a time, so a token rotated by one response is the one the next request
 * carries; `onCredentials` is awaited in between.
 *
 * Build one from stored credentials with `new ClientRegistration(credentials, options)`.
 *
 * @see [RFC 7592 §2](https://www.rfc-editor.org/rfc/rfc7592.html#section-2)
 */
export class ClientRegistration {
  /** Deviations from the RFCs the server showed that were tolerated, oldest first. */
  readonly warnings: string[] = []
  #credentials: Readonly<RegistrationCredentials>
  #information: ClientInformationResponse | undefined
  #queue: Promise<unknown> = Promise.resolve()
  readonly #options: ClientRegistrationOptions

  constructor(credentials: RegistrationCredentials, options: ClientRegistrationOptions = {}) {
    if (typeof credentials?.client_id !== 'string' || credentials.client_id === '') {
      throw new TypeError('credentials.client_id is required')
    }
    this.#credentials = Object.freeze({ ...credentials })
    this.#information = options.information
    this.#options = options
  }

  /** The client identifier; it never changes (RFC 7592 §2.1). */
  get client_id(): string {
    return this.#credentials.client_id
  }

  /** The current credentials; replaced, never mutated, when the server rotates one. */
  get credentials(): Readonly<RegistrationCredentials> {
    return this.#credentials
  }

  /** The last client information response, as the server sent it. */
  get information(): ClientInformationResponse | undefined {
    return this.#information
  }

  /** Whether the server issued what RFC 7592 management needs. */
  get manageable(): boolean {
    return (
      this.#credentials.registration_client_uri !== undefined &&
      this.#credentials.registration_access_token !== undefined
    )
  }

  /**
   * RFC 7592 §2.1 read: `GET registration_client_uri`. A new registration access token or client
   * secret in the response replaces the stored one before the promise resolves.
   *
   * @see [RFC 7592 §2.1](https://www.rfc-editor.org/rfc/rfc7592.html#section-2.1)
   */
  read(options: RequestOptions = {}): Promise<ClientInformationResponse> {
    return this.#serialize(() => this.#read(options))
  }

  /**
   * RFC 7592 §2.2 update: `PUT registration_client_uri` with the full metadata, which replaces
   * the registration (omitted members are removed). Pass the complete metadata, or a function of
   * the current metadata (from the last response; read first if none is known). The body gets the
   * `client_id` and never the secret or the four server-managed members.
   *
   * @see [RFC 7592 §2.2](https://www.rfc-editor.org/rfc/rfc7592.html#section-2.2)
   */
  update(
    metadata: ClientMetadataRequest | ((current: ClientMetadataRequest) => ClientMetadataRequest),
    options: RequestOptions = {},
  ): Promise<ClientInformationResponse> {
    return this.#serialize(async () => {
      let requested: ClientMetadataRequest
      if (typeof metadata === 'function') {
        const current = this.#information ?? (await this.#read(options))
        requested = metadata(registeredMetadata(current))
      } else {
        requested = metadata
      }
      if (requested.client_id !== undefined && requested.client_id !== this.client_id) {
        throw new TypeError('client_id cannot be changed (RFC 7592 section 2.2)')
      }
      const body = { client_id: this.client_id, ...requestBody(requested) }
      const { response, text } = await this.#call('PUT', options, JSON.stringify(body))
      if (response.status !== 200) this.#nonStandardSuccess(response, 'PUT', 200)
      return this.#absorb(clientInformation(response, text))
    })
  }

  /**
   * RFC 7592 §2.3 delete: `DELETE registration_client_uri`. 204 is success, 200 is accepted with a
   * warning; anything else, a redirect included, throws.
   *
   * @see [RFC 7592 §2.3](https://www.rfc-editor.org/rfc/rfc7592.html#section-2.3)
   */
  delete(options: RequestOptions = {}): Promise<void> {
    return this.#serialize(async () => {
      const { response } = await this.#call('DELETE', options)
      if (response.status === 200) {
        this.warnings.push(
          'the server answered 200 instead of 204 to DELETE (RFC 7592 section 2.3)',
        )
      } else if (response.status !== 204) {
        throw new RegistrationError(
          'invalid_response',
          `DELETE answered HTTP ${response.status}, not 204`,
          { status: response.status },
        )
      }
    })
  }

  async #read(options: RequestOptions): Promise<ClientInformationResponse> {
    const { response, text } = await this.#call('GET', options)
    if (response.status !== 200) this.#nonStandardSuccess(response, 'GET', 200)
    return this.#absorb(clientInformation(response, text))
  }

  /** Sends one request to the client configuration endpoint; non-2xx responses throw. */
  async #call(
    method: 'GET' | 'PUT' | 'DELETE',
    options: RequestOptions,
    body?: string,
  ): Promise<{ response: Response; text: string }> {
    const { registration_client_uri: uri, registration_access_token: token } = this.#credentials
    if (uri === undefined || token === undefined) {
      throw new TypeError(
        'this registration cannot be managed: the server issued no registration_client_uri and registration_access_token (RFC 7592)',
      )
    }
    assertSecureUrl(uri, 'registration_client_uri')
    const headers: Record<string, string> = { ...JSON_ACCEPT, authorization: `Bearer ${token}` }
    if (body !== undefined) headers['content-type'] = 'application/json'
    // RFC 7592 App. B: the URL exactly as the server gave it, query included; never rebuilt
    const result = await send(
      uri,
      { method, headers, ...(body !== undefined && { body }) },
      {
        ...(this.#options.fetch && { fetch: this.#options.fetch }),
        ...(this.#options.timeoutMs !== undefined && { timeoutMs: this.#options.timeoutMs }),
        ...options,
      },
    )
    const { response, text } = result
    if (response.status >= 200 && response.status < 300) return result
    const error = failure(response, text)
    if (response.status === 401) {
      // CL-7592-e: the registration is gone or the token is dead; retrying will not help
      error.message = `${error.message}: the registration was deleted or its registration access token is no longer valid; register again`
    }
    throw error
  }

  #nonStandardSuccess(response: Response, method: string, expected: number): void {
    this.warnings.push(
      `the server answered ${response.status} instead of ${expected} to ${method} (RFC 7592 section 2)`,
    )
  }

  /**
   * Takes in a read or update response: the client_id must not change; a new registration access
   * token or secret replaces the stored one in one step, and `onCredentials` runs before anything
   * else is sent (RFC 7592 §2.1: the old ones must be discarded at once).
   */
  async #absorb(information: ClientInformationResponse): Promise<ClientInformationResponse> {
    const current = this.#credentials
    if (information.client_id !== current.client_id) {
      throw new RegistrationError(
        'invalid_response',
        `the server returned client_id ${information.client_id} for client ${current.client_id} (RFC 7592 section 2.1)`,
        { status: 200 },
      )
    }
    const token = information.registration_access_token
    const secret = secretOf(information)
    const rotatedToken = typeof token === 'string' && token !== current.registration_access_token
    const rotatedSecret =
      secret.client_secret !== undefined &&
      (secret.client_secret !== current.client_secret ||
        (secret.client_secret_expires_at !== undefined &&
          secret.client_secret_expires_at !== current.client_secret_expires_at))
    this.#information = information
    if (!rotatedToken && !rotatedSecret) return information
    this.#credentials = Object.freeze({
      ...current,
      ...(rotatedSecret && secret),
      ...(rotatedToken && { registration_access_token: token }),
    })
    await this.#options.onCredentials?.(this.#credentials)
    return information
  }

  #serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn)
    this.#queue = run.catch(() => undefined)
    return run
  }
}

const JSON_ACCEPT = { accept: 'application/json' } as const

/** The request body: the metadata without server-issued members, `scope` as a string. */
function requestBody(metadata: ClientMetadataRequest): Record<string, unknown> {
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new TypeError('client metadata must be an object')
  }
  const body: Record<string, unknown> = { ...metadata }
  for (const member of SERVER_ISSUED) delete body[member]
  // RFC 7591 §2: scope is a space-separated string
  if (Array.isArray(body.scope)) body.scope = body.scope.join(' ')
  return body
}

function secretOf(
  information: ClientInformationResponse,
): Pick<RegistrationCredentials, 'client_secret' | 'client_secret_expires_at'> {
  if (typeof information.client_secret !== 'string') return {}
  return {
    client_secret: information.client_secret,
    ...(typeof information.client_secret_expires_at === 'number' && {
      client_secret_expires_at: information.client_secret_expires_at,
    }),
  }
}

function clientInformation(response: Response, text: string): ClientInformationResponse {
  const body = parseObject(text)
  if (!body) {
    throw new RegistrationError(
      'invalid_response',
      `HTTP ${response.status} without a JSON object body`,
      { status: response.status },
    )
  }
  if (typeof body.client_id !== 'string' || body.client_id === '') {
    throw new RegistrationError('invalid_response', 'the response has no client_id', {
      status: response.status,
    })
  }
  return body as ClientInformationResponse
}

/**
 * The error a failed response means. A JSON `error` wins (other members are ignored, RFC 7591
 * §3.2.2), then the Bearer challenge's `error` (RFC 6750 §3), then a code chosen by status.
 */
function failure(response: Response, text: string): RegistrationError {
  const status = response.status
  if (status < 300) {
    return new RegistrationError('invalid_response', `unexpected HTTP ${status} response`, {
      status,
    })
  }
  if (status < 400) {
    return new RegistrationError(
      'invalid_response',
      `the server answered with a redirect (HTTP ${status} to ${response.headers.get('location') ?? 'nowhere'}); registration requests are not redirected`,
      { status },
    )
  }
  const body = parseObject(text)
  if (body && typeof body.error === 'string' && body.error !== '') {
    const description =
      typeof body.error_description === 'string' ? body.error_description : undefined
    return new RegistrationError(body.error, description, { status })
  }
  const challenge = bearerChallenge(response.headers.get('www-authenticate'))
  if (challenge.error) {
    return new RegistrationError(challenge.error, challenge.error_description, { status })
  }
  const type = response.headers.get('content-type')
  return new RegistrationError(
    fallbackCode(status),
    `the server answered HTTP ${status}${type ? ` (${type.split(';')[0]})` : ''} without an OAuth error`,
    { status },
  )
}

function fallbackCode(status: number): string {
  if (status === 401) return 'invalid_token'
  if (status === 429) return 'too_many_requests'
  if (status === 503) return 'temporarily_unavailable'
  if (status >= 500) return 'server_error'
  return 'invalid_request'
}

function bearerChallenge(header: string | null): { error?: string; error_description?: string } {
  if (!header || !/^\s*bearer\b/i.test(header)) return {}
  const param = (name: string) =>
    new RegExp(`\\b${name}="((?:[^"\\\\]|\\\\.)*)"`, 'i').exec(header)?.[1]?.replace(/\\(.)/g, '$1')
  const error = param('error')
  const description = param('error_description')
  return {
    ...(error && { error }),
    ...(description !== undefined && { error_description: description }),
  }
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

function sameIssuer(actual: string, expected: string): boolean {
  if (actual === expected) return true
  // "https://as.example" and "https://as.example/" name the same path-less issuer
  const bare = (s: string) => (/^[a-z][a-z0-9+.-]*:\/\/[^/]+\/$/i.test(s) ? s.slice(0, -1) : s)
  return bare(actual) === bare(expected)
}

/** One request: no redirects followed, a deadline, and a body read to at most 1 MiB. */
async function send(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
  options: RequestOptions,
): Promise<{ response: Response; text: string }> {
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const signals = [
    ...(options.signal ? [options.signal] : []),
    ...(Number.isFinite(timeout) ? [AbortSignal.timeout(timeout)] : []),
  ]
  const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0]
  const response = await (options.fetch ?? fetch)(url, {
    ...init,
    // a redirect would carry the body, and possibly the token, somewhere the caller did not name
    redirect: 'manual',
    ...(signal && { signal }),
  })
  return { response, text: await readText(response) }
}

async function readText(response: Response): Promise<string> {
  const bytes = await readLimited(response.body, MAX_RESPONSE_BYTES, {
    tooLarge: () =>
      new RegistrationError('invalid_response', 'the response body is larger than 1 MiB', {
        status: response.status,
      }),
  })
  return new TextDecoder().decode(bytes)
}
