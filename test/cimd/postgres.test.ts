import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import type { Store } from '../../src/core/store.js'
import { openStore } from '../../src/storage/open-store.js'
import { makeRegistrar } from '../helpers.js'
import { serviceSuite } from '../service-suite.js'
import {
  createTestDatabase,
  postgresTarget,
  type TestDatabase,
} from '../storage/postgres-helper.js'
import { type DocumentServer, startDocumentServer } from './fixtures.js'

const target = await postgresTarget()

serviceSuite(
  'CIMD on PostgreSQL: instances share the document cache (issue 11, §11 D-10)',
  target.skip,
  () => {
    let db: TestDatabase
    let docs: DocumentServer
    const stores: Store[] = []
    before(async () => {
      target.assertAvailable()
      db = await createTestDatabase(target.url as string)
      docs = await startDocumentServer()
    })
    after(async () => {
      await Promise.all(stores.map((s) => s.close()))
      await docs?.stop()
      await db?.drop()
    })

    async function instance(clock: () => number) {
      const store = await openStore(db.url)
      stores.push(store)
      const { app } = makeRegistrar(
        {
          clientIdMetadataDocuments: { enabled: true, cacheMinSeconds: 60 },
          fetch: { allowedAddresses: ['127.0.0.2'], caFile: docs.caFile },
        },
        { store, clock },
      )
      await app.clientRegistry.ready()
      return app
    }

    it('two instances fetch a document once per expiry between them (CIMD-BP-05)', async () => {
      let now = 1_800_000_000
      const clock = () => now
      const [a, b] = [await instance(clock), await instance(clock)]
      let slow = true
      const p = '/shared.json'
      const url = docs.url(p)
      const body = JSON.stringify({ client_id: url, redirect_uris: ['https://app.example/cb'] })
      docs.route(p, (_q, res) => {
        // slow enough that both instances ask while the first fetch is under way
        setTimeout(
          () => {
            res.writeHead(200, {
              'content-type': 'application/json',
              'cache-control': 'max-age=60',
            })
            res.end(body)
          },
          slow ? 300 : 0,
        )
      })
      const results = await Promise.all([
        a.getClient(url),
        b.getClient(url),
        a.getClient(url),
        b.getClient(url),
      ])
      assert.ok(results.every((c) => c?.client_id === url))
      assert.equal(docs.hits(p), 1)
      slow = false
      now += 61
      const again = await Promise.all([a.getClient(url), b.getClient(url)])
      assert.ok(again.every((c) => c?.client_id === url))
      assert.equal(docs.hits(p), 2)
      await a.close()
      await b.close()
    })

    it('a block written by one instance is seen by the other (LISTEN/NOTIFY)', async () => {
      const now = 1_800_000_000
      const [a, b] = [await instance(() => now), await instance(() => now)]
      const url = docs.json('/blocked-later.json', { redirect_uris: ['https://app.example/cb'] })
      assert.ok(await a.getClient(url))
      assert.ok(await b.getClient(url))
      await a.store.decideMetadataDocument(url, 'blocked')
      const deadline = Date.now() + 10_000
      while ((await b.getClient(url)) !== undefined) {
        assert.ok(Date.now() < deadline, 'the other instance still serves the blocked client')
        await new Promise((r) => setTimeout(r, 50))
      }
      await a.close()
      await b.close()
    })
  },
)
