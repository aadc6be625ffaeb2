import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { describe, it } from 'node:test'
import { AuditTrail, memberChanges } from '../../src/admin/audit.js'
import { adminKeys } from '../../src/admin/keys.js'
import { AdminService } from '../../src/admin/service.js'
import { sha256 } from '../../src/core/crypto.js'
import { createInitialAccessToken } from '../../src/core/initial-access-token.js'
import type { AuditEntry } from '../../src/core/store.js'
import { makeRegistrar } from '../helpers.js'

// Issue 13 item 2: the audit trail records who did what to which client, with the changed members
// before → after, and never a secret, a token or a hash.

function setup(options: { recordReads?: boolean; clock?: () => number } = {}) {
  const { registrar, store, config } = makeRegistrar(
    {
      registration: { mode: 'open', secretEncryptionKey: Buffer.alloc(32, 7).toString('hex') },
      // the trail under test is attached below, by hand
      audit: { enabled: false },
    },
    options.clock ? { clock: options.clock } : {},
  )
  const errors: unknown[] = []
  const audit = new AuditTrail({
    store,
    ...(options.clock && { clock: options.clock }),
    recordReads: options.recordReads ?? false,
    failureThreshold: 3,
    failureWindow: 60,
    onError: (err) => errors.push(err),
  })
  audit.observeRegistrar(registrar)
  const service = new AdminService({
    store,
    config,
    registrar,
    cursorKey: adminKeys(undefined).cursor,
  })
  audit.observeAdmin(service)
  const entries = async (): Promise<AuditEntry[]> => {
    await audit.flush()
    return (await store.listAuditEntries({ limit: 1000 })).reverse()
  }
  return { registrar, store, audit, service, entries, errors }
}

const web = { redirect_uris: ['https://app.example/cb'], client_name: 'App' }

