import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { ClientRecord } from '../../src/core/store.js'
import { MemoryStore } from '../../src/storage/memory.js'
import { SqliteStore } from '../../src/storage/sqlite.js'
import { call, tempDir } from '../helpers.js'
import { makeApp, register } from './support.js'

/** A memory store that counts reads, and can hold them back. */
class CountingStore extends MemoryStore {
  finds = 0
  gate: Promise<void> | undefined
  override async findClient(clientId: string): Promise<ClientRecord | undefined> {
    this.finds++
    const found = await super.findClient(clientId)
    if (this.gate) await this.gate
    return found
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('getClient (issue 10 item 1)', () => {
  it('returns the client as the AS needs it: metadata, client_id, issue and secret-expiry times; never a hash', async () => {
    const app = await makeApp()
    try {
      const info = await register(app, { client_name: 'Lookup', scope: 'openid' })
      const client = await app.getClient(info.client_id)
      assert.ok(client)
      assert.deepEqual(Object.keys(client).sort(), [
        'client_id',
        'client_id_issued_at',
        'client_secret_expires_at',
        'metadata',
        'source',
      ])
      assert.equal(client.client_id, info.client_id)
      assert.equal(client.client_id_issued_at, info.client_id_issued_at)
      assert.equal(client.client_secret_expires_at, 0)
      assert.equal(client.source, 'registration')
      assert.equal(client.metadata.client_name, 'Lookup')
      assert.deepEqual(client.metadata.redirect_uris, ['https://client.example.org/cb'])
      const record = (await app.store.findClient(info.client_id)) as ClientRecord
      const text = JSON.stringify(client)
      assert.ok(!text.includes(record.clientSecretHash as string))
      assert.ok(!text.includes(record.registrationAccessTokenHash))
      assert.ok(!text.includes(info.client_secret))
      assert.ok(!text.includes(info.registration_access_token))
    } finally {
      await app.close()
    }
  })

  it('the returned client is frozen: a caller cannot change what other callers see', async () => {
    const app = await makeApp()
    try {
      const { client_id } = await register(app)
      const client = await app.getClient(client_id)
      assert.ok(client)
      assert.throws(() => {
        ;(client.metadata.redirect_uris as string[]).push('https://evil.example/cb')
      }, TypeError)
      assert.throws(() => {
        ;(client as { client_id: string }).client_id = 'other'
      }, TypeError)
      assert.deepEqual((await app.getClient(client_id))?.metadata.redirect_uris, [
        'https://client.example.org/cb',
      ])
    } finally {
      await app.close()
    }
  })

  it('AS-BP-01: unknown, deleted, disabled and awaiting-approval clients are undefined; odd ids too', async () => {
    const store = new MemoryStore()
    const app = await makeApp(
      {
        policies: { anonymous: 'review', definitions: { review: { requireApproval: true } } },
      },
      { store },
    )
    try {
      const { client_id } = await register(app)
      assert.equal((await store.findClient(client_id))?.status, 'pending')
      assert.equal(await app.getClient(client_id), undefined)
      assert.equal(await app.getClient('unknown'), undefined)
      for (const odd of ['', 'x'.repeat(5000), 42, null, undefined]) {
        assert.equal(await app.getClient(odd as string), undefined)
      }
      // an operator's 'disabled' is not usable either
      const record = (await store.findClient(client_id)) as ClientRecord
      const disabled = { ...record, status: 'disabled', version: record.version + 1 }
      assert.equal(await store.replaceClient(disabled as never, record.version), true)
      assert.equal(await app.getClient(client_id), undefined)
    } finally {
      await app.close()
    }
  })

  it('approval through the same store object takes effect at once (the store reports it)', async () => {
    const store = new MemoryStore()
    const app = await makeApp(
      {
        policies: { anonymous: 'review', definitions: { review: { requireApproval: true } } },
        clientAuthentication: { clientCacheTtlMs: 60_000 },
      },
      { store },
    )
    try {
      const { client_id } = await register(app)
      assert.equal(await app.getClient(client_id), undefined) // now remembered as unusable
      const record = (await store.findClient(client_id)) as ClientRecord
      const approved = { ...record, status: 'active' as const, version: record.version + 1 }
      assert.equal(await store.replaceClient(approved, record.version), true)
      assert.equal((await app.getClient(client_id))?.client_id, client_id)
      assert.equal(await store.deleteClient(client_id), true)
      assert.equal(await app.getClient(client_id), undefined)
    } finally {
      await app.close()
    }
  })

  it('AS-7592-2.3-a: an RFC 7592 update or delete in this process takes effect at once, with a long TTL', async () => {
    const app = await makeApp({ clientAuthentication: { clientCacheTtlMs: 60_000 } })
    try {
      const info = await register(app)
      const path = `/register/${info.client_id}`
      assert.ok(await app.getClient(info.client_id)) // cached
      const put = await call(app.fetch, 'PUT', path, {
        token: info.registration_access_token,
        body: { client_id: info.client_id, redirect_uris: ['https://client.example.org/new'] },
      })
      assert.equal(put.status, 200, JSON.stringify(put.body))
      const client = await app.getClient(info.client_id)
      assert.deepEqual(client?.metadata.redirect_uris, ['https://client.example.org/new'])
      assert.equal(
        app.matchRedirectUri(client as never, 'https://client.example.org/cb'),
        undefined,
      )
      const del = await call(app.fetch, 'DELETE', path, { token: info.registration_access_token })
      assert.equal(del.status, 204)
      assert.equal(await app.getClient(info.client_id), undefined)
    } finally {
      await app.close()
    }
  })

  it('a store without a change feed still sees this process: the Registrar events invalidate', async () => {
    const store = new MemoryStore()
    // a third-party store: everything but watchClientChanges
    ;(store as { watchClientChanges?: unknown }).watchClientChanges = undefined
    const app = await makeApp({ clientAuthentication: { clientCacheTtlMs: 60_000 } }, { store })
    try {
      assert.equal(await app.getClient('not-yet'), undefined)
      const info = await register(app)
      assert.ok(await app.getClient(info.client_id))
      const del = await call(app.fetch, 'DELETE', `/register/${info.client_id}`, {
        token: info.registration_access_token,
      })
      assert.equal(del.status, 204)
      assert.equal(await app.getClient(info.client_id), undefined)
    } finally {
      await app.close()
    }
  })

  it('SQLite, a change by another process (the admin CLI): seen within clientCacheTtlMs, the documented bound', async () => {
    const dir = tempDir('registrar-as-sqlite-')
    const path = join(dir.dir, 'r.db')
    const app = await makeApp(
      { clientAuthentication: { clientCacheTtlMs: 300 } },
      { store: `sqlite:${path}` },
    )
    const cli = new SqliteStore(path)
    try {
      const { client_id } = await register(app)
      assert.ok(await app.getClient(client_id))
      assert.equal(await cli.deleteClient(client_id), true)
      // still cached: the other process's write is not reported on SQLite
      assert.ok(await app.getClient(client_id))
      await sleep(350)
      assert.equal(await app.getClient(client_id), undefined)
    } finally {
      await cli.close()
      await app.close()
      dir.cleanup()
    }
  })

  it('cached: repeated and concurrent lookups read the store once; TTL 0 reads every time', async () => {
    const store = new CountingStore()
    const app = await makeApp({}, { store })
    try {
      const { client_id } = await register(app)
      await app.clientRegistry.ready()
      store.finds = 0
      await Promise.all(Array.from({ length: 10 }, () => app.getClient(client_id)))
      assert.equal(store.finds, 1)
      for (let i = 0; i < 10; i++) await app.getClient(client_id)
      assert.equal(store.finds, 1)
    } finally {
      await app.close()
    }
    const uncached = new CountingStore()
    const app0 = await makeApp(
      { clientAuthentication: { clientCacheTtlMs: 0 } },
      { store: uncached },
    )
    try {
      const { client_id } = await register(app0)
      uncached.finds = 0
      for (let i = 0; i < 3; i++) assert.ok(await app0.getClient(client_id))
      assert.equal(uncached.finds, 3)
    } finally {
      await app0.close()
    }
  })

  it('after the TTL the store is read again; an unchanged client keeps its object, a changed one gets a new one', async () => {
    const store = new CountingStore()
    const app = await makeApp({ clientAuthentication: { clientCacheTtlMs: 100 } }, { store })
    try {
      const { client_id } = await register(app)
      await app.clientRegistry.ready()
      const first = await app.getClient(client_id)
      store.finds = 0
      await sleep(150)
      const again = await app.getClient(client_id)
      assert.equal(store.finds, 1, 'read again after the TTL')
      assert.equal(again, first, 'the same frozen object: nothing changed')
      await app.recordUse(client_id)
      await sleep(150)
      const used = await app.getClient(client_id)
      assert.notEqual(used, first)
      assert.equal(typeof used?.lastUsedAt, 'number')
    } finally {
      await app.close()
    }
  })

  it('unknown ids are remembered briefly and apart: 5,000 random ids do not evict a real client', async () => {
    const store = new CountingStore()
    const app = await makeApp({ clientAuthentication: { clientCacheTtlMs: 60_000 } }, { store })
    try {
      const { client_id } = await register(app)
      await app.clientRegistry.ready()
      assert.ok(await app.getClient(client_id))
      store.finds = 0
      assert.equal(await app.getClient('random-0'), undefined)
      assert.equal(await app.getClient('random-0'), undefined)
      assert.equal(store.finds, 1, 'an unknown id is remembered')
      for (let i = 1; i <= 5000; i++) await app.getClient(`random-${i}`)
      store.finds = 0
      assert.ok(await app.getClient(client_id))
      assert.equal(store.finds, 0, 'the real client is still cached')
      // and "unknown" is forgotten within a second at most
      await sleep(1100)
      await app.getClient('random-5000')
      assert.equal(store.finds, 1)
    } finally {
      await app.close()
    }
  })

  it('an overlong or empty client_id is no lookup: refused without reading the store or filling the cache', async () => {
    const store = new CountingStore()
    const app = await makeApp({}, { store })
    try {
      await app.clientRegistry.ready()
      store.finds = 0
      const { basic, rejectsWith, tokenRequest } = await import('./support.js')
      await rejectsWith(
        app.authenticateClient(tokenRequest({}, { authorization: basic('x'.repeat(3000), 'y') })),
        'invalid_client',
      )
      await rejectsWith(
        app.authenticateClient(tokenRequest({ client_id: 'x'.repeat(3000) })),
        'invalid_client',
      )
      assert.equal(await app.getClient('x'.repeat(2049)), undefined)
      assert.equal(store.finds, 0)
    } finally {
      await app.close()
    }
  })

  it('a lookup under way when the client changes is not cached: the next lookup reads again', async () => {
    const store = new CountingStore()
    const app = await makeApp({ clientAuthentication: { clientCacheTtlMs: 60_000 } }, { store })
    try {
      const info = await register(app)
      await app.clientRegistry.ready()
      let release: () => void = () => {}
      store.gate = new Promise<void>((resolve) => {
        release = resolve
      })
      const stale = app.getClient(info.client_id) // reads the old record, then waits
      await sleep(5)
      store.gate = undefined
      const del = await call(app.fetch, 'DELETE', `/register/${info.client_id}`, {
        token: info.registration_access_token,
      })
      assert.equal(del.status, 204)
      release()
      assert.ok(await stale, 'the read that predates the delete returns what it read')
      assert.equal(await app.getClient(info.client_id), undefined, 'but it was not cached')
    } finally {
      await app.close()
    }
  })

  it('a store that cannot answer: getClient rejects with 503 temporarily_unavailable', async () => {
    const store = new MemoryStore()
    const app = await makeApp({ clientAuthentication: { clientCacheTtlMs: 0 } }, { store })
    try {
      store.findClient = async () => {
        const { storeUnavailable } = await import('../../src/storage/unavailable.js')
        throw storeUnavailable(new Error('down'))
      }
      await assert.rejects(app.getClient('x'), { error: 'temporarily_unavailable', status: 503 })
    } finally {
      await app.close()
    }
  })
})
