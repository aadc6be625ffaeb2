import type { EventEmitter } from 'node:events'
import type * as PromClient from 'prom-client'
import { requireOptional } from '../config/optional-dependency.js'
import type { ClientLifecycleEvents } from '../core/client-lifecycle.js'
import { type OutboundFetch, OutboundFetchError } from '../core/outbound-fetch.js'
import type { RegistrationEvents } from '../core/registration.js'
import type { ClientCount, Store } from '../core/store.js'
import type { RateLimiter } from '../http/rate-limit.js'

/** Options of {@link RegistrarMetrics}. */
export interface RegistrarMetricsOptions {
  /**
   * How long the clients-by-status-and-source gauge reuses its last count, in ms: each count is a
   * grouped scan of the clients table, and Prometheus may scrape every few seconds.
   */
  clientCountTtlMs?: number
  /** Node.js process metrics (CPU, memory, event loop lag, GC) too; default true. */
  processMetrics?: boolean
}

/**
 * prom-client, loaded on first use: it loads node:http and node:https (for its Pushgateway), which
 * importing `registrar` must not (metrics are off by default). It is CommonJS, so the load stays
 * synchronous, as the composition root is.
 */
let prom: typeof PromClient | undefined
function promClient(): typeof PromClient {
  prom ??= requireOptional<typeof PromClient>(
    'prom-client',
    'metrics.enabled',
    'metrics.enabled: true',
  )
  return prom
}

/** Buckets of the store latency histogram, in seconds: 0.5 ms to 5 s. */
const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

/**
 * Registrar's Prometheus metrics (issue 13 item 3), in a registry of their own (never prom-client's
 * global one, so two apps in one process do not mix): registrations by outcome and error code,
 * client management requests, policy decisions by rule, rate-limit refusals, client
 * authentications by method and outcome, outbound fetches by outcome, store latency, and clients
 * by status and source. Labels take values from small fixed sets (error codes, rule names, method
 * names), never a client_id or a URL.
 */
export class RegistrarMetrics {
  readonly registry: PromClient.Registry
  readonly #registrations: PromClient.Counter<'outcome' | 'error'>
  readonly #management: PromClient.Counter<'operation' | 'outcome' | 'error'>
  readonly #policy: PromClient.Counter<'policy' | 'rule' | 'decision'>
  readonly #rateLimited: PromClient.Counter<'limit'>
  readonly #authentications: PromClient.Counter<'method' | 'outcome' | 'reason'>
  readonly #fetches: PromClient.Counter<'outcome'>
  readonly #storeLatency: PromClient.Histogram<'operation' | 'outcome'>
  readonly #expired: PromClient.Counter<'policy'>
  readonly #auditDropped: PromClient.Counter<'event'>
  #store: Store | undefined
  #counted: { at: number; counts: Promise<ClientCount[]> } | undefined

