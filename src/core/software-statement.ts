import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose'
import type { TrustedIssuer } from '../config/schema.js'
import { epochSeconds } from '../shared/epoch.js'
import { isPrototypeName } from '../shared/prototype-names.js'
import { SERVER_ISSUED_MEMBERS } from './client-information.js'
import { RegistrationError } from './errors.js'
import type { OutboundFetch } from './outbound-fetch.js'

/** A software statement that verified against a trusted issuer (RFC 7591 §2.3). */
export interface VerifiedSoftwareStatement {
  /** The statement exactly as presented; echoed unmodified (RFC 7591 §3.2.1). */
  jwt: string
  issuer: TrustedIssuer
  /** Client metadata asserted by the statement, after the issuer's claim mapping. */
  metadata: Record<string, unknown>
}

/** JWT claims that describe the statement itself, never client metadata (RFC 7519 §4.1). */
const REGISTERED_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti'])

function invalid(description: string, cause?: unknown): RegistrationError {
  return new RegistrationError('invalid_software_statement', description, { cause })
}

/**
 * Verifies software statements against the configured trusted issuers: signed JWS only (`none`
 * refused), `iss` required and trusted, the issuer's own keys only (never keys or key URLs carried
 * in the statement), the issuer's algorithm allow-list, `exp` / `nbf` / `iat` with a small clock
 * skew. Keys by `jwks_uri` are fetched through the SSRF-safe fetcher, cached, and re-fetched when
 * a statement names an unknown `kid`.
 *
 * Errors: malformed, unsigned, badly signed, expired or unverifiable → `invalid_software_statement`;
 * well-formed but from an issuer that is not trusted → `unapproved_software_statement` (RFC 7591 §3.2.2).
 *
 * @see [RFC 7591 §2.3](https://www.rfc-editor.org/rfc/rfc7591.html#section-2.3)
 */
export class SoftwareStatementVerifier {
  readonly #issuers: Map<string, { issuer: TrustedIssuer; keys: JWTVerifyGetKey }>
  readonly #clockSkew: number
  readonly #now: () => number
  readonly #audience: readonly string[]

