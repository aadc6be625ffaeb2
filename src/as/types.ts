import type { ClientMetadata } from '../metadata/types.js'

/**
 * The AS side of Registrar: the three questions an authorization server asks about a client — who
 * is it ({@link ClientRegistry.getClient}), is it really that client
 * ({@link ClientRegistry.authenticateClient}), may it use this redirect URI
 * ({@link ClientRegistry.matchRedirectUri}) — and the record that it was used
 * ({@link ClientRegistry.recordUse}). Registrar never issues tokens; the embedding AS does.
 *
 * This file is the contract the integrations (`registrar/oidc-provider`, `registrar/mcp`), the
 * examples and the tests are written against.
 */

/** Where a client comes from. Metadata-document clients arrive with CIMD. */
export type ClientSource = 'registration' | 'metadata_document'

/**
 * A client as the AS needs it: never a hash, never a sealed secret, never a token.
 *
 * @see [RFC 7591 §3.2.1](https://www.rfc-editor.org/rfc/rfc7591.html#section-3.2.1)
 */
export interface RegisteredClient {
  readonly client_id: string
  /** Seconds since the epoch (RFC 7591 §3.2.1). */
  readonly client_id_issued_at: number
  /** Present iff the client holds a secret; 0 = never expires (RFC 7591 §3.2.1). */
  readonly client_secret_expires_at?: number
  /** Validated metadata, defaults applied, as registered. */
  readonly metadata: Readonly<ClientMetadata>
  readonly source: ClientSource
  /** Name of the registration policy that admitted the client, if any. */
  readonly policy?: string
  /** Seconds since the epoch of the last recorded use (minute resolution), if any. */
  readonly lastUsedAt?: number
}

/** RFC 7591 §2 `token_endpoint_auth_method` values Registrar can verify. */
export type ClientAuthenticationMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'client_secret_jwt'
  | 'private_key_jwt'
  | 'none'
  | 'tls_client_auth'
  | 'self_signed_tls_client_auth'

/** The result of a successful {@link ClientRegistry.authenticateClient}. */
export interface AuthenticatedClient {
  readonly client: RegisteredClient
  /** The mechanism the request actually used (may differ from the registered basic/post). */
  readonly method: ClientAuthenticationMethod
}

/**
 * A token, introspection or revocation request already parsed by the host framework (Express with
 * `express.urlencoded()`, Koa, Fastify …): the headers and the form body.
 */
export interface ClientAuthenticationRequest {
  /** Request headers; names in any case. Only `authorization` is read. */
  readonly headers: Headers | Readonly<Record<string, string | readonly string[] | undefined>>
  /** The `application/x-www-form-urlencoded` body parameters. */
  readonly body: URLSearchParams | Readonly<Record<string, unknown>>
  /** The query string parameters, if any; credentials there are refused (RFC 6749 §2.3.1). */
  readonly query?: URLSearchParams | Readonly<Record<string, unknown>>
}

/** Options of {@link ClientRegistry.authenticateClient}. */
export interface AuthenticateClientOptions {
  /**
   * The absolute URL of the endpoint being called (token, introspection, revocation). An assertion
   * `aud` equal to it is accepted unless `clientAuthentication.strictAudience` (RFC 10070 §3).
   * Defaults to the request URL for a web `Request`.
   */
  readonly endpoint?: string
  /**
   * The client's TLS certificate (PEM, DER or a `node:crypto` `X509Certificate`), as the host
   * obtained it from its TLS terminator (RFC 8705 §2). Never parsed from headers by Registrar.
   */
  readonly clientCertificate?: string | Uint8Array | import('node:crypto').X509Certificate
  /**
   * The source address of the request (the peer's, or the one a trusted proxy forwarded), for the
   * brute-force limits of `clientAuthentication.failureLimit` (RFC 6749 §2.3.1). Without it,
   * failures are counted per client_id alone and the per-address limit does not apply.
   */
  readonly clientAddress?: string
}

/** The AS-side API. */
export interface ClientRegistry {
  /**
   * The client, or `undefined` when it is unknown, deleted, disabled or awaiting approval. Cached in
   * process for a short time; changes made through this process are visible at once.
   */
  getClient(clientId: string): Promise<RegisteredClient | undefined>
  /**
   * Authenticates the client of a token, introspection or revocation request (RFC 6749 §2.3,
   * RFC 7523, RFC 8705). Throws a `RegistrationError` whose `error` is `invalid_client` (401),
   * `invalid_request` (400, e.g. two mechanisms in one request) or `too_many_requests` (429 with a
   * `Retry-After` header: too many failed authentications, RFC 6749 §2.3.1).
   */
  authenticateClient(
    request: Request | ClientAuthenticationRequest,
    options?: AuthenticateClientOptions,
  ): Promise<AuthenticatedClient>
  /**
   * The redirect URI to use for this request, or `undefined` when `redirectUri` is not allowed:
   * exact string match, except the port of an http loopback URI (RFC 8252 §7.3); an omitted one only
   * when exactly one (non-port-less-loopback) URI is registered.
   */
  matchRedirectUri(client: RegisteredClient, redirectUri: string | undefined): string | undefined
  /** Records that the client was used now; written at most once a minute per client. */
  recordUse(clientId: string): Promise<void>
  /**
   * The secret in plaintext, for a client whose metadata makes it a key: `client_secret_jwt`
   * (RFC 7523 §2.2 HMAC), HS-signed responses (RFC 7518 §3.2; OIDC Core §10.1) or symmetric
   * encryption (OIDC Core §10.2). Opened from the sealed copy Registrar keeps of exactly these
   * secrets (`registration.secretEncryptionKey`); `undefined` for every other client, whose secret
   * is stored hashed and cannot be recovered, and for unknown, deleted or disabled clients.
   *
   * Needed by an AS that verifies or signs with the secret itself (oidc-provider's
   * `client.symmetricKeyStore`). Optional so that a registry without sealed secrets still fits:
   * integrations then refuse those clients' HMAC use (fail closed).
   */
  symmetricSecret?(clientId: string): Promise<string | undefined>
}
