import { RegistrationError } from '../core/errors.js'

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i

/**
 * The bearer token of an `Authorization` header (RFC 6750 §2.1), or undefined when there is no
 * header. Another scheme is answered like a missing token (a bare `Bearer` challenge, RFC 6750
 * §3.1); a Bearer value that is not a b64token is an invalid token.
 */
export function bearer(authorization: string | undefined | null): string | undefined {
  if (authorization === undefined || authorization === null) return undefined
  const match = BEARER.exec(authorization)
  if (match) return match[1]
  if (/^bearer(\s|$)/i.test(authorization)) {
    throw new RegistrationError('invalid_token', 'the bearer token is malformed')
  }
  throw new RegistrationError(
    'invalid_token',
    'the Authorization header must use the Bearer scheme',
    {
      tokenMissing: true,
    },
  )
}