  constructor(options: {
    trustedIssuers: readonly TrustedIssuer[]
    /**
     * The identifiers of this server (its issuer, its registration endpoint): a statement's `aud`,
     * when present and the issuer configures no `audience`, must name one of them.
     */
    audience?: readonly string[]
    clockSkew: number
    /** Seconds before an unknown `kid` may trigger another fetch of a jwks_uri. */
    keyRefreshCooldown: number
    fetch: OutboundFetch
    now?: () => number
  }) {
    this.#clockSkew = options.clockSkew
    this.#audience = options.audience ?? []
    this.#now = options.now ?? epochSeconds
    this.#issuers = new Map(
      options.trustedIssuers.map((issuer) => [
        issuer.iss,
        {
          issuer,
          keys: issuer.jwks
            ? (createLocalJWKSet(issuer.jwks as never) as JWTVerifyGetKey)
            : (createRemoteJWKSet(new URL(issuer.jwks_uri as string), {
                [customFetch]: options.fetch as never,
                cooldownDuration: options.keyRefreshCooldown * 1000,
                cacheMaxAge: 10 * 60_000,
              }) as JWTVerifyGetKey),
        },
      ]),
    )
  }

  /** True when at least one issuer is trusted, i.e. statements are processed at all. */
  get enabled(): boolean {
    return this.#issuers.size > 0
  }

  async verify(jwt: unknown): Promise<VerifiedSoftwareStatement> {
    if (typeof jwt !== 'string' || jwt.length > 16_384) {
      throw invalid('software_statement must be a JWT string')
    }
    const parts = jwt.split('.')
    if (parts.length !== 3) {
      // five parts is a JWE: RFC 7591 §2.3 requires a JWS (signed or MACed)
      throw invalid('software_statement must be a signed JWT (JWS compact serialization)')
    }
    let header: ReturnType<typeof decodeProtectedHeader>
    let claims: JWTPayload
    try {
      header = decodeProtectedHeader(jwt)
      claims = decodeJwt(jwt)
    } catch (cause) {
      throw invalid('software_statement is not a well-formed JWT', cause)
    }
    if (typeof header.alg !== 'string' || header.alg === 'none') {
      throw invalid('software_statement must be signed; alg none is not accepted')
    }
    if (
      header.jku !== undefined ||
      header.jwk !== undefined ||
      header.x5u !== undefined ||
      header.x5c !== undefined
    ) {
      throw invalid(
        'software_statement must not carry keys or key URLs in its header; keys come from the trusted issuer',
      )
    }
    if (typeof claims.iss !== 'string' || claims.iss === '') {
      throw invalid('software_statement must contain an iss claim (RFC 7591 §2.3)')
    }
    const trusted = this.#issuers.get(claims.iss)
    if (!trusted) {
      throw new RegistrationError(
        'unapproved_software_statement',
        `software statements issued by ${claims.iss} are not approved by this server`,
      )
    }
    const { issuer, keys } = trusted
    if (!issuer.algorithms.includes(header.alg)) {
      throw invalid(`software_statement algorithm ${header.alg} is not accepted from ${issuer.iss}`)
    }
    checkStatementShape(header, claims, issuer, this.#audience)
    let payload: JWTPayload
    try {
      const result = await jwtVerify(jwt, keys, {
        issuer: issuer.iss,
        algorithms: issuer.algorithms,
        clockTolerance: this.#clockSkew,
        currentDate: new Date(this.#now() * 1000),
        ...(issuer.maxAge !== undefined && { maxTokenAge: issuer.maxAge }),
      })
      payload = result.payload
    } catch (cause) {
      throw invalid(describeJoseError(cause), cause)
    }
    if (typeof payload.iat === 'number' && payload.iat > this.#now() + this.#clockSkew) {
      throw invalid('software_statement was issued in the future (iat)')
    }
    if (issuer.softwareIds && !issuer.softwareIds.includes(payload.software_id as string)) {
      throw new RegistrationError(
        'unapproved_software_statement',
        `software ${String(payload.software_id ?? '(no software_id)')} is not approved by this server`,
      )
    }
    return { jwt, issuer, metadata: statementMetadata(payload, issuer) }
  }

  /**
   * The metadata and issuer of a statement that was verified when it was registered. Used on RFC
   * 7592 updates so the statement's values (and its issuer's policy) keep applying after it has
   * expired; not a verification. Undefined once its issuer is no longer trusted.
   */
  storedStatement(
    jwt: string,
  ): { metadata: Record<string, unknown>; issuer: TrustedIssuer } | undefined {
    try {
      const claims = decodeJwt(jwt)
      const trusted = typeof claims.iss === 'string' ? this.#issuers.get(claims.iss) : undefined
      return trusted
        ? { metadata: statementMetadata(claims, trusted.issuer), issuer: trusted.issuer }
        : undefined
    } catch {
      return undefined
    }
  }
}

/**
 * Not every JWT a trusted issuer signs is a software statement (an ID token, an access token):
 * issue 12 item 3. Checked before the signature, on the decoded header and claims:
 * - `typ`, when the issuer configures one (RFC 8725 §3.11 explicit typing; `application/` optional);
 * - `aud`: one of the issuer's configured `audience` values; without one, an `aud` that is present
 *   must name this server (RFC 7519 §4.1.3: a recipient that does not identify itself with a value
 *   in `aud` MUST reject the JWT);
 * - `software_id` (RFC 7591 §2), unless the issuer sets `requireSoftwareId: false`;
 * - an expiry: `exp`, or `iat` bounded by the issuer's `maxAge`.
 */
function checkStatementShape(
  header: { typ?: string },
  claims: JWTPayload,
  issuer: TrustedIssuer,
  ownAudience: readonly string[],
): void {
  if (issuer.typ !== undefined) {
    const bare = (t: string) => t.toLowerCase().replace(/^application\//, '')
    if (typeof header.typ !== 'string' || bare(header.typ) !== bare(issuer.typ)) {
      throw invalid(`software_statement must have the typ header ${issuer.typ} (RFC 8725 §3.11)`)
    }
  }
  const aud = claims.aud === undefined ? [] : Array.isArray(claims.aud) ? claims.aud : [claims.aud]
  if (issuer.audience !== undefined) {
    if (!aud.some((a) => issuer.audience?.includes(a))) {
      throw invalid(`software_statement must have an aud naming ${issuer.audience.join(' or ')}`)
    }
  } else if (aud.length > 0 && !aud.some((a) => ownAudience.includes(a))) {
    throw invalid(
      'software_statement is addressed to another party (aud does not name this server)',
    )
  }
  if (
    issuer.requireSoftwareId !== false &&
    (typeof claims.software_id !== 'string' || claims.software_id === '')
  ) {
    throw invalid('software_statement must contain a software_id claim (RFC 7591 §2)')
  }
  if (claims.exp === undefined && issuer.maxAge === undefined) {
    throw invalid('software_statement must expire: an exp claim is required')
  }
  if (claims.exp === undefined && typeof claims.iat !== 'number') {
    throw invalid('software_statement must contain exp, or iat within the issuer maxAge')
  }
}

/** The statement's claims as client metadata, after the issuer's claim mapping (RSSA-a). */
function statementMetadata(claims: JWTPayload, issuer: TrustedIssuer): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const mapping = issuer.claimMapping ?? {}
  for (const [claim, value] of Object.entries(claims)) {
    if (REGISTERED_CLAIMS.has(claim)) continue
    const name = mapping[claim] ?? claim
    if (
      SERVER_ISSUED_MEMBERS.includes(name) ||
      name === 'software_statement' ||
      isPrototypeName(name)
    )
      continue
    out[name] = value
  }
  return out
}

function describeJoseError(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'software_statement has expired'
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'software_statement is not yet valid (nbf)'
    if (err.claim === 'iat') return 'software_statement is too old (iat)'
    return `software_statement claim ${err.claim} is invalid`
  }
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return 'software_statement signature verification failed'
  if (err instanceof errors.JWKSNoMatchingKey)
    return 'software_statement is signed with a key its issuer does not publish'
  if (err instanceof errors.JWKSMultipleMatchingKeys)
    return 'software_statement key is ambiguous (several keys match)'
  if (err instanceof errors.JOSEAlgNotAllowed) return 'software_statement algorithm is not accepted'
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) {
    return 'the issuer keys could not be obtained to verify software_statement'
  }
  if (err instanceof errors.JOSEError)
    return `software_statement could not be verified (${err.code})`
  return 'the issuer keys could not be obtained to verify software_statement'
}
