import { EventEmitter } from 'node:events'
import { type ClientInformation, clientInformation } from './client-information.js'
import {
  type ClientMetadata,
  type ClientMetadataRules,
  needsPlaintextSecret,
  needsSecret,
  validateClientMetadata,
} from './client-metadata.js'
import { type RegistrarConfig, secretKeyBytes } from './config.js'
import { constantEquals, openSecret, randomToken, sealSecret, sha256 } from './crypto.js'
import { invalidMetadata, RegistrationError } from './errors.js'
import {
  issueRegistrationAccessToken,
  verifyRegistrationAccessToken,
} from './registration-access-token.js'
import {
  authorizationServerMetadata,
  clientMetadataRules,
  registrationClientUri,
} from './server-metadata.js'
import {
  type ClientRecord,
  type InitialAccessTokenRecord,
  initialAccessTokenUsable,
  type Store,
} from './store.js'

/** Who is registering, as far as the transport knows. */
export interface RegistrantContext {
  /** Client IP address, for rate limits and audit. */
  ip?: string
}

/** Payloads of the events a {@link Registrar} emits, for audit or to react. */
export interface RegistrationEvents {
  'registration.created': [{ client_id: string; policy?: string; status: ClientRecord['status'] }]
  'registration.read': [{ client_id: string }]
  'registration.updated': [{ client_id: string; rotated: boolean }]
  'registration.deleted': [{ client_id: string }]
  'registration.error': [
    {
      operation: 'register' | 'read' | 'update' | 'delete'
      error: string
      status: number
      client_id?: string
    },
  ]
}

/** Options of {@link Registrar}. */
export interface RegistrarCoreOptions {
  config: Readonly<RegistrarConfig>
  store: Store
  /** Seconds since the epoch; injectable for tests. */
  clock?: () => number
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

