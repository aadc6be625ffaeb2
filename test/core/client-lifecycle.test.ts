import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { composeRegistrar } from '../../src/app.js'
import { resolveConfig } from '../../src/config/resolve.js'
import type { RegistrarConfigInput } from '../../src/config/schema.js'
import { ClientLifecycle, type IdleClient, SWEEP_LOCK } from '../../src/core/client-lifecycle.js'
import type { ClientRecord, Store } from '../../src/core/store.js'
import { MemoryStore } from '../../src/storage/memory.js'
import { openStore } from '../../src/storage/open-store.js'
import { serviceSuite } from '../service-suite.js'
import {
  createTestDatabase,
  postgresTarget,
  type TestDatabase,
} from '../storage/postgres-helper.js'
import { client } from '../storage/store.contract.js'

const DAY = 86_400
const NOW = 1_900_000_000
const ISSUER = 'https://as.example.com'

function config(file: RegistrarConfigInput = {}) {
  return { ...resolveConfig({ file: { issuer: ISSUER, ...file } }), issuer: ISSUER }
}

/** A client last changed `daysAgo` days before NOW (and, if given, used `usedDaysAgo` days before). */
async function seed(
  store: Store,
  id: string,
  daysAgo: number,
  over: Partial<ClientRecord> = {},
  usedDaysAgo?: number,
): Promise<void> {
  const at = NOW - daysAgo * DAY
  await store.createClient(
    client(id, {
      client_id_issued_at: at,
      updatedAt: at,
      metadata: { ...client(id).metadata, client_name: `name of ${id}` },
      ...over,
    }),
  )
  if (usedDaysAgo !== undefined) await store.recordClientUse(id, NOW - usedDaysAgo * DAY, 0)
}

const ids = (clients: readonly IdleClient[]) => clients.map((c) => c.client_id).sort()

const MCP_CONFIG: RegistrarConfigInput = {
  lifecycle: { expireUnusedAfter: 90 * DAY, sweepBatchSize: 2 },
  policies: {
    definitions: {
      mcp: { expireUnusedAfter: 30 * DAY },
      partners: { expireUnusedAfter: 0 },
      plain: {},
    },
  },
}

