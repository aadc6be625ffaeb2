import { join } from 'node:path'
import { MemoryStore } from '../../src/storage/memory.js'
import { openStore } from '../../src/storage/open-store.js'
import { SqliteStore } from '../../src/storage/sqlite.js'
import { tempDir } from '../helpers.js'
import { admin, createTestDatabase, postgresTarget, type TestDatabase } from './postgres-helper.js'
import { storeContract } from './store.contract.js'

storeContract('memory', { open: async () => new MemoryStore() })

{
  let dir: ReturnType<typeof tempDir>
  let n = 0
  storeContract('SQLite (temp file)', {
    before: () => {
      dir = tempDir('registrar-sqlite-')
    },
    after: () => dir.cleanup(),
    // a new file per test: each starts from a freshly migrated, empty database
    open: async () => new SqliteStore(join(dir.dir, `store-${++n}.db`)),
  })
}

{
  const target = await postgresTarget()
  let db: TestDatabase | undefined
  storeContract('PostgreSQL (temp database)', {
    skip: target.skip,
    before: async () => {
      target.assertAvailable()
      db = await createTestDatabase(target.url as string)
      await (await openStore(db.url)).close() // migrates, so that open() can truncate
    },
    after: async () => {
      await db?.drop()
    },
    // one database per run (creating one per test costs ~0.3 s); each test starts from empty tables
    open: async () => {
      const url = (db as TestDatabase).url
      await admin(
        url,
        'TRUNCATE clients, initial_access_tokens, audit_entries, admin_tokens, client_assertion_jtis, metadata_documents',
      )
      return openStore(url, {
        postgres: { poolSize: 10, connectTimeoutMs: 5000, statementTimeoutMs: 5000 },
      })
    },
  })
}
