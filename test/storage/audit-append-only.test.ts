import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { openStore } from '../../src/storage/open-store.js'
import { SqliteStore } from '../../src/storage/sqlite.js'
import { tempDir } from '../helpers.js'
import { admin, createTestDatabase, postgresTarget, type TestDatabase } from './postgres-helper.js'

// Issue 13 item 2: the audit trail is append-only. The Store port has no way to change an entry,
// and the database refuses an UPDATE from anyone else too (a script, a console on the database).

const ENTRY = {
  at: 1_700_000_000,
  event: 'registered' as const,
  actor: { type: 'anonymous' as const },
}

describe('audit entries are append-only in the database', () => {
  it('SQLite refuses an UPDATE of an audit entry; retention may still delete', async () => {
    const dir = tempDir('registrar-audit-')
    const path = join(dir.dir, 'audit.db')
    const store = new SqliteStore(path)
    try {
      await store.appendAuditEntry(ENTRY)
      const db = new Database(path)
      try {
        assert.throws(
          () => db.prepare("UPDATE audit_entries SET event = 'deleted'").run(),
          /append-only/,
        )
      } finally {
        db.close()
      }
      assert.equal((await store.listAuditEntries({ limit: 1 }))[0]?.event, 'registered')
      assert.equal(await store.purgeAuditEntries(ENTRY.at + 1), 1)
    } finally {
      await store.close()
      dir.cleanup()
    }
  })

  describe('PostgreSQL', async () => {
    const target = await postgresTarget()
    let db: TestDatabase | undefined
    before(async () => {
      target.assertAvailable()
      if (target.url) db = await createTestDatabase(target.url)
    })
    after(async () => {
      await db?.drop()
    })
    it('refuses an UPDATE of an audit entry; retention may still delete', {
      skip: target.skip,
    }, async () => {
      const url = (db as TestDatabase).url
      const store = await openStore(url)
      try {
        await store.appendAuditEntry(ENTRY)
        await assert.rejects(
          admin(url, "UPDATE audit_entries SET event = 'deleted'"),
          /append-only/,
        )
        assert.equal((await store.listAuditEntries({ limit: 1 }))[0]?.event, 'registered')
        assert.equal(await store.purgeAuditEntries(ENTRY.at + 1), 1)
      } finally {
        await store.close()
      }
    })
  })
})