describe('ClientLifecycle: idle expiry (issue 13 item 1, R7591-5-d)', () => {
  let store: MemoryStore
  before(async () => {
    store = new MemoryStore()
  })

  async function fixture(): Promise<MemoryStore> {
    const s = new MemoryStore()
    await seed(s, 'mcp-never-used-40d', 40, { policy: 'mcp' })
    await seed(s, 'mcp-used-35d', 60, { policy: 'mcp' }, 35)
    await seed(s, 'mcp-used-10d', 60, { policy: 'mcp' }, 10)
    await seed(s, 'mcp-registered-20d', 20, { policy: 'mcp' })
    await seed(s, 'mcp-pending-40d', 40, { policy: 'mcp', status: 'pending' })
    await seed(s, 'mcp-disabled-40d', 40, { policy: 'mcp', status: 'disabled' })
    await seed(s, 'partners-400d', 400, { policy: 'partners' })
    await seed(s, 'plain-100d', 100, { policy: 'plain' })
    await seed(s, 'plain-60d', 60, { policy: 'plain' })
    await seed(s, 'none-100d', 100)
    await seed(s, 'none-40d', 40)
    await seed(s, 'gone-policy-100d', 100, { policy: 'removed-from-config' })
    return s
  }

  const EXPECTED = [
    'gone-policy-100d',
    'mcp-never-used-40d',
    'mcp-used-35d',
    'none-100d',
    'plain-100d',
  ]

  it("deletes only idle active clients, each by its policy's expireUnusedAfter (else lifecycle's)", async () => {
    const s = await fixture()
    const lifecycle = new ClientLifecycle({
      config: config(MCP_CONFIG),
      store: s,
      clock: () => NOW,
    })
    const expired: IdleClient[] = []
    lifecycle.on('client.expired', (e) => expired.push(e))
    const result = await lifecycle.sweep()
    assert.equal(result.ran, true)
    assert.equal(result.dryRun, false)
    assert.deepEqual(ids(result.clients), EXPECTED)
    assert.deepEqual(ids(expired), EXPECTED)
    for (const id of EXPECTED) assert.equal(await s.findClient(id), undefined, id)
    assert.equal(await s.countClients(), 12 - EXPECTED.length)
    const used = expired.find((e) => e.client_id === 'mcp-used-35d')
    assert.equal(used?.last_used_at, NOW - 35 * DAY)
    assert.equal(used?.expire_unused_after, 30 * DAY)
    assert.equal(used?.policy, 'mcp')
    assert.equal(used?.client_name, 'name of mcp-used-35d')
    // the sweep is idempotent: nothing left to do
    assert.deepEqual((await lifecycle.sweep()).clients, [])
  })

  it('--dry-run: lists the same clients and deletes nothing', async () => {
    const s = await fixture()
    const lifecycle = new ClientLifecycle({
      config: config(MCP_CONFIG),
      store: s,
      clock: () => NOW,
    })
    let events = 0
    lifecycle.on('client.expired', () => events++)
    const result = await lifecycle.sweep({ dryRun: true })
    assert.equal(result.dryRun, true)
    assert.deepEqual(ids(result.clients), EXPECTED)
    assert.equal(events, 0)
    assert.equal(await s.countClients(), 12)
  })

  it('off by default: nothing expires, and no sweeper is needed', async () => {
    const s = await fixture()
    const lifecycle = new ClientLifecycle({ config: config(), store: s, clock: () => NOW })
    assert.equal(lifecycle.enabled, false)
    assert.deepEqual((await lifecycle.sweep()).clients, [])
    assert.equal(await s.countClients(), 12)
  })

  it('listIdle(): candidates idle for a given time whatever the policy (clients list --idle)', async () => {
    const s = await fixture()
    const lifecycle = new ClientLifecycle({ config: config(), store: s, clock: () => NOW })
    const idle = await lifecycle.listIdle({ idleFor: 90 * DAY, limit: 100 })
    assert.deepEqual(ids(idle), ['gone-policy-100d', 'none-100d', 'partners-400d', 'plain-100d'])
    const page = await lifecycle.listIdle({ idleFor: 90 * DAY, limit: 2, after: 'none-100d' })
    assert.deepEqual(ids(page), ['partners-400d', 'plain-100d'])
  })

  it('a sweep already running in this process turns the next one away', async () => {
    const lifecycle = new ClientLifecycle({ config: config(MCP_CONFIG), store, clock: () => NOW })
    let release = () => {}
    const held = store.runExclusive(SWEEP_LOCK, () => new Promise<void>((r) => (release = r)))
    const turnedAway = await lifecycle.sweep()
    assert.deepEqual(turnedAway, { ran: false, dryRun: false, clients: [] })
    // a dry run deletes nothing and needs no lock
    assert.equal((await lifecycle.sweep({ dryRun: true })).ran, true)
    release()
    await held
    assert.equal((await lifecycle.sweep()).ran, true)
  })
})

