import { EventEmitter } from 'node:events'
import type { RegistrarSettings } from '../config/schema.js'
import type { ClientMetadata } from '../metadata/types.js'
import { epochSeconds } from '../shared/epoch.js'
import type { ClientRecord, IdleClientQuery, Store } from './store.js'

/** The configuration the lifecycle reads (no issuer needed: the CLI runs it too). */
export type LifecycleSettings = Readonly<
  Pick<RegistrarSettings, 'policies' | 'lifecycle' | 'registration'>
>

/** Name of the {@link Store.runExclusive} lock a sweep holds: one sweep at a time. */
export const SWEEP_LOCK = 'registrar:idle-expiry'

/** An idle client: a candidate of the sweep, or one it deleted. */
export interface IdleClient {
  client_id: string
  policy?: string
  /** Seconds since the epoch; absent: never used. */
  last_used_at?: number
  client_id_issued_at: number
  /** The `expireUnusedAfter` (seconds) that applied. */
  expire_unused_after: number
  client_name?: string
}

/** Events of {@link ClientLifecycle}; never a secret, a token or a hash. */
export interface ClientLifecycleEvents {
  /** The sweep deleted an idle client (RFC 7591 §5). */
  'client.expired': [IdleClient & { metadata: ClientMetadata }]
}

/** What a sweep did. */
export interface SweepResult {
  /** False when another sweep held the lock (nothing was done). */
  ran: boolean
  dryRun: boolean
  /** Deleted clients, or with `dryRun` those a sweep would delete now. */
  clients: IdleClient[]
}

/** One idle rule: the clients a query selects, and how long they may stay unused. */
interface IdleRule {
  expireUnusedAfter: number
  select: Pick<IdleClientQuery, 'policy' | 'excludePolicies'>
}

/**
 * Idle expiry (RFC 7591 §5: the server MAY expire registrations after a time, to limit the build-up
 * of dead client IDs). A client is idle when it is `active` and neither used (the AS's recordUse)
 * nor registered, updated or approved for the `expireUnusedAfter` of its policy
 * (`policies.definitions.NAME.expireUnusedAfter`, else `lifecycle.expireUnusedAfter`). Pending
 * clients wait for an operator's decision and disabled ones were switched off by an operator: the
 * sweep leaves both alone. Only dynamically registered clients are in the store's client table;
 * metadata-document clients are not, so the sweep never touches them.
 */
export class ClientLifecycle extends EventEmitter<ClientLifecycleEvents> {
  readonly #config: LifecycleSettings
  readonly #store: Store
  readonly #now: () => number

  constructor(options: { config: LifecycleSettings; store: Store; clock?: () => number }) {
    super()
    this.#config = options.config
    this.#store = options.store
    this.#now = options.clock ?? epochSeconds
  }

  /** Whether any client can expire under this configuration (else no sweeper is needed). */
  get enabled(): boolean {
    return this.#rules().length > 0
  }

  /**
   * The rules of the configuration: one per policy with its own non-zero `expireUnusedAfter`, and
   * the default for every other client (those of no policy, of a policy without its own setting,
   * or of a policy no longer configured).
   */
  #rules(): IdleRule[] {
    const rules: IdleRule[] = []
    const own: string[] = []
    for (const [name, policy] of Object.entries(this.#config.policies.definitions)) {
      if (policy.expireUnusedAfter === undefined) continue
      own.push(name)
      if (policy.expireUnusedAfter > 0) {
        rules.push({ expireUnusedAfter: policy.expireUnusedAfter, select: { policy: name } })
      }
    }
    const fallback = this.#config.lifecycle.expireUnusedAfter
    if (fallback > 0) rules.push({ expireUnusedAfter: fallback, select: { excludePolicies: own } })
    return rules
  }

  /**
   * Active clients unused for at least `idleFor` seconds whatever their policy (`registrar clients
   * list --idle 30d`), ordered by client_id, at most `limit`, after the client_id `after`.
   */
  async listIdle(options: {
    idleFor: number
    limit: number
    after?: string
  }): Promise<IdleClient[]> {
    const clients = await this.#store.listIdleClients({
      idleSince: this.#now() - options.idleFor,
      limit: options.limit,
      ...(options.after !== undefined && { after: options.after }),
    })
    return clients.map((c) => idleClient(c, options.idleFor))
  }

  /**
   * One sweep: under the {@link SWEEP_LOCK} (another sweep running anywhere on a PostgreSQL store
   * makes this one a no-op, `ran: false`), deletes the idle clients of every rule a batch at a
   * time, emitting `client.expired` for each. With `dryRun`, lists what it would delete and
   * deletes nothing. Each delete re-checks idleness, so a client used meanwhile stays.
   */
  async sweep(options: { dryRun?: boolean } = {}): Promise<SweepResult> {
    const dryRun = options.dryRun ?? false
    const rules = this.#rules()
    const run = async (): Promise<IdleClient[]> => {
      const out: IdleClient[] = []
      for (const rule of rules) out.push(...(await this.#sweepRule(rule, dryRun)))
      return out
    }
    // a dry run changes nothing: it needs no lock and is never turned away
    if (dryRun) return { ran: true, dryRun, clients: await run() }
    const result = await this.#store.runExclusive(SWEEP_LOCK, run)
    return result.ran
      ? { ran: true, dryRun, clients: result.value }
      : { ran: false, dryRun, clients: [] }
  }

  async #sweepRule(rule: IdleRule, dryRun: boolean): Promise<IdleClient[]> {
    const limit = this.#config.lifecycle.sweepBatchSize
    // one cut-off for the whole rule, so that the pages of a dry run are consistent
    const idleSince = this.#now() - rule.expireUnusedAfter
    const out: IdleClient[] = []
    let after: string | undefined
    for (;;) {
      const batch = await this.#store.listIdleClients({
        ...rule.select,
        idleSince,
        limit,
        ...(after !== undefined && { after }),
      })
      const last = batch.at(-1)
      if (last === undefined) return out
      after = last.client_id
      if (dryRun) {
        for (const c of batch) out.push(idleClient(c, rule.expireUnusedAfter))
      } else {
        const deleted = new Set(
          await this.#store.deleteIdleClients(
            batch.map((c) => c.client_id),
            idleSince,
          ),
        )
        for (const c of batch) {
          if (!deleted.has(c.client_id)) continue
          const expired = idleClient(c, rule.expireUnusedAfter)
          out.push(expired)
          this.emit('client.expired', { ...expired, metadata: c.metadata })
        }
      }
      if (batch.length < limit) return out
    }
  }
}

function idleClient(c: ClientRecord, expireUnusedAfter: number): IdleClient {
  const name = c.metadata.client_name
  return {
    client_id: c.client_id,
    ...(c.policy !== undefined && { policy: c.policy }),
    ...(c.lastUsedAt !== undefined && { last_used_at: c.lastUsedAt }),
    client_id_issued_at: c.client_id_issued_at,
    expire_unused_after: expireUnusedAfter,
    ...(typeof name === 'string' && { client_name: name }),
  }
}

/**
 * Lifetime in seconds of a secret issued to a client of `policy` (RFC 7591 §3.2.1
 * `client_secret_expires_at`; 0 = never): the policy's `clientSecretExpiresIn`, else
 * `registration.clientSecretExpiresIn`.
 */
export function clientSecretLifetime(
  config: LifecycleSettings,
  policy: string | undefined,
): number {
  const own =
    policy !== undefined && Object.hasOwn(config.policies.definitions, policy)
      ? config.policies.definitions[policy]?.clientSecretExpiresIn
      : undefined
  return own ?? config.registration.clientSecretExpiresIn
}
