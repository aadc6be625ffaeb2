/**
 * Error codes Registrar speaks on the wire.
 *
 * @see [RFC 7591 §3.2.2](https://www.rfc-editor.org/rfc/rfc7591.html#section-3.2.2)
 * @see [RFC 6750 §3.1](https://www.rfc-editor.org/rfc/rfc6750.html#section-3.1)
 */
export type ErrorCode =
  // RFC 7591 §3.2.2 Client Registration Error Response
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'invalid_software_statement'
  | 'unapproved_software_statement'
  // RFC 6749 §5.2, client authentication at the AS's token, introspection, revocation endpoints
  | 'invalid_client'
  // RFC 6750 §3.1, for the bearer tokens on /register and /register/:client_id
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  // RFC 6749 §4.1.2.1: refused by policy (a registration ceiling), not for its metadata
  | 'access_denied'
  // RFC 6749 §4.1.2.1: the service is overloaded or its store is unreachable (503)
  | 'temporarily_unavailable'
  // abuse limit on open registration (429); not an RFC code, OIDR §3.3 allows others
  | 'too_many_requests'
  // fallback; core never throws it
  | 'server_error'

const STATUS: Record<ErrorCode, number> = {
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
  invalid_software_statement: 400,
  unapproved_software_statement: 400,
  invalid_request: 400,
  // RFC 6749 §5.2 allows 400 or 401; always 401, so MCP clients re-register (AS-6749-5.2-a)
  invalid_client: 401,
  invalid_token: 401,
  insufficient_scope: 403,
  access_denied: 403,
  temporarily_unavailable: 503,
  too_many_requests: 429,
  server_error: 500,
}

/**
 * The one error type of Registrar, shared by the server and the client library. It carries the RFC
 * error code, the description and the HTTP status; the HTTP layer only translates it.
 *
 * @see [RFC 7591 §3.2.2](https://www.rfc-editor.org/rfc/rfc7591.html#section-3.2.2)
 */
export class RegistrationError extends Error {
  readonly error: ErrorCode | (string & {})
  readonly error_description: string | undefined
  readonly status: number
  /**
   * RFC 6750 §3.1: when a request carries no bearer token at all, the challenge names no error
   * code. Set for those 401s only.
   */
  readonly tokenMissing: boolean
  /** Extra response headers the transport should send with this error (e.g. Retry-After). */
  readonly headers: Readonly<Record<string, string>> | undefined

  constructor(
    error: ErrorCode | (string & {}),
    error_description?: string,
    options?: {
      status?: number
      cause?: unknown
      tokenMissing?: boolean
      headers?: Record<string, string>
    },
  ) {
    const status = options?.status ?? STATUS[error as ErrorCode] ?? 400
    // A refusal (4xx) is an answer, not a fault: its stack is never printed, and capturing one
    // cost a measured 16 % of a rejected registration.
    const stackTraceLimit = Error.stackTraceLimit
    if (status < 500) Error.stackTraceLimit = 0
    super(error_description ?? error, { cause: options?.cause })
    Error.stackTraceLimit = stackTraceLimit
    this.name = 'RegistrationError'
    this.error = error
    // kept as given (the client library rebuilds errors from other servers' bodies verbatim);
    // toJSON() makes it wire-safe
    this.error_description = error_description
    this.status = status
    this.tokenMissing = options?.tokenMissing ?? false
    this.headers = options?.headers
  }

  /**
   * RFC 7591 §3.2.2 error body, with the description limited to the characters RFC 6749 §5.2
   * allows. Descriptions of 5xx errors are never exposed.
   */
  toJSON(): { error: string; error_description?: string } {
    if (this.status >= 500 && this.error === 'server_error') return { error: this.error }
    return this.error_description === undefined
      ? { error: this.error }
      : { error: this.error, error_description: errorDescription(this.error_description) }
  }
}

/** Shorthand for the most common refusal: RFC 7591 §3.2.2 `invalid_client_metadata`. */
export function invalidMetadata(description: string): RegistrationError {
  return new RegistrationError('invalid_client_metadata', description)
}

/** Shorthand for RFC 7591 §3.2.2 `invalid_redirect_uri`. */
export function invalidRedirectUri(description: string): RegistrationError {
  return new RegistrationError('invalid_redirect_uri', description)
}

/**
 * RFC 6749 §5.2: error_description is limited to %x20-21 / %x23-5B / %x5D-7E. Descriptions often
 * quote client input, so anything else becomes `?` and the text is capped.
 */
function errorDescription(text: string): string {
  const clean = text.replaceAll('§', 'section ').replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?')
  return clean.length > 400 ? `${clean.slice(0, 397)}...` : clean
}