describe('audit trail', () => {
  it('records registration, update and deletion with actor, address and changed members; never a credential', async () => {
    const { registrar, store, entries } = setup()
    const origin = { address: '203.0.113.5' }
    const reg = await registrar.register({ metadata: web }, origin)
    const rat = reg.registration_access_token
    const updated = await registrar.updateClient(
      reg.client_id,
      rat,
      {
        ...web,
        client_id: reg.client_id,
        client_name: 'App 2',
        logo_uri: 'https://app.example/logo.png',
        token_endpoint_auth_method: 'client_secret_jwt',
      },
      origin,
    )
    await registrar.readClient(reg.client_id, rat, origin)
    await registrar.deleteClient(reg.client_id, rat, origin)
    const all = await entries()
    assert.deepEqual(
      all.map((e) => [e.event, e.client_id, e.actor.type, e.actor.id, e.actor.address]),
      [
        ['registered', reg.client_id, 'anonymous', undefined, '203.0.113.5'],
        ['updated', reg.client_id, 'client', reg.client_id, '203.0.113.5'],
        ['deleted', reg.client_id, 'client', reg.client_id, '203.0.113.5'],
      ],
    )
    const [created, change, removal] = all as [AuditEntry, AuditEntry, AuditEntry]
    assert.deepEqual(created.changes?.client_name, { after: 'App' })
    assert.equal(created.details?.status, 'active')
    assert.deepEqual(change.changes, {
      client_name: { before: 'App', after: 'App 2' },
      logo_uri: { after: 'https://app.example/logo.png' },
      token_endpoint_auth_method: { before: 'client_secret_basic', after: 'client_secret_jwt' },
    })
    assert.deepEqual(removal.changes?.client_name, { before: 'App 2' })
    assert.equal(removal.changes?.redirect_uris?.after, undefined)
    const record = JSON.stringify(all)
    const stored = await store.listAuditEntries({ limit: 100 })
    for (const secret of [
      rat,
      sha256(rat),
      reg.client_secret as string,
      sha256(reg.client_secret as string),
      updated.client_secret as string,
    ]) {
      assert.ok(!record.includes(secret), 'no credential in the audit trail')
      assert.ok(!JSON.stringify(stored).includes(secret))
    }
  })

  it('reads are recorded only with audit.recordReads', async () => {
    for (const recordReads of [false, true]) {
      const { registrar, entries } = setup({ recordReads })
      const reg = await registrar.register({ metadata: web })
      await registrar.readClient(reg.client_id, reg.registration_access_token)
      assert.deepEqual(
        (await entries()).map((e) => e.event),
        recordReads ? ['registered', 'read'] : ['registered'],
      )
    }
  })

  it('a registration with an initial access token names the token as the actor', async () => {
    const { registrar, store, entries } = setup()
    const { token, record } = await createInitialAccessToken(store)
    await registrar.register({ metadata: web, initialAccessToken: token })
    const [entry] = await entries()
    assert.deepEqual(entry?.actor, { type: 'initial_access_token', id: record.id })
    assert.ok(!JSON.stringify(entry).includes(token))
  })

  it('records what operators do: approve, disable, enable, delete, token created and revoked', async () => {
    const { store, service, entries } = setup()
    const admin = { type: 'admin' as const, id: 'adm-7', address: '192.0.2.1' }
    const reg = await makeClient(store, 'pending')
    await service.changeStatus('approve', reg, admin)
    await service.changeStatus('disable', reg, admin)
    await service.changeStatus('enable', reg, admin)
    const { token, record } = await service.createInitialAccessToken(admin, { maxUses: 1 })
    await service.revokeInitialAccessToken(record.id, admin)
    await service.deleteClient(reg, admin)
    const all = await entries()
    assert.deepEqual(
      all.map((e) => [e.event, e.actor.id, e.changes?.status]),
      [
        ['approved', 'adm-7', { before: 'pending', after: 'active' }],
        ['disabled', 'adm-7', { before: 'active', after: 'disabled' }],
        ['enabled', 'adm-7', { before: 'disabled', after: 'active' }],
        ['initial_access_token_created', 'adm-7', undefined],
        ['initial_access_token_revoked', 'adm-7', undefined],
        ['deleted', 'adm-7', undefined],
      ],
    )
    assert.equal(all[3]?.details?.initial_access_token_id, record.id)
    assert.ok(!JSON.stringify(all).includes(token))
  })

  it('a burst of wrong registration access tokens is one entry per window', async () => {
    let now = 1_700_000_000
    const { registrar, entries } = setup({ clock: () => now })
    const reg = await registrar.register({ metadata: web })
    const attempt = () =>
      assert.rejects(registrar.readClient(reg.client_id, 'guess', { address: '198.51.100.1' }))
    await attempt()
    await attempt()
    assert.deepEqual(
      (await entries()).map((e) => e.event),
      ['registered'],
    )
    for (let i = 0; i < 5; i++) await attempt()
    now += 61
    for (let i = 0; i < 3; i++) await attempt()
    const bursts = (await entries()).filter((e) => e.event === 'authentication_failures')
    assert.equal(bursts.length, 2)
    assert.equal(bursts[0]?.client_id, reg.client_id)
    assert.deepEqual(bursts[0]?.actor, { type: 'anonymous', address: '198.51.100.1' })
    assert.deepEqual(bursts[0]?.details, {
      credential: 'registration_access_token',
      failures: 3,
      within_seconds: 60,
    })
    assert.ok(!JSON.stringify(bursts).includes('guess'))
  })

  it('client.authentication_failed events of the AS side are counted by name, per client', async () => {
    const { audit, entries } = setup()
    const as = new EventEmitter()
    audit.observeClientAuthentication(as)
    for (let i = 0; i < 3; i++) {
      as.emit('client.authentication_failed', {
        client_id: 'c-1',
        method: 'client_secret_basic',
        reason: 'wrong_secret',
      })
    }
    as.emit('client.authentication_failed', { method: 'private_key_jwt' }) // no key: ignored
    as.emit('client.authentication_failed', 'not an object')
    const [burst] = await entries()
    assert.equal(burst?.event, 'authentication_failures')
    assert.equal(burst?.client_id, 'c-1')
    assert.deepEqual(burst?.details, {
      credential: 'client_authentication',
      method: 'client_secret_basic',
      reason: 'wrong_secret',
      failures: 3,
      within_seconds: 60,
    })
  })

  it('AS-BP-06: failures naming made-up client_ids are grouped by address, and the entry names none of them', async () => {
    const { audit, entries } = setup()
    const as = new EventEmitter()
    audit.observeClientAuthentication(as)
    for (let id = 0; id < 5; id++) {
      for (let i = 0; i < 4; i++) {
        as.emit('client.authentication_failed', {
          client_id: `made-up-${id}`,
          reason: 'unknown_client',
          address: '2001:db8:1::/64',
        })
      }
    }
    // a registered client's failures still have their own entry, under its client_id
    for (let i = 0; i < 3; i++) {
      as.emit('client.authentication_failed', {
        client_id: 'c-1',
        reason: 'wrong_secret',
        address: '2001:db8:1::/64',
      })
    }
    const written = await entries()
    assert.deepEqual(
      written.map((e) => [e.event, e.client_id, e.actor.address, e.details?.reason]),
      [
        ['authentication_failures', undefined, '2001:db8:1::/64', 'unknown_client'],
        ['authentication_failures', 'c-1', '2001:db8:1::/64', 'wrong_secret'],
      ],
    )
  })

  it('AS-6749-2.3.1-c AS-BP-06: the per-client limit of made-up client_ids is one entry per address and window', async () => {
    let now = 1_000_000
    const { audit, entries } = setup({ clock: () => now })
    const as = new EventEmitter()
    audit.observeClientAuthentication(as)
    const limit = (clientId: string, address: string) => {
      as.emit('client.authentication_limit_reached', {
        scope: 'client',
        client_id: clientId,
        address,
        max: 20,
        window_seconds: 60,
      })
    }
    for (const address of ['192.0.2.1', '192.0.2.2']) {
      for (let id = 0; id < 5; id++) {
        as.emit('client.authentication_failed', {
          client_id: `made-up-${id}`,
          reason: 'unknown_client',
          address,
        })
        limit(`made-up-${id}`, address)
      }
    }
    limit('c-1', '192.0.2.1') // a client nobody reported unknown keeps its client_id
    now += 61 // a later window: one more entry for the address
    as.emit('client.authentication_failed', {
      client_id: 'made-up-9',
      reason: 'unknown_client',
      address: '192.0.2.1',
    })
    limit('made-up-9', '192.0.2.1')
    const written = (await entries()).filter((e) => e.event === 'authentication_limit_reached')
    assert.deepEqual(
      written.map((e) => [e.client_id, e.actor.address, e.details?.reason]),
      [
        [undefined, '192.0.2.1', 'unknown_client'],
        [undefined, '192.0.2.2', 'unknown_client'],
        ['c-1', '192.0.2.1', undefined],
        [undefined, '192.0.2.1', 'unknown_client'],
      ],
    )
  })

  it('AS-BP-06: entries from unauthenticated traffic stay within a budget per window, whatever the number of addresses; the rest are counted as dropped', async () => {
    let now = 1_000_000
    const { store } = makeRegistrar({ audit: { enabled: false } })
    const dropped: string[] = []
    const audit = new AuditTrail({
      store,
      clock: () => now,
      failureThreshold: 2,
      failureWindow: 60,
      anonymousBudget: 10,
      onDropped: (event) => dropped.push(event),
    })
    const as = new EventEmitter()
    audit.observeClientAuthentication(as)
    const attack = () => {
      for (let a = 0; a < 24; a++) {
        for (let i = 0; i < 2; i++) {
          as.emit('client.authentication_failed', {
            client_id: `c-${a}`,
            reason: 'wrong_secret',
            address: `2001:db8:${a}::/64`,
          })
        }
      }
    }
    attack()
    await audit.flush()
    assert.equal((await store.listAuditEntries({ limit: 1000 })).length, 10)
    assert.equal(dropped.length, 14)
    assert.ok(dropped.every((e) => e === 'authentication_failures'))
    now += 61 // the next window has a budget of its own
    attack()
    await audit.flush()
    assert.equal((await store.listAuditEntries({ limit: 1000 })).length, 20)
  })

  it('retention purges entries older than the setting', async () => {
    let now = 1_700_000_000
    const { audit, entries } = setup({ clock: () => now })
    audit.record({ event: 'read', actor: { type: 'system' } })
    now += 10 * 86_400
    audit.record({ event: 'read', client_id: 'recent', actor: { type: 'system' } })
    await audit.flush()
    assert.equal(await audit.purge(5), 1)
    assert.deepEqual(
      (await entries()).map((e) => e.client_id),
      ['recent'],
    )
  })

  it('a store that cannot write is reported, and the change itself still succeeds', async () => {
    const { registrar, store, audit, errors } = setup()
    const original = store.appendAuditEntry.bind(store)
    store.appendAuditEntry = () => Promise.reject(new Error('disk full'))
    const reg = await registrar.register({ metadata: web })
    await audit.flush()
    assert.ok(reg.client_id)
    assert.equal(errors.length, 1)
    store.appendAuditEntry = original
  })

  it('memberChanges: added, removed, changed; equal values and server-issued members left out', () => {
    assert.deepEqual(
      memberChanges(
        { a: 1, b: [1, 2], c: { x: 1 }, client_secret: 's' } as never,
        { b: [1, 2], c: { x: 2 }, d: 'new', registration_access_token: 't' } as never,
      ),
      { a: { before: 1 }, c: { before: { x: 1 }, after: { x: 2 } }, d: { after: 'new' } },
    )
  })
})

async function makeClient(
  store: ReturnType<typeof makeRegistrar>['store'],
  status: 'pending' | 'active',
): Promise<string> {
  const { client } = await import('../storage/store.contract.js')
  await store.createClient(client('audited', { status }))
  return 'audited'
}
