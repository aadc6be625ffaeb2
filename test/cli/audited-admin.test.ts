import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { resolveConfig } from '../../src/config/resolve.js'
import { Registrar } from '../../src/core/registration.js'
import type { AuditEntry } from '../../src/core/store.js'
import { SqliteStore } from '../../src/storage/sqlite.js'
import { ISSUER, runCli, tempDir } from '../helpers.js'

// Issue 13 item 2: the CLI's changes go through the AdminService, like the admin API's, so the
// audit trail records them with the operator (the OS user) as the actor.

const OPERATOR = { type: 'operator', id: userInfo().username }

describe('issue 13 item 2: registrar clients / token changes are audited with the operator', () => {
  const t = tempDir('registrar-audited-')
  const path = join(t.dir, 'registrar.db')
  const store = ['--store', `sqlite:${path}`]
  let active: string
  let pending: string
  let doomed: string

  before(async () => {
    const db = new SqliteStore(path)
    try {
      const registrar = new Registrar({
        config: resolveConfig({ file: { issuer: ISSUER, registration: { mode: 'open' } } }),
        store: db,
      })
      const register = async (name: string) =>
        (
          await registrar.register({
            metadata: { redirect_uris: ['https://app.example.com/cb'], client_name: name },
          })
        ).client_id
      active = await register('Active')
      pending = await register('Pending')
      doomed = await register('Doomed')
      // as a requireApproval policy would have left it
      const record = (await db.findClient(pending))!
      assert.ok(await db.replaceClient({ ...record, status: 'pending' }, record.version))
    } finally {
      await db.close()
    }
  })
  after(() => t.cleanup())

  async function audit(...args: string[]): Promise<AuditEntry[]> {
    const res = await runCli(['audit', '--json', ...args, ...store])
    assert.equal(res.code, 0, res.stderr)
    return JSON.parse(res.stdout) as AuditEntry[]
  }

  async function status(id: string): Promise<{ status: string; version: number }> {
    const res = await runCli(['clients', 'show', id, ...store])
    assert.equal(res.code, 0, res.stderr)
    return JSON.parse(res.stdout)
  }

  it('clients approve ID --version N: an `approved` entry, pending -> active, by the operator', async () => {
    const { version } = await status(pending)
    const res = await runCli([
      'clients',
      'approve',
      pending,
      '--version',
      String(version),
      ...store,
    ])
    assert.equal(res.code, 0, res.stderr)
    assert.equal(res.stdout, `approved ${pending} (version ${version})\n`)
    const [entry, ...rest] = await audit('--client', pending)
    assert.equal(rest.length, 0)
    assert.equal(entry?.event, 'approved')
    assert.deepEqual(entry?.actor, OPERATOR)
    assert.deepEqual(entry?.changes, { status: { before: 'pending', after: 'active' } })
    assert.equal(entry?.details?.version, version + 1)
    // approving it again is no error and records nothing
    const again = await runCli(['clients', 'approve', pending, '--version', '1', ...store])
    assert.equal(again.code, 0, again.stderr)
    assert.equal(again.stdout, `${pending} is already active\n`)
    assert.equal((await audit('--client', pending)).length, 1)
  })

  it('clients disable / enable: a round trip, each audited; a repeat is refused with a message', async () => {
    const disabled = await runCli(['clients', 'disable', active, ...store])
    assert.equal(disabled.code, 0, disabled.stderr)
    assert.match(disabled.stdout, new RegExp(`^disabled ${active} \\(now version \\d+\\)\\n$`))
    assert.equal((await status(active)).status, 'disabled')

    const twice = await runCli(['clients', 'disable', active, ...store])
    assert.equal(twice.code, 1)
    assert.match(twice.stderr, /the client is disabled; disable applies to active or pending/)
    assert.doesNotMatch(twice.stderr, /\n\s+at /, 'no stack trace')

    const enabled = await runCli(['clients', 'enable', active, ...store])
    assert.equal(enabled.code, 0, enabled.stderr)
    assert.match(enabled.stdout, new RegExp(`^enabled ${active} `))
    assert.equal((await status(active)).status, 'active')
    const enableActive = await runCli(['clients', 'enable', active, ...store])
    assert.equal(enableActive.code, 1)
    assert.match(enableActive.stderr, /the client is active; enable applies to disabled clients/)

    const entries = await audit('--client', active)
    assert.deepEqual(
      entries.map((e) => [e.event, e.changes?.status]),
      [
        ['enabled', { before: 'disabled', after: 'active' }],
        ['disabled', { before: 'active', after: 'disabled' }],
      ],
    )
    for (const e of entries) assert.deepEqual(e.actor, OPERATOR)
  })

  it('clients delete ID: a `deleted` entry with the metadata it removed, by the operator', async () => {
    const res = await runCli(['clients', 'delete', doomed, ...store])
    assert.equal(res.code, 0, res.stderr)
    assert.equal(res.stdout, `deleted ${doomed}\n`)
    const [entry] = await audit('--client', doomed)
    assert.equal(entry?.event, 'deleted')
    assert.deepEqual(entry?.actor, OPERATOR)
    assert.deepEqual(entry?.changes?.client_name, { before: 'Doomed' })
    assert.equal((await runCli(['clients', 'show', doomed, ...store])).code, 1)
  })

  it('token create / revoke: entries naming the token id (never the token), by the operator', async () => {
    const created = await runCli([
      'token',
      'create',
      '--max-uses',
      '3',
      '--description',
      'for ci',
      ...store,
    ])
    assert.equal(created.code, 0, created.stderr)
    const token = created.stdout.trimEnd().split('\n').at(-1) as string
    assert.match(token, /^[A-Za-z0-9_-]{43}$/)
    const id = /created initial access token (\S+)/.exec(created.stderr)?.[1] as string
    const revoked = await runCli(['token', 'revoke', id, ...store])
    assert.equal(revoked.code, 0, revoked.stderr)
    assert.equal(revoked.stdout, `revoked ${id}\n`)

    const res = await runCli(['audit', '--json', ...store])
    assert.ok(!res.stdout.includes(token), 'the token is never recorded')
    const entries = (JSON.parse(res.stdout) as AuditEntry[]).filter(
      (e) => e.details?.initial_access_token_id === id,
    )
    assert.deepEqual(
      entries.map((e) => e.event),
      ['initial_access_token_revoked', 'initial_access_token_created'],
    )
    for (const e of entries) assert.deepEqual(e.actor, OPERATOR)
    assert.equal(entries[1]?.details?.max_uses, 3)
    assert.equal(entries[1]?.details?.description, 'for ci')
  })

  it('unknown ids: exit 1 and one line naming the id, no stack trace, nothing recorded', async () => {
    const before = (await audit()).length
    const results = await Promise.all([
      runCli(['clients', 'disable', 'no-such-client', ...store]),
      runCli(['clients', 'enable', 'no-such-client', ...store]),
      runCli(['clients', 'delete', 'no-such-client', ...store]),
      runCli(['clients', 'approve', 'no-such-client', '--version', '1', ...store]),
    ])
    for (const res of results) {
      assert.equal(res.code, 1)
      assert.match(res.stderr, /^no client with client_id no-such-client$/m)
      assert.doesNotMatch(res.stderr, /\n\s+at |Error:/)
    }
    const token = await runCli(['token', 'revoke', 'no-such-token', ...store])
    assert.equal(token.code, 1)
    assert.match(token.stderr, /^no initial access token with id no-such-token$/m)
    assert.doesNotMatch(token.stderr, /\n\s+at |Error:/)
    const usage = await runCli(['clients', 'disable', ...store])
    assert.equal(usage.code, 2)
    assert.match(usage.stderr, /exactly one client_id/)
    assert.equal((await audit()).length, before)
  })

  it('audit.enabled false: the change is made and nothing is recorded', async () => {
    const before = (await audit()).length
    const config = join(t.dir, 'no-audit.json')
    writeFileSync(config, JSON.stringify({ audit: { enabled: false } }))
    const res = await runCli(['clients', 'disable', active, '--config', config, ...store])
    assert.equal(res.code, 0, res.stderr)
    assert.equal((await status(active)).status, 'disabled')
    assert.equal((await audit()).length, before)
  })

  it('--help names disable and enable, and says changes are audited', async () => {
    const res = await runCli(['clients', '--help'])
    assert.equal(res.code, 0)
    assert.match(res.stdout, /registrar clients disable ID/)
    assert.match(res.stdout, /registrar clients enable ID/)
    assert.match(res.stdout, /audit trail/)
    const token = await runCli(['token', '--help'])
    assert.match(token.stdout, /audit trail/)
  })
})
