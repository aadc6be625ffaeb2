import { RegistrationError } from '../core/errors.js'

/** A response before it is bound to a transport (web `Response` or `node:http`). */
export interface HttpResponse {
  status: number
  headers: Record<string, string>
  /** Serialised body; absent for 204 and preflights. */
  body?: string
  /** client_id the request concerned, for the access log. */
  clientId?: string
}

/** RFC 7591 §3.2.1, RFC 7592 §3: registration responses carry credentials and are never cached. */
export const NO_STORE: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
  pragma: 'no-cache',
})

/** Every response: never sniff a type other than the one declared (Fetch §X-Content-Type-Options). */
export const NOSNIFF: Readonly<Record<string, string>> = Object.freeze({
  'x-content-type-options': 'nosniff',
})

export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', ...NOSNIFF, ...headers },
    body: JSON.stringify(body),
  }
}

/**
 * The only place an error becomes HTTP. A {@link RegistrationError} becomes its status and RFC 7591
 * §3.2.2 body, with `WWW-Authenticate` on 401 (RFC 6750 §3); anything else becomes a 500
 * `server_error` whose details go to the log, never to the client.
 */
export function errorResponse(
  err: unknown,
  options: { onUnexpected?: (err: unknown) => void } = {},
): HttpResponse {
  if (!(err instanceof RegistrationError)) {
    options.onUnexpected?.(err)
    return json(500, { error: 'server_error' }, { ...NO_STORE })
  }
  const headers: Record<string, string> = { ...NO_STORE, ...err.headers }
  const body = err.toJSON()
  if (err.status === 401) {
    const realm = 'realm="registrar"'
    // RFC 6750 §3.1: no error code when the request carried no token at all
    headers['www-authenticate'] = err.tokenMissing
      ? `Bearer ${realm}`
      : `Bearer ${realm}, error="${err.error}"${body.error_description ? `, error_description="${body.error_description}"` : ''}`
  }
  // RFC 6750 §3.1: a valid token without the privilege (the admin API's read-only tokens)
  if (err.status === 403 && err.error === 'insufficient_scope') {
    headers['www-authenticate'] = 'Bearer realm="registrar", error="insufficient_scope"'
  }
  return json(err.status, body, headers)
}
