import type { EventEmitter } from 'node:events'
import { AuditTrail } from './admin/audit.js'
import { adminKeys } from './admin/keys.js'
import { AdminService } from './admin/service.js'
import { listenAddress } from './config/resolve.js'
import type { RegistrarConfig } from './config/schema.js'
import { ClientLifecycle } from './core/client-lifecycle.js'
import type { Registrar } from './core/registration.js'
import type { Store } from './core/store.js'
import { createAdminRouter } from './http/admin/router.js'
import type { AccessLogger, RequestRouter } from './http/router.js'
import { createMetricsRouter } from './metrics/endpoint.js'
import { RegistrarMetrics } from './metrics/metrics.js'

/** A router that `registrar serve` runs on a listener of its own (`admin.listen`, `metrics.listen`). */
export interface OwnListener {
  name: 'admin' | 'metrics'
  host: string
  port: number
  router: RequestRouter
}

/** The operational surface of a running Registrar (issue 13): audit trail, metrics, admin. */
export interface Operations {
  metrics?: RegistrarMetrics
  audit?: AuditTrail
  admin?: AdminService
  /**
   * Idle expiry (`lifecycle.*`, a policy's `expireUnusedAfter`): its `client.expired` events feed
   * the audit trail and the metrics; with `maintenance`, a sweep runs every
   * `lifecycle.sweepInterval`.
   */
  lifecycle: ClientLifecycle
  /** Routers served on the public listener, in front of the public router. */
  routers: RequestRouter[]
  /** Routers with a listener of their own. */
  listeners: OwnListener[]
  /**
   * Feeds the AS side's `client.authenticated` / `client.authentication_failed` events to the
   * metrics and the audit trail's burst detector.
   */
  observeClientAuthentication(emitter: EventEmitter): void
  /** Stops the retention and sweep timers, waits for a running sweep and pending audit writes. */
  close(): Promise<void>
}

/** Hourly: the audit trail's retention purge. */
const PURGE_INTERVAL_MS = 3600_000

/**
 * The metrics of a configuration, if enabled: created before the domain, so that the store and
 * the outbound fetcher the domain gets are the instrumented ones.
 */
export function createMetrics(config: Readonly<RegistrarConfig>): RegistrarMetrics | undefined {
  return config.metrics.enabled ? new RegistrarMetrics() : undefined
}

/**
 * Attaches the audit trail (`audit.enabled`), the metrics (`metrics.enabled`) and the admin
 * surface (`admin.enabled`) to a Registrar. With `maintenance`, the audit retention purge runs at
 * start and then hourly (long-running servers; not one-shot commands).
 */
export function attachOperations(
  config: Readonly<RegistrarConfig>,
  parts: {
    registrar: Registrar
    store: Store
    metrics?: RegistrarMetrics
    logger?: AccessLogger
    clock?: () => number
    maintenance?: boolean
  },
): Operations {
  const { registrar, store, metrics, logger } = parts
  const basePath = new URL(registrar.issuer).pathname.replace(/\/+$/, '')
  const routers: RequestRouter[] = []
  const listeners: OwnListener[] = []
  let audit: AuditTrail | undefined
  let admin: AdminService | undefined
  let timer: NodeJS.Timeout | undefined
  let sweepTimer: NodeJS.Timeout | undefined
  let sweeping: Promise<void> | undefined
  const lifecycle = new ClientLifecycle({
    config,
    store,
    ...(parts.clock && { clock: parts.clock }),
  })

  metrics?.observeRegistrar(registrar)
  metrics?.observeLifecycle(lifecycle)
  if (metrics) {
    if (config.metrics.listen === undefined) routers.push(createMetricsRouter(metrics, basePath))
    else listeners.push(own('metrics', config.metrics.listen, createMetricsRouter(metrics)))
  }

  if (config.audit.enabled) {
    audit = new AuditTrail({
      store,
      ...(parts.clock && { clock: parts.clock }),
      recordReads: config.audit.recordReads,
      failureThreshold: config.audit.authenticationFailureThreshold,
      failureWindow: config.audit.authenticationFailureWindow,
      ...(metrics && { onDropped: (event) => metrics.auditEntryDropped(event) }),
      onError: (err, entry) =>
        logger?.warn(
          { err: (err as Error)?.message, event: entry.event, client_id: entry.client_id },
          'audit entry not written',
        ),
    })
    audit.observeRegistrar(registrar)
    audit.observeLifecycle(lifecycle)
    const { retentionDays } = config.audit
    if (parts.maintenance && retentionDays > 0) {
      const trail = audit
      const purge = () => {
        trail.purge(retentionDays).then(
          (purged) => {
            if (purged > 0) logger?.info({ purged, retentionDays }, 'audit entries purged')
          },
          (err) => logger?.warn({ err: (err as Error)?.message }, 'audit purge failed'),
        )
      }
      purge()
      timer = setInterval(purge, PURGE_INTERVAL_MS)
      timer.unref()
    }
  }

  if (parts.maintenance && lifecycle.enabled) {
    // one sweep at a time in this process; across instances the store's lock sees to it
    const sweep = () => {
      if (sweeping) return
      sweeping = lifecycle.sweep().then(
        (result) => {
          if (result.clients.length > 0) {
            logger?.info({ expired: result.clients.length }, 'idle clients expired')
          }
        },
        (err) => logger?.warn({ err: (err as Error)?.message }, 'idle-expiry sweep failed'),
      )
      sweeping.finally(() => {
        sweeping = undefined
      })
    }
    sweep()
    sweepTimer = setInterval(sweep, config.lifecycle.sweepInterval * 1000)
    sweepTimer.unref()
  }

  if (config.admin.enabled) {
    const keys = adminKeys(config.admin.secretKey)
    if (keys.ephemeral) {
      logger?.warn(
        {},
        'admin.secretKey is not set: console sessions and cursors are valid in this process only',
      )
    }
    admin = new AdminService({
      store,
      config,
      registrar,
      cursorKey: keys.cursor,
      ...(parts.clock && { clock: parts.clock }),
    })
    audit?.observeAdmin(admin)
    const router = createAdminRouter({
      service: admin,
      config,
      keys,
      basePath,
      ...(logger && { logger }),
      ...(parts.clock && { clock: parts.clock }),
    })
    if (config.admin.listen === undefined) routers.unshift(router)
    else listeners.push(own('admin', config.admin.listen, router))
  }

  return {
    ...(metrics && { metrics }),
    ...(audit && { audit }),
    ...(admin && { admin }),
    lifecycle,
    routers,
    listeners,
    observeClientAuthentication(emitter) {
      metrics?.observeClientAuthentication(emitter)
      audit?.observeClientAuthentication(emitter)
    },
    async close() {
      if (timer) clearInterval(timer)
      if (sweepTimer) clearInterval(sweepTimer)
      await sweeping
      await audit?.flush()
    },
  }
}

function own(name: OwnListener['name'], listen: string, router: RequestRouter): OwnListener {
  return { name, ...listenAddress(`${name}.listen`, listen), router }
}
