import {
  decodeJwt,
  decodeProtectedHeader,
  type JWTPayload,
  type ProtectedHeaderParameters,
} from 'jose'

/** RFC 7523 §2.2: the only `client_assertion_type` this server knows. */
export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

const HMAC_BITS: Readonly<Record<string, number>> = { HS256: 256, HS384: 384, HS512: 512 }

/** A client assertion decoded, not yet verified. */
export interface DecodedAssertion {
  header: ProtectedHeaderParameters
  claims: JWTPayload
  /** The client it claims to be (`sub`, equal to `iss`). */
  clientId: string
}

/**
 * Decodes a client assertion without verifying it, to learn which client it names: `iss` and `sub`
 * must both be that client's id (RFC 7523 §3 items 1-2; OIDC Core §9). Undefined for anything
 * that is not a JWS compact JWT naming one client.
 */
export function decodeAssertion(assertion: string): DecodedAssertion | undefined {
  let header: ProtectedHeaderParameters
  let claims: JWTPayload
  try {
    header = decodeProtectedHeader(assertion)
    claims = decodeJwt(assertion)
  } catch {
    return undefined
  }
  // a JWE has five parts: not a signed assertion (decodeJwt already refuses it, stated for clarity)
  if (assertion.split('.').length !== 3) return undefined
  const { iss, sub } = claims
  if (typeof sub !== 'string' || sub === '' || iss !== sub) return undefined
  return { header, claims, clientId: sub }
}

/** What a client assertion is checked against (the claims part of RFC 7523 §3, RFC 10070 §3). */
export interface AssertionRules {
  issuer: string
  /** Audiences accepted besides the issuer, unless `strictAudience`. */
  otherAudiences: readonly (string | undefined)[]
  strictAudience: boolean
  /** Seconds since the epoch. */
  now: number
  clockSkew: number
  maxLifetime: number
}

/**
 * Checks an assertion's claims and `typ`; returns a short reason when one fails (for the failure
 * event, never for the client), undefined when they hold.
 *
 * - `aud` (RFC 7523 §3 item 3; RFC 10070 §3): the issuer, as the only value under
 *   `strictAudience`; otherwise any value equal to the issuer, the token endpoint or the URL of the
 *   endpoint called.
 * - `exp` required (item 4) and not beyond `maxLifetime` from now, so the replay record stays
 *   bounded (AS-7523-3-c); `nbf` and `iat` not in the future; all with `clockSkew`.
 * - `jti` required (OIDC Core §9; item 7): a non-empty string of at most 512 characters.
 * - `typ` naming another kind of JWT is refused (RFC 8725 §3.11; AS-10070-3-b); none,
 *   `JWT` and `client-authentication+jwt` are accepted.
 */
export function assertionClaimsProblem(
  decoded: DecodedAssertion,
  rules: AssertionRules,
): string | undefined {
  const { claims, header } = decoded
  if (header.typ !== undefined && !acceptedTyp(header.typ)) return 'typ names another kind of JWT'
  const aud = claims.aud
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : undefined
  if (!audiences || audiences.length === 0) return 'aud missing'
  if (rules.strictAudience) {
    if (audiences.length !== 1 || audiences[0] !== rules.issuer)
      return 'aud is not the issuer alone'
  } else if (
    !audiences.some(
      (a) => typeof a === 'string' && (a === rules.issuer || rules.otherAudiences.includes(a)),
    )
  ) {
    return 'aud names neither the issuer nor this endpoint'
  }
  const { exp, nbf, iat, jti } = claims
  const { now, clockSkew } = rules
  if (!isNumericDate(exp)) return 'exp missing'
  if (exp + clockSkew <= now) return 'expired'
  if (exp > now + rules.maxLifetime + clockSkew) return 'exp too far in the future'
  if (nbf !== undefined && (!isNumericDate(nbf) || nbf > now + clockSkew)) return 'not yet valid'
  if (iat !== undefined && (!isNumericDate(iat) || iat > now + clockSkew))
    return 'iat in the future'
  if (typeof jti !== 'string' || jti === '' || jti.length > 512) return 'jti missing or too long'
  return undefined
}

/**
 * `typ` values a client assertion may carry: untyped `JWT` and RFC 10070's
 * `client-authentication+jwt`, compared as media types (case-insensitive, `application/` optional).
 */
function acceptedTyp(typ: string): boolean {
  const t = typ.toLowerCase().replace(/^application\//, '')
  return t === 'jwt' || t === 'client-authentication+jwt'
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

/**
 * The JWS algorithms an assertion of `method` may use (RFC 7523 §3 item 9, AS-7523-3-e):
 * never `none`; HMAC only for `client_secret_jwt`, asymmetric only for `private_key_jwt`; within
 * what the server advertises; and exactly the registered `token_endpoint_auth_signing_alg` when the
 * client registered one.
 */
export function allowedAssertionAlgorithms(
  method: 'client_secret_jwt' | 'private_key_jwt',
  supported: readonly string[],
  registered: string | undefined,
): readonly string[] {
  const family = supported.filter((alg) =>
    alg === 'none'
      ? false
      : method === 'client_secret_jwt'
        ? HMAC_BITS[alg] !== undefined
        : !/^HS\d+$/.test(alg),
  )
  if (registered === undefined) return family
  return family.includes(registered) ? [registered] : []
}

/**
 * RFC 7518 §3.2: an HMAC key must be at least as long as the hash output. Registrar's secrets are
 * 43 characters (256 random bits, base64url), enough for HS256 only.
 */
export function hmacKeyLongEnough(alg: string, secret: string): boolean {
  const bits = HMAC_BITS[alg]
  return bits !== undefined && Buffer.byteLength(secret, 'utf8') * 8 >= bits
}