  constructor(options: RegistrarMetricsOptions = {}) {
    const P = promClient()
    this.registry = new P.Registry()
    const registers = [this.registry]
    const ttl = options.clientCountTtlMs ?? 15_000
    this.#registrations = new P.Counter({
      name: 'registrar_registrations_total',
      help: 'RFC 7591 registration requests, by outcome (created, refused) and error code',
      labelNames: ['outcome', 'error'],
      registers,
    })
    this.#management = new P.Counter({
      name: 'registrar_client_management_requests_total',
      help: 'RFC 7592 read, update and delete requests, by outcome (ok, refused) and error code',
      labelNames: ['operation', 'outcome', 'error'],
      registers,
    })
    this.#policy = new P.Counter({
      name: 'registrar_policy_decisions_total',
      help: 'Registration policy decisions (accepted, pending, adjusted, refused) by policy and rule',
      labelNames: ['policy', 'rule', 'decision'],
      registers,
    })
    this.#rateLimited = new P.Counter({
      name: 'registrar_rate_limited_total',
      help: 'Requests refused by a rate limit (429)',
      labelNames: ['limit'],
      registers,
    })
    this.#authentications = new P.Counter({
      name: 'registrar_client_authentications_total',
      help: 'Client authentications at the AS (token, introspection, revocation), by method and outcome',
      labelNames: ['method', 'outcome', 'reason'],
      registers,
    })
    this.#fetches = new P.Counter({
      name: 'registrar_outbound_fetches_total',
      help: 'Outbound fetches (jwks_uri, sector_identifier_uri, issuer keys) by outcome',
      labelNames: ['outcome'],
      registers,
    })
    this.#storeLatency = new P.Histogram({
      name: 'registrar_store_operation_duration_seconds',
      help: 'Latency of store operations, by operation and outcome (ok, error)',
      labelNames: ['operation', 'outcome'],
      buckets: STORE_BUCKETS,
      registers,
    })
    this.#expired = new P.Counter({
      name: 'registrar_clients_expired_total',
      help: 'Clients deleted by the idle-expiry sweep (lifecycle.expireUnusedAfter), by policy',
      labelNames: ['policy'],
      registers,
    })
    this.#auditDropped = new P.Counter({
      name: 'registrar_audit_entries_dropped_total',
      help: 'Audit entries of unauthenticated traffic left out once the per-window budget was spent, by event',
      labelNames: ['event'],
      registers,
    })
    const self = this
    // registered with the registry, which calls its collect() at every scrape
    new P.Gauge({
      name: 'registrar_clients',
      help: 'Registered clients by status (active, pending, disabled) and source',
      labelNames: ['status', 'source'],
      registers,
      async collect() {
        const store = self.#store
        if (!store) return
        const now = Date.now()
        if (!self.#counted || now - self.#counted.at >= ttl) {
          const counts = store.countClientsByStatusAndSource()
          self.#counted = { at: now, counts }
          // a failed count is not cached: the next scrape tries again
          counts.catch(() => {
            if (self.#counted?.counts === counts) self.#counted = undefined
          })
        }
        let counts: ClientCount[]
        try {
          counts = await self.#counted.counts
        } catch {
          return // the store is down: no gauge this scrape; the latency histogram shows why
        }
        this.reset()
        for (const c of counts) this.set({ status: c.status, source: c.source }, c.count)
      },
    })
    if (options.processMetrics ?? true) P.collectDefaultMetrics({ register: this.registry })
  }

  /** Counts the registration events and policy decisions of a `Registrar`. */
  observeRegistrar(registrar: EventEmitter<RegistrationEvents>): void {
    registrar.on('registration.created', () => {
      this.#registrations.inc({ outcome: 'created', error: '' })
    })
    for (const [event, operation] of [
      ['registration.read', 'read'],
      ['registration.updated', 'update'],
      ['registration.deleted', 'delete'],
    ] as const) {
      registrar.on(event, () => this.#management.inc({ operation, outcome: 'ok', error: '' }))
    }
    registrar.on('registration.error', (e) => {
      if (e.operation === 'register')
        this.#registrations.inc({ outcome: 'refused', error: e.error })
      else this.#management.inc({ operation: e.operation, outcome: 'refused', error: e.error })
    })
    registrar.on('registration.policy', (d) => {
      this.#policy.inc({ policy: d.policy, rule: d.rule ?? '', decision: d.decision })
    })
  }

  /** Counts the clients the idle-expiry sweep deletes (`client.expired`), by policy. */
  observeLifecycle(lifecycle: EventEmitter<ClientLifecycleEvents>): void {
    lifecycle.on('client.expired', (e) => this.#expired.inc({ policy: e.policy ?? '' }))
  }

  /** Counts an audit entry the trail left out (its anonymous budget spent), by event. */
  auditEntryDropped(event: string): void {
    this.#auditDropped.inc({ event })
  }

  /**
   * Counts the AS side's client authentications, subscribed by event name:
   * `client.authenticated` and `client.authentication_failed` ({ method, reason }), and the
   * refusals of the failure limits (`client.authentication_throttled`, { scope }) in
   * `registrar_rate_limited_total{limit="client_authentication_client|address"}`.
   */
  observeClientAuthentication(emitter: EventEmitter): void {
    const label = (e: unknown, key: string) => {
      const v =
        typeof e === 'object' && e !== null ? (e as Record<string, unknown>)[key] : undefined
      return typeof v === 'string' && /^[a-z0-9_]{1,64}$/.test(v) ? v : 'unknown'
    }
    emitter.on('client.authenticated', (e: unknown) => {
      this.#authentications.inc({ method: label(e, 'method'), outcome: 'success', reason: '' })
    })
    emitter.on('client.authentication_failed', (e: unknown) => {
      this.#authentications.inc({
        method: label(e, 'method'),
        outcome: 'failure',
        reason: label(e, 'reason'),
      })
    })
    // refused by clientAuthentication.failureLimit (429) before the credentials were checked
    emitter.on('client.authentication_throttled', (e: unknown) => {
      this.#rateLimited.inc({ limit: `client_authentication_${label(e, 'scope')}` })
    })
  }

  /**
   * The store, timed: every method call lands in the latency histogram. The gauge of clients by
   * status and source counts through it as well.
   */
  instrumentStore<S extends Store>(store: S): S {
    const histogram = this.#storeLatency
    const timed = new Proxy(store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver)
        if (typeof value !== 'function' || typeof property !== 'string') return value
        // runExclusive lasts as long as the work it runs, which is not the store's latency
        if (property === 'close' || property === 'runExclusive') return value.bind(target)
        return (...args: unknown[]) => {
          const end = histogram.startTimer({ operation: property })
          let result: unknown
          try {
            result = value.apply(target, args)
          } catch (err) {
            end({ outcome: 'error' })
            throw err
          }
          if (!(result instanceof Promise)) {
            end({ outcome: 'ok' })
            return result
          }
          return result.then(
            (v) => {
              end({ outcome: 'ok' })
              return v
            },
            (err) => {
              end({ outcome: 'error' })
              throw err
            },
          )
        }
      },
    })
    this.#store = timed
    return timed
  }

  /** The outbound fetcher, counted by outcome. */
  instrumentFetch(fetch: OutboundFetch): OutboundFetch {
    return async (url, init) => {
      try {
        const response = await fetch(url, init)
        this.#fetches.inc({ outcome: response.ok ? 'response_2xx' : 'response_other' })
        return response
      } catch (err) {
        this.#fetches.inc({ outcome: fetchFailure(err) })
        throw err
      }
    }
  }

  /** A rate limiter whose refusals are counted. */
  instrumentRateLimiter(limiter: RateLimiter, limit = 'anonymous_registration'): RateLimiter {
    const counter = this.#rateLimited
    return {
      limit: limiter.limit,
      windowSeconds: limiter.windowSeconds,
      ...(limiter.ipv6Prefix !== undefined && { ipv6Prefix: limiter.ipv6Prefix }),
      async hit(key) {
        const result = await limiter.hit(key)
        if (!result.allowed) counter.inc({ limit })
        return result
      },
      peek: (key) => limiter.peek(key),
      close: () => limiter.close(),
    }
  }

  /** The exposition: Prometheus text format 0.0.4. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() }
  }
}

/** A small, fixed set of failure classes (the reasons themselves name hosts). */
function fetchFailure(err: unknown): string {
  if (!(err instanceof OutboundFetchError)) return 'error'
  const reason = err.reason
  if (/special-use|localhost|must use https|user information|absolute URL|redirects/.test(reason)) {
    return 'refused'
  }
  if (/did not answer within/.test(reason)) return 'timeout'
  if (/larger than/.test(reason)) return 'too_large'
  if (/does not resolve/.test(reason)) return 'dns'
  if (/TLS/.test(reason)) return 'tls'
  if (/connection (refused|reset)/.test(reason)) return 'connection'
  if (/not configured/.test(reason)) return 'not_configured'
  return 'error'
}
