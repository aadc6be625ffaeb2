import { isUtf8 } from 'node:buffer'

/** Client credentials from an `Authorization: Basic` header. */
export interface BasicCredentials {
  clientId: string
  clientSecret: string
}

/** Why a header could not be read as client credentials; the reason code of the failure event. */
export type BasicProblem = 'not_basic' | 'malformed_basic'

// RFC 9110 §11.4: credentials = auth-scheme [ 1*SP token68 ]; token68 of base64 (RFC 7617 §2)
const CREDENTIALS = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?: +(.*))?$/s
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/
// RFC 6749 App. A: client_id and client_secret are VSCHAR strings (%x20-7E)
const VSCHARS = /^[\x20-\x7e]+$/

/**
 * Reads `client_id` and `client_secret` from an `Authorization` header value (RFC 6749 §2.3.1,
 * App. B; RFC 7617): the scheme is case-insensitive; base64 is decoded strictly (valid alphabet,
 * UTF-8 result); the credentials split at the **first** `:`; each half is then form-decoded (`+` is
 * a space, `%XX` are UTF-8 octets; `decodeURIComponent` alone would keep `+`), and both must be
 * non-empty VSCHAR strings (App. A; Registrar never issues an empty secret).
 *
 * Returns a problem instead of credentials for any other header: the caller refuses the request,
 * it never falls back to body credentials (AS-6749-2.3-c, AS-BP-10).
 */
export function parseBasicCredentials(header: string): BasicCredentials | BasicProblem {
  const m = CREDENTIALS.exec(header.trim())
  if (m?.[1]?.toLowerCase() !== 'basic') return 'not_basic'
  const token = m[2]?.trim() ?? ''
  if (!BASE64.test(token) || token.length % 4 === 1) return 'malformed_basic'
  const bytes = Buffer.from(token, 'base64')
  if (!isUtf8(bytes)) return 'malformed_basic'
  const decoded = bytes.toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return 'malformed_basic'
  const clientId = formDecode(decoded.slice(0, colon))
  const clientSecret = formDecode(decoded.slice(colon + 1))
  if (clientId === undefined || clientSecret === undefined) return 'malformed_basic'
  if (!VSCHARS.test(clientId) || !VSCHARS.test(clientSecret)) return 'malformed_basic'
  return { clientId, clientSecret }
}

/** `application/x-www-form-urlencoded` decoding of one value; undefined when `%` is malformed. */
function formDecode(value: string): string | undefined {
  if (!value.includes('%') && !value.includes('+')) return value
  try {
    return decodeURIComponent(value.replaceAll('+', ' '))
  } catch {
    return undefined
  }
}
