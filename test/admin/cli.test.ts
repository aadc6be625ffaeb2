import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { AuditTrail } from '../../src/admin/audit.js'
import { parseSince } from '../../src/cli/audit.js'
import { resolveConfig } from '../../src/config/resolve.js'
import { sha256 } from '../../src/core/crypto.js'
import { Registrar } from '../../src/core/registration.js'
import { SqliteStore } from '../../src/storage/sqlite.js'
import { ISSUER, runCli, tempDir } from '../helpers.js'

// Issue 13 items 2 and 4: `registrar admin-token create|list|revoke` and `registrar audit`.

describe('registrar admin-token', () => {
  const t = tempDir('registrar-admin-token-')
  after(() => t.cleanup())
  const store = ['--store', `sqlite:${join(t.dir, 'r.db')}`]

  it('create prints the token as the last line of stdout, once; list and revoke never show it', async () => {
    const created = await runCli([
      'admin-token',
      'create',
      '--read-only',
      '--description',
      'ops',
      ...store,
      '--create',
    ])
    assert.equal(created.code, 0, created.stderr)
    const token = created.stdout.trim().split('\n').at(-1) as string
    assert.match(token, /^[A-Za-z0-9_-]{43}$/)
    const id = /admin token (\S+)/.exec(created.stderr)?.[1] as string
    assert.match(created.stderr, /created read-only admin token .* shown only once/)

    const list = await runCli(['admin-token', 'list', ...store])
    assert.equal(list.code, 0)
    assert.match(list.stdout, new RegExp(`${id}\\s.*read-only\\s+ops`))
    const json = await runCli(['admin-token', 'list', '--json', ...store])
    assert.deepEqual(
      (JSON.parse(json.stdout) as { id: string; read_only: boolean }[]).map((x) => [
        x.id,
        x.read_only,
      ]),
      [[id, true]],
    )
    for (const out of [list.stdout, json.stdout]) {
      assert.ok(!out.includes(token) && !out.includes(sha256(token)))
    }

    const stored = new SqliteStore(join(t.dir, 'r.db'))
    try {
      assert.equal((await stored.findAdminToken(sha256(token)))?.id, id)
    } finally {
      await stored.close()
    }

    const revoked = await runCli(['admin-token', 'revoke', id, ...store])
    assert.equal(revoked.code, 0)
    assert.equal((await runCli(['admin-token', 'revoke', id, ...store])).code, 1)
    assert.equal((await runCli(['admin-token', 'create', '--expires-in', '0', ...store])).code, 2)

    // both are in the audit trail, with the operator as the actor
    const trail = await runCli(['audit', '--json', ...store])
    const entries = JSON.parse(trail.stdout) as { event: string; actor: { type: string } }[]
    assert.deepEqual(
      entries.map((e) => [e.event, e.actor.type]),
      [
        ['admin_token_revoked', 'operator'],
        ['admin_token_created', 'operator'],
      ],
    )
    assert.ok(!trail.stdout.includes(token))
  })
})

