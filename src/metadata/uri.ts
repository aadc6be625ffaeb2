import { invalidMetadata, invalidRedirectUri, type RegistrationError } from '../core/errors.js'
import { isIpLiteral, isSpecialUseAddress } from '../net/network-address.js'
import { isLoopbackHost } from '../shared/loopback.js'
import { hasInvisibleCharacters } from './human-readable.js'
import type { ClientMetadataRules } from './types.js'

/** Builds the refusal for a bad URI: `invalid_redirect_uri` or `invalid_client_metadata`. */
export type ErrorFactory = (description: string) => RegistrationError

export const MAX_URI = 2048
// in URIs also whitespace, backslash and bidirectional overrides (spoofing)
const URI_FORBIDDEN =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  /[\u0000-\u0020\u007f-\u009f\\\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f\u2066-\u2069\u3000\ufeff]/
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/
/** Schemes that are never a redirect target, whatever the client type (RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700 §2.1). */
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

/** How a URL that the AS shows or calls may be used, for {@link referenceUri}. */
export interface ReferenceUse {
  /**
   * The browser is sent there (front-channel logout, login initiation): a native client's may name
   * a loopback host, where the app itself listens (RFC 8252 §7.3).
   */
  redirectTarget?: boolean
  /** With the loopback exception, `http` too (front-channel logout of a native client). */
  loopbackHttp?: boolean
  /** A fragment is allowed (OIDC Core §4 says nothing against one in `initiate_login_uri`). */
  fragment?: boolean
}

/**
 * URLs that the AS shows to users or calls: `client_uri`, `logo_uri`, `tos_uri`, `policy_uri`
 * (RFC 7591 §2, and their `#lang` forms), `initiate_login_uri` (OIDR §2), `frontchannel_logout_uri`
 * and `backchannel_logout_uri` (Front-/Back-Channel Logout §2.2). https, and no `localhost` or
 * loopback / private / link-local / special-use literal address (issue 12 item 5: a logo, a link or
 * a logout call must not reach into the AS's or the user's network), except a loopback host in a
 * native client's redirect target. Returned in canonical (WHATWG) form, so that what is stored and
 * shown is what was checked.
 */
export function referenceUri(
  value: string,
  field: string,
  rules: ClientMetadataRules,
  native: boolean,
  use: ReferenceUse = {},
): string {
  const u = absoluteUri(value, field, invalidMetadata)
  if (!use.fragment && value.includes('#'))
    throw invalidMetadata(`${field} must not contain a fragment`)
  const loopbackAllowed = native && use.redirectTarget === true && isLoopbackHost(u.hostname)
  const scheme = u.protocol
  if (scheme !== 'https:' && !(loopbackAllowed && use.loopbackHttp && scheme === 'http:')) {
    throw invalidMetadata(`${field} must be an https URL`)
  }
  if (!loopbackAllowed) {
    const why = localOrSpecialUse(u, rules.allowedFetchAddresses)
    if (why) throw invalidMetadata(`${field} ${why}`)
  }
  return u.href
}

/**
 * URLs the server may fetch later (jwks_uri, sector_identifier_uri, request_uris): https, and no
 * `localhost` or special-use literal address (RFC 7591 §5; docs/security.md). Checked without making a connection;
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
  const why = localOrSpecialUse(u, rules.allowedFetchAddresses)
  if (why) throw invalidMetadata(`${field} ${why}`)
  return value
}

/**
 * Why a URL's host may not be named by a client: `localhost` (and its subdomains, RFC 6761 §6.3)
 * or a literal special-use address (the one check of `src/net/`), unless `allow` lists it.
 */
function localOrSpecialUse(u: URL, allow: readonly string[]): string | undefined {
  // a trailing dot names the same host (`localhost.` is localhost)
  const host = u.hostname.toLowerCase().replace(/\.+$/, '')
  if (host === 'localhost' || host.endsWith('.localhost')) return 'must not name localhost'
  if (isIpLiteral(host) && isSpecialUseAddress(host, allow)) {
    return 'must not name a loopback, private, link-local or special-use address'
  }
  return undefined
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
  if (hasInvisibleCharacters(value)) {
    throw fail(`${field} must not contain invisible or bidirectional control characters`)
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
  // the WHATWG parser reads `2130706433`, `0x7f000001`, `127.1` or `0177.0.0.1` as 127.0.0.1: an
  // IP address is taken only as it serialises, so that the host checked is the host written
  const written = writtenHost(value.slice(scheme[0].length))
  if (written !== undefined && isIpLiteral(url.hostname) && written !== url.hostname) {
    throw fail(`${field} must write its IP address as ${url.hostname}`)
  }
  if (url.port === '0') throw fail(`${field} must not use port 0`)
  return url
}

/** The host of an authority as written (`//host:port/…`, lower-cased), or undefined. */
function writtenHost(rest: string): string | undefined {
  if (!rest.startsWith('//')) return undefined
  const authority = rest.slice(2).split(/[/?#]/, 1)[0]!
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1).toLowerCase()
  if (hostPort.startsWith('[')) return hostPort.slice(0, hostPort.indexOf(']') + 1)
  return hostPort.replace(/:[^:]*$/, '')
}

/** An `http` URI on a loopback host (RFC 8252 §7.3; `localhost` too, see docs/design-decisions.md). */
export function isLoopbackHttp(u: URL): boolean {
  return u.protocol === 'http:' && isLoopbackHost(u.hostname)
}

/** What a redirect URI is, for the rules of RFC 8252 and RFC 9700 §2.6. */
export type RedirectKind = 'https' | 'loopback' | 'private-use' | 'http'

/** Classifies one redirect URI by the rules of RFC 6749 §3.1.2, RFC 8252 §7 and RFC 9700 §2.1 (docs/design-decisions.md), or throws. */
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
