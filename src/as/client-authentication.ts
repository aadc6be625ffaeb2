import type { X509Certificate } from 'node:crypto'
import { type CompactVerifyGetKey, compactVerify } from 'jose'
import { constantEquals, openSecret, sha256 } from '../core/crypto.js'
import type { ClientRecord, PreviousClientSecret, Store } from '../core/store.js'
import { readAuthenticationInput } from './authentication-request.js'
import { parseBasicCredentials } from './basic-credentials.js'
import {
  allowedAssertionAlgorithms,
  assertionClaimsProblem,
  type DecodedAssertion,
  decodeAssertion,
  hmacKeyLongEnough,
  JWT_BEARER,
} from './client-assertion.js'
import type { ActiveClient } from './client-cache.js'
import { type ClientKeySets, KeysUnavailable } from './client-key-set.js'
import {
  type ClientAuthenticationFailureReason,
  invalidAuthenticationRequest,
  invalidClient,
} from './errors.js'
import {
  chainsToTrustAnchor,
  matchesRegisteredCertificate,
  matchesRegisteredSubject,
  toCertificate,
} from './mutual-tls.js'
import type {
  AuthenticateClientOptions,
  AuthenticatedClient,
  ClientAuthenticationRequest,
} from './types.js'

/** What a failure event can say about the attempt, filled in as the request is read. */
export interface AuthenticationAttempt {
  clientId?: string
  method?: string
  /** Which check failed, for operators (never sent to the client). */
  detail?: string
}

/** The settings and collaborators of {@link ClientAuthenticator}. */
export interface ClientAuthenticatorOptions {
  /** The issuer identifier: the realm of the challenge and the audience of assertions. */
  issuer: string
  /** The token endpoint, an accepted assertion audience unless `strictAudience`. */
  tokenEndpoint: string | undefined
  strictMethod: boolean
  strictAudience: boolean
  maxAssertionLifetime: number
  clockSkew: number
  maxBodyBytes: number
  /** `token_endpoint_auth_signing_alg_values_supported`, as registration enforces it. */
  signingAlgorithms: readonly string[]
  /** The usable client an id names (the cache). */
  lookup: (clientId: string) => Promise<ActiveClient | undefined>
  /** The replay record of client assertions. */
  store: Pick<Store, 'recordClientAssertion'>
  keys: ClientKeySets
  /** Opens sealed secrets (`client_secret_jwt`, secrets of clients with HMAC algorithms). */
  secretKey: Buffer | undefined
  trustAnchors: readonly X509Certificate[]
  /** Seconds since the epoch. */
  now: () => number
  /**
   * Once a request names its client, before any credential is checked: throws when failures
   * from that client (and address) are over their limit (RFC 6749 §2.3.1).
   */
  admit?: (clientId: string, address: string | undefined) => Promise<void>
}

const SECRET_PAIR = new Set(['client_secret_basic', 'client_secret_post'])
const MUTUAL_TLS = new Set(['tls_client_auth', 'self_signed_tls_client_auth'])
// compared with presented secrets of unknown clients, so that they take as long as known ones
const DUMMY_DIGEST = sha256('registrar: no such client')

/**
 * Client authentication at the AS's token, introspection and revocation endpoints (RFC 6749
 * §2.3, §3.2.1; RFC 7521, RFC 7523, RFC 10070; RFC 8705), with the choices of docs/design-decisions.md (the AS side).
 * Every failure is a `RegistrationError`: `invalid_request` (400) for a request no authentication
 * can be read from, `invalid_client` (401) for everything else.
 */
export class ClientAuthenticator {
  readonly #o: ClientAuthenticatorOptions

  constructor(options: ClientAuthenticatorOptions) {
    this.#o = options
  }

