import { LRUCache } from 'lru-cache'
import type { ClientRecord } from '../core/store.js'
import { registeredClient } from './registered-client.js'
import type { RegisteredClient } from './types.js'

/** A usable client as cached: the record (for its credentials) and the view handed out. */
export interface ActiveClient {
  readonly record: ClientRecord
  readonly client: RegisteredClient
}

/** Options of {@link ClientCache}. */
export interface ClientCacheOptions {
  /** Loads a client from the store of record. */
  load: (clientId: string) => Promise<ClientRecord | undefined>
  /** How long a usable client is kept, ms; 0 disables the cache. */
  ttlMs: number
  /** Most usable clients kept. */
  max?: number
  /** Most unknown ids remembered (kept apart, so random ids cannot evict real clients). */
  maxUnknown?: number
}

/** Unknown ids are remembered at most this long, ms: long enough to absorb a burst, no longer. */
const UNKNOWN_TTL_MS = 1000

/**
 * The in-process cache behind `getClient`: a bounded LRU with a short TTL, plus a smaller, shorter
 * one for ids that name no usable client (unknown, deleted, disabled, awaiting approval).
 *
 * - `invalidate(id)` drops one client at once (a change seen through the store's change feed or the
 *   Registrar's events); `invalidate()` drops everything.
 * - A lookup that was under way when an invalidation happened returns what it read, but does not
 *   cache it: the value may predate the change.
 * - Concurrent lookups of one id share one store read.
 * - `trusted = false` (the change feed is down) bypasses the cache until it is back.
 */
export class ClientCache {
  readonly #load: ClientCacheOptions['load']
  readonly #active: LRUCache<string, ActiveClient> | undefined
  readonly #unknown: LRUCache<string, true> | undefined
  readonly #inFlight = new Map<string, Promise<ActiveClient | undefined>>()
  /** Bumped by every invalidation; a load caches its result only if it did not move. */
  #epoch = 0
  trusted = true

  constructor(options: ClientCacheOptions) {
    this.#load = options.load
    if (options.ttlMs > 0) {
      this.#active = new LRUCache({ max: options.max ?? 10_000, ttl: options.ttlMs })
      this.#unknown = new LRUCache({
        max: options.maxUnknown ?? 1000,
        ttl: Math.min(options.ttlMs, UNKNOWN_TTL_MS),
      })
    }
  }

  /** The usable client `clientId` names, or undefined. */
  get(clientId: string): Promise<ActiveClient | undefined> {
    let previous: ActiveClient | undefined
    if (this.#active) {
      // a stale entry is kept until its reload: if the client did not change, the reload reuses it
      const status: LRUCache.Status<string, ActiveClient> = {}
      previous = this.#active.get(clientId, { allowStale: true, noDeleteOnStaleGet: true, status })
      if (this.trusted) {
        if (previous && status.get === 'hit') return Promise.resolve(previous)
        if (!previous && this.#unknown?.has(clientId)) return Promise.resolve(undefined)
      }
    }
    const joined = this.#inFlight.get(clientId)
    if (joined) return joined
    const pending: Promise<ActiveClient | undefined> = this.#fetch(clientId, previous).finally(
      () => {
        // an invalidation may have replaced it with a newer read meanwhile
        if (this.#inFlight.get(clientId) === pending) this.#inFlight.delete(clientId)
      },
    )
    this.#inFlight.set(clientId, pending)
    return pending
  }

  async #fetch(
    clientId: string,
    previous: ActiveClient | undefined,
  ): Promise<ActiveClient | undefined> {
    const epoch = this.#epoch
    const record = await this.#load(clientId)
    // any status but active is unusable: disabled, awaiting approval, and whatever comes next
    const active = record?.status === 'active' ? view(record, previous) : undefined
    if (epoch === this.#epoch && this.trusted) {
      if (active) this.#active?.set(clientId, active)
      else {
        this.#active?.delete(clientId)
        this.#unknown?.set(clientId, true)
      }
    }
    return active
  }

  /** Drops `clientId`, or everything when omitted. */
  invalidate(clientId?: string): void {
    this.#epoch++
    if (clientId === undefined) {
      this.#active?.clear()
      this.#unknown?.clear()
      this.#inFlight.clear()
      return
    }
    this.#active?.delete(clientId)
    this.#unknown?.delete(clientId)
    // later lookups must not join a read that may predate the change
    this.#inFlight.delete(clientId)
  }
}

/**
 * The cache entry for a record just read: the previous one when the record did not change (a TTL
 * refresh of an unchanged client copies and freezes nothing), a new one otherwise. Every write
 * bumps `version` (the store's compare-and-swap), and a recorded use changes `lastUsedAt`.
 */
function view(record: ClientRecord, previous: ActiveClient | undefined): ActiveClient {
  const before = previous?.record
  if (
    previous &&
    before?.version === record.version &&
    before.updatedAt === record.updatedAt &&
    before.status === record.status &&
    before.lastUsedAt === record.lastUsedAt
  ) {
    return previous
  }
  return { record, client: registeredClient(record) }
}