describe('the sweeper of a long-running server: audit entries, events, metrics', () => {
  it('at start and every sweepInterval, deletes idle clients with an `expired` audit entry (actor system) and a metric each', async () => {
    const store = new MemoryStore()
    await seed(store, 'idle', 40, { policy: 'mcp' })
    await seed(store, 'fresh', 1, { policy: 'mcp' })
    const cfg = config({
      ...MCP_CONFIG,
      metrics: { enabled: true },
    })
    const app = composeRegistrar(cfg, store, { clock: () => NOW, maintenance: true })
    // the first sweep runs at start; close() stops the timer and waits for it
    await app.close()
    {
      assert.equal(await store.findClient('idle'), undefined)
      assert.ok(await store.findClient('fresh'))
      const entries = await store.listAuditEntries({ clientId: 'idle', limit: 10 })
      assert.equal(entries.length, 1)
      const entry = entries[0]
      assert.equal(entry?.event, 'expired')
      assert.deepEqual(entry?.actor, { type: 'system', id: 'idle-expiry' })
      assert.equal(entry?.at, NOW)
      assert.deepEqual(entry?.details, {
        expire_unused_after: 30 * DAY,
        last_used_at: null,
        policy: 'mcp',
      })
      assert.deepEqual(entry?.changes?.client_name, { before: 'name of idle' })
      // never a credential in the entry
      assert.equal(JSON.stringify(entry).includes('rat-hash'), false)
      const text = await app.operations.metrics?.registry.metrics()
      assert.match(text ?? '', /registrar_clients_expired_total\{policy="mcp"\} 1/)
    }
  })

  it('an approval counts as activity: a client pending for 40 days and approved today is not swept', async () => {
    const store = new MemoryStore()
    await seed(store, 'approved-today', 40, { policy: 'mcp', status: 'pending' })
    const app = composeRegistrar(config({ ...MCP_CONFIG, admin: { enabled: true } }), store, {
      clock: () => NOW,
    })
    try {
      await app.operations.admin?.changeStatus('approve', 'approved-today', { type: 'operator' })
      assert.equal((await store.findClient('approved-today'))?.status, 'active')
      assert.deepEqual((await app.operations.lifecycle.sweep()).clients, [])
    } finally {
      await app.close()
    }
  })

  it('lifecycle.sweepInterval is bounded (a Node timer beyond 2^31 ms would fire at once)', () => {
    assert.throws(() => config({ lifecycle: { sweepInterval: 30 * DAY } }), /at most 2000000/)
    assert.equal(
      config({ lifecycle: { sweepInterval: 20 * DAY } }).lifecycle.sweepInterval,
      20 * DAY,
    )
  })

  it('without maintenance (one-shot commands, embedders) no sweep runs', async () => {
    const store = new MemoryStore()
    await seed(store, 'idle', 40, { policy: 'mcp' })
    const app = composeRegistrar(config(MCP_CONFIG), store, { clock: () => NOW })
    await app.close()
    assert.ok(await store.findClient('idle'))
    // but the lifecycle is there to run one by hand
    assert.deepEqual(ids((await app.operations.lifecycle.sweep()).clients), ['idle'])
  })
})

const target = await postgresTarget()

serviceSuite('ClientLifecycle on PostgreSQL: one sweeper across instances', target.skip, () => {
  let db: TestDatabase
  const stores: Store[] = []
  before(async () => {
    target.assertAvailable()
    db = await createTestDatabase(target.url as string)
  })
  after(async () => {
    await Promise.all(stores.map((s) => s.close()))
    await db?.drop()
  })

  it('two sweepers on one database at once: one sweeps (advisory lock), the other is turned away; every idle client is deleted once', async () => {
    const a = await openStore(db.url)
    const b = await openStore(db.url)
    stores.push(a, b)
    for (let i = 0; i < 25; i++)
      await seed(a, `pg-idle-${String(i).padStart(2, '0')}`, 40, { policy: 'mcp' })
    await seed(a, 'pg-fresh', 1, { policy: 'mcp' })
    const cfg = config({ ...MCP_CONFIG, lifecycle: { sweepBatchSize: 5 } })
    const first = new ClientLifecycle({ config: cfg, store: a, clock: () => NOW })
    const second = new ClientLifecycle({ config: cfg, store: b, clock: () => NOW })
    const expired: string[] = []
    for (const l of [first, second]) l.on('client.expired', (e) => expired.push(e.client_id))
    // the second starts while the first holds the lock: hold it open until the second has tried
    let release = () => {}
    const gate = new Promise<void>((r) => (release = r))
    const holding = a.runExclusive(SWEEP_LOCK, async () => {
      const turnedAway = await second.sweep()
      release()
      return turnedAway
    })
    await gate
    const turnedAway = await holding
    assert.equal(turnedAway.ran, true)
    assert.deepEqual(turnedAway.value, { ran: false, dryRun: false, clients: [] })
    // now both at once: exactly one runs, unless the first finished before the second asked
    const [r1, r2] = await Promise.all([first.sweep(), second.sweep()])
    const ran = [r1, r2].filter((r) => r.ran && r.clients.length > 0)
    assert.equal(ran.length, 1)
    assert.equal(expired.length, 25)
    assert.equal(new Set(expired).size, 25)
    assert.equal(await a.countClients(), 1)
  })
})
