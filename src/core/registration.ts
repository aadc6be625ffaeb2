import { EventEmitter } from 'node:events'
import { type RegistrarConfig, secretKeyBytes } from '../config/schema.js'
import { hmacBits, needsPlaintextSecret, needsSecret } from '../metadata/algorithms.js'
import { publicJwks } from '../metadata/jwks.js'
import { clientMetadataRules } from '../metadata/rules.js'
import type { ClientMetadata, ClientMetadataRules } from '../metadata/types.js'
import { validateClientMetadata } from '../metadata/validate.js'
import { epochSeconds } from '../shared/epoch.js'
import { type ClientInformation, clientInformation } from './client-information.js'
import { clientSecretLifetime } from './client-lifecycle.js'
import { constantEquals, openSecret, randomId, randomToken, sealSecret, sha256 } from './crypto.js'
import { invalidMetadata, RegistrationError } from './errors.js'
import { fetchJson, type OutboundFetch, OutboundFetchError } from './outbound-fetch.js'
import {
  issueRegistrationAccessToken,
  verifyRegistrationAccessToken,
} from './registration-access-token.js'
import {
  applyRegistrationPolicies,
  applyRegistrationPolicy,
  type NamedPolicy,
  type PolicyNote,
  policiesFor,
  policyFull,
  type Registrant,
  type RegistrantClass,
  refusingRule,
  storedPolicies,
} from './registration-policy.js'
import {
  authorizationServerMetadata,
  registrationClientUri,
  registrationEndpoint,
} from './server-metadata.js'
import { SoftwareStatementVerifier, type VerifiedSoftwareStatement } from './software-statement.js'
import {
  type ClientRecord,
  type InitialAccessTokenRecord,
  initialAccessTokenUsable,
  MAX_PREVIOUS_CLIENT_SECRETS,
  type PreviousClientSecret,
  type Store,
} from './store.js'

/**
 * What the transport knows of who sent a request, for the audit trail: the client address it saw
 * (after trusted proxies). Never a credential.
 */
export interface RequestOrigin {
  address?: string
}

/**
 * Payloads of the events a {@link Registrar} emits, for audit or to react. They carry metadata
 * (what the registrant sent, as registered) but never a secret, a token or a hash. `address` is the
 * {@link RequestOrigin} the caller passed, if any.
 */
export interface RegistrationEvents {
  'registration.created': [
    {
      client_id: string
      policy?: string
      status: ClientRecord['status']
      /** Who registered (RFC 7591 §5: the whole request decides the policy). */
      registrant: RegistrantClass
      initial_access_token_id?: string
      software_statement_issuer?: string
      address?: string
      metadata: ClientMetadata
    },
  ]
  'registration.read': [{ client_id: string; address?: string }]
  'registration.updated': [
    {
      client_id: string
      rotated: boolean
      /**
       * A new client_secret was issued in the response: a renewal (the request carried the
       * current secret), or the old one had expired or no longer served the metadata.
       */
      secretIssued?: boolean
      address?: string
      /** The metadata before and after the RFC 7592 §2.2 replace. */
      before: ClientMetadata
      metadata: ClientMetadata
    },
  ]
  'registration.deleted': [{ client_id: string; address?: string; metadata: ClientMetadata }]
  'registration.error': [
    {
      operation: 'register' | 'read' | 'update' | 'delete'
      error: string
      status: number
      client_id?: string
      address?: string
    },
  ]
  /**
   * A registration policy's decision on a registration (not on a dry run): `accepted` or `pending`
   * (awaiting approval) once registered, `adjusted` for each rule that changed a member (`rule`),
   * `refused` with the rule that refused, when known.
   */
  'registration.policy': [
    { policy: string; rule?: string; decision: 'accepted' | 'pending' | 'adjusted' | 'refused' },
  ]
}

/** Options of {@link Registrar}. */
export interface RegistrarCoreOptions {
  config: Readonly<RegistrarConfig>
  store: Store
  /** Seconds since the epoch; injectable for tests. */
  clock?: () => number
  /**
   * Fetches client- and issuer-supplied URLs (sector_identifier_uri, jwks_uri, issuer JWKS). Pass
   * the SSRF-safe fetcher (`createSafeFetch`); without one such URLs cannot be checked and are
   * refused.
   */
  fetch?: OutboundFetch
}

/** What a registration request would become: the result of the whole admission pipeline. */
export interface RegistrationEvaluation {
  metadata: ClientMetadata
  registrant: Registrant
  /** Name of the policy the client is recorded under, if any. */
  policy?: string
  /** Every policy that applied, the recorded one first (issue 12 item 2). */
  policies: NamedPolicy[]
  status: ClientRecord['status']
  softwareStatement?: VerifiedSoftwareStatement
  /** Where each registered member came from (`request`, `software_statement`, `default`, a policy rule). */
  decisions: Record<string, string>
}

