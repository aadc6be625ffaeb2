import type { EventEmitter } from 'node:events'
import { isDeepStrictEqual } from 'node:util'
import { SERVER_ISSUED_MEMBERS } from '../core/client-information.js'
import type { ClientLifecycleEvents } from '../core/client-lifecycle.js'
import type { RegistrationEvents } from '../core/registration.js'
import type { AuditActor, AuditEntry, Store } from '../core/store.js'
import type { ClientMetadata } from '../metadata/types.js'
import { epochSeconds } from '../shared/epoch.js'
import type { AdminEvents } from './service.js'

/** Options of {@link AuditTrail}. */
export interface AuditTrailOptions {
  store: Store
  /** Seconds since the epoch. */
  clock?: () => number
  /** Record RFC 7592 reads too (`audit.recordReads`). */
  recordReads?: boolean
  /** `audit.authenticationFailureThreshold`: failures of one client within the window. */
  failureThreshold?: number
  /** `audit.authenticationFailureWindow`, seconds. */
  failureWindow?: number
  /** Told when an entry could not be written (the change itself is already stored). */
  onError?: (err: unknown, entry: Omit<AuditEntry, 'id'>) => void
  /**
   * Entries from unauthenticated traffic (`authentication_failures`,
   * `authentication_limit_reached`) written at most per window, all keys together. Default 100.
   */
  anonymousBudget?: number
  /** Told of each such entry left out because the budget was spent (a metric). */
  onDropped?: (event: AuditEntry['event']) => void
}

/** Members never recorded: credentials the server issues, and the statement JWT (its claims are). */
const NOT_RECORDED = new Set<string>([...SERVER_ISSUED_MEMBERS, 'software_statement'])

/** Keys the burst detector remembers at most; the oldest window is forgotten first. */
const MAX_BURST_KEYS = 10_000
/** Entries that unauthenticated traffic may cause per window, whoever sends it. */
const ANONYMOUS_BUDGET = 100

/**
 * The audit trail (issue 13 item 2): turns the domain's events (`registration.*`), the admin
 * service's (`admin.*`) and the AS's failed client authentications (`client.authentication_failed`,
 * subscribed by name) into append-only store entries: when, what, who (actor and client address),
 * which client, and the changed members before → after. Never a secret, a token or a hash: the
 * events carry none, and server-issued members are dropped here as well.
 *
 * Entries are written just after the change they record, without holding up the response: a crash
 * between the two loses the entry, and a store error is reported to `onError`, not to the client.
 */
export class AuditTrail {
  readonly #store: Store
  readonly #now: () => number
  readonly #recordReads: boolean
  readonly #threshold: number
  readonly #window: number
  readonly #onError: (err: unknown, entry: Omit<AuditEntry, 'id'>) => void
  readonly #pending = new Set<Promise<void>>()
  readonly #bursts = new Map<string, { start: number; count: number; reported: boolean }>()
  /** client_ids that failed as `unknown_client` lately (anyone can make them up). */
  readonly #unknown = new Map<string, number>()
  readonly #anonymousBudget: number
  readonly #onDropped: (event: AuditEntry['event']) => void
  #anonymous = { start: Number.NEGATIVE_INFINITY, written: 0 }

  constructor(options: AuditTrailOptions) {
    this.#store = options.store
    this.#now = options.clock ?? epochSeconds
    this.#recordReads = options.recordReads ?? false
    this.#threshold = options.failureThreshold ?? 5
    this.#window = options.failureWindow ?? 60
    this.#onError = options.onError ?? (() => {})
    this.#anonymousBudget = options.anonymousBudget ?? ANONYMOUS_BUDGET
    this.#onDropped = options.onDropped ?? (() => {})
  }

