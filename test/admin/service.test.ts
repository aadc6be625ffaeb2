import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { adminKeys } from '../../src/admin/keys.js'
import { type AdminEvents, AdminService } from '../../src/admin/service.js'
import { RegistrationError } from '../../src/core/errors.js'
import type { AuditActor, ClientRecord } from '../../src/core/store.js'
import { makeRegistrar } from '../helpers.js'
import { client } from '../storage/store.contract.js'

// Issue 13 item 4: the admin service behind the admin API and the console.

const ADMIN: AuditActor = { type: 'admin', id: 'adm-1', address: '127.0.0.1' }

function setup(file: Record<string, unknown> = {}) {
  const { registrar, store, config } = makeRegistrar(file)
  const service = new AdminService({
    store,
    config,
    registrar,
    cursorKey: adminKeys(undefined).cursor,
  })
  const events: [keyof AdminEvents, unknown][] = []
  for (const name of [
    'admin.approved',
    'admin.disabled',
    'admin.enabled',
    'admin.deleted',
    'admin.initial_access_token.created',
    'admin.initial_access_token.revoked',
  ] as const) {
    service.on(name, (e: unknown) => events.push([name, e]))
  }
  return { registrar, store, config, service, events }
}

function refused(status: number, pattern?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof RegistrationError, String(err))
    assert.equal(err.status, status)
    if (pattern) assert.match(err.error_description ?? '', pattern)
    return true
  }
}

const ids = (cs: ClientRecord[]) => cs.map((c) => c.client_id)

describe('AdminService: listing clients', () => {
  it('pages through every client with opaque cursors, pending approvals first', async () => {
    const { store, service } = setup()
    for (let i = 0; i < 7; i++) {
      await store.createClient(
        client(`c-${i}`, { client_id_issued_at: 100 + i, status: i === 2 ? 'pending' : 'active' }),
      )
    }
    const seen: string[] = []
    let cursor: string | undefined
    let pages = 0
    do {
      const page = await service.listClients({}, { limit: 3, ...(cursor && { cursor }) })
      seen.push(...ids(page.items))
      cursor = page.nextCursor
      pages++
      if (cursor) {
        // opaque: the position it carries cannot be read from it
        for (const part of cursor.split('.')) {
          assert.ok(!Buffer.from(part, 'base64url').toString('latin1').includes('c-'))
        }
      }
    } while (cursor)
    assert.equal(pages, 3)
    assert.deepEqual(seen, ['c-2', 'c-6', 'c-5', 'c-4', 'c-3', 'c-1', 'c-0'])
  })

  it('no next cursor when the page is the last one, even when it is exactly full', async () => {
    const { store, service } = setup()
    for (let i = 0; i < 3; i++) await store.createClient(client(`c-${i}`))
    const page = await service.listClients({}, { limit: 3 })
    assert.equal(page.items.length, 3)
    assert.equal(page.nextCursor, undefined)
  })

  it('a tampered, truncated or foreign cursor is 400 invalid_request', async () => {
    const { store, service } = setup()
    for (let i = 0; i < 4; i++) await store.createClient(client(`c-${i}`))
    const { nextCursor } = await service.listClients({}, { limit: 1 })
    assert.ok(nextCursor)
    const parts = nextCursor.split('.')
    const body = Buffer.from(parts[3] as string, 'base64url')
    body[0] = (body[0] as number) ^ 1
    const tampered = [...parts.slice(0, 3), body.toString('base64url')].join('.')
    for (const bad of [tampered, nextCursor.slice(0, -2), 'garbage', '', 'v1.a.b.c']) {
      await assert.rejects(service.listClients({}, { cursor: bad }), refused(400, /cursor/))
    }
    // a cursor of other filters, or of another listing, does not open either
    await assert.rejects(
      service.listClients({ status: 'active' }, { cursor: nextCursor }),
      refused(400, /cursor/),
    )
    await assert.rejects(service.audit({}, { cursor: nextCursor }), refused(400, /cursor/))
    // nor one sealed with another process's key
    const other = setup().service
    await assert.rejects(other.listClients({}, { cursor: nextCursor }), refused(400, /cursor/))
  })

  it('bad filters and page sizes are 400, not an empty page', async () => {
    const { service } = setup()
    await assert.rejects(
      service.listClients({ status: 'gone' as never }),
      refused(400, /status must be one of/),
    )
    await assert.rejects(service.listClients({ source: 'x' as never }), refused(400, /source/))
    for (const limit of [0, -1, 201, 1.5, Number.NaN]) {
      await assert.rejects(service.listClients({}, { limit }), refused(400, /limit/))
    }
  })

  it('search and filters reach the store', async () => {
    const { registrar, service } = setup()
    await registrar.register({
      metadata: {
        redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
        client_name: 'Claude',
      },
    })
    await registrar.register({ metadata: { redirect_uris: ['https://other.example/cb'] } })
    const page = await service.listClients({ search: '  claude.ai ', source: 'anonymous' })
    assert.deepEqual(
      page.items.map((c) => c.metadata.client_name),
      ['Claude'],
    )
  })
})