  constructor(options: RegistrarCoreOptions) {
    super()
    this.config = options.config
    this.store = options.store
    if (!options.config.issuer) throw new Error('Registrar needs a resolved issuer')
    this.issuer = options.config.issuer
    this.rules = clientMetadataRules(options.config)
    const key = options.config.registration.secretEncryptionKey
    this.#secretKey = key === undefined ? undefined : secretKeyBytes(key)
    this.#now = options.clock ?? (() => Math.floor(Date.now() / 1000))
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
  async register(request: {
    metadata: Record<string, unknown>
    initialAccessToken?: string
    context?: RegistrantContext
  }): Promise<ClientInformation> {
    try {
      const now = this.#now()
      const iat = await this.#initialAccessToken(request.initialAccessToken, now)
      const metadata = await validateClientMetadata(request.metadata, this.rules)
      const clientId = randomToken(16)
      const rat = issueRegistrationAccessToken()
      const secret = this.#issueSecret(metadata, clientId, now)
      const record: ClientRecord = {
        client_id: clientId,
        client_id_issued_at: now,
        ...secret.stored,
        registrationAccessTokenHash: rat.hash,
        metadata,
        status: 'active',
        ...(iat && { initialAccessTokenId: iat.id }),
        updatedAt: now,
        version: 1,
      }
      const created = await this.store.createClient(
        record,
        iat && { initialAccessToken: { tokenHash: iat.tokenHash, now } },
      )
      if (!created)
        throw new RegistrationError('invalid_token', 'the initial access token is invalid')
      this.emit('registration.created', { client_id: clientId, status: record.status })
      return clientInformation(record, {
        registration_access_token: rat.token,
        registration_client_uri: registrationClientUri(this.issuer, clientId),
        ...(secret.plaintext !== undefined && { client_secret: secret.plaintext }),
      })
    } catch (err) {
      throw this.#failed('register', err)
    }
  }

  /**
   * RFC 7592 §2.1 read. Never rotates the registration access token (OIDR §4.2: reads are
   * idempotent), and returns no client_secret (it is stored hashed).
   *
   * @see [RFC 7592 §2.1](https://www.rfc-editor.org/rfc/rfc7592.html#section-2.1)
   */
  async readClient(clientId: string, token: string | undefined): Promise<ClientInformation> {
    try {
      const record = await verifyRegistrationAccessToken(this.store, clientId, token)
      this.emit('registration.read', { client_id: clientId })
      return clientInformation(record, {
        registration_access_token: token as string,
        registration_client_uri: registrationClientUri(this.issuer, clientId),
      })
    } catch (err) {
      throw this.#failed('read', err, clientId)
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
  ): Promise<ClientInformation> {
    try {
      const authenticated = await verifyRegistrationAccessToken(this.store, clientId, token)
      const request = typeof body === 'function' ? await body() : body
      // RFC 7592 §2.2: client_id MUST be included and MUST match.
      if (request.client_id === undefined)
        throw invalidMetadata('client_id MUST be included in the request')
      if (request.client_id !== clientId)
        throw invalidMetadata('client_id does not match the client being updated')
      const metadata = await validateClientMetadata(request, this.rules)
      const rotate = this.config.registration.rotateRegistrationAccessToken
      const { next, rat, secret } = await this.#swap(
        clientId,
        token,
        authenticated,
        async (current) => {
          const now = this.#now()
          this.#checkManagedMembers(request, current, token as string)
          const secret = this.#updatedSecret(metadata, current, now)
          const rat = rotate ? issueRegistrationAccessToken() : undefined
          const next: ClientRecord = {
            client_id: clientId,
            client_id_issued_at: current.client_id_issued_at,
            ...secret.stored,
            registrationAccessTokenHash: rat?.hash ?? current.registrationAccessTokenHash,
            metadata,
            ...(current.software_statement !== undefined && {
              software_statement: current.software_statement,
            }),
            status: current.status,
            ...(current.policy !== undefined && { policy: current.policy }),
            ...(current.initialAccessTokenId !== undefined && {
              initialAccessTokenId: current.initialAccessTokenId,
            }),
            updatedAt: now,
            version: current.version + 1,
          }
          return (await this.store.replaceClient(next, current.version))
            ? { next, rat, secret }
            : undefined
        },
      )
      this.emit('registration.updated', { client_id: clientId, rotated: rat !== undefined })
      return clientInformation(next, {
        registration_access_token: rat?.token ?? (token as string),
        registration_client_uri: registrationClientUri(this.issuer, clientId),
        ...(secret.plaintext !== undefined && { client_secret: secret.plaintext }),
      })
    } catch (err) {
      throw this.#failed('update', err, clientId)
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
  async deleteClient(clientId: string, token: string | undefined): Promise<void> {
    try {
      const authenticated = await verifyRegistrationAccessToken(this.store, clientId, token)
      await this.#swap(clientId, token, authenticated, async (current) =>
        (await this.store.deleteClient(clientId, current.version)) ? true : undefined,
      )
      this.emit('registration.deleted', { client_id: clientId })
    } catch (err) {
      throw this.#failed('delete', err, clientId)
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

  /** Mints a client_secret when the metadata calls for one (design §4). */
  #issueSecret(
    metadata: ClientMetadata,
    clientId: string,
    now: number,
  ): { plaintext?: string; stored: Partial<ClientRecord> } {
    if (!needsSecret(metadata)) return { stored: {} }
    const plaintext = randomToken()
    const lifetime = this.config.registration.clientSecretExpiresIn
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

  /** Keeps the current secret when it still serves the new metadata; otherwise mints one. */
  #updatedSecret(
    metadata: ClientMetadata,
    current: ClientRecord,
    now: number,
  ): { plaintext?: string; stored: Partial<ClientRecord> } {
    if (!needsSecret(metadata)) return { stored: {} }
    const expired =
      current.client_secret_expires_at !== undefined &&
      current.client_secret_expires_at !== 0 &&
      current.client_secret_expires_at <= now
    const usable = needsPlaintextSecret(metadata)
      ? current.clientSecretEncrypted !== undefined
      : current.clientSecretEncrypted !== undefined || current.clientSecretHash !== undefined
    if (usable && !expired) {
      return {
        stored: {
          client_secret_expires_at: current.client_secret_expires_at ?? 0,
          ...(current.clientSecretHash !== undefined && {
            clientSecretHash: current.clientSecretHash,
          }),
          ...(current.clientSecretEncrypted !== undefined && {
            clientSecretEncrypted: current.clientSecretEncrypted,
          }),
        },
      }
    }
    return this.#issueSecret(metadata, current.client_id, now)
  }

  /**
   * RFC 7592 §2.2: the request MUST NOT carry the four server-managed members; we ignore them when
   * they equal the current values (clients echo what they were given) and refuse them otherwise.
   * A client_secret, if sent, MUST match the current one.
   */
  #checkManagedMembers(body: Record<string, unknown>, current: ClientRecord, token: string): void {
    const currentValues: Record<(typeof SERVER_MANAGED)[number], unknown> = {
      registration_access_token: token,
      registration_client_uri: registrationClientUri(this.issuer, current.client_id),
      client_secret_expires_at: current.client_secret_expires_at,
      client_id_issued_at: current.client_id_issued_at,
    }
    for (const member of SERVER_MANAGED) {
      const sent = body[member]
      if (sent === undefined || sent === null) continue
      const same =
        typeof sent === 'string' && typeof currentValues[member] === 'string'
          ? constantEquals(sent, currentValues[member] as string)
          : sent === currentValues[member]
      if (!same)
        throw invalidMetadata(
          `the request MUST NOT include the ${member} member with a different value`,
        )
    }
    const secret = body.client_secret
    if (secret === undefined || secret === null) return
    if (typeof secret !== 'string' || !this.#secretMatches(secret, current)) {
      throw invalidMetadata('client_secret does not match the current client secret')
    }
  }

  #secretMatches(secret: string, current: ClientRecord): boolean {
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
    clientId?: string,
  ): unknown {
    const e = err instanceof RegistrationError ? err : undefined
    this.emit('registration.error', {
      operation,
      error: e?.error ?? 'server_error',
      status: e?.status ?? 500,
      ...(clientId !== undefined && { client_id: clientId }),
    })
    return err
  }
}
