import { invalidMetadata, invalidRedirectUri, type RegistrationError } from '../core/errors.js'
import { isIpLiteral, isSpecialUseAddress } from '../net/network-address.js'
import { isLoopbackHost } from '../shared/loopback.js'
import type { ClientMetadataRules } from './types.js'

/** Builds the refusal for a bad URI: `invalid_redirect_uri` or `invalid_client_metadata`. */
export type ErrorFactory = (description: string) => RegistrationError

export const MAX_URI = 2048
// in URIs also whitespace, backslash and bidirectional overrides (spoofing)
const URI_FORBIDDEN =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  /[\u0000-\u0020\u007f-\u009f\\\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f\u2066-\u2069\u3000\ufeff]/
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/
/** Schemes that are never a redirect target, whatever the client type (checklist §5.2). */
const DANGEROUS_SCHEMES = new Set([
  'javascript',
  'data',
  'file',
  'vbscript',
  'about',
  'blob',
  'filesystem',
  'view-source',
  'ws',
  'wss',
  'ftp',
  'mailto',
  'tel',
  'sms',
  'urn',
  'chrome',
  'intent',
])

/** client_uri, logo_uri, tos_uri, policy_uri: web pages shown to users (RFC 7591 §2). */
export function webPageUri(value: string, field: string): string {
  const u = absoluteUri(value, field, invalidMetadata)
  if (value.includes('#')) throw invalidMetadata(`${field} must not contain a fragment`)
  if (u.protocol !== 'https:' && !isLoopbackHttp(u)) {
    throw invalidMetadata(`${field} must be an https URL`)
  }
  return value
}

/**
 * URLs the server may fetch later (jwks_uri, sector_identifier_uri, request_uris): https, and no
 * `localhost` or special-use literal address (design §4). Checked without making a connection;
 * every actual fetch checks the resolved address again.
 */
export function fetchableUri(
  value: string,
  field: string,
  rules: ClientMetadataRules,
  allowFragment = false,
): string {
  const u = absoluteUri(value, field, invalidMetadata)
  if (u.protocol !== 'https:') throw invalidMetadata(`${field} must use the https scheme`)
  if (!allowFragment && value.includes('#'))
    throw invalidMetadata(`${field} must not contain a fragment`)
  // a trailing dot names the same host (`localhost.` is localhost, RFC 6761 §6.3)
  const host = u.hostname.toLowerCase().replace(/\.+$/, '')
  if (host === 'localhost' || host.endsWith('.localhost')) {
    throw invalidMetadata(`${field} must not name localhost`)
  }
  if (isIpLiteral(host) && isSpecialUseAddress(host, rules.allowedFetchAddresses)) {
    throw invalidMetadata(`${field} must not name a loopback, private or special-use address`)
  }
  return value
}

/**
 * Parses an absolute URI as registered: no whitespace, controls, backslashes, user information or
 * wildcards, and an http(s) URI with a non-empty authority (RFC 3986 §4.3, RFC 9110 §4.2).
 */
export function absoluteUri(value: string, field: string, fail: ErrorFactory): URL {
  if (value.length > MAX_URI) throw fail(`${field} must be at most ${MAX_URI} characters`)
  if (URI_FORBIDDEN.test(value)) {
    throw fail(`${field} must not contain whitespace, control characters or backslashes`)
  }
  const scheme = SCHEME.exec(value)
  let url: URL | undefined
  if (scheme) {
    try {
      url = new URL(value)
    } catch {
      url = undefined
    }
  }
  if (!url || !scheme) throw fail(`${field} must be an absolute URI`)
  const s = scheme[1]!.toLowerCase()
  // http(s) URIs need a non-empty authority (RFC 9110 §4.2.1, §4.2.2); the WHATWG parser would
  // silently turn `https:///cb` or `https:/cb` into `https://cb/`, which is not what was registered
  if ((s === 'http' || s === 'https') && !/^\/\/[^/?#]/.test(value.slice(scheme[0].length))) {
    throw fail(`${field} must be an absolute URI`)
  }
  if (url.username || url.password) throw fail(`${field} must not contain user information`)
  if (url.hostname.includes('*')) throw fail(`${field} must not contain a wildcard`)
  return url
}

/** An `http` URI on a loopback host (RFC 8252 §7.3; `localhost` too, see design §7). */
export function isLoopbackHttp(u: URL): boolean {
  return u.protocol === 'http:' && isLoopbackHost(u.hostname)
}

/** What a redirect URI is, for the rules of RFC 8252 and RFC 9700 §2.6. */
export type RedirectKind = 'https' | 'loopback' | 'private-use' | 'http'

/** Classifies one redirect URI by the decision table of checklist §5.2, or throws. */
export function redirectUriKind(
  uri: string,
  rules: ClientMetadataRules,
  fail: ErrorFactory,
): RedirectKind {
  const u = absoluteUri(uri, 'redirect URI', fail)
  if (uri.includes('#')) throw fail(`redirect URI ${uri} MUST NOT contain a fragment`)
  const scheme = u.protocol.slice(0, -1).toLowerCase()
  if (scheme === 'https') return 'https'
  if (scheme === 'http') return isLoopbackHttp(u) ? 'loopback' : 'http'
  if (DANGEROUS_SCHEMES.has(scheme)) throw fail(`redirect URI scheme '${scheme}' is not allowed`)
  // RFC 8252 §7.1, §8.4: reverse-domain private-use schemes; dot-less ones only when listed
  if (!scheme.includes('.') && !rules.allowedPrivateUseSchemes.includes(scheme)) {
    throw fail(
      `redirect URI scheme '${scheme}' is a private-use scheme without a period (RFC 8252 §8.4); use a reverse-domain scheme or ask the operator to allow it`,
    )
  }
  return 'private-use'
}

/** The rules that depend on the client's application_type (OIDR §2, RFC 8252 §7, RFC 9700 §2.6). */
export function checkRedirectUriForType(
  uri: string,
  kind: RedirectKind,
  type: 'web' | 'native',
  implicit: boolean,
): void {
  if (kind === 'http') {
    throw invalidRedirectUri(
      `redirect URI ${uri} uses http on a non-loopback host; http is only for native clients on loopback (RFC 9700 §2.6)`,
    )
  }
  if (type === 'web') {
    if (kind === 'loopback') {
      throw invalidRedirectUri(
        `redirect URI ${uri} is a loopback http URI, which web clients may not use; register as a native client`,
      )
    }
    if (kind === 'private-use') {
      throw invalidRedirectUri(
        `redirect URI ${uri} uses a private-use scheme, which web clients may not use; register as a native client`,
      )
    }
    if (implicit && new URL(uri).hostname.toLowerCase() === 'localhost') {
      throw invalidRedirectUri(
        'web clients using the implicit grant MUST NOT use localhost (OIDR §2)',
      )
    }
  }
}
