import assert from 'node:assert/strict'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { RegistrationError } from '../../src/core/errors.js'
import { MIGRATIONS } from '../../src/storage/migrations.js'
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

describe('SQLite files (issue 12)', () => {
  it('item 10: the data directory is created 0700, the database and its WAL 0600', async () => {
    const { dir, cleanup } = tempDir()
    const previous = process.umask(0o022)
    try {
      const path = join(dir, 'data', 'nested', 'registrar.db')
      const store = new SqliteStore(path)
      await store.createClient(client('perm-check'))
      const mode = (p: string) => statSync(p).mode & 0o777
      assert.equal(mode(join(dir, 'data')), 0o700)
      assert.equal(mode(join(dir, 'data', 'nested')), 0o700)
      assert.equal(mode(path), 0o600)
      assert.equal(mode(`${path}-wal`), 0o600)
      assert.equal(mode(`${path}-shm`), 0o600)
      await store.close()
    } finally {
      process.umask(previous)
      cleanup()
    }
  })

  it('item 1: migration 002 turns clients awaiting approval (disabled) into pending', async () => {
    const { dir, cleanup } = tempDir()
    try {
      const path = join(dir, 'old.db')
      // a database as the previous release left it: only 001 applied
      const db = new Database(path)
      db.exec(
        'CREATE TABLE registrar_migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)',
      )
      for (const sql of MIGRATIONS[0]?.sqlite ?? []) db.exec(sql)
      db.prepare("INSERT INTO registrar_migrations VALUES ('001-init', 0)").run()
      const insert = db.prepare(
        `INSERT INTO clients (client_id, client_id_issued_at, registration_access_token_hash, metadata, status, updated_at, version)
         VALUES (?, 0, 'h', '{}', ?, 0, 1)`,
      )
      insert.run('awaiting', 'disabled')
      insert.run('approved', 'active')
      db.close()
      const store = new SqliteStore(path)
      assert.equal((await store.findClient('awaiting'))?.status, 'pending')
      assert.equal((await store.findClient('approved'))?.status, 'active')
      await store.close()
    } finally {
      cleanup()
    }
  })
})
