import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { sha256 } from '../../src/core/crypto.js'
import { epochSeconds } from '../../src/shared/epoch.js'
import { openStore } from '../../src/storage/open-store.js'
import { startServer, tempDir } from '../helpers.js'
import { client } from '../storage/store.contract.js'

const DAY = 86_400

/**
 * Black box: `registrar serve` sweeps idle clients at start (issue 13 item 1). A client idle for
 * 40 days under a 30-day expiry is gone (its registration access token answers 401 over HTTP, RFC
 * 7592 §2), the others stay, and the audit trail records it as expired by the system.
 */
describe('registrar serve: the idle-expiry sweeper', () => {
  it('deletes an idle client at start; a pending one, a recently used one and a new registration stay', async () => {
    const scratch = tempDir('registrar-serve-sweep-')
    const path = join(scratch.dir, 'registrar.db')
    const now = epochSeconds()
    const seedStore = await openStore(`sqlite:${path}`)
    const old = { client_id_issued_at: now - 40 * DAY, updatedAt: now - 40 * DAY }
    for (const [id, over] of [
      ['idle', {}],
      ['pending', { status: 'pending' as const }],
      ['used', {}],
    ] as const) {
      await seedStore.createClient(
        client(id, { ...old, ...over, registrationAccessTokenHash: sha256(`rat-${id}`) }),
      )
    }
    await seedStore.recordClientUse('used', now - DAY, 0)
    await seedStore.close()

    const server = await startServer([], {
      config: {
        issuer: 'http://127.0.0.1:3000',
        store: `sqlite:${path}`,
        registration: { mode: 'open' },
        lifecycle: { expireUnusedAfter: 30 * DAY, sweepInterval: 3600 },
      },
    })
    try {
      const read = (id: string) =>
        fetch(`${server.url}/register/${id}`, { headers: { authorization: `Bearer rat-${id}` } })
      // the first sweep runs as the server starts; allow it a generous while under load
      const deadline = Date.now() + 15_000
      let status = (await read('idle')).status
      while (status !== 401 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100))
        status = (await read('idle')).status
      }
      assert.equal(status, 401)
      assert.equal((await read('used')).status, 200)
      const registered = await fetch(`${server.url}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: ['https://client.example.org/cb'] }),
      })
      assert.equal(registered.status, 201)
    } finally {
      assert.equal(await server.stop(), 0)
    }
    const after = await openStore(`sqlite:${path}`)
    try {
      assert.equal(await after.findClient('idle'), undefined)
      assert.equal((await after.findClient('pending'))?.status, 'pending')
      assert.ok(await after.findClient('used'))
      assert.equal(await after.countClients(), 3)
      const [entry] = await after.listAuditEntries({ clientId: 'idle', limit: 5 })
      assert.equal(entry?.event, 'expired')
      assert.deepEqual(entry?.actor, { type: 'system', id: 'idle-expiry' })
    } finally {
      await after.close()
      scratch.cleanup()
    }
  })
})
