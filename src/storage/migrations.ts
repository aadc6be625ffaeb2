/**
 * Ordered, append-only schema migrations. Never edit one that has shipped; add `00N-…` instead.
 * Each runs in a transaction and is recorded in `registrar_migrations`.
 */
export interface Migration {
  id: string
  sqlite: string[]
  postgres: string[]
}

export const MIGRATIONS: readonly Migration[] = [
  {
    id: '001-init',
    sqlite: [
      `CREATE TABLE clients (
        client_id TEXT PRIMARY KEY,
        client_id_issued_at INTEGER NOT NULL,
        client_secret_expires_at INTEGER,
        client_secret_hash TEXT,
        client_secret_encrypted TEXT,
        registration_access_token_hash TEXT NOT NULL,
        metadata TEXT NOT NULL,
        software_statement TEXT,
        status TEXT NOT NULL DEFAULT 'active',
        policy TEXT,
        initial_access_token_id TEXT,
        updated_at INTEGER NOT NULL,
        version INTEGER NOT NULL
      ) WITHOUT ROWID`,
      'CREATE INDEX clients_by_issued_at ON clients (client_id_issued_at, client_id)',
      'CREATE INDEX clients_by_policy ON clients (policy)',
      `CREATE TABLE initial_access_tokens (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        max_uses INTEGER,
        uses INTEGER NOT NULL DEFAULT 0,
        policy TEXT,
        description TEXT
      )`,
    ],
    // Identifiers use the "C" collation so that listings sort bytewise, as SQLite and the memory
    // store do, whatever the database's locale. (001 was never applied to PostgreSQL before the
    // PostgreSQL store existed, so this is not an edit of a shipped migration.)
    postgres: [
      `CREATE TABLE clients (
        client_id TEXT COLLATE "C" PRIMARY KEY,
        client_id_issued_at BIGINT NOT NULL,
        client_secret_expires_at BIGINT,
        client_secret_hash TEXT,
        client_secret_encrypted TEXT,
        registration_access_token_hash TEXT NOT NULL,
        metadata TEXT NOT NULL,
        software_statement TEXT,
        status TEXT NOT NULL DEFAULT 'active',
        policy TEXT,
        initial_access_token_id TEXT,
        updated_at BIGINT NOT NULL,
        version INTEGER NOT NULL
      )`,
      'CREATE INDEX clients_by_issued_at ON clients (client_id_issued_at, client_id)',
      'CREATE INDEX clients_by_policy ON clients (policy)',
      `CREATE TABLE initial_access_tokens (
        id TEXT COLLATE "C" PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        created_at BIGINT NOT NULL,
        expires_at BIGINT,
        max_uses INTEGER,
        uses INTEGER NOT NULL DEFAULT 0,
        policy TEXT,
        description TEXT
      )`,
    ],
  },
  {
    // issue 12 item 1: 'disabled' meant "awaiting approval" (the only way a client got it); it now
    // has its own status, and 'disabled' is left to an operator switching a client off
    id: '002-pending-approval-status',
    sqlite: ["UPDATE clients SET status = 'pending' WHERE status = 'disabled'"],
    postgres: ["UPDATE clients SET status = 'pending' WHERE status = 'disabled'"],
  },
  {
    // issue 13: the append-only audit trail and the admin tokens of the admin API and console.
    // Updating an audit entry is refused by the database itself; deleting is left to retention.
    id: '003-audit-trail-and-admin-tokens',
    sqlite: [
      `CREATE TABLE audit_entries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        event TEXT NOT NULL,
        client_id TEXT,
        actor_type TEXT NOT NULL,
        actor_id TEXT,
        actor_address TEXT,
        changes TEXT,
        details TEXT
      )`,
      'CREATE INDEX audit_entries_by_client ON audit_entries (client_id, id)',
      'CREATE INDEX audit_entries_by_time ON audit_entries (at)',
      `CREATE TRIGGER audit_entries_append_only BEFORE UPDATE ON audit_entries
        BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END`,
      `CREATE TABLE admin_tokens (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        read_only INTEGER NOT NULL,
        description TEXT
      )`,
    ],
    postgres: [
      `CREATE TABLE audit_entries (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at BIGINT NOT NULL,
        event TEXT NOT NULL,
        client_id TEXT COLLATE "C",
        actor_type TEXT NOT NULL,
        actor_id TEXT,
        actor_address TEXT,
        changes TEXT,
        details TEXT
      )`,
      'CREATE INDEX audit_entries_by_client ON audit_entries (client_id, id)',
      'CREATE INDEX audit_entries_by_time ON audit_entries (at)',
      `CREATE FUNCTION registrar_audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit entries are append-only'; END $$`,
      `CREATE TRIGGER audit_entries_append_only BEFORE UPDATE ON audit_entries
        FOR EACH ROW EXECUTE FUNCTION registrar_audit_entries_append_only()`,
      `CREATE TABLE admin_tokens (
        id TEXT COLLATE "C" PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        created_at BIGINT NOT NULL,
        expires_at BIGINT,
        read_only BOOLEAN NOT NULL,
        description TEXT
      )`,
    ],
  },
  {
    // The AS side (issue 10): when each client was last used, the replay record of client
    // assertions (RFC 7523 §3 item 7, shared by every instance on the same database), and on
    // PostgreSQL a NOTIFY per client change so other instances drop their cached copy at once.
    id: '004-client-registry',
    sqlite: [
      'ALTER TABLE clients ADD COLUMN last_used_at INTEGER',
      `CREATE TABLE client_assertion_jtis (
        client_id TEXT NOT NULL,
        jti TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (client_id, jti)
      ) WITHOUT ROWID`,
      'CREATE INDEX client_assertion_jtis_by_expiry ON client_assertion_jtis (expires_at)',
    ],
    postgres: [
      'ALTER TABLE clients ADD COLUMN last_used_at BIGINT',
      `CREATE TABLE client_assertion_jtis (
        client_id TEXT COLLATE "C" NOT NULL,
        jti TEXT COLLATE "C" NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (client_id, jti)
      )`,
      'CREATE INDEX client_assertion_jtis_by_expiry ON client_assertion_jtis (expires_at)',
      // a trigger, not a NOTIFY sent by the store: writes by the admin CLI or by hand notify too.
      // Recording a use (last_used_at alone) changes nothing a cache holds that matters.
      `CREATE FUNCTION registrar_notify_client_change() RETURNS trigger AS $$
      BEGIN
        PERFORM pg_notify('registrar_client_changes',
          CASE WHEN TG_OP = 'DELETE' THEN OLD.client_id ELSE NEW.client_id END);
        RETURN NULL;
      END
      $$ LANGUAGE plpgsql`,
      `CREATE TRIGGER clients_notify_insert_delete AFTER INSERT OR DELETE ON clients
        FOR EACH ROW EXECUTE FUNCTION registrar_notify_client_change()`,
      `CREATE TRIGGER clients_notify_update AFTER UPDATE ON clients
        FOR EACH ROW WHEN (OLD.version IS DISTINCT FROM NEW.version
          OR OLD.status IS DISTINCT FROM NEW.status
          OR OLD.last_used_at IS NOT DISTINCT FROM NEW.last_used_at)
        EXECUTE FUNCTION registrar_notify_client_change()`,
    ],
  },
  {
    // Client ID Metadata Documents (issue 11): the cached, validated copy of each document URL in
    // use, shared by every instance on one database (one fetch per expiry: the fetch lease), the
    // operator's decision (approved / blocked) and the last use. `cache` is JSON (fetched_at,
    // expires_at, stale bound, failure record, metadata); the store reads and writes it whole.
    id: '005-metadata-documents',
    sqlite: [
      `CREATE TABLE metadata_documents (
        client_id TEXT PRIMARY KEY,
        cache TEXT,
        decision TEXT,
        last_used_at INTEGER,
        lease_until INTEGER
      ) WITHOUT ROWID`,
    ],
    postgres: [
      `CREATE TABLE metadata_documents (
        client_id TEXT COLLATE "C" PRIMARY KEY,
        cache TEXT,
        decision TEXT,
        last_used_at BIGINT,
        lease_until BIGINT
      )`,
      // other instances drop their in-process copy when a document is refetched, forgotten,
      // approved or blocked; a recorded use or a lease changes nothing they cache
      `CREATE TRIGGER metadata_documents_notify_insert_delete AFTER INSERT OR DELETE
        ON metadata_documents FOR EACH ROW EXECUTE FUNCTION registrar_notify_client_change()`,
      `CREATE TRIGGER metadata_documents_notify_update AFTER UPDATE ON metadata_documents
        FOR EACH ROW WHEN (OLD.cache IS DISTINCT FROM NEW.cache
          OR OLD.decision IS DISTINCT FROM NEW.decision)
        EXECUTE FUNCTION registrar_notify_client_change()`,
    ],
  },
  {
    // issue 13 item 1, client lifecycle: the secrets RFC 7592 renewals replaced, each accepted until
    // its own end (a JSON array of a few {hash | encrypted, expiresAt}: hash for
    // client_secret_basic/post, sealed for client_secret_jwt), and an index for the idle-expiry
    // sweep. Touches only the clients table (independent of 005).
    id: '006-client-lifecycle',
    sqlite: [
      'ALTER TABLE clients ADD COLUMN previous_client_secrets TEXT',
      'CREATE INDEX clients_by_last_used_at ON clients (last_used_at)',
    ],
    postgres: [
      'ALTER TABLE clients ADD COLUMN previous_client_secrets TEXT',
      'CREATE INDEX clients_by_last_used_at ON clients (last_used_at)',
    ],
  },
]