describe('registrar audit', () => {
  const t = tempDir('registrar-audit-cli-')
  after(() => t.cleanup())
  const path = join(t.dir, 'r.db')
  const store = ['--store', `sqlite:${path}`]

  it('lists the trail newest first, per client, since a time, as a table or JSON', async () => {
    const db = new SqliteStore(path)
    const config = resolveConfig({ file: { issuer: ISSUER, registration: { mode: 'open' } } })
    const registrar = new Registrar({ config, store: db })
    const trail = new AuditTrail({ store: db })
    trail.observeRegistrar(registrar)
    // an old entry, from long before the retention period
    await db.appendAuditEntry({ at: 1_000_000_000, event: 'read', actor: { type: 'system' } })
    const a = await registrar.register(
      { metadata: { redirect_uris: ['https://a.example/cb'], client_name: 'A evil' } },
      { address: '192.0.2.10' },
    )
    await registrar.register({ metadata: { redirect_uris: ['https://b.example/cb'] } })
    await registrar.updateClient(a.client_id, a.registration_access_token, {
      redirect_uris: ['https://a.example/cb'],
      client_id: a.client_id,
      client_name: 'A2',
    })
    await trail.flush()
    await db.close()

    const all = await runCli(['audit', ...store])
    assert.equal(all.code, 0, all.stderr)
    const lines = all.stdout.trim().split('\n')
    assert.match(lines[0] as string, /^TIME\s+EVENT\s+CLIENT_ID\s+ACTOR\s+CHANGES$/)
    assert.match(
      lines[1] as string,
      new RegExp(`updated\\s+${a.client_id}\\s+client\\s+client_name`),
    )
    assert.match(
      lines[3] as string,
      new RegExp(`registered\\s+${a.client_id}\\s+anonymous@192\\.0\\.2\\.10`),
    )
    assert.equal(lines.length, 5)

    const json = await runCli(['audit', '--json', '--client', a.client_id, ...store])
    const entries = JSON.parse(json.stdout) as { event: string; changes: Record<string, unknown> }[]
    assert.deepEqual(
      entries.map((e) => e.event),
      ['updated', 'registered'],
    )
    assert.deepEqual(entries[0]?.changes.client_name, { before: 'A evil', after: 'A2' })

    const recent = await runCli(['audit', '--json', '--since', '7d', ...store])
    assert.equal((JSON.parse(recent.stdout) as unknown[]).length, 3)
    const limited = await runCli(['audit', '--json', '--limit', '1', ...store])
    assert.equal((JSON.parse(limited.stdout) as unknown[]).length, 1)
    const badSince = await runCli(['audit', '--since', 'yesterday', ...store])
    assert.equal(badSince.code, 2)
    assert.match(badSince.stderr, /--since must be/)

    const purged = await runCli(['audit', 'purge', '--older-than', '30', ...store])
    assert.equal(purged.code, 0, purged.stderr)
    assert.match(purged.stdout, /purged 1 audit entries/)
  })

  it('--since accepts dates, date-times and durations', () => {
    const now = Date.parse('2026-05-10T12:00:00Z')
    assert.equal(parseSince('2026-05-01', now), Date.parse('2026-05-01T00:00:00Z') / 1000)
    assert.equal(parseSince('2026-05-01T10:30:00Z', now), Date.parse('2026-05-01T10:30:00Z') / 1000)
    assert.equal(parseSince('2026-05-01T10:30', now), Date.parse('2026-05-01T10:30:00Z') / 1000)
    assert.equal(
      parseSince('2026-05-01T10:30:00+02:00', now),
      Date.parse('2026-05-01T08:30:00Z') / 1000,
    )
    assert.equal(parseSince('24h', now), now / 1000 - 86_400)
    assert.equal(parseSince('90m', now), now / 1000 - 5400)
    assert.equal(parseSince('7d', now), now / 1000 - 7 * 86_400)
    for (const bad of ['', 'yesterday', '7w', '2026-13-45', '-1d']) {
      assert.throws(() => parseSince(bad, now), /--since/)
    }
  })

  it('a bidirectional override in a stored entry is escaped, not interpreted by the terminal', async () => {
    // registration refuses such names today (issue 12 item 6); entries and rows written earlier,
    // or by another writer, may still hold one
    const db = new SqliteStore(path)
    await db.appendAuditEntry({
      at: Math.floor(Date.now() / 1000),
      event: 'updated',
      client_id: 'bidi-client',
      actor: { type: 'system' },
      changes: { client_name: { before: 'A \u202eevil', after: 'A' } },
    })
    await db.close()
    const json = await runCli(['audit', '--json', '--client', 'bidi-client', ...store])
    assert.equal(json.code, 0, json.stderr)
    assert.ok(!json.stdout.includes('\u202e'))
    assert.ok(json.stdout.includes('\\u202e'))
  })
})
