import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { MemoryStore } from '../../src/storage/memory.js'
import { runCli, tempDir } from '../helpers.js'
import { makeApp, register } from './support.js'

/** A memory store that counts use writes and can fail them. */
class UseCountingStore extends MemoryStore {
  calls = 0
  writes = 0
  failing = false
  override async recordClientUse(clientId: string, now: number, minInterval: number) {
    this.calls++
    if (this.failing) throw new Error('store down')
    const wrote = await super.recordClientUse(clientId, now, minInterval)
    if (wrote) this.writes++
    return wrote
  }
}

describe('recordUse (issue 10 item 1): last used, written at most once a minute per client', () => {
  it('records the time; getClient shows it as lastUsedAt', async () => {
    const now = 1_800_000_000
    const app = await makeApp(
      { clientAuthentication: { clientCacheTtlMs: 0 } },
      { clock: () => now },
    )
    try {
      const { client_id } = await register(app)
      assert.equal((await app.getClient(client_id))?.lastUsedAt, undefined)
      await app.recordUse(client_id)
      assert.equal((await app.getClient(client_id))?.lastUsedAt, now)
      assert.equal((await app.store.findClient(client_id))?.lastUsedAt, now)
    } finally {
      await app.close()
    }
  })

  it('within a minute the store is not even asked; after it, written again', async () => {
    let now = 1_800_000_000
    const store = new UseCountingStore()
    const app = await makeApp({}, { store, clock: () => now })
    try {
      const { client_id } = await register(app)
      for (let i = 0; i < 10; i++) await app.recordUse(client_id)
      assert.deepEqual([store.calls, store.writes], [1, 1])
      now += 59
      await app.recordUse(client_id)
      assert.deepEqual([store.calls, store.writes], [1, 1])
      now += 1
      await app.recordUse(client_id)
      assert.deepEqual([store.calls, store.writes], [2, 2])
      assert.equal((await store.findClient(client_id))?.lastUsedAt, now)
    } finally {
      await app.close()
    }
  })

  it('N instances on one store: the conditional write keeps it to once a minute between them', async () => {
    const now = 1_800_000_000
    const store = new UseCountingStore()
    const apps = await Promise.all([1, 2, 3].map(() => makeApp({}, { store, clock: () => now })))
    try {
      const { client_id } = await register(apps[0] as (typeof apps)[0])
      await Promise.all(apps.map((a) => a.recordUse(client_id)))
      assert.deepEqual([store.calls, store.writes], [3, 1])
    } finally {
      await Promise.all(apps.map((a) => a.close()))
    }
  })

  it('never rejects: a use the store cannot take is tried again on the next call; odd ids are ignored', async () => {
    const store = new UseCountingStore()
    const app = await makeApp({}, { store })
    try {
      const { client_id } = await register(app)
      store.failing = true
      await app.recordUse(client_id)
      store.failing = false
      await app.recordUse(client_id)
      assert.deepEqual([store.calls, store.writes], [2, 1])
      for (const odd of ['', 42, undefined, 'x'.repeat(5000)]) await app.recordUse(odd as string)
      await app.recordUse('unknown-client')
      assert.equal(store.writes, 1)
    } finally {
      await app.close()
    }
  })

  it('clients list shows LAST USED, clients show last_used_at (the admin CLI)', async () => {
    const t = tempDir('registrar-last-used-')
    const storeUrl = `sqlite:${join(t.dir, 'r.db')}`
    const now = 1_800_000_000
    const app = await makeApp({}, { store: storeUrl, clock: () => now })
    let used: string
    let unused: string
    try {
      used = (await register(app)).client_id
      unused = (await register(app)).client_id
      await app.recordUse(used)
    } finally {
      await app.close()
    }
    try {
      const list = await runCli(['clients', 'list', '--store', storeUrl])
      assert.equal(list.code, 0, list.stderr)
      const [header, ...rows] = list.stdout.trimEnd().split('\n')
      assert.match(header ?? '', /\sSTATUS\s+LAST USED$/)
      const row = (id: string) => rows.find((r) => r.startsWith(id)) ?? ''
      assert.match(row(used), /\sactive\s+2027-01-15T08:00:00Z$/)
      assert.match(row(unused), /\sactive\s+-$/)
      const show = await runCli(['clients', 'show', used, '--store', storeUrl])
      assert.equal(show.code, 0, show.stderr)
      assert.equal(JSON.parse(show.stdout).last_used_at, now)
      const never = await runCli(['clients', 'show', unused, '--store', storeUrl])
      assert.equal(JSON.parse(never.stdout).last_used_at, undefined)
    } finally {
      t.cleanup()
    }
  })
})
