import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { RegistrationError } from '../../src/core/errors.js'
import type { Store } from '../../src/core/store.js'
import { MIGRATIONS } from '../../src/storage/migrations.js'
import { openStore } from '../../src/storage/open-store.js'
import { serviceSuite } from '../service-suite.js'
import { admin, createTestDatabase, postgresTarget, type TestDatabase } from './postgres-helper.js'
import { client, token } from './store.contract.js'
import { TcpProxy } from './tcp-proxy.js'

const target = await postgresTarget()

/** Asserts that `promise` rejects with the store-unavailable 503, and within `withinMs`. */
async function assertUnavailable(promise: Promise<unknown>, withinMs: number): Promise<void> {
  const started = performance.now()
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof RegistrationError, `expected a RegistrationError, got ${err}`)
    assert.equal(err.error, 'temporarily_unavailable')
    assert.equal(err.status, 503)
    assert.deepEqual(err.toJSON(), {
      error: 'temporarily_unavailable',
      error_description: 'the client store is unavailable',
    })
    return true
  })
  const elapsed = performance.now() - started
  assert.ok(elapsed < withinMs, `took ${Math.round(elapsed)} ms, expected < ${withinMs} ms`)
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

serviceSuite('PostgreSQL store', target.skip, () => {
  let db: TestDatabase
  before(async () => {
    target.assertAvailable()
    db = await createTestDatabase(target.url as string)
  })
  after(async () => {
    await db?.drop()
  })

  it('8 stores opening together on a fresh database all succeed; each migration is applied once', async () => {
    const fresh = await createTestDatabase(target.url as string)
    try {
      const stores = await Promise.all(Array.from({ length: 8 }, () => openStore(fresh.url)))
      await stores[0]?.createClient(client('after-migration'))
      for (const s of stores) assert.ok(await s.findClient('after-migration'))
      const { rows } = await admin(
        fresh.url,
        'SELECT id, applied_at FROM registrar_migrations ORDER BY id',
      )
      assert.deepEqual(
        rows.map((r) => r.id),
        MIGRATIONS.map((m) => m.id),
      )
      await Promise.all(stores.map((s) => s.close()))
      // opening again applies nothing: the recorded times stay
      await (await openStore(fresh.url)).close()
      const again = await admin(
        fresh.url,
        'SELECT id, applied_at FROM registrar_migrations ORDER BY id',
      )
      assert.deepEqual(again.rows, rows)
    } finally {
      await fresh.drop()
    }
  })

  it('ids sort bytewise whatever the database locale (COLLATE "C")', async () => {
    await (await openStore(db.url)).close()
    const collation = await admin(
      db.url,
      `SELECT table_name, collation_name FROM information_schema.columns
       WHERE (table_name, column_name) IN (('clients', 'client_id'), ('initial_access_tokens', 'id'))
       ORDER BY table_name`,
    )
    assert.deepEqual(
      collation.rows.map((r) => r.collation_name),
      ['C', 'C'],
    )
  })

  it('opening a store on a port where nothing listens rejects at once, naming the cause', async () => {
    const port = await closedPort()
    const started = performance.now()
    await assert.rejects(openStore(`postgres://postgres@127.0.0.1:${port}/registrar`), {
      message: /^cannot open the PostgreSQL store: .*ECONNREFUSED/,
    })
    assert.ok(performance.now() - started < 2000)
  })

  it('errors about the statement itself pass through: a duplicate client_id is no 503', async () => {
    const store = await openStore(db.url)
    try {
      await store.createClient(client('dup'))
      await assert.rejects(store.createClient(client('dup')), (err: unknown) => {
        assert.ok(!(err instanceof RegistrationError))
        assert.equal((err as { code?: string }).code, '23505')
        return true
      })
    } finally {
      await store.close()
    }
  })

  describe('outages, staged with a TCP proxy in front of the server', () => {
    let proxy: TcpProxy
    let store: Store
    const timeouts = { poolSize: 4, connectTimeoutMs: 400, statementTimeoutMs: 300 }

    before(async () => {
      const upstream = new URL(target.url as string)
      proxy = new TcpProxy({ host: upstream.hostname, port: Number(upstream.port || 5432) })
      await proxy.start()
      const url = new URL(db.url)
      url.host = `127.0.0.1:${proxy.port}`
      store = await openStore(url.toString(), { postgres: timeouts })
    })
    after(async () => {
      await store?.close()
      await proxy?.stop()
    })

    it('database gone: every operation answers 503 at once, ping() rejects; back: it recovers by itself', async () => {
      await store.ping()
      await proxy.stop() // resets the pooled connections: pg reports them on idle clients
      await assertUnavailable(store.ping(), 1000)
      await assertUnavailable(store.createClient(client('during-outage')), 1000)
      await assertUnavailable(store.findClient('x'), 1000)
      await assertUnavailable(store.findInitialAccessToken('x'), 1000)
      await proxy.start()
      await store.ping()
      assert.equal(await store.createClient(client('after-outage')), true)
      assert.ok(await store.findClient('after-outage'))
      assert.equal(await store.findClient('during-outage'), undefined)
    })

    it('database host silent (connections hang): 503 after connectTimeoutMs, not a hang', async () => {
      await proxy.stop()
      proxy.mode = 'blackhole'
      await proxy.start()
      try {
        await assertUnavailable(store.ping(), timeouts.connectTimeoutMs + 800)
        await assertUnavailable(store.findClient('x'), timeouts.connectTimeoutMs + 800)
      } finally {
        await proxy.stop()
        proxy.mode = 'forward'
        await proxy.start()
      }
      await store.ping()
    })

    it('network frozen mid-query: 503 after the query timeout, and pooled connections recover', async () => {
      await Promise.all([store.ping(), store.ping(), store.ping()]) // warm connections
      proxy.mode = 'freeze'
      try {
        // statement_timeout cannot fire: the server never sees the query; query_timeout does
        await assertUnavailable(store.findClient('x'), timeouts.statementTimeoutMs + 1000 + 800)
      } finally {
        proxy.mode = 'forward'
      }
      // connections that timed out are discarded, not reused half-way through a reply
      for (let i = 0; i < 8; i++) await store.ping()
      assert.equal(await store.findClient('x'), undefined)
    })
  })

  it('a statement blocked past statementTimeoutMs answers 503 (statement_timeout), then works again', async () => {
    const store = await openStore(db.url, {
      postgres: { poolSize: 2, connectTimeoutMs: 2000, statementTimeoutMs: 300 },
    })
    const locker = new pg.Client({ connectionString: db.url })
    await locker.connect()
    try {
      await store.createInitialAccessToken(token('locked'))
      await locker.query('BEGIN')
      await locker.query("SELECT * FROM initial_access_tokens WHERE id = 'locked' FOR UPDATE")
      const using = { initialAccessToken: { tokenHash: 'iat-hash-locked', now: 1 } }
      await assertUnavailable(store.createClient(client('c-locked'), using), 1500)
      await locker.query('ROLLBACK')
      assert.equal(await store.createClient(client('c-locked'), using), true)
      assert.equal((await store.findInitialAccessToken('iat-hash-locked'))?.uses, 1)
    } finally {
      await locker.end()
      await store.close()
    }
  })

  describe('client changes across instances (LISTEN/NOTIFY, issue 10 item 1)', () => {
    /** Events a store reports, with the time each arrived. */
    const watch = async (store: Store) => {
      const events: { event: string; at: number }[] = []
      const stop = await (store.watchClientChanges as NonNullable<Store['watchClientChanges']>)(
        (e) => {
          events.push({ event: e.type === 'changed' ? e.clientId : e.type, at: performance.now() })
        },
      )
      return { events, stop }
    }
    const until = async (check: () => boolean, ms: number) => {
      const deadline = performance.now() + ms
      while (!check() && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      return check()
    }

    it('a create, update and delete through one instance reach another within one second; a recorded use does not', async () => {
      const [a, b] = [await openStore(db.url), await openStore(db.url)]
      const seen = await watch(b)
      try {
        const t0 = performance.now()
        await a.createClient(client('x-instance'))
        assert.ok(await until(() => seen.events.some((e) => e.event === 'x-instance'), 1000))
        assert.ok((seen.events[0]?.at ?? Infinity) - t0 < 1000)
        seen.events.length = 0
        await a.recordClientUse('x-instance', 1_700_000_000, 60)
        await new Promise((resolve) => setTimeout(resolve, 300))
        assert.deepEqual(seen.events, [], 'last_used_at alone is no change a cache cares about')
        await a.replaceClient(client('x-instance', { version: 2 }), 1)
        assert.ok(await until(() => seen.events.length === 1, 1000))
        await a.deleteClient('x-instance')
        assert.ok(await until(() => seen.events.length === 2, 1000))
      } finally {
        await seen.stop()
        await Promise.all([a.close(), b.close()])
      }
    })

    it('a write by hand in SQL (the admin CLI of another process) is reported too: the trigger notifies', async () => {
      const store = await openStore(db.url)
      const seen = await watch(store)
      try {
        await store.createClient(client('by-hand'))
        seen.events.length = 0
        await admin(db.url, "UPDATE clients SET status = 'disabled' WHERE client_id = 'by-hand'")
        assert.ok(await until(() => seen.events.some((e) => e.event === 'by-hand'), 1000))
      } finally {
        await seen.stop()
        await store.close()
      }
    })

    it('the LISTEN connection killed: listeners get lost, then resumed, and changes flow again', async () => {
      const [a, b] = [await openStore(db.url), await openStore(db.url)]
      const seen = await watch(b)
      try {
        await admin(
          db.url,
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE datname = current_database() AND application_name = 'registrar-listen'`,
        )
        assert.ok(await until(() => seen.events.some((e) => e.event === 'lost'), 2000))
        assert.ok(await until(() => seen.events.some((e) => e.event === 'resumed'), 5000))
        await a.createClient(client('after-resume'))
        assert.ok(await until(() => seen.events.some((e) => e.event === 'after-resume'), 1000))
      } finally {
        await seen.stop()
        await Promise.all([a.close(), b.close()])
      }
    })
  })
})