/** Members of a PUT body that the server manages (RFC 7592 §2.2). */
const SERVER_MANAGED = [
  'registration_access_token',
  'registration_client_uri',
  'client_secret_expires_at',
  'client_id_issued_at',
] as const

/** Compare-and-swap attempts of one update or delete before it is answered 503 (retry). */
const MAX_ATTEMPTS = 9

/** The secret an update carries: the current one, or the index of an earlier one still valid. */
type Presented = 'current' | number

/**
 * The registration domain: RFC 7591 registration and RFC 7592 read / update / delete, over a
 * {@link Store}. Knows nothing of HTTP; every refusal is a {@link RegistrationError}.
 */
export class Registrar extends EventEmitter<RegistrationEvents> {
  readonly config: Readonly<RegistrarConfig>
  readonly store: Store
  readonly issuer: string
  readonly rules: ClientMetadataRules
  readonly #secretKey: Buffer | undefined
  readonly #now: () => number
  readonly #fetch: OutboundFetch
  readonly #statements: SoftwareStatementVerifier

  constructor(options: RegistrarCoreOptions) {
    super()
    this.config = options.config
    this.store = options.store
    if (!options.config.issuer) throw new Error('Registrar needs a resolved issuer')
    this.issuer = options.config.issuer
    this.rules = clientMetadataRules(options.config)
    const key = options.config.registration.secretEncryptionKey
    this.#secretKey = key === undefined ? undefined : secretKeyBytes(key)
    this.#now = options.clock ?? epochSeconds
    this.#fetch =
      options.fetch ??
      (() =>
        Promise.reject(
          new OutboundFetchError('outbound fetching is not configured on this server'),
        ))
    this.#statements = new SoftwareStatementVerifier({
      trustedIssuers: options.config.softwareStatement.trustedIssuers,
      // an `aud` must name this server: its issuer identifier or its registration endpoint
      audience: [this.issuer, registrationEndpoint(this.issuer)],
      clockSkew: options.config.softwareStatement.clockSkew,
      keyRefreshCooldown: options.config.softwareStatement.keyRefreshCooldown,
      fetch: this.#fetch,
      now: this.#now,
    })
  }

  /** RFC 8414 / OIDC Discovery metadata advertising this registration endpoint. */
  serverMetadata(): Record<string, unknown> {
    return authorizationServerMetadata(this.config, this.issuer)
  }

  /**
   * RFC 7591 §3.1 client registration request → §3.2.1 client information response. In `token`
   * mode an initial access token is required; in `open` mode one may still be presented.
   *
   * @see [RFC 7591 §3](https://www.rfc-editor.org/rfc/rfc7591.html#section-3)
   */
  async register(
    request: {
      metadata: Record<string, unknown>
      initialAccessToken?: string
    },
    origin: RequestOrigin = {},
  ): Promise<ClientInformation> {
    try {
      const now = this.#now()
      const iat = await this.#initialAccessToken(request.initialAccessToken, now)
      const evaluation = await this.#evaluate(request.metadata, iat, true)
      const { metadata } = evaluation
      const ceilings = evaluation.policies.flatMap(({ name, policy }) =>
        policy.maxClients === undefined ? [] : [{ policy: name, maxClients: policy.maxClients }],
      )
      // the store checks the recorded policy's ceiling atomically with the insert
      const recorded = evaluation.policies[0]
      const ceiling = ceilings.find((c) => c.policy === recorded?.name)
      // fail fast before minting credentials, on every ceiling that applies
      for (const c of ceilings) await this.#checkCeiling(c, true)
      // 256 bits, like every credential (issue 2): unguessable even where client_id leaks nothing
      const clientId = randomId(32)
      const rat = issueRegistrationAccessToken()
      const secret = this.#issueSecret(metadata, clientId, now, evaluation.policy)
      const record: ClientRecord = {
        client_id: clientId,
        client_id_issued_at: now,
        ...secret.stored,
        registrationAccessTokenHash: rat.hash,
        metadata,
        ...(evaluation.softwareStatement && {
          software_statement: evaluation.softwareStatement.jwt,
        }),
        status: evaluation.status,
        ...(evaluation.policy !== undefined && { policy: evaluation.policy }),
        ...(iat && { initialAccessTokenId: iat.id }),
        updatedAt: now,
        version: 1,
      }
      const created = await this.store.createClient(record, {
        ...(iat && { initialAccessToken: { tokenHash: iat.tokenHash, now } }),
        ...(ceiling && { ceiling }),
      })
      if (!created) {
        if (ceiling) await this.#checkCeiling(ceiling, true)
        throw new RegistrationError('invalid_token', 'the initial access token is invalid')
      }
      if (evaluation.policy !== undefined) {
        this.emit('registration.policy', {
          policy: evaluation.policy,
          decision: record.status === 'active' ? 'accepted' : 'pending',
        })
      }
      const statementIssuer = evaluation.softwareStatement?.issuer.iss
      this.emit('registration.created', {
        client_id: clientId,
        status: record.status,
        ...(record.policy !== undefined && { policy: record.policy }),
        registrant: evaluation.registrant.class,
        ...(iat && { initial_access_token_id: iat.id }),
        ...(statementIssuer !== undefined && { software_statement_issuer: statementIssuer }),
        ...(origin.address !== undefined && { address: origin.address }),
        metadata: record.metadata,
      })
      return clientInformation(record, {
        registration_access_token: rat.token,
        registration_client_uri: registrationClientUri(this.issuer, clientId),
        ...(secret.plaintext !== undefined && { client_secret: secret.plaintext }),
      })
    } catch (err) {
      throw this.#failed('register', err, undefined, origin)
    }
  }

  /**
   * What a registration request would be registered as, without registering it (the dry run of
   * `registrar policy dry-run`): software statement, policy and every check of {@link register},
   * with where each member came from. An initial access token, if given, is checked, not consumed.
   */
  async evaluate(request: {
    metadata: Record<string, unknown>
    initialAccessToken?: string
  }): Promise<RegistrationEvaluation> {
    const iat = await this.#initialAccessToken(request.initialAccessToken, this.#now())
    return this.#evaluate(request.metadata, iat, false)
  }

  /**
   * The admission pipeline shared by registration and its dry run: verify the software statement
   * and let its claims take precedence (RFC 7591 §3.1.1), validate, apply the registrant's policy,
   * then the checks that need a fetch (OIDR §5 sector_identifier_uri, optionally jwks_uri).
   */
  async #evaluate(
    body: Record<string, unknown>,
    iat: InitialAccessTokenRecord | undefined,
    /** Emit `registration.policy` decisions (a registration, not a dry run). */
    decide: boolean,
  ): Promise<RegistrationEvaluation> {
    const presented = Object.hasOwn(body, 'software_statement')
      ? body.software_statement
      : undefined
    const settings = this.config.softwareStatement
    let statement: VerifiedSoftwareStatement | undefined
    if (presented !== undefined && presented !== null && this.#statements.enabled) {
      statement = await this.#statements.verify(presented)
    } else if (settings.required) {
      throw new RegistrationError(
        'invalid_software_statement',
        'this server requires a software statement from a trusted issuer',
      )
    }
    // RFC 7591 §3.1.1: statement claims take precedence over the same members in the JSON body
    const input = statement ? { ...body, ...statement.metadata } : body
    const validated = await validateClientMetadata(input, this.rules)
    const registrant: Registrant = statement
      ? {
          class: 'software_statement',
          softwareStatement: statement,
          ...(iat && { initialAccessToken: iat }),
        }
      : iat
        ? { class: 'initial_access_token', initialAccessToken: iat }
        : { class: 'anonymous' }
    const policies = policiesFor(this.config, registrant)
    const options = {
      vouched: statement !== undefined,
      authMethodsSupported: this.rules.token_endpoint_auth_methods_supported,
    }
    // each policy in turn (every rule of each holds for the result), one at a time so that a
    // registration's decisions name the policy and rule that made them
    let metadata = validated
    const notes: PolicyNote[] = []
    for (const named of policies) {
      let applied: { metadata: ClientMetadata; notes: PolicyNote[] }
      try {
        applied = applyRegistrationPolicy(metadata, named, options)
      } catch (err) {
        const rule = refusingRule(err)
        if (decide) {
          this.emit('registration.policy', {
            policy: named.name,
            decision: 'refused',
            ...(rule !== undefined && { rule }),
          })
        }
        throw err
      }
      metadata = applied.metadata
      notes.push(...applied.notes)
      if (decide) {
        for (const note of applied.notes) {
          this.emit('registration.policy', {
            policy: named.name,
            rule: note.rule.slice(note.rule.lastIndexOf('.') + 1),
            decision: 'adjusted',
          })
        }
      }
    }
    await this.#checkFetchedMetadata(metadata)
    const rules = this.rules
    const recorded = policies[0]
    return {
      metadata,
      registrant,
      ...(recorded && { policy: recorded.name }),
      policies,
      status: policies.some((p) => p.policy.requireApproval) ? 'pending' : 'active',
      ...(statement && { softwareStatement: statement }),
      // only the dry run reads it: computed on demand, off the registration hot path
      get decisions() {
        return decisions(body, statement, metadata, notes, rules)
      },
    }
  }

  /** RFC 7591 §5 abuse limit: a policy's client ceiling. */
  async #checkCeiling(
    ceiling: { policy: string; maxClients: number },
    decide: boolean,
  ): Promise<void> {
    if ((await this.store.countClients({ policy: ceiling.policy })) >= ceiling.maxClients) {
      if (decide) {
        this.emit('registration.policy', {
          policy: ceiling.policy,
          rule: 'maxClients',
          decision: 'refused',
        })
      }
      throw policyFull(ceiling.policy, ceiling.maxClients)
    }
  }

  /**
   * OIDR §5: every redirect URI must appear in the sector_identifier_uri document, checked at
   * registration. With `registration.verifyJwksUri`, the client's jwks_uri must serve usable public
   * keys. Both fetches go through the SSRF-safe fetcher.
   */
  async #checkFetchedMetadata(metadata: ClientMetadata): Promise<void> {
    const sector = metadata.sector_identifier_uri
    if (sector !== undefined) {
      let doc: unknown
      try {
        doc = await fetchJson(this.#fetch, sector)
      } catch (err) {
        throw invalidMetadata(`sector_identifier_uri could not be used: ${fetchReason(err)}`)
      }
      if (!Array.isArray(doc) || doc.some((u) => typeof u !== 'string')) {
        throw invalidMetadata(
          'sector_identifier_uri must serve a JSON array of redirect URIs (OIDR section 5)',
        )
      }
      const missing = (metadata.redirect_uris ?? []).filter((u) => !doc.includes(u))
      if (missing.length > 0) {
        throw invalidMetadata(
          `redirect URI ${missing[0]} is not listed in the sector_identifier_uri document (OIDR section 5)`,
        )
      }
    }
    if (this.config.registration.verifyJwksUri && metadata.jwks_uri !== undefined) {
      let doc: unknown
      try {
        doc = await fetchJson(this.#fetch, metadata.jwks_uri)
      } catch (err) {
        throw invalidMetadata(`jwks_uri could not be used: ${fetchReason(err)}`)
      }
      try {
        await publicJwks(doc)
      } catch (err) {
        throw invalidMetadata(
          `jwks_uri does not serve a usable JWK Set: ${err instanceof RegistrationError ? err.error_description : 'invalid'}`,
        )
      }
    }
  }

  /**
   * RFC 7592 §2.1 read. Never rotates the registration access token (OIDR §4.2: reads are
   * idempotent), and returns no client_secret (it is stored hashed).
   *
   * @see [RFC 7592 §2.1](https://www.rfc-editor.org/rfc/rfc7592.html#section-2.1)
   */
  async readClient(
    clientId: string,
    token: string | undefined,
    origin: RequestOrigin = {},
  ): Promise<ClientInformation> {
    try {
      const record = await verifyRegistrationAccessToken(this.store, clientId, token)
      this.emit('registration.read', {
        client_id: clientId,
        ...(origin.address !== undefined && { address: origin.address }),
      })
      return clientInformation(record, {
        registration_access_token: token as string,
        registration_client_uri: registrationClientUri(this.issuer, clientId),
      })
    } catch (err) {
      throw this.#failed('read', err, clientId, origin)
    }
  }

  /**
   * RFC 7592 §2.2 update: the body replaces the registration (omitted members are removed or take
   * their default) after exactly the validation of a registration. Concurrent updates never mix:
   * the replace is conditional on the version that was authenticated. With
   * `registration.rotateRegistrationAccessToken`, the response carries a new token and the old one
   * is dead once the replace is stored (RFC 7592 §2.2: the client MUST discard it).
   *
   * `body` may be a function that reads it: it is called only once the token is verified, so an
   * unauthenticated request is answered 401 whatever it carries (RFC 6750 §3.1).
   *
   * @see [RFC 7592 §2.2](https://www.rfc-editor.org/rfc/rfc7592.html#section-2.2)
   */
  async updateClient(
    clientId: string,
    token: string | undefined,
    body: Record<string, unknown> | (() => Promise<Record<string, unknown>>),
    origin: RequestOrigin = {},
  ): Promise<ClientInformation> {
    try {
      const authenticated = await verifyRegistrationAccessToken(this.store, clientId, token)
      const request = typeof body === 'function' ? await body() : body
      // RFC 7592 §2.2: client_id MUST be included and MUST match.
      if (request.client_id === undefined)
        throw invalidMetadata('client_id MUST be included in the request')
      if (request.client_id !== clientId)
        throw invalidMetadata('client_id does not match the client being updated')
      const { metadata, softwareStatement, policies } = await this.#updatedMetadata(
        request,
        authenticated,
      )
      const approval = policies.some((p) => p.policy.requireApproval)
      const rotate = this.config.registration.rotateRegistrationAccessToken
      const { next, rat, secret, before } = await this.#swap(
        clientId,
        token,
        authenticated,
        async (current) => {
          const now = this.#now()
          const presented = this.#checkManagedMembers(request, current, token as string, now)
          const secret = this.#updatedSecret(metadata, current, now, presented)
          const rat = rotate ? issueRegistrationAccessToken() : undefined
          const next: ClientRecord = {
            client_id: clientId,
            client_id_issued_at: current.client_id_issued_at,
            ...secret.stored,
            registrationAccessTokenHash: rat?.hash ?? current.registrationAccessTokenHash,
            metadata,
            ...(softwareStatement !== undefined && { software_statement: softwareStatement }),
            // issue 12 item 1: an approval covers the registration the operator saw; a change
            // of what is registered waits for a new approval
            status:
              approval &&
              current.status === 'active' &&
              !sameRegistration(current, metadata, softwareStatement)
                ? 'pending'
                : current.status,
            ...(current.policy !== undefined && { policy: current.policy }),
            ...(current.initialAccessTokenId !== undefined && {
              initialAccessTokenId: current.initialAccessTokenId,
            }),
            updatedAt: now,
            version: current.version + 1,
          }
          return (await this.store.replaceClient(next, current.version))
            ? { next, rat, secret, before: current.metadata }
            : undefined
        },
      )
      this.emit('registration.updated', {
        client_id: clientId,
        rotated: rat !== undefined,
        ...(secret.plaintext !== undefined && { secretIssued: true }),
        ...(origin.address !== undefined && { address: origin.address }),
        before,
        metadata: next.metadata,
      })
      return clientInformation(next, {
        registration_access_token: rat?.token ?? (token as string),
        registration_client_uri: registrationClientUri(this.issuer, clientId),
        ...(secret.plaintext !== undefined && { client_secret: secret.plaintext }),
      })
    } catch (err) {
      throw this.#failed('update', err, clientId, origin)
    }
  }

  /**
   * RFC 7592 §2.3 delete: the client, its secret and its registration access token stop working
   * at once (they live in one record). The delete is conditional on the version that was
   * authenticated, so a token rotated by a concurrent update cannot delete the client afterwards
   * (RFC 7592 §5).
   *
   * @see [RFC 7592 §2.3](https://www.rfc-editor.org/rfc/rfc7592.html#section-2.3)
   */
  async deleteClient(
    clientId: string,
    token: string | undefined,
    origin: RequestOrigin = {},
  ): Promise<void> {
    try {
      const authenticated = await verifyRegistrationAccessToken(this.store, clientId, token)
      const deleted = await this.#swap(clientId, token, authenticated, async (current) =>
        (await this.store.deleteClient(clientId, current.version)) ? current : undefined,
      )
      this.emit('registration.deleted', {
        client_id: clientId,
        ...(origin.address !== undefined && { address: origin.address }),
        metadata: deleted.metadata,
      })
    } catch (err) {
      throw this.#failed('delete', err, clientId, origin)
    }
  }

  /**
   * RFC 7592 §2.2 with the registration pipeline: a statement sent with the update is verified; one
   * registered earlier keeps its claims' precedence (it is not re-verified, so its expiry does not
   * lock the client out); the client's policy, and the policy of the statement's issuer, apply
   * again.
   */
  async #updatedMetadata(
    body: Record<string, unknown>,
    current: ClientRecord,
  ): Promise<{
    metadata: ClientMetadata
    softwareStatement?: string
    policies: NamedPolicy[]
  }> {
    const presented = Object.hasOwn(body, 'software_statement')
      ? body.software_statement
      : undefined
    let statementJwt: string | undefined
    let statement: Pick<VerifiedSoftwareStatement, 'metadata' | 'issuer'> | undefined
    if (
      presented !== undefined &&
      presented !== null &&
      presented !== current.software_statement &&
      this.#statements.enabled
    ) {
      const verified = await this.#statements.verify(presented)
      statementJwt = verified.jwt
      statement = verified
    } else if (current.software_statement !== undefined) {
      // kept and echoed as registered; its claims keep precedence while its issuer is trusted
      statementJwt = current.software_statement
      statement = this.#statements.storedStatement(current.software_statement)
    }
    if (!statement && this.config.softwareStatement.required) {
      throw new RegistrationError(
        'invalid_software_statement',
        'this server requires a software statement from a trusted issuer',
      )
    }
    const validated = await validateClientMetadata(
      statement ? { ...body, ...statement.metadata } : body,
      this.rules,
    )
    const policies = storedPolicies(this.config, current.policy, statement?.issuer)
    const { metadata } = applyRegistrationPolicies(validated, policies, {
      vouched: statement !== undefined,
      authMethodsSupported: this.rules.token_endpoint_auth_methods_supported,
    })
    await this.#checkFetchedMetadata(metadata)
    return {
      metadata,
      ...(statementJwt !== undefined && { softwareStatement: statementJwt }),
      policies,
    }
  }

  /**
   * Runs a compare-and-swap `write` on the authenticated record until it holds. A lost race means
   * another update or a delete was stored in between: authenticate again against what is stored
   * now (a rotated token or a deleted client ends here with 401), then retry.
   */
  async #swap<T>(
    clientId: string,
    token: string | undefined,
    authenticated: ClientRecord,
    write: (current: ClientRecord) => Promise<T | undefined>,
  ): Promise<T> {
    let current = authenticated
    for (let attempt = 1; ; attempt++) {
      const result = await write(current)
      if (result !== undefined) return result
      if (attempt >= MAX_ATTEMPTS) {
        throw new RegistrationError(
          'temporarily_unavailable',
          'too many concurrent changes to this client; retry',
        )
      }
      current = await verifyRegistrationAccessToken(this.store, clientId, token)
    }
  }

  async #initialAccessToken(
    token: string | undefined,
    now: number,
  ): Promise<InitialAccessTokenRecord | undefined> {
    if (token === undefined) {
      if (this.config.registration.mode === 'token') {
        throw new RegistrationError('invalid_token', 'an initial access token is required', {
          status: 401,
          tokenMissing: true,
        })
      }
      return undefined
    }
    const record = await this.store.findInitialAccessToken(sha256(token))
    if (!record || !initialAccessTokenUsable(record, now)) {
      throw new RegistrationError('invalid_token', 'the initial access token is invalid')
    }
    return record
  }

  /**
   * Mints a client_secret when the metadata calls for one: as many random bits as the strongest
   * HMAC algorithm registered needs (RFC 7518 §3.2: HS512 needs 512), 256 at least; it expires
   * after the lifetime of the client's policy (RFC 7591 §3.2.1).
   */
  #issueSecret(
    metadata: ClientMetadata,
    clientId: string,
    now: number,
    policy: string | undefined,
  ): { plaintext?: string; stored: Partial<ClientRecord> } {
    if (!needsSecret(metadata)) return { stored: {} }
    const plaintext = randomToken(secretBytes(metadata))
    const lifetime = clientSecretLifetime(this.config, policy)
    const expiresAt = lifetime === 0 ? 0 : now + lifetime
    if (needsPlaintextSecret(metadata)) {
      // validation only lets such metadata through when a key is configured
      const key = this.#secretKey as Buffer
      return {
        plaintext,
        stored: {
          client_secret_expires_at: expiresAt,
          clientSecretEncrypted: sealSecret(plaintext, key, clientId),
        },
      }
    }
    return {
      plaintext,
      stored: { client_secret_expires_at: expiresAt, clientSecretHash: sha256(plaintext) },
    }
  }

  /**
   * The secret after an RFC 7592 §2.2 update. Kept when it still serves the new metadata; minted
   * afresh when it does not (another kind, too short for a new HMAC algorithm) or has expired.
   * Renewed when the request carries one of the client's valid secrets and secrets expire (its
   * own, or its policy's lifetime): a new secret and expiry in the response. No other holder of a
   * valid secret is stranded (docs/lifecycle.md, "Renewal"): the secret presented keeps
   * authenticating for `lifecycle.secretRotationGracePeriod` at most (never extended, never past
   * its own expiry); every other valid secret, the current one included, keeps its end.
   */
  #updatedSecret(
    metadata: ClientMetadata,
    current: ClientRecord,
    now: number,
    presented: Presented | undefined,
  ): { plaintext?: string; stored: Partial<ClientRecord> } {
    if (!needsSecret(metadata)) return { stored: {} }
    const currentExpiresAt = current.client_secret_expires_at ?? 0
    const expired = currentExpiresAt !== 0 && currentExpiresAt <= now
    const plaintext = needsPlaintextSecret(metadata)
    const usable = plaintext
      ? current.clientSecretEncrypted !== undefined && this.#sealedLongEnough(current, metadata)
      : current.clientSecretEncrypted !== undefined || current.clientSecretHash !== undefined
    const live = (current.previousClientSecrets ?? []).filter((p) => p.expiresAt > now)
    const keep = (secrets: PreviousClientSecret[]) =>
      secrets.length > 0 ? { previousClientSecrets: secrets } : {}
    // another kind of secret: the old ones cannot serve the new metadata
    if (!usable) return this.#issueSecret(metadata, current.client_id, now, current.policy)
    if (expired) {
      const fresh = this.#issueSecret(metadata, current.client_id, now, current.policy)
      return { ...fresh, stored: { ...fresh.stored, ...keep(live) } }
    }
    const lifetime = clientSecretLifetime(this.config, current.policy)
    const expiring = currentExpiresAt !== 0 || lifetime > 0
    if (presented !== undefined && expiring) {
      const renewed = this.#issueSecret(metadata, current.client_id, now, current.policy)
      const graceEnd = now + this.config.lifecycle.secretRotationGracePeriod
      const demoted: PreviousClientSecret = {
        ...(current.clientSecretHash !== undefined && { hash: current.clientSecretHash }),
        ...(current.clientSecretEncrypted !== undefined && {
          encrypted: current.clientSecretEncrypted,
        }),
        // the secret presented: the grace period, never past its own expiry. Another instance's
        // current secret (renewal with an earlier one): its whole life, as its response said;
        // one that never expired gets what the new one gets
        expiresAt:
          presented === 'current'
            ? Math.min(graceEnd, currentExpiresAt === 0 ? graceEnd : currentExpiresAt)
            : currentExpiresAt === 0
              ? now + lifetime
              : currentExpiresAt,
      }
      const previous = [
        ...(current.previousClientSecrets ?? []).map((p, i) =>
          // the earlier secret presented (its index among all stored): cut to the grace period,
          // never extended
          presented === i ? { ...p, expiresAt: Math.min(p.expiresAt, graceEnd) } : p,
        ),
        demoted,
      ].filter((p) => p.expiresAt > now)
      if (previous.length > MAX_PREVIOUS_CLIENT_SECRETS) {
        // refused rather than ending a secret some instance holds early
        const first = Math.min(...previous.map((p) => p.expiresAt))
        throw invalidMetadata(
          `${previous.length - 1} earlier client secrets of this client are still valid, the most kept; renew once the first of them ends (${new Date(first * 1000).toISOString()})`,
        )
      }
      return {
        ...(renewed.plaintext !== undefined && { plaintext: renewed.plaintext }),
        stored: { ...renewed.stored, ...keep(previous) },
      }
    }
    return {
      stored: {
        client_secret_expires_at: currentExpiresAt,
        ...(current.clientSecretHash !== undefined && {
          clientSecretHash: current.clientSecretHash,
        }),
        ...(current.clientSecretEncrypted !== undefined && {
          clientSecretEncrypted: current.clientSecretEncrypted,
        }),
        ...keep(live),
      },
    }
  }

  /** RFC 7518 §3.2: the sealed secret has as many bytes as the metadata's HMAC algorithms need. */
  #sealedLongEnough(current: ClientRecord, metadata: ClientMetadata): boolean {
    if (current.clientSecretEncrypted === undefined || !this.#secretKey) return false
    try {
      const secret = openSecret(current.clientSecretEncrypted, this.#secretKey, current.client_id)
      return Buffer.byteLength(secret, 'utf8') * 8 >= hmacBits(metadata)
    } catch {
      return false
    }
  }

  /**
   * RFC 7592 §2.2: the request MUST NOT carry the four server-managed members; we ignore them when
   * they equal the current values (clients echo what they were given) and refuse them otherwise.
   * A client_secret, if sent, MUST match the current one, or an earlier one still valid (a client
   * renewing again that never got the renewal's response, another instance of the client); which
   * one is returned: `'current'` or the index in `previousClientSecrets`.
   */
  #checkManagedMembers(
    body: Record<string, unknown>,
    current: ClientRecord,
    token: string,
    now: number,
  ): Presented | undefined {
    const currentValues: Record<(typeof SERVER_MANAGED)[number], unknown> = {
      registration_access_token: token,
      registration_client_uri: registrationClientUri(this.issuer, current.client_id),
      client_secret_expires_at: current.client_secret_expires_at,
      client_id_issued_at: current.client_id_issued_at,
    }
    const secret = typeof body.client_secret === 'string' ? body.client_secret : undefined
    // every entry compared: the time taken does not tell which one matched
    let previousMatch: number | undefined
    for (const [i, p] of (current.previousClientSecrets ?? []).entries()) {
      const matches =
        secret !== undefined &&
        this.#secretMatches(secret, {
          client_id: current.client_id,
          ...(p.hash !== undefined && { clientSecretHash: p.hash }),
          ...(p.encrypted !== undefined && { clientSecretEncrypted: p.encrypted }),
        })
      if (matches && p.expiresAt > now && previousMatch === undefined) previousMatch = i
    }
    for (const member of SERVER_MANAGED) {
      const sent = body[member]
      if (sent === undefined || sent === null) continue
      const same =
        typeof sent === 'string' && typeof currentValues[member] === 'string'
          ? constantEquals(sent, currentValues[member] as string)
          : sent === currentValues[member]
      if (!same) {
        // a client echoing its whole previous response after a renewal it did not see
        if (member === 'client_secret_expires_at' && previousMatch !== undefined) continue
        throw invalidMetadata(
          `the request MUST NOT include the ${member} member with a different value`,
        )
      }
    }
    if (body.client_secret === undefined || body.client_secret === null) return undefined
    if (secret !== undefined && this.#secretMatches(secret, current)) return 'current'
    if (previousMatch !== undefined) return previousMatch
    throw invalidMetadata('client_secret does not match the current client secret')
  }

  #secretMatches(
    secret: string,
    current: Pick<ClientRecord, 'client_id' | 'clientSecretHash' | 'clientSecretEncrypted'>,
  ): boolean {
    if (current.clientSecretHash !== undefined) {
      return constantEquals(sha256(secret), current.clientSecretHash)
    }
    if (current.clientSecretEncrypted !== undefined && this.#secretKey) {
      try {
        return constantEquals(
          secret,
          openSecret(current.clientSecretEncrypted, this.#secretKey, current.client_id),
        )
      } catch {
        return false
      }
    }
    return false
  }

  #failed(
    operation: 'register' | 'read' | 'update' | 'delete',
    err: unknown,
    clientId: string | undefined,
    origin: RequestOrigin,
  ): unknown {
    const e = err instanceof RegistrationError ? err : undefined
    this.emit('registration.error', {
      operation,
      error: e?.error ?? 'server_error',
      status: e?.status ?? 500,
      ...(clientId !== undefined && { client_id: clientId }),
      ...(origin.address !== undefined && { address: origin.address }),
    })
    return err
  }
}

