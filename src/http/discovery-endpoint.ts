import type { Registrar } from '../core/registration.js'
import type { HttpResponse } from './respond.js'

/**
 * Where the discovery document is served, for an issuer whose path is `base`: RFC 8414 §3.1 path
 * insertion (`/.well-known/oauth-authorization-server{base}`), its OIDC counterpart, and both
 * well-known names appended to the issuer's path (OIDC Discovery §4, and what many clients try).
 */
export function discoveryPaths(base: string): string[] {
  return [
    `/.well-known/oauth-authorization-server${base}`,
    `/.well-known/openid-configuration${base}`,
    `${base}/.well-known/openid-configuration`,
    `${base}/.well-known/oauth-authorization-server`,
  ]
}

/**
 * `GET` the authorization server metadata (RFC 8414 §3.2; OIDC Discovery §4.2): serialised once,
 * since it depends on the configuration only.
 *
 * @see [RFC 8414 §3](https://www.rfc-editor.org/rfc/rfc8414.html#section-3)
 */
export function discoveryEndpoint(registrar: Registrar): () => HttpResponse {
  const body = JSON.stringify(registrar.serverMetadata())
  return () => ({
    status: 200,
    headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' },
    body,
  })
}