describe('AdminService: status changes and deletion', () => {
  it('approve: pending → active, with an event naming the actor; again is 409', async () => {
    const { store, service, events } = setup()
    await store.createClient(client('p', { status: 'pending', version: 3 }))
    const approved = await service.changeStatus('approve', 'p', ADMIN)
    assert.equal(approved.status, 'active')
    assert.equal(approved.version, 4)
    assert.equal((await store.findClient('p'))?.status, 'active')
    assert.deepEqual(events, [
      [
        'admin.approved',
        { client_id: 'p', actor: ADMIN, before: 'pending', after: 'active', version: 4 },
      ],
    ])
    await assert.rejects(service.changeStatus('approve', 'p', ADMIN), refused(409, /is active/))
  })

  it('disable and enable; each applies only to its statuses', async () => {
    const { store, service } = setup()
    await store.createClient(client('a'))
    await assert.rejects(service.changeStatus('enable', 'a', ADMIN), refused(409))
    assert.equal((await service.changeStatus('disable', 'a', ADMIN)).status, 'disabled')
    await assert.rejects(service.changeStatus('approve', 'a', ADMIN), refused(409))
    assert.equal((await service.changeStatus('enable', 'a', ADMIN)).status, 'active')
    await store.createClient(client('p', { status: 'pending' }))
    // refusing a registration that awaits approval
    assert.equal((await service.changeStatus('disable', 'p', ADMIN)).status, 'disabled')
  })

  it('with an expected version, a client changed meanwhile is refused 412 and left alone', async () => {
    const { store, service } = setup()
    await store.createClient(client('p', { status: 'pending', version: 1 }))
    await store.replaceClient(client('p', { status: 'pending', version: 2 }), 1)
    await assert.rejects(
      service.changeStatus('approve', 'p', ADMIN, { expectedVersion: 1 }),
      refused(412, /version 1 \(it is at version 2\)/),
    )
    assert.equal((await store.findClient('p'))?.status, 'pending')
    await assert.rejects(service.deleteClient('p', ADMIN, { expectedVersion: 1 }), refused(412))
    assert.ok(await store.findClient('p'))
    assert.equal(
      (await service.changeStatus('approve', 'p', ADMIN, { expectedVersion: 2 })).status,
      'active',
    )
  })

  it('two operators approving the same version: exactly one succeeds', async () => {
    const { store, service, events } = setup()
    await store.createClient(client('p', { status: 'pending', version: 5 }))
    const results = await Promise.allSettled([
      service.changeStatus('approve', 'p', ADMIN, { expectedVersion: 5 }),
      service.changeStatus('disable', 'p', { type: 'admin', id: 'adm-2' }, { expectedVersion: 5 }),
    ])
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
    assert.equal(events.length, 1)
  })

  it('unknown clients are 404', async () => {
    const { service } = setup()
    await assert.rejects(service.getClient('nope'), refused(404))
    await assert.rejects(service.changeStatus('approve', 'nope', ADMIN), refused(404))
    await assert.rejects(service.deleteClient('nope', ADMIN), refused(404))
  })

  it('delete: the client and its registration access token stop working; the event keeps its metadata', async () => {
    const { registrar, service, events } = setup()
    const reg = await registrar.register({
      metadata: { redirect_uris: ['https://app.example/cb'], client_name: 'App' },
    })
    await service.deleteClient(reg.client_id, ADMIN)
    await assert.rejects(
      registrar.readClient(reg.client_id, reg.registration_access_token),
      refused(401),
    )
    const [name, payload] = events[0] ?? []
    assert.equal(name, 'admin.deleted')
    assert.equal((payload as { metadata: { client_name: string } }).metadata.client_name, 'App')
  })
})