/** Whether an update leaves what is registered as it was (metadata and software statement). */
function sameRegistration(
  current: ClientRecord,
  metadata: ClientMetadata,
  softwareStatement: string | undefined,
): boolean {
  return (
    current.software_statement === softwareStatement &&
    canonicalJson(current.metadata) === canonicalJson(metadata)
  )
}

/** JSON with object members in sorted order, so equal values give equal text. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  )
}

/** Random bytes of a client_secret for `metadata`: enough for its strongest HMAC (RFC 7518 §3.2). */
function secretBytes(metadata: ClientMetadata): number {
  return Math.max(32, hmacBits(metadata) / 8)
}

function fetchReason(err: unknown): string {
  return err instanceof OutboundFetchError ? err.reason : 'the fetch failed'
}

/**
 * Where each registered member came from, for the dry run: the software statement, the request as
 * sent, a policy rule, or a server default / substitution.
 */
function decisions(
  body: Record<string, unknown>,
  statement: VerifiedSoftwareStatement | undefined,
  metadata: ClientMetadata,
  notes: PolicyNote[],
  rules: ClientMetadataRules,
): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [member, value] of Object.entries(metadata)) {
    const note = notes.find((n) => n.member === member)
    if (note) out[member] = `policy rule ${note.rule}: ${note.note}`
    else if (statement && Object.hasOwn(statement.metadata, member)) {
      out[member] = `software statement of ${statement.issuer.iss}`
    } else if (
      Object.hasOwn(body, member) &&
      JSON.stringify(body[member]) === JSON.stringify(value)
    ) {
      out[member] = 'request'
    } else if (Object.hasOwn(body, member) && body[member] !== null) {
      out[member] =
        member === 'scope' && rules.scopes_supported
          ? 'request, narrowed to metadata.scopes_supported (registration.scopePolicy intersect)'
          : member === 'grant_types' || member === 'response_types'
            ? `request, narrowed to ${member}_supported`
            : member === 'application_type'
              ? 'request, replaced: loopback or private-use redirect URIs make a native client'
              : 'request, normalised by the server'
    } else out[member] = 'server default'
  }
  return out
}
