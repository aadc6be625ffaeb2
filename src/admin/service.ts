import { EventEmitter } from 'node:events'
import type { RegistrarSettings } from '../config/schema.js'
import { RegistrationError } from '../core/errors.js'
import { createInitialAccessToken } from '../core/initial-access-token.js'
import type { Registrar } from '../core/registration.js'
import {
  type AuditActor,
  type AuditEntry,
  type ClientPosition,
  type ClientQuery,
  type ClientRecord,
  type ClientStatus,
  clientPosition,
  type InitialAccessTokenRecord,
  type RegistrationSource,
  type Store,
} from '../core/store.js'
import type { ClientMetadata } from '../metadata/types.js'
import { epochSeconds } from '../shared/epoch.js'
import { CursorSealer, invalidCursor } from './cursor.js'

/** Payloads of the events an {@link AdminService} emits (the audit trail records them). */
export interface AdminEvents {
  'admin.approved': [StatusChange]
  'admin.disabled': [StatusChange]
  'admin.enabled': [StatusChange]
  'admin.deleted': [{ client_id: string; actor: AuditActor; metadata: ClientMetadata }]
  'admin.initial_access_token.created': [
    {
      id: string
      actor: AuditActor
      max_uses: number | null
      expires_at: number | null
      policy?: string
      description?: string
    },
  ]
  'admin.initial_access_token.revoked': [{ id: string; actor: AuditActor }]
}

/** An operator's change of a client's status. */
export interface StatusChange {
  client_id: string
  actor: AuditActor
  before: ClientStatus
  after: ClientStatus
  /** The version of the record after the change. */
  version: number
}

/** A page of a listing, and the cursor of the next page when there may be one. */
export interface Page<T> {
  items: T[]
  nextCursor?: string
}

/** The filters of {@link AdminService.listClients}. */
export interface ClientFilters {
  search?: string
  status?: ClientStatus
  policy?: string
  source?: RegistrationSource
}

/** What a registration request would become (the dry run), or why it would be refused. */
export type DryRunResult =
  | {
      result: 'accepted'
      registrant: string
      software_statement_issuer?: string
      policy: string | null
      status: ClientStatus
      registered_as: ClientMetadata
      decided_by: Record<string, string>
    }
  | { result: 'refused'; status: number; error: string; error_description?: string }

export const CLIENT_STATUSES: readonly ClientStatus[] = ['active', 'pending', 'disabled']
export const REGISTRATION_SOURCES: readonly RegistrationSource[] = [
  'anonymous',
  'initial_access_token',
  'software_statement',
]

/** Page sizes: the default, and the most one request may ask for. */
export const DEFAULT_PAGE = 50
export const MAX_PAGE = 200

/** Status changes an operator may make: from which statuses, to which, and the event. */
const TRANSITIONS = {
  approve: { from: ['pending'], to: 'active', event: 'admin.approved' },
  disable: { from: ['active', 'pending'], to: 'disabled', event: 'admin.disabled' },
  enable: { from: ['disabled'], to: 'active', event: 'admin.enabled' },
} as const satisfies Record<
  string,
  { from: readonly ClientStatus[]; to: ClientStatus; event: keyof AdminEvents }
>

/** The status changes of {@link AdminService.changeStatus}. */
export type StatusAction = keyof typeof TRANSITIONS

/** Compare-and-swap attempts of a change made without an expected version. */
const MAX_ATTEMPTS = 9

/** Options of {@link AdminService}. */
export interface AdminServiceOptions {
  store: Store
  /** Only `policies` is read: the CLI, which may have no issuer configured, builds one too. */
  config: Readonly<RegistrarSettings>
  /** Seals pagination cursors (see `adminKeys`). */
  cursorKey: Buffer
  /** For the policy dry run; without it the dry run is refused. */
  registrar?: Registrar
  /** Seconds since the epoch. */
  clock?: () => number
}

/**
 * The admin service (issue 13): what an operator may do with clients and initial access tokens,
 * for the admin API, the console and the CLI (`registrar clients …`, `registrar token …`). Every change goes through the store's
 * compare-and-swap (a client changed meanwhile is never overwritten) and emits an `admin.*` event
 * naming the actor, which the audit trail records. Refusals are {@link RegistrationError}s.
 */
export class AdminService extends EventEmitter<AdminEvents> {
  readonly store: Store
  readonly config: Readonly<RegistrarSettings>
  readonly #cursors: CursorSealer
  readonly #registrar: Registrar | undefined
  readonly #now: () => number

  constructor(options: AdminServiceOptions) {
    super()
    this.store = options.store
    this.config = options.config
    this.#cursors = new CursorSealer(options.cursorKey)
    this.#registrar = options.registrar
    this.#now = options.clock ?? epochSeconds
  }

