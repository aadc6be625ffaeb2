import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { RegistrationError } from '../../src/core/errors.js'
import { SqliteStore } from '../../src/storage/sqlite.js'
import { tempDir } from '../helpers.js'
import { client } from './store.contract.js'

describe('SQLite store', () => {
  it('a write blocked past busy_timeout by another process answers 503, then works again', async () => {
    const dir = tempDir('registrar-sqlite-busy-')
    const path = join(dir.dir, 'busy.db')
    const store = new SqliteStore(path, { busyTimeoutMs: 100 })
    const other = new Database(path)
    try {
      other.exec('BEGIN IMMEDIATE') // holds the write lock, as a long admin transaction would
      await assert.rejects(store.createClient(client('blocked')), (err: unknown) => {
        assert.ok(err instanceof RegistrationError)
        assert.equal(err.status, 503)
        assert.equal(err.error, 'temporarily_unavailable')
        assert.match(String((err.cause as { code?: string }).code), /^SQLITE_BUSY/)
        return true
      })
      // reads are not blocked by a writer under WAL
      assert.equal(await store.findClient('blocked'), undefined)
      other.exec('ROLLBACK')
      assert.equal(await store.createClient(client('blocked')), true)
    } finally {
      other.close()
      await store.close()
      dir.cleanup()
    }
  })

  it('constraint violations are no 503: they pass through unchanged', async () => {
    const dir = tempDir('registrar-sqlite-dup-')
    const store = new SqliteStore(join(dir.dir, 'dup.db'))
    try {
      await store.createClient(client('dup'))
      await assert.rejects(store.createClient(client('dup')), (err: unknown) => {
        assert.ok(!(err instanceof RegistrationError))
        assert.match(String((err as { code?: string }).code), /^SQLITE_CONSTRAINT/)
        return true
      })
    } finally {
      await store.close()
      dir.cleanup()
    }
  })
})