  /** Records the registration events of a `Registrar`; returns the unsubscribe function. */
  observeRegistrar(registrar: EventEmitter<RegistrationEvents>): () => void {
    const created = (e: RegistrationEvents['registration.created'][0]) => {
      this.record({
        event: 'registered',
        client_id: e.client_id,
        actor:
          e.initial_access_token_id !== undefined
            ? actor('initial_access_token', e.initial_access_token_id, e.address)
            : actor('anonymous', undefined, e.address),
        changes: memberChanges(undefined, e.metadata),
        details: {
          status: e.status,
          ...(e.policy !== undefined && { policy: e.policy }),
          ...(e.software_statement_issuer !== undefined && {
            software_statement_issuer: e.software_statement_issuer,
          }),
        },
      })
    }
    const read = (e: RegistrationEvents['registration.read'][0]) => {
      if (!this.#recordReads) return
      this.record({
        event: 'read',
        client_id: e.client_id,
        actor: actor('client', e.client_id, e.address),
      })
    }
    const updated = (e: RegistrationEvents['registration.updated'][0]) => {
      this.record({
        event: 'updated',
        client_id: e.client_id,
        actor: actor('client', e.client_id, e.address),
        changes: memberChanges(e.before, e.metadata),
        ...((e.rotated || e.secretIssued) && {
          details: {
            ...(e.rotated && { registration_access_token_rotated: true }),
            ...(e.secretIssued && { client_secret_issued: true }),
          },
        }),
      })
    }
    const deleted = (e: RegistrationEvents['registration.deleted'][0]) => {
      this.record({
        event: 'deleted',
        client_id: e.client_id,
        actor: actor('client', e.client_id, e.address),
        changes: memberChanges(e.metadata, undefined),
      })
    }
    // a wrong registration access token on the client configuration endpoint is a failed
    // authentication of that client too (RFC 7592 §2: the token authenticates the client)
    const failed = (e: RegistrationEvents['registration.error'][0]) => {
      if (e.error !== 'invalid_token' || e.client_id === undefined || e.operation === 'register') {
        return
      }
      this.#authenticationFailed(e.client_id, e.address, {
        credential: 'registration_access_token',
      })
    }
    registrar.on('registration.created', created)
    registrar.on('registration.read', read)
    registrar.on('registration.updated', updated)
    registrar.on('registration.deleted', deleted)
    registrar.on('registration.error', failed)
    return () => {
      registrar.off('registration.created', created)
      registrar.off('registration.read', read)
      registrar.off('registration.updated', updated)
      registrar.off('registration.deleted', deleted)
      registrar.off('registration.error', failed)
    }
  }

  /** Records the admin service's events; returns the unsubscribe function. */
  observeAdmin(service: EventEmitter<AdminEvents>): () => void {
    const status =
      (event: 'approved' | 'disabled' | 'enabled') => (e: AdminEvents['admin.approved'][0]) => {
        this.record({
          event,
          client_id: e.client_id,
          actor: e.actor,
          changes: { status: { before: e.before, after: e.after } },
          details: { version: e.version },
        })
      }
    const listeners = {
      'admin.approved': status('approved'),
      'admin.disabled': status('disabled'),
      'admin.enabled': status('enabled'),
      'admin.deleted': (e: AdminEvents['admin.deleted'][0]) => {
        this.record({
          event: 'deleted',
          client_id: e.client_id,
          actor: e.actor,
          changes: memberChanges(e.metadata, undefined),
        })
      },
      'admin.initial_access_token.created': (
        e: AdminEvents['admin.initial_access_token.created'][0],
      ) => {
        this.record({
          event: 'initial_access_token_created',
          actor: e.actor,
          details: {
            initial_access_token_id: e.id,
            max_uses: e.max_uses,
            expires_at: e.expires_at,
            ...(e.policy !== undefined && { policy: e.policy }),
            ...(e.description !== undefined && { description: e.description }),
          },
        })
      },
      'admin.initial_access_token.revoked': (
        e: AdminEvents['admin.initial_access_token.revoked'][0],
      ) => {
        this.record({
          event: 'initial_access_token_revoked',
          actor: e.actor,
          details: { initial_access_token_id: e.id },
        })
      },
    } as const
    for (const [name, listener] of Object.entries(listeners)) {
      service.on(name as keyof AdminEvents, listener as never)
    }
    return () => {
      for (const [name, listener] of Object.entries(listeners)) {
        service.off(name as keyof AdminEvents, listener as never)
      }
    }
  }

  /**
   * Records the clients the idle-expiry sweep deletes: `expired`, actor `system` (id
   * `idle-expiry`), the metadata it had, and why (policy, last use, the `expireUnusedAfter`).
   */
  observeLifecycle(lifecycle: EventEmitter<ClientLifecycleEvents>): () => void {
    const expired = (e: ClientLifecycleEvents['client.expired'][0]) => {
      this.record({
        event: 'expired',
        client_id: e.client_id,
        actor: actor('system', 'idle-expiry', undefined),
        changes: memberChanges(e.metadata, undefined),
        details: {
          expire_unused_after: e.expire_unused_after,
          last_used_at: e.last_used_at ?? null,
          ...(e.policy !== undefined && { policy: e.policy }),
        },
      })
    }
    lifecycle.on('client.expired', expired)
    return () => lifecycle.off('client.expired', expired)
  }

  /**
   * Records bursts of failed client authentications reported by the AS side: the event
   * `client.authentication_failed` (client_id when known, method, reason; never a credential).
   */
  observeClientAuthentication(emitter: EventEmitter): () => void {
    const failed = (e: unknown) => {
      const event = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>
      const claimed = typeof event.client_id === 'string' ? event.client_id : undefined
      const address = typeof event.address === 'string' ? event.address : undefined
      // a client_id nobody registered is the sender's choice: its failures are grouped by
      // address alone (one key per address, not one per made-up id) and the entry names none
      const unknown = event.reason === 'unknown_client'
      if (unknown && claimed !== undefined) this.#remember(this.#unknown, claimed)
      const clientId = unknown ? undefined : claimed
      if (clientId === undefined && address === undefined && !unknown) return
      this.#authenticationFailed(clientId, address, {
        credential: 'client_authentication',
        ...(typeof event.method === 'string' && { method: event.method }),
        ...(typeof event.reason === 'string' && { reason: event.reason }),
      })
    }
    // one entry when a key's failures reach clientAuthentication.failureLimit (the registry
    // reports each key once per window), not one per refused attempt
    const limited = (e: unknown) => {
      const event = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>
      const claimed = typeof event.client_id === 'string' ? event.client_id : undefined
      const address = typeof event.address === 'string' ? event.address : undefined
      // the per-client limit of a made-up client_id: one entry per address and window for all
      // such ids (its failures were reported just before, as unknown_client)
      const unknown = claimed !== undefined && this.#isUnknown(claimed)
      if (unknown && !this.#firstInWindow(`limit unknown ${address ?? ''}`)) return
      const clientId = unknown ? undefined : claimed
      this.#recordAnonymous({
        event: 'authentication_limit_reached',
        ...(clientId !== undefined && { client_id: clientId }),
        actor: actor('anonymous', undefined, address),
        details: {
          scope: event.scope,
          ...(unknown && { reason: 'unknown_client' }),
          failures: event.max,
          within_seconds: event.window_seconds,
        },
      })
    }
    emitter.on('client.authentication_failed', failed)
    emitter.on('client.authentication_limit_reached', limited)
    return () => {
      emitter.off('client.authentication_failed', failed)
      emitter.off('client.authentication_limit_reached', limited)
    }
  }

  /**
   * One entry per client (or, for an unknown client, per address) whose failures reach the
   * threshold within a window; the next entry can only come in a later window.
   */
  #authenticationFailed(
    clientId: string | undefined,
    address: string | undefined,
    details: Record<string, unknown>,
  ): void {
    const burst = this.#burst(clientId !== undefined ? `client ${clientId}` : `address ${address}`)
    burst.count += 1
    if (burst.count < this.#threshold || burst.reported) return
    burst.reported = true
    this.#recordAnonymous({
      event: 'authentication_failures',
      ...(clientId !== undefined && { client_id: clientId }),
      actor: actor('anonymous', undefined, address),
      details: { ...details, failures: burst.count, within_seconds: this.#window },
    })
  }

  /** The burst of this key in the current window (a new one when the last has ended). */
  #burst(key: string): { start: number; count: number; reported: boolean } {
    const now = this.#now()
    let burst = this.#bursts.get(key)
    if (!burst || now - burst.start >= this.#window) {
      this.#bursts.delete(key)
      if (this.#bursts.size >= MAX_BURST_KEYS) {
        this.#bursts.delete(this.#bursts.keys().next().value as string)
      }
      burst = { start: now, count: 0, reported: false }
      this.#bursts.set(key, burst)
    }
    return burst
  }

  /** True the first time a key is seen in its window. */
  #firstInWindow(key: string): boolean {
    const burst = this.#burst(key)
    burst.count += 1
    return burst.count === 1
  }

  /** Remembers a key for one window (bounded, oldest first out). */
  #remember(map: Map<string, number>, key: string): void {
    map.delete(key)
    if (map.size >= MAX_BURST_KEYS) map.delete(map.keys().next().value as string)
    map.set(key, this.#now())
  }

  #isUnknown(clientId: string): boolean {
    const at = this.#unknown.get(clientId)
    return at !== undefined && this.#now() - at < this.#window
  }

  /**
   * An entry caused by unauthenticated traffic: written while this window's budget lasts (all
   * addresses together, so no number of addresses turns failures into unbounded writes), else
   * left out and reported to `onDropped`.
   */
  #recordAnonymous(entry: Omit<AuditEntry, 'id' | 'at'>): void {
    const now = this.#now()
    if (now - this.#anonymous.start >= this.#window) this.#anonymous = { start: now, written: 0 }
    if (this.#anonymous.written >= this.#anonymousBudget) {
      this.#onDropped(entry.event)
      return
    }
    this.#anonymous.written += 1
    this.record(entry)
  }

  /** Appends an entry now (time filled in); the write completes in the background. */
  record(entry: Omit<AuditEntry, 'id' | 'at'> & { at?: number }): void {
    const full = { ...entry, at: entry.at ?? this.#now() }
    const write = this.#store.appendAuditEntry(full).then(
      () => {},
      (err) => this.#onError(err, full),
    )
    this.#pending.add(write)
    write.finally(() => this.#pending.delete(write))
  }

  /** Resolves once every entry recorded so far is written (or has failed). */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending])
  }

  /** Retention: deletes entries older than `retentionDays`; resolves how many. */
  purge(retentionDays: number): Promise<number> {
    return this.#store.purgeAuditEntries(this.#now() - retentionDays * 86_400)
  }
}

function actor(type: AuditActor['type'], id: string | undefined, address: string | undefined) {
  return {
    type,
    ...(id !== undefined && { id }),
    ...(address !== undefined && { address }),
  } satisfies AuditActor
}

/**
 * The members that differ between two versions of a client's metadata, before → after; a member
 * missing on one side has no `before` (added) or no `after` (removed). Credentials never appear.
 */
export function memberChanges(
  before: ClientMetadata | undefined,
  after: ClientMetadata | undefined,
): Record<string, { before?: unknown; after?: unknown }> {
  const out: Record<string, { before?: unknown; after?: unknown }> = {}
  const b = (before ?? {}) as Record<string, unknown>
  const a = (after ?? {}) as Record<string, unknown>
  for (const member of new Set([...Object.keys(b), ...Object.keys(a)])) {
    if (NOT_RECORDED.has(member)) continue
    const was = Object.hasOwn(b, member) ? b[member] : undefined
    const is = Object.hasOwn(a, member) ? a[member] : undefined
    if (isDeepStrictEqual(was, is)) continue
    out[member] = {
      ...(was !== undefined && { before: was }),
      ...(is !== undefined && { after: is }),
    }
  }
  return out
}
