import { RegistrationError } from '../core/errors.js'

/**
 * The error every store throws when its database cannot serve a request right now (unreachable,
 * timed out, locked, shutting down). It is a 503 `temporarily_unavailable` (RFC 6749 §4.1.2.1):
 * the client may retry, and nothing was written. The driver's error is kept as `cause` for logs;
 * the wire description names no host or driver detail.
 */
export function storeUnavailable(cause: unknown): RegistrationError {
  return new RegistrationError('temporarily_unavailable', 'the client store is unavailable', {
    status: 503,
    cause,
    // RFC 9110 §10.2.3: a hint; outages that last are reported by /healthz
    headers: { 'retry-after': '2' },
  })
}
