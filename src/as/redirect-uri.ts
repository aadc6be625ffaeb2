import type { RegisteredClient } from './types.js'

/**
 * An `http` URI on a loopback host, split around its port: RFC 8252 §7.3 names the IP literals;
 * `localhost` is included because real clients register it (docs/design-decisions.md; AS-BP-04). The
 * host is matched as written (no case folding, no other spelling of the address), and a userinfo,
 * an empty port or anything else before the path makes the URI no loopback URI at all.
 */
const LOOPBACK_HTTP = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::(\d{1,5}))?([/?#].*)?$/s

interface LoopbackParts {
  host: string
  port: string | undefined
  rest: string
}

function loopbackParts(uri: string): LoopbackParts | undefined {
  const m = LOOPBACK_HTTP.exec(uri)
  if (!m) return undefined
  return { host: m[1] as string, port: m[2], rest: m[3] ?? '' }
}

/**
 * The redirect URI to use for an authorization request, or `undefined` when it must be refused
 * (show an error page, never redirect: RFC 6749 §4.1.2.1).
 *
 * - Exact string comparison with a registered URI (RFC 9700 §2.1, RFC 6749 §3.1.2.3): no case
 *   folding, no default ports, no trailing-slash or percent-encoding normalisation.
 * - The one exception (RFC 8252 §7.3, AS-8252-7.3-a and AS-BP-04): an `http` URI on
 *   `127.0.0.1`, `[::1]` or `localhost` matches a registered URI on the same host whatever the port
 *   of either, when everything after the port is identical. Never across hosts (`localhost` is not
 *   `127.0.0.1`), never for `https`, and for every client (MCP clients often omit
 *   `application_type`).
 * - Omitted (`undefined`): the registered URI when exactly one is registered (RFC 6749
 *   §3.1.2.3), unless it is a loopback URI without a port, whose port the AS cannot know
 *   (AS-BP-05).
 */
export function matchRedirectUri(
  client: RegisteredClient,
  redirectUri: string | undefined,
): string | undefined {
  const registered = client.metadata.redirect_uris ?? []
  if (redirectUri === undefined) {
    if (registered.length !== 1) return undefined
    const only = registered[0] as string
    const loopback = loopbackParts(only)
    return loopback && loopback.port === undefined ? undefined : only
  }
  if (typeof redirectUri !== 'string') return undefined
  if (registered.includes(redirectUri)) return redirectUri
  const requested = loopbackParts(redirectUri)
  if (!requested || !validPort(requested.port)) return undefined
  for (const uri of registered) {
    const candidate = loopbackParts(uri)
    if (candidate && candidate.host === requested.host && candidate.rest === requested.rest) {
      return redirectUri
    }
  }
  return undefined
}

/**
 * A port a client can listen on, written canonically: 1-65535 without leading zeros (absent is
 * fine: the default port of http).
 */
function validPort(port: string | undefined): boolean {
  return port === undefined || (/^[1-9]\d*$/.test(port) && Number(port) <= 65535)
}
