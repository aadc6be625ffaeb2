import { RegistrationError } from '../core/errors.js'

/**
 * Why a client authentication failed, for the `client.authentication_failed` event and the logs.
 * Never sent to the client: every `invalid_client` reads the same on the wire (AS-BP-06).
 */
export type ClientAuthenticationFailureReason =
  /** Not a form-encoded request a client could authenticate with (400). */
  | 'malformed_request'
  /** Two authentication mechanisms in one request (RFC 6749 §2.3, 400). */
  | 'multiple_mechanisms'
  /** Credentials in the query string (RFC 6749 §2.3.1, 400). */
  | 'credentials_in_query'
  /** A body `client_id` names another client than the credentials (400 for Basic). */
  | 'client_id_mismatch'
  /** Neither credentials nor a `client_id` (400). */
  | 'client_id_missing'
  /** An `Authorization` header that is not Basic. */
  | 'unsupported_authorization_scheme'
  /** A Basic header that cannot be decoded (RFC 6749 App. B). */
  | 'malformed_basic'
  /** No usable client by that id: unknown, deleted, disabled or awaiting approval. */
  | 'unknown_client'
  | 'invalid_secret'
  /** The right secret, past `client_secret_expires_at` (RFC 7591 §3.2.1). */
  | 'secret_expired'
  /** The client registered another `token_endpoint_auth_method` (RFC 7591 §2). */
  | 'method_not_registered'
  /** A confidential client sent no credentials (RFC 6749 §3.2.1). */
  | 'credentials_missing'
  /** A public (`none`) client sent credentials (AS-BP-13). */
  | 'credentials_not_expected'
  /** A client assertion that fails any check of RFC 7523 §3 (or RFC 10070). */
  | 'invalid_assertion'
  /** A client assertion whose `jti` was already used (RFC 7523 §3 item 7). */
  | 'assertion_replayed'
  /** The client's keys could not be obtained (jwks_uri unreachable, cooling down). */
  | 'keys_unavailable'
  /** No certificate, or one that does not match the registration (RFC 8705 §2). */
  | 'invalid_certificate'

const reasons = new WeakMap<RegistrationError, ClientAuthenticationFailureReason>()

/** The reason recorded with a failure made by {@link authenticationFailed}. */
export function failureReason(
  err: RegistrationError,
): ClientAuthenticationFailureReason | undefined {
  return reasons.get(err)
}

/**
 * RFC 6749 §5.2 `invalid_client`, answered 401 with `WWW-Authenticate: Basic realm="<issuer>"`
 * whatever mechanism the client used (AS-6749-5.2-a: Claude's connector registers again on a
 * 401 `invalid_client`), never cached. One description for every cause but an expired secret, so
 * an unknown client and a wrong secret read alike (AS-BP-06).
 */
export function invalidClient(
  realm: string,
  reason: ClientAuthenticationFailureReason,
): RegistrationError {
  const err = new RegistrationError(
    'invalid_client',
    reason === 'secret_expired' ? 'the client secret has expired' : 'client authentication failed',
    { headers: challengeHeaders(realm) },
  )
  reasons.set(err, reason)
  return err
}

/** RFC 6749 §5.2 `invalid_request` (400): a request no client authentication can be read from. */
export function invalidAuthenticationRequest(
  description: string,
  reason: ClientAuthenticationFailureReason,
): RegistrationError {
  const err = new RegistrationError('invalid_request', description, {
    headers: { ...NO_STORE },
  })
  reasons.set(err, reason)
  return err
}

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const

/** Which failure limit refused an attempt (`clientAuthentication.failureLimit.*`). */
export type FailureLimitScope = 'client' | 'address'

const throttles = new WeakMap<RegistrationError, FailureLimitScope>()

/** The limit that made {@link tooManyFailedAuthentications}, or undefined for any other error. */
export function throttleScope(err: RegistrationError): FailureLimitScope | undefined {
  return throttles.get(err)
}

/**
 * 429 with `Retry-After` (RFC 6585 §4, RFC 9110 §10.2.3): too many failed client authentications
 * (RFC 6749 §2.3.1, as-side AS-6749-2.3.1-c); the credentials were not checked. RFC 6749 §5.2 has
 * no code for it: `too_many_requests`, as the registration endpoint's limit answers. It reads the
 * same whether the client exists or not (AS-BP-06).
 */
export function tooManyFailedAuthentications(
  scope: FailureLimitScope,
  retryAfterSeconds: number,
): RegistrationError {
  const err = new RegistrationError(
    'too_many_requests',
    `too many failed client authentications; retry in ${retryAfterSeconds} seconds`,
    { headers: { ...NO_STORE, 'retry-after': String(retryAfterSeconds) } },
  )
  throttles.set(err, scope)
  return err
}

function challengeHeaders(realm: string): Record<string, string> {
  return {
    ...NO_STORE,
    'www-authenticate': `Basic realm="${realm.replace(/["\\]/g, '\\$&')}"`,
  }
}

/**
 * The response headers of a failed client authentication (RFC 6749 §5.1, §5.2): `Cache-Control:
 * no-store`, and on a 401 the `WWW-Authenticate: Basic` challenge RFC 9110 §15.5.2 requires.
 * For frameworks that build the response themselves.
 */
export function clientAuthenticationErrorHeaders(
  err: unknown,
  options: { realm?: string } = {},
): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...NO_STORE,
    ...(err instanceof RegistrationError ? err.headers : undefined),
  }
  if (
    err instanceof RegistrationError &&
    err.status === 401 &&
    headers['www-authenticate'] === undefined
  ) {
    Object.assign(headers, challengeHeaders(options.realm ?? 'registrar'))
  }
  return headers
}

/**
 * Renders what `authenticateClient` threw as the token (introspection, revocation) endpoint's error
 * response: a {@link RegistrationError} as its status and RFC 6749 §5.2 JSON body with
 * {@link clientAuthenticationErrorHeaders}; anything else as 500 `server_error`, without details.
 *
 * @example
 * try { client = await registry.authenticateClient(request) }
 * catch (err) { return clientAuthenticationErrorResponse(err) }
 */
export function clientAuthenticationErrorResponse(
  err: unknown,
  options: { realm?: string } = {},
): Response {
  if (!(err instanceof RegistrationError)) {
    return new Response(JSON.stringify({ error: 'server_error' }), {
      status: 500,
      headers: { 'content-type': 'application/json', ...NO_STORE },
    })
  }
  return new Response(JSON.stringify(err.toJSON()), {
    status: err.status,
    headers: clientAuthenticationErrorHeaders(err, options),
  })
}