  /**
   * Clients matching `filters`, awaiting approval first, then the newest; `cursor` continues a
   * previous page of the same filters.
   */
  async listClients(
    filters: ClientFilters,
    page: { limit?: number; cursor?: string } = {},
  ): Promise<Page<ClientRecord>> {
    const query = normaliseFilters(filters)
    const limit = pageSize(page.limit)
    const after =
      page.cursor === undefined
        ? undefined
        : checkPosition(this.#cursors.open('clients', query, page.cursor))
    // one more than asked tells whether there is a next page
    const found = await this.store.queryClients({
      ...query,
      limit: limit + 1,
      ...(after && { after }),
    } satisfies ClientQuery)
    const items = found.slice(0, limit)
    const last = items.at(-1)
    return {
      items,
      ...(found.length > limit &&
        last && { nextCursor: this.#cursors.seal('clients', query, clientPosition(last)) }),
    }
  }

  /** How many clients await an operator's approval. */
  async countAwaitingApproval(): Promise<number> {
    const counts = await this.store.countClientsByStatusAndSource()
    return counts.reduce((n, c) => n + (c.status === 'pending' ? c.count : 0), 0)
  }

  /** The client, or a 404. */
  async getClient(clientId: string): Promise<ClientRecord> {
    const client = await this.store.findClient(clientId)
    if (!client) throw notFound('client', clientId)
    return client
  }

  /**
   * Approves (pending → active), disables (active or pending → disabled) or enables (disabled →
   * active) a client. With `expectedVersion`, only that version of the record is changed (the one
   * the operator saw): 412 when it moved. A status the action does not apply to is 409.
   */
  async changeStatus(
    action: StatusAction,
    clientId: string,
    actor: AuditActor,
    options: { expectedVersion?: number } = {},
  ): Promise<ClientRecord> {
    const transition = TRANSITIONS[action]
    for (let attempt = 1; ; attempt++) {
      const current = await this.#current(clientId, options.expectedVersion)
      if (!(transition.from as readonly ClientStatus[]).includes(current.status)) {
        throw conflict(
          `the client is ${current.status}; ${action} applies to ${transition.from.join(' or ')} clients`,
        )
      }
      const next: ClientRecord = {
        ...current,
        status: transition.to,
        updatedAt: this.#now(),
        version: current.version + 1,
      }
      if (await this.store.replaceClient(next, current.version)) {
        this.emit(transition.event, {
          client_id: clientId,
          actor,
          before: current.status,
          after: next.status,
          version: next.version,
        })
        return next
      }
      this.#lostRace(options.expectedVersion, attempt)
    }
  }

  /** Deletes a client (as an RFC 7592 delete would): its credentials stop working at once. */
  async deleteClient(
    clientId: string,
    actor: AuditActor,
    options: { expectedVersion?: number } = {},
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.#current(clientId, options.expectedVersion)
      if (await this.store.deleteClient(clientId, current.version)) {
        this.emit('admin.deleted', { client_id: clientId, actor, metadata: current.metadata })
        return
      }
      this.#lostRace(options.expectedVersion, attempt)
    }
  }

  async #current(clientId: string, expectedVersion: number | undefined): Promise<ClientRecord> {
    const current = await this.getClient(clientId)
    if (expectedVersion !== undefined && current.version !== expectedVersion) {
      throw versionMoved(expectedVersion, current.version)
    }
    return current
  }

  /** After a lost compare-and-swap: with an expected version the change is refused, else retried. */
  #lostRace(expectedVersion: number | undefined, attempt: number): void {
    if (expectedVersion !== undefined) throw versionMoved(expectedVersion)
    if (attempt >= MAX_ATTEMPTS) {
      throw new RegistrationError(
        'temporarily_unavailable',
        'too many concurrent changes to this client; retry',
      )
    }
  }

  listInitialAccessTokens(): Promise<InitialAccessTokenRecord[]> {
    return this.store.listInitialAccessTokens()
  }

