import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { resolveConfig } from '../../src/config/resolve.js'
import { openStore } from '../../src/storage/open-store.js'
import { type ServerProcess, startServer, tempDir } from '../helpers.js'
import { serviceSuite } from '../service-suite.js'
import {
  createTestDatabase,
  postgresTarget,
  type TestDatabase,
} from '../storage/postgres-helper.js'
import { assertStoreConsistent, registrationRequest, request } from './support.js'

const target = await postgresTarget()
const WORKERS = 8
const KILL_AFTER = 80

interface Received {
  n: number
  // biome-ignore lint/suspicious/noExplicitAny: a 201 body, checked field by field
  body: any
}

/**
 * Registers continuously with WORKERS concurrent requests and SIGKILLs the server once KILL_AFTER
 * 201s have arrived, while the other requests are in flight. Resolves with every 201 received.
 */
async function registerUntilKilled(
  server: ServerProcess,
): Promise<{ received: Received[]; inFlightAtKill: number }> {
  const received: Received[] = []
  let next = 0
  let inFlight = 0
  let inFlightAtKill = -1
  const worker = async () => {
    for (;;) {
      if (inFlightAtKill >= 0) return
      const n = next++
      inFlight++
      try {
        const r = await request(server.url, 'POST', '/register', {
          body: registrationRequest(n),
          timeoutMs: 10_000,
        })
        // a 201 that made it out before the kill counts: the registration was committed first
        if (r.status === 201) received.push({ n, body: r.body })
        else assert.fail(`unexpected ${r.status} ${JSON.stringify(r.body)}`)
      } catch (err) {
        if (inFlightAtKill >= 0) return // the server is gone: connection reset or refused
        throw err
      } finally {
        inFlight--
      }
      if (inFlightAtKill < 0 && received.length >= KILL_AFTER) {
        inFlightAtKill = inFlight
        server.proc.kill('SIGKILL')
      }
    }
  }
  await Promise.all(Array.from({ length: WORKERS }, worker))
  assert.equal(await server.stop(), null) // killed by the signal, no exit code
  return { received, inFlightAtKill }
}

/** After the restart: every 201 is readable with its registration access token, as sent. */
async function assertAllReadable(server: ServerProcess, received: Received[]): Promise<void> {
  for (const { n, body } of received) {
    const r = await request(server.url, 'GET', `/register/${body.client_id}`, {
      token: body.registration_access_token,
    })
    assert.equal(r.status, 200, `client ${n} (${body.client_id}) lost: ${JSON.stringify(r.body)}`)
    const sent = registrationRequest(n)
    for (const [k, v] of Object.entries(sent)) assert.deepEqual(r.body[k], v, `client ${n}.${k}`)
    assert.equal(r.body.client_id_issued_at, body.client_id_issued_at)
  }
}

async function crashAndRecover(store: string, report: (message: string) => void): Promise<void> {
  const args = ['--store', store, '--registration', 'open']
  const first = await startServer(args)
  const { received, inFlightAtKill } = await registerUntilKilled(first)
  assert.ok(received.length >= KILL_AFTER)
  assert.ok(inFlightAtKill > 0, 'the kill should land while registrations are in flight')

  const second = await startServer(args)
  try {
    await assertAllReadable(second, received)
    const config = resolveConfig({ flags: { registration: 'open' }, file: { issuer: second.url } })
    const s = await openStore(store)
    try {
      const all = await assertStoreConsistent(s, config)
      const stored = new Set(all.map((c) => c.client_id))
      for (const { body } of received) assert.ok(stored.has(body.client_id))
      // a registration committed just before the kill may have lost only its response
      assert.ok(all.length >= received.length && all.length <= received.length + WORKERS)
      report(
        `${received.length} registrations acknowledged, ${inFlightAtKill} in flight at the kill, ${all.length} stored`,
      )
    } finally {
      await s.close()
    }
    // and the restarted server takes registrations again
    const r = await request(second.url, 'POST', '/register', { body: registrationRequest(-1) })
    assert.equal(r.status, 201)
  } finally {
    await second.stop()
  }
}

describe('kill -9 during registrations: nothing acknowledged is lost', () => {
  it('SQLite: every 201 survives, the file is intact', async (t) => {
    const dir = tempDir('registrar-crash-')
    try {
      const path = join(dir.dir, 'registrar.db')
      await crashAndRecover(`sqlite:${path}`, (m) => t.diagnostic(m))
      const db = new Database(path, { readonly: true })
      try {
        assert.equal(db.pragma('integrity_check', { simple: true }), 'ok')
      } finally {
        db.close()
      }
    } finally {
      dir.cleanup()
    }
  })

  serviceSuite('PostgreSQL', target.skip, () => {
    let db: TestDatabase
    before(async () => {
      target.assertAvailable()
      db = await createTestDatabase(target.url as string)
    })
    after(async () => {
      await db?.drop()
    })

    it('PostgreSQL: every 201 survives', async (t) => {
      await crashAndRecover(db.url, (m) => t.diagnostic(m))
    })
  })
})