  async authenticate(
    request: Request | ClientAuthenticationRequest,
    options: AuthenticateClientOptions,
    attempt: AuthenticationAttempt,
    /** `options.clientAddress`, as the registry normalised it. */
    address: string | undefined = options.clientAddress,
  ): Promise<AuthenticatedClient> {
    const input = await readAuthenticationInput(request, this.#o.maxBodyBytes)
    const basic = input.authorization !== undefined
    const post = input.clientSecret !== undefined
    const jwt = input.clientAssertion !== undefined || input.clientAssertionType !== undefined
    // RFC 6749 §2.3: one mechanism per request; a client_id next to Basic only identifies
    if (Number(basic) + Number(post) + Number(jwt) > 1) {
      throw invalidAuthenticationRequest(
        'the request must use exactly one client authentication method',
        'multiple_mechanisms',
      )
    }
    const context = {
      attempt,
      certificate: options.clientCertificate,
      endpoint: options.endpoint ?? input.endpoint,
      address,
    }
    if (basic) {
      attempt.method = 'client_secret_basic'
      const credentials = parseBasicCredentials(input.authorization as string)
      if (typeof credentials === 'string') {
        throw this.#fail(
          credentials === 'not_basic' ? 'unsupported_authorization_scheme' : 'malformed_basic',
        )
      }
      attempt.clientId = credentials.clientId
      // AS-BP-08: allowed when equal, never required
      if (input.clientId !== undefined && input.clientId !== credentials.clientId) {
        throw invalidAuthenticationRequest(
          'client_id does not match the client of the Authorization header',
          'client_id_mismatch',
        )
      }
      return this.#secret(
        credentials.clientId,
        credentials.clientSecret,
        'client_secret_basic',
        context,
      )
    }
    if (post) {
      attempt.method = 'client_secret_post'
      if (input.clientId === undefined) {
        throw invalidAuthenticationRequest('client_secret needs client_id', 'client_id_missing')
      }
      attempt.clientId = input.clientId
      return this.#secret(
        input.clientId,
        input.clientSecret as string,
        'client_secret_post',
        context,
      )
    }
    if (jwt) {
      return this.#assertion(
        input.clientAssertion,
        input.clientAssertionType,
        input.clientId,
        context,
      )
    }
    if (input.clientId === undefined) {
      throw invalidAuthenticationRequest(
        'client_id is required when no client credentials are sent',
        'client_id_missing',
      )
    }
    attempt.clientId = input.clientId
    return this.#withoutCredentials(input.clientId, context)
  }

  /** `client_secret_basic` and `client_secret_post` (RFC 6749 §2.3.1). */
  async #secret(
    clientId: string,
    secret: string,
    method: 'client_secret_basic' | 'client_secret_post',
    context: Context,
  ): Promise<AuthenticatedClient> {
    await this.#o.admit?.(clientId, context.address)
    const digest = sha256(secret)
    const active = await this.#o.lookup(clientId)
    if (!active) {
      constantEquals(digest, DUMMY_DIGEST)
      throw this.#fail('unknown_client')
    }
    const registered = active.client.metadata.token_endpoint_auth_method
    if (registered === 'none') {
      constantEquals(digest, DUMMY_DIGEST)
      throw this.#fail('credentials_not_expected')
    }
    if (MUTUAL_TLS.has(registered) && context.certificate !== undefined) {
      // RFC 6749 §2.3: a certificate-bound method and a secret are two mechanisms
      throw invalidAuthenticationRequest(
        'the request must use exactly one client authentication method',
        'multiple_mechanisms',
      )
    }
    if (!this.#methodAllowed(method, registered, active)) {
      constantEquals(digest, DUMMY_DIGEST)
      throw this.#fail('method_not_registered')
    }
    // both compared every time: the answer's timing does not tell which secret matched
    const current = this.#secretMatches(digest, active.record)
    const previous = this.#previousSecretMatches(digest, active.record)
    if (current) {
      if (secretExpired(active.record, this.#o.now)) throw this.#fail('secret_expired')
      return { client: active.client, method }
    }
    // the secret a renewal replaced, during its grace period (lifecycle.secretRotationGracePeriod)
    if (previous) return { client: active.client, method }
    throw this.#fail('invalid_secret')
  }

  /**
   * An earlier secret (one a renewal replaced) matches and has not ended. Every entry is compared:
   * the time taken does not tell which one matched.
   */
  #previousSecretMatches(digest: string, record: ClientRecord): boolean {
    const now = this.#o.now()
    let found = false
    for (const previous of record.previousClientSecrets ?? []) {
      let matches: boolean
      if (previous.hash !== undefined) matches = constantEquals(digest, previous.hash)
      else {
        const secret = this.#openPrevious(record, previous)
        matches = secret !== undefined && constantEquals(digest, sha256(secret))
      }
      if (matches && previous.expiresAt > now) found = true
    }
    return found
  }

  #openPrevious(record: ClientRecord, previous: PreviousClientSecret): string | undefined {
    if (previous.encrypted === undefined || !this.#o.secretKey) return undefined
    try {
      return openSecret(previous.encrypted, this.#o.secretKey, record.client_id)
    } catch {
      return undefined
    }
  }

  /**
   * The registered method is the one to use (RFC 7591 §2, AS-6749-2.3-b), except that
   * basic and post stand in for each other (both prove the same secret; AS-BP-09) unless
   * `strictMethod`, and never for metadata-document clients.
   */
  #methodAllowed(presented: string, registered: string, active: ActiveClient): boolean {
    if (presented === registered) return true
    if (this.#o.strictMethod || active.client.source !== 'registration') return false
    return SECRET_PAIR.has(presented) && SECRET_PAIR.has(registered)
  }

  /** Digests compared in constant time (AS-BP-06); a sealed secret is opened first. */
  #secretMatches(digest: string, record: ClientRecord): boolean {
    if (record.clientSecretHash !== undefined) {
      return constantEquals(digest, record.clientSecretHash)
    }
    const secret = this.#openSecret(record)
    if (secret === undefined) {
      constantEquals(digest, DUMMY_DIGEST)
      return false
    }
    return constantEquals(digest, sha256(secret))
  }

  #openSecret(record: ClientRecord): string | undefined {
    if (record.clientSecretEncrypted === undefined || !this.#o.secretKey) return undefined
    try {
      return openSecret(record.clientSecretEncrypted, this.#o.secretKey, record.client_id)
    } catch {
      return undefined // tampered with, or sealed under another key
    }
  }

  /** `client_secret_jwt` and `private_key_jwt` (RFC 7523 §2.2, §3; RFC 10070). */
  async #assertion(
    assertion: string | undefined,
    assertionType: string | undefined,
    bodyClientId: string | undefined,
    context: Context,
  ): Promise<AuthenticatedClient> {
    const { attempt } = context
    if (assertion === undefined || assertionType === undefined) {
      throw invalidAuthenticationRequest(
        'client_assertion and client_assertion_type must be sent together',
        'malformed_request',
      )
    }
    if (assertionType !== JWT_BEARER) {
      throw invalidAuthenticationRequest(
        `client_assertion_type must be ${JWT_BEARER}`,
        'malformed_request',
      )
    }
    const decoded = decodeAssertion(assertion)
    if (!decoded) throw this.#fail('invalid_assertion', attempt, 'not a JWT with iss = sub')
    attempt.clientId = decoded.clientId
    await this.#o.admit?.(decoded.clientId, context.address)
    // RFC 7521 §4.2: a client_id parameter must name the client the assertion names
    if (bodyClientId !== undefined && bodyClientId !== decoded.clientId) {
      throw this.#fail('client_id_mismatch')
    }
    const active = await this.#o.lookup(decoded.clientId)
    if (!active) throw this.#fail('unknown_client')
    const { metadata } = active.client
    const method = metadata.token_endpoint_auth_method
    attempt.method = method
    if (method !== 'client_secret_jwt' && method !== 'private_key_jwt') {
      throw this.#fail(method === 'none' ? 'credentials_not_expected' : 'method_not_registered')
    }
    const alg = decoded.header.alg
    const algorithms = allowedAssertionAlgorithms(
      method,
      this.#o.signingAlgorithms,
      metadata.token_endpoint_auth_signing_alg,
    )
    if (typeof alg !== 'string' || !algorithms.includes(alg)) {
      throw this.#fail('invalid_assertion', attempt, `alg ${String(alg)} is not allowed`)
    }
    const now = this.#o.now()
    const problem = assertionClaimsProblem(decoded, {
      issuer: this.#o.issuer,
      otherAudiences: [this.#o.tokenEndpoint, context.endpoint],
      strictAudience: this.#o.strictAudience,
      now,
      clockSkew: this.#o.clockSkew,
      maxLifetime: this.#o.maxAssertionLifetime,
    })
    if (problem) throw this.#fail('invalid_assertion', attempt, problem)

    if (method === 'client_secret_jwt') {
      const secret = this.#openSecret(active.record)
      if (secret === undefined) {
        throw this.#fail('invalid_assertion', attempt, 'no usable secret')
      }
      if (!hmacKeyLongEnough(alg, secret)) {
        throw this.#fail('invalid_assertion', attempt, `the secret is too short for ${alg}`)
      }
      // an assertion signed with an earlier secret still valid (a renewal replaced it) verifies
      // too, as that secret does for client_secret_basic/post
      const earlier = (active.record.previousClientSecrets ?? []).flatMap((p) => {
        const opened = p.expiresAt > now ? this.#openPrevious(active.record, p) : undefined
        return opened !== undefined && hmacKeyLongEnough(alg, opened) ? [opened] : []
      })
      let verifiedEarlier = false
      if (
        earlier.length > 0 &&
        !(await this.#verifies(assertion, new TextEncoder().encode(secret), alg))
      ) {
        for (const key of earlier) {
          if (await this.#verifies(assertion, new TextEncoder().encode(key), alg)) {
            verifiedEarlier = true
            break
          }
        }
      }
      if (!verifiedEarlier) {
        await this.#verify(assertion, new TextEncoder().encode(secret), alg, attempt)
        if (secretExpired(active.record, () => now)) throw this.#fail('secret_expired')
      }
    } else {
      const keys = this.#o.keys.for(metadata)
      if (!keys) throw this.#fail('invalid_assertion', attempt, 'the client has no keys')
      await this.#verify(assertion, keys.getKey as CompactVerifyGetKey, alg, attempt)
    }
    await this.#recordJti(decoded, now)
    return { client: active.client, method }
  }

  async #verify(
    assertion: string,
    key: Uint8Array | CompactVerifyGetKey,
    alg: string,
    attempt: AuthenticationAttempt,
  ): Promise<void> {
    try {
      await compactVerify(assertion, key as never, { algorithms: [alg] })
    } catch (err) {
      if (err instanceof KeysUnavailable) throw this.#fail('keys_unavailable')
      throw this.#fail('invalid_assertion', attempt, 'signature not verified')
    }
  }

  /** Whether an HMAC-signed assertion verifies with `key` (no failure recorded). */
  async #verifies(assertion: string, key: Uint8Array, alg: string): Promise<boolean> {
    try {
      await compactVerify(assertion, key, { algorithms: [alg] })
      return true
    } catch {
      return false
    }
  }

  /**
   * RFC 7523 §3 item 7, OIDC Core §9: a `jti` is used once, across every instance on the store of
   * record; kept until `exp` + skew, after which the assertion is refused as expired anyway.
   * Recorded only once the signature holds, so nobody can spend another client's `jti`s.
   */
  async #recordJti(decoded: DecodedAssertion, now: number): Promise<void> {
    const recorded = await this.#o.store.recordClientAssertion(
      {
        clientId: decoded.clientId,
        jti: decoded.claims.jti as string,
        expiresAt: Math.ceil((decoded.claims.exp as number) + this.#o.clockSkew),
      },
      now,
    )
    if (!recorded) throw this.#fail('assertion_replayed')
  }

  /** `none` (RFC 6749 §2.1) and the mutual-TLS methods, whose request carries only `client_id`. */
  async #withoutCredentials(clientId: string, context: Context): Promise<AuthenticatedClient> {
    await this.#o.admit?.(clientId, context.address)
    const active = await this.#o.lookup(clientId)
    if (!active) throw this.#fail('unknown_client')
    const method = active.client.metadata.token_endpoint_auth_method
    context.attempt.method = method
    if (method === 'none') return { client: active.client, method: 'none' }
    if (method === 'tls_client_auth' || method === 'self_signed_tls_client_auth') {
      await this.#certificate(active, method, context)
      return { client: active.client, method }
    }
    // RFC 6749 §3.2.1: a confidential client must authenticate
    throw this.#fail('credentials_missing')
  }

  /** RFC 8705 §2: the certificate of the TLS connection, as the host obtained it. */
  async #certificate(
    active: ActiveClient,
    method: 'tls_client_auth' | 'self_signed_tls_client_auth',
    context: Context,
  ): Promise<void> {
    const cert = toCertificate(context.certificate)
    if (!cert) throw this.#fail('invalid_certificate', context.attempt, 'no client certificate')
    const { metadata } = active.client
    if (method === 'tls_client_auth') {
      const skewMs = this.#o.clockSkew * 1000
      if (!chainsToTrustAnchor(cert, this.#o.trustAnchors, this.#o.now() * 1000, skewMs)) {
        throw this.#fail('invalid_certificate', context.attempt, 'not issued by a trust anchor')
      }
      if (!matchesRegisteredSubject(cert, metadata)) {
        throw this.#fail('invalid_certificate', context.attempt, 'subject does not match')
      }
      return
    }
    const keys = this.#o.keys.for(metadata)
    let matches = false
    try {
      matches = keys !== undefined && (await matchesRegisteredCertificate(cert, keys))
    } catch (err) {
      if (err instanceof KeysUnavailable) throw this.#fail('keys_unavailable')
      throw this.#fail('invalid_certificate', context.attempt, 'the registered keys are unusable')
    }
    if (!matches) throw this.#fail('invalid_certificate', context.attempt, 'not a registered key')
  }

  #fail(
    reason: ClientAuthenticationFailureReason,
    attempt?: AuthenticationAttempt,
    detail?: string,
  ) {
    if (attempt && detail !== undefined) attempt.detail = detail
    return invalidClient(this.#o.issuer, reason)
  }
}

interface Context {
  attempt: AuthenticationAttempt
  certificate: AuthenticateClientOptions['clientCertificate']
  endpoint: string | undefined
  address: string | undefined
}

/** RFC 7591 §3.2.1: `client_secret_expires_at` 0 means never; otherwise the secret ends then. */
function secretExpired(record: ClientRecord, now: () => number): boolean {
  const expiresAt = record.client_secret_expires_at
  return expiresAt !== undefined && expiresAt !== 0 && expiresAt <= now()
}