  /** Issues an initial access token (RFC 7591 §3); the token is in the result, once. */
  async createInitialAccessToken(
    actor: AuditActor,
    /** `null` (or absent): no limit on uses, no expiry. */
    options: {
      maxUses?: number | null
      expiresIn?: number | null
      policy?: string
      description?: string
    },
  ): Promise<{ token: string; record: InitialAccessTokenRecord }> {
    if (
      options.policy !== undefined &&
      !Object.hasOwn(this.config.policies.definitions, options.policy)
    ) {
      throw new RegistrationError(
        'invalid_request',
        `policy names no policy in the configuration (policies.definitions)`,
      )
    }
    const created = await createInitialAccessToken(this.store, { ...options, now: this.#now() })
    const { record } = created
    this.emit('admin.initial_access_token.created', {
      id: record.id,
      actor,
      max_uses: record.maxUses,
      expires_at: record.expiresAt,
      ...(record.policy !== undefined && { policy: record.policy }),
      ...(record.description !== undefined && { description: record.description }),
    })
    return created
  }

  /** Revokes an initial access token by id; registrations made with it stay. 404 if unknown. */
  async revokeInitialAccessToken(id: string, actor: AuditActor): Promise<void> {
    if (!(await this.store.revokeInitialAccessToken(id))) throw notFound('initial access token', id)
    this.emit('admin.initial_access_token.revoked', { id, actor })
  }

  /** The audit trail, newest first, optionally of one client and since a time. */
  async audit(
    filters: { clientId?: string; since?: number },
    page: { limit?: number; cursor?: string } = {},
  ): Promise<Page<AuditEntry>> {
    const query = { clientId: filters.clientId, since: filters.since }
    const limit = pageSize(page.limit)
    let beforeId: number | undefined
    if (page.cursor !== undefined) {
      const position = this.#cursors.open('audit', query, page.cursor)
      if (!Number.isSafeInteger(position)) throw invalidCursor()
      beforeId = position as number
    }
    const found = await this.store.listAuditEntries({
      ...(filters.clientId !== undefined && { clientId: filters.clientId }),
      ...(filters.since !== undefined && { since: filters.since }),
      ...(beforeId !== undefined && { beforeId }),
      limit: limit + 1,
    })
    const items = found.slice(0, limit)
    const last = items.at(-1)
    return {
      items,
      ...(found.length > limit &&
        last && { nextCursor: this.#cursors.seal('audit', query, last.id) }),
    }
  }

  /**
   * The policy dry run (`registrar policy dry-run`): what the registration request `metadata`
   * would be registered as, with where each member came from, or why it would be refused.
   * Nothing is stored and no initial access token is consumed.
   */
  async dryRun(
    metadata: Record<string, unknown>,
    initialAccessToken?: string,
  ): Promise<DryRunResult> {
    if (!this.#registrar) {
      throw new RegistrationError('invalid_request', 'the dry run is not available here', {
        status: 501,
      })
    }
    try {
      const evaluation = await this.#registrar.evaluate({
        metadata,
        ...(initialAccessToken !== undefined && { initialAccessToken }),
      })
      return {
        result: 'accepted',
        registrant: evaluation.registrant.class,
        ...(evaluation.registrant.softwareStatement && {
          software_statement_issuer: evaluation.registrant.softwareStatement.issuer.iss,
        }),
        policy: evaluation.policy ?? null,
        status: evaluation.status,
        registered_as: evaluation.metadata,
        decided_by: evaluation.decisions,
      }
    } catch (err) {
      if (!(err instanceof RegistrationError) || err.status >= 500) throw err
      return { result: 'refused', status: err.status, ...err.toJSON() }
    }
  }
}

/** Filters as the store takes them; an unknown status or source is a 400, not an empty page. */
function normaliseFilters(filters: ClientFilters): ClientFilters {
  if (filters.status !== undefined && !CLIENT_STATUSES.includes(filters.status)) {
    throw new RegistrationError(
      'invalid_request',
      `status must be one of ${CLIENT_STATUSES.join(', ')}`,
    )
  }
  if (filters.source !== undefined && !REGISTRATION_SOURCES.includes(filters.source)) {
    throw new RegistrationError(
      'invalid_request',
      `source must be one of ${REGISTRATION_SOURCES.join(', ')}`,
    )
  }
  const search = filters.search?.trim()
  return {
    ...(search && { search }),
    ...(filters.status !== undefined && { status: filters.status }),
    ...(filters.policy !== undefined && filters.policy !== '' && { policy: filters.policy }),
    ...(filters.source !== undefined && { source: filters.source }),
  }
}

function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new RegistrationError('invalid_request', `limit must be an integer from 1 to ${MAX_PAGE}`)
  }
  return limit
}

/** A sealed position is ours, but its shape is checked all the same before it reaches SQL. */
function checkPosition(p: unknown): ClientPosition {
  const o = p as Partial<ClientPosition> | null
  if (
    typeof o !== 'object' ||
    o === null ||
    (o.rank !== 0 && o.rank !== 1) ||
    !Number.isSafeInteger(o.issuedAt) ||
    typeof o.clientId !== 'string'
  ) {
    throw invalidCursor()
  }
  return { rank: o.rank, issuedAt: o.issuedAt as number, clientId: o.clientId }
}

function notFound(what: string, id: string): RegistrationError {
  return new RegistrationError('invalid_request', `no ${what} with id ${id}`, { status: 404 })
}

function conflict(description: string): RegistrationError {
  return new RegistrationError('invalid_request', description, { status: 409 })
}

/** RFC 9110 §15.5.13 412: the operator acted on a version that is no longer the stored one. */
function versionMoved(expected: number, stored?: number): RegistrationError {
  return new RegistrationError(
    'invalid_request',
    `the client changed since version ${expected}${stored === undefined ? '' : ` (it is at version ${stored})`}; look at it again and retry`,
    { status: 412 },
  )
}