describe('AdminService: initial access tokens, audit, dry run', () => {
  it('creates (token shown once), lists and revokes initial access tokens, with events', async () => {
    const { service, events, registrar } = setup({
      registration: { mode: 'token' },
      policies: { definitions: { partners: {} } },
    })
    const { token, record } = await service.createInitialAccessToken(ADMIN, {
      maxUses: 2,
      expiresIn: 3600,
      policy: 'partners',
      description: 'for Acme',
    })
    assert.match(token, /^[A-Za-z0-9_-]{43}$/)
    assert.equal(record.policy, 'partners')
    const listed = await service.listInitialAccessTokens()
    assert.deepEqual(
      listed.map((t) => t.id),
      [record.id],
    )
    const reg = await registrar.register({
      metadata: { redirect_uris: ['https://a.example/cb'] },
      initialAccessToken: token,
    })
    assert.ok(reg.client_id)
    await service.revokeInitialAccessToken(record.id, ADMIN)
    await assert.rejects(
      registrar.register({
        metadata: { redirect_uris: ['https://a.example/cb'] },
        initialAccessToken: token,
      }),
      refused(401),
    )
    await assert.rejects(service.revokeInitialAccessToken(record.id, ADMIN), refused(404))
    assert.deepEqual(
      events.map(([name]) => name),
      ['admin.initial_access_token.created', 'admin.initial_access_token.revoked'],
    )
    assert.ok(!JSON.stringify(events).includes(token), 'events never carry the token')
    await assert.rejects(
      service.createInitialAccessToken(ADMIN, { policy: 'nope' }),
      refused(400, /policy/),
    )
  })

  it('pages the audit trail with cursors, newest first, per client', async () => {
    const { store, service } = setup()
    for (let i = 0; i < 5; i++) {
      await store.appendAuditEntry({
        at: 1000 + i,
        event: 'read',
        client_id: i % 2 ? 'odd' : 'even',
        actor: { type: 'client', id: 'x' },
      })
    }
    const first = await service.audit({}, { limit: 2 })
    assert.deepEqual(
      first.items.map((e) => e.at),
      [1004, 1003],
    )
    const second = await service.audit({}, { limit: 2, cursor: first.nextCursor as string })
    assert.deepEqual(
      second.items.map((e) => e.at),
      [1002, 1001],
    )
    const even = await service.audit({ clientId: 'even', since: 1001 })
    assert.deepEqual(
      even.items.map((e) => e.at),
      [1004, 1002],
    )
    await assert.rejects(
      service.audit({ clientId: 'odd' }, { cursor: first.nextCursor as string }),
      refused(400, /cursor/),
    )
  })

  it('dry run: accepted with the decisions, or refused with the error; nothing is stored', async () => {
    const { service, store } = setup({
      policies: {
        anonymous: 'public',
        definitions: { public: { redirectUriHosts: ['app.example'], requireApproval: true } },
      },
    })
    const accepted = await service.dryRun({ redirect_uris: ['https://app.example/cb'] })
    assert.equal(accepted.result, 'accepted')
    assert.equal(accepted.result === 'accepted' && accepted.policy, 'public')
    assert.equal(accepted.result === 'accepted' && accepted.decided_by.redirect_uris, 'request')
    const refusedRun = await service.dryRun({ redirect_uris: ['https://evil.example/cb'] })
    assert.equal(refusedRun.result, 'refused')
    assert.equal(refusedRun.result === 'refused' && refusedRun.error, 'invalid_redirect_uri')
    assert.equal(await store.countClients(), 0)
  })
})
