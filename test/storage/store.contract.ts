import assert from 'node:assert/strict'
import { after, afterEach, before, beforeEach, describe, it } from 'node:test'
import {
  type AdminTokenRecord,
  type AuditEntry,
  type ClientRecord,
  clientPosition,
  type InitialAccessTokenRecord,
  type Store,
} from '../../src/core/store.js'
import type { ClientMetadata } from '../../src/metadata/types.js'
import { serviceSuite } from '../service-suite.js'

/** How the contract gets stores of one implementation. */
export interface StoreUnderTest {
  /** A store over empty tables; closed by the suite after each test. */
  open(): Promise<Store>
  /** `describe`'s skip: a reason, or false. */
  skip?: string | false
  before?: () => Promise<void> | void
  after?: () => Promise<void> | void
}

/** Metadata as validation leaves it: the required members with their defaults, plus `extra`. */
export function metadata(extra: Record<string, unknown> = {}): ClientMetadata {
  return {
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    application_type: 'web',
    ...extra,
  }
}

/** A minimal record: every optional member absent. */
export function client(id: string, overrides: Partial<ClientRecord> = {}): ClientRecord {
  return {
    client_id: id,
    client_id_issued_at: 1_700_000_000,
    registrationAccessTokenHash: `rat-hash-${id}`,
    metadata: metadata({ redirect_uris: ['https://client.example.org/cb'] }),
    status: 'active',
    updatedAt: 1_700_000_000,
    version: 1,
    ...overrides,
  }
}

/** Every optional member present, with metadata that is hard to store faithfully. */
export function fullClient(id: string): ClientRecord {
  return {
    client_id: id,
    client_id_issued_at: 1_700_000_123,
    client_secret_expires_at: 0,
    clientSecretHash: 'secret-hash',
    clientSecretEncrypted: 'v1.nonce.ciphertext.tag',
    registrationAccessTokenHash: 'rat-hash',
    metadata: metadata({
      redirect_uris: ['https://client.example.org/cb', 'com.example.app:/cb'],
      client_name: 'My Example Client',
      // RFC 7591 §2.2 language-tagged members, echoed byte for byte
      'client_name#ja-Jpan-JP': 'クライアント名',
      'client_name#ar': 'عميل تجريبي',
      'tos_uri#de': 'https://client.example.org/de/agb',
      logo_uri: 'https://client.example.org/logo.png?size=64&lang=fr',
      contacts: ['ops@example.org', 'zoë@exämple.org'],
      software_version: '1.0.0-β',
      emoji: '🔐👩‍💻',
      combining: 'e\u0301 vs \u00e9',
      quotes: 'it\'s "quoted" \\ back\\slash\n\t',
      nul: 'before\u0000after',
      lone_surrogate: '\ud83d',
      nested: { deep: [1, 2.5, -3, true, false, null, { k: 'v' }] },
      big_number: 9007199254740991,
      empty_string: '',
      empty_array: [],
      jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'f83O', y: 'x_FE', use: 'sig', kid: '1' }] },
    }),
    software_statement: 'eyJhbGciOiJSUzI1NiJ9.eyJzb2Z0d2FyZV9pZCI6IngifQ.sig',
    status: 'disabled',
    policy: 'partners',
    initialAccessTokenId: 'iat-1',
    updatedAt: 1_700_000_456,
    version: 7,
    previousClientSecrets: [
      { hash: 'prev-hash', encrypted: 'v1.prev', expiresAt: 1_700_000_789 },
      { hash: 'older-hash', expiresAt: 1_700_000_700 },
    ],
  }
}

export function token(
  id: string,
  overrides: Partial<InitialAccessTokenRecord> = {},
): InitialAccessTokenRecord {
  return {
    id,
    tokenHash: `iat-hash-${id}`,
    createdAt: 1_700_000_000,
    expiresAt: null,
    maxUses: null,
    uses: 0,
    ...overrides,
  }
}

const NOW = 1_700_000_500

/**
 * The Store contract (core/store.ts): every implementation passes the same tests, so the domain
 * may rely on exactly these guarantees whatever the deployment uses.
 */
export function storeContract(name: string, subject: StoreUnderTest): void {
  serviceSuite(`Store contract: ${name}`, subject.skip ?? false, () => {
    let store: Store
    if (subject.before) before(subject.before)
    if (subject.after) after(subject.after)
    beforeEach(async () => {
      store = await subject.open()
    })
    afterEach(async () => {
      await store.close()
    })

    describe('clients', () => {
      it('createClient() then findClient() round-trips a record with every optional member absent', async () => {
        const record = client('c-minimal')
        assert.equal(await store.createClient(record), true)
        const found = await store.findClient('c-minimal')
        // deepStrictEqual: an absent member must come back absent, not as undefined or null
        assert.deepStrictEqual(found, record)
        assert.deepEqual(Object.keys(found ?? {}).sort(), Object.keys(record).sort())
      })

      it('createClient() then findClient() round-trips every member, unicode and language tags included', async () => {
        const record = fullClient('c-full')
        await store.createClient(record)
        const found = await store.findClient('c-full')
        assert.deepStrictEqual(found, record)
        // members keep their order (RFC 7591 §2.2 echo, byte for byte)
        assert.deepEqual(Object.keys(found?.metadata ?? {}), Object.keys(record.metadata))
        assert.equal(found?.metadata['client_name#ja-Jpan-JP'], 'クライアント名')
      })

      it('round-trips timestamps beyond 2^32 and large versions', async () => {
        const record = client('c-big', {
          client_id_issued_at: 2 ** 40,
          client_secret_expires_at: 2 ** 41,
          updatedAt: 2 ** 40 + 1,
          version: 2_000_000_000,
        })
        await store.createClient(record)
        assert.deepStrictEqual(await store.findClient('c-big'), record)
      })

      it('a status is stored as written, never turned into another (an unknown one is not active)', async () => {
        await store.createClient(client('c-pending', { status: 'pending' as never }))
        assert.equal((await store.findClient('c-pending'))?.status, 'pending')
        assert.equal((await store.listClients())[0]?.status, 'pending')
      })

      it('findClient() of an unknown client_id resolves undefined', async () => {
        assert.equal(await store.findClient('nobody'), undefined)
      })

      it('records are copies: mutating what was stored or returned changes nothing', async () => {
        const record = client('c-copy')
        await store.createClient(record)
        record.metadata.client_name = 'changed after create'
        const found = (await store.findClient('c-copy')) as ClientRecord
        assert.equal(found.metadata.client_name, undefined)
        found.metadata.client_name = 'changed after find'
        assert.equal((await store.findClient('c-copy'))?.metadata.client_name, undefined)
      })

      it('createClient() with a client_id that exists rejects and keeps the stored record', async () => {
        await store.createClient(client('c-dup'))
        await assert.rejects(store.createClient(client('c-dup', { version: 9 })))
        assert.equal((await store.findClient('c-dup'))?.version, 1)
        assert.equal(await store.countClients(), 1)
      })

      it('replaceClient() at the expected version replaces the whole record', async () => {
        await store.createClient(fullClient('c-rep'))
        const next = client('c-rep', {
          metadata: metadata({
            redirect_uris: ['https://new.example.org/cb'],
            client_name: 'Renamed',
          }),
          updatedAt: 1_700_000_999,
          version: 8,
        })
        assert.equal(await store.replaceClient(next, 7), true)
        // members absent from the new record are gone (RFC 7592 §2.2: the update replaces)
        assert.deepStrictEqual(await store.findClient('c-rep'), next)
      })

      it('replaceClient() at a stale version resolves false and changes nothing', async () => {
        await store.createClient(client('c-stale'))
        const first = client('c-stale', {
          version: 2,
          metadata: metadata({ client_name: 'first' }),
        })
        assert.equal(await store.replaceClient(first, 1), true)
        const late = client('c-stale', { version: 2, metadata: metadata({ client_name: 'late' }) })
        assert.equal(await store.replaceClient(late, 1), false)
        assert.deepStrictEqual(await store.findClient('c-stale'), first)
      })

      it('replaceClient() of a missing client resolves false and creates nothing', async () => {
        assert.equal(await store.replaceClient(client('c-missing', { version: 2 }), 1), false)
        assert.equal(await store.findClient('c-missing'), undefined)
        assert.equal(await store.countClients(), 0)
      })

      it('concurrent replaceClient() at one version: exactly one wins', async () => {
        await store.createClient(client('c-race'))
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.replaceClient(client('c-race', { version: 2, metadata: metadata({ n: i }) }), 1),
          ),
        )
        assert.equal(results.filter(Boolean).length, 1)
        const winner = results.indexOf(true)
        assert.deepEqual((await store.findClient('c-race'))?.metadata, metadata({ n: winner }))
      })

      it('deleteClient() resolves true once, then false; the client is gone', async () => {
        await store.createClient(client('c-del'))
        await store.createClient(client('c-keep'))
        assert.equal(await store.deleteClient('c-del'), true)
        assert.equal(await store.deleteClient('c-del'), false)
        assert.equal(await store.findClient('c-del'), undefined)
        assert.ok(await store.findClient('c-keep'))
        assert.equal(await store.deleteClient('nobody'), false)
      })

      it('deleteClient() with an expected version deletes only that version (RFC 7592 §5 races)', async () => {
        await store.createClient(client('c-ver'))
        const stored = (await store.findClient('c-ver')) as ClientRecord
        assert.equal(await store.deleteClient('c-ver', stored.version + 1), false)
        assert.ok(await store.findClient('c-ver'), 'a stale delete leaves the client')
        assert.equal(await store.deleteClient('c-ver', stored.version), true)
        assert.equal(await store.findClient('c-ver'), undefined)
        assert.equal(await store.deleteClient('c-ver', stored.version), false)
      })

      it('listClients() orders by client_id_issued_at then client_id (bytewise)', async () => {
        assert.deepEqual(await store.listClients(), [])
        // inserted out of order; upper case sorts before lower case, digits before both
        const ids: [string, number][] = [
          ['b', 20],
          ['a', 20],
          ['Z', 20],
          ['9', 20],
          ['z-late', 30],
          ['m-early', 10],
          ['_x', 20],
        ]
        for (const [id, at] of ids)
          await store.createClient(client(id, { client_id_issued_at: at }))
        const listed = await store.listClients()
        assert.deepEqual(
          listed.map((c) => c.client_id),
          ['m-early', '9', 'Z', '_x', 'a', 'b', 'z-late'],
        )
        assert.deepStrictEqual(listed[0], client('m-early', { client_id_issued_at: 10 }))
      })

      it('listClients() pages with limit and after', async () => {
        for (let i = 0; i < 7; i++) {
          await store.createClient(client(`p${i}`, { client_id_issued_at: 100 + (i % 3) }))
        }
        const all = (await store.listClients()).map((c) => c.client_id)
        assert.deepEqual(all, ['p0', 'p3', 'p6', 'p1', 'p4', 'p2', 'p5'])
        assert.deepEqual(
          (await store.listClients({ limit: 2 })).map((c) => c.client_id),
          ['p0', 'p3'],
        )
        assert.deepEqual(await store.listClients({ limit: 0 }), [])
        const paged: string[] = []
        let cursor: string | undefined
        for (;;) {
          const page = await store.listClients({ limit: 3, ...(cursor && { after: cursor }) })
          if (page.length === 0) break
          paged.push(...page.map((c) => c.client_id))
          cursor = page.at(-1)?.client_id
        }
        assert.deepEqual(paged, all)
        assert.deepEqual(
          (await store.listClients({ after: 'p6' })).map((c) => c.client_id),
          ['p1', 'p4', 'p2', 'p5'],
        )
        assert.deepEqual(await store.listClients({ after: 'p5' }), [])
        // an `after` that names no client (deleted meanwhile) starts from the beginning
        assert.deepEqual(
          (await store.listClients({ after: 'gone', limit: 2 })).map((c) => c.client_id),
          ['p0', 'p3'],
        )
      })

      it('countClients() counts all clients, or those of one policy', async () => {
        assert.equal(await store.countClients(), 0)
        await store.createClient(client('n1', { policy: 'partners' }))
        await store.createClient(client('n2', { policy: 'partners' }))
        await store.createClient(client('n3', { policy: 'anonymous' }))
        await store.createClient(client('n4'))
        assert.equal(await store.countClients(), 4)
        assert.equal(await store.countClients({}), 4)
        assert.equal(await store.countClients({ policy: 'partners' }), 2)
        assert.equal(await store.countClients({ policy: 'anonymous' }), 1)
        assert.equal(await store.countClients({ policy: 'nobody' }), 0)
      })
    })

    describe('initial access tokens', () => {
      it('createInitialAccessToken() then findInitialAccessToken() round-trips, optional members absent or present', async () => {
        const bare = token('t-bare')
        const full = token('t-full', {
          expiresAt: 1_800_000_000,
          maxUses: 5,
          uses: 2,
          policy: 'partners',
          description: 'for the partner portal — ünïcode ✓',
        })
        await store.createInitialAccessToken(bare)
        await store.createInitialAccessToken(full)
        assert.deepStrictEqual(await store.findInitialAccessToken(bare.tokenHash), bare)
        assert.deepStrictEqual(await store.findInitialAccessToken(full.tokenHash), full)
        assert.equal(await store.findInitialAccessToken('unknown'), undefined)
      })

      it('a token is usable only while expiresAt is after now (through createClient)', async () => {
        await store.createInitialAccessToken(token('t-exp', { expiresAt: NOW }))
        const at = (now: number) => ({ initialAccessToken: { tokenHash: 'iat-hash-t-exp', now } })
        assert.equal(await store.createClient(client('c-exp-1'), at(NOW)), false)
        assert.equal(await store.createClient(client('c-exp-2'), at(NOW + 1)), false)
        assert.equal(await store.createClient(client('c-exp-3'), at(NOW - 1)), true)
        assert.equal((await store.findInitialAccessToken('iat-hash-t-exp'))?.uses, 1)
      })

      it('a token without maxUses never runs out (through createClient)', async () => {
        await store.createInitialAccessToken(token('t-unl'))
        const using = { initialAccessToken: { tokenHash: 'iat-hash-t-unl', now: NOW } }
        for (let i = 1; i <= 25; i++) {
          assert.equal(await store.createClient(client(`c-unl-${i}`), using), true)
        }
        assert.equal((await store.findInitialAccessToken('iat-hash-t-unl'))?.uses, 25)
      })

      it('listInitialAccessTokens() orders by createdAt then id', async () => {
        assert.deepEqual(await store.listInitialAccessTokens(), [])
        await store.createInitialAccessToken(token('t3', { createdAt: 30 }))
        await store.createInitialAccessToken(token('t2', { createdAt: 10 }))
        await store.createInitialAccessToken(token('t1', { createdAt: 30 }))
        const listed = await store.listInitialAccessTokens()
        assert.deepEqual(
          listed.map((t) => t.id),
          ['t2', 't1', 't3'],
        )
        assert.deepStrictEqual(listed[0], token('t2', { createdAt: 10 }))
      })

      it('revokeInitialAccessToken() deletes by id: the token can no longer be found or used', async () => {
        await store.createInitialAccessToken(token('t-rev'))
        await store.createInitialAccessToken(token('t-other'))
        assert.equal(await store.revokeInitialAccessToken('t-rev'), true)
        assert.equal(await store.revokeInitialAccessToken('t-rev'), false)
        assert.equal(await store.revokeInitialAccessToken('unknown'), false)
        assert.equal(await store.findInitialAccessToken('iat-hash-t-rev'), undefined)
        assert.equal(
          await store.createClient(client('c-rev'), {
            initialAccessToken: { tokenHash: 'iat-hash-t-rev', now: NOW },
          }),
          false,
        )
        assert.deepEqual(
          (await store.listInitialAccessTokens()).map((t) => t.id),
          ['t-other'],
        )
      })
    })

    describe('createClient() consuming an initial access token: both or neither', () => {
      const using = (hash: string) => ({ initialAccessToken: { tokenHash: hash, now: NOW } })

      it('a usable token: the client is stored and one use is counted', async () => {
        await store.createInitialAccessToken(token('t-ok', { maxUses: 3 }))
        const record = client('c-iat', { initialAccessTokenId: 't-ok' })
        assert.equal(await store.createClient(record, using('iat-hash-t-ok')), true)
        assert.deepStrictEqual(await store.findClient('c-iat'), record)
        assert.equal((await store.findInitialAccessToken('iat-hash-t-ok'))?.uses, 1)
      })

      it('an exhausted, expired or unknown token: resolves false, stores nothing, counts nothing', async () => {
        await store.createInitialAccessToken(token('t-used', { maxUses: 1, uses: 1 }))
        await store.createInitialAccessToken(token('t-old', { expiresAt: NOW - 1 }))
        assert.equal(await store.createClient(client('c1'), using('iat-hash-t-used')), false)
        assert.equal(await store.createClient(client('c2'), using('iat-hash-t-old')), false)
        assert.equal(await store.createClient(client('c3'), using('unknown')), false)
        assert.equal(await store.countClients(), 0)
        assert.equal((await store.findInitialAccessToken('iat-hash-t-used'))?.uses, 1)
        assert.equal((await store.findInitialAccessToken('iat-hash-t-old'))?.uses, 0)
      })

      it('an insert that fails (client_id taken) rejects and does not consume the token', async () => {
        await store.createInitialAccessToken(token('t-dup', { maxUses: 1 }))
        await store.createClient(client('c-taken'))
        await assert.rejects(store.createClient(client('c-taken'), using('iat-hash-t-dup')))
        assert.equal((await store.findInitialAccessToken('iat-hash-t-dup'))?.uses, 0)
        assert.equal(await store.createClient(client('c-free'), using('iat-hash-t-dup')), true)
      })

      it('50 concurrent registrations on a token with maxUses 5: exactly 5 clients', async () => {
        await store.createInitialAccessToken(token('t-50', { maxUses: 5 }))
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            store.createClient(client(`c50-${i}`), using('iat-hash-t-50')),
          ),
        )
        assert.equal(results.filter(Boolean).length, 5)
        assert.equal(await store.countClients(), 5)
        assert.equal((await store.findInitialAccessToken('iat-hash-t-50'))?.uses, 5)
        const stored = new Set((await store.listClients()).map((c) => c.client_id))
        results.forEach((ok, i) => {
          assert.equal(stored.has(`c50-${i}`), ok)
        })
      })
    })

    describe('createClient() under a policy ceiling', () => {
      const ceiling = (policy: string, maxClients: number) => ({ ceiling: { policy, maxClients } })
      const using = (hash: string) => ({ initialAccessToken: { tokenHash: hash, now: NOW } })

      it('inserts below the ceiling, refuses at it, and counts only that policy', async () => {
        await store.createClient(client('other-policy', { policy: 'other' }))
        assert.equal(await store.createClient(client('p1', { policy: 'p' }), ceiling('p', 2)), true)
        assert.equal(await store.createClient(client('p2', { policy: 'p' }), ceiling('p', 2)), true)
        assert.equal(
          await store.createClient(client('p3', { policy: 'p' }), ceiling('p', 2)),
          false,
        )
        assert.equal(await store.findClient('p3'), undefined)
        assert.equal(await store.countClients({ policy: 'p' }), 2)
      })

      it('a refused registration consumes no initial access token use', async () => {
        await store.createInitialAccessToken(token('t-ceil', { maxUses: 3 }))
        await store.createClient(client('full-1', { policy: 'full' }))
        const refused = await store.createClient(client('full-2', { policy: 'full' }), {
          ...ceiling('full', 1),
          ...using('iat-hash-t-ceil'),
        })
        assert.equal(refused, false)
        assert.equal((await store.findInitialAccessToken('iat-hash-t-ceil'))?.uses, 0)
      })

      it('40 concurrent registrations under a ceiling of 6: exactly 6 clients', async () => {
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            store.createClient(client(`cc-${i}`, { policy: 'race' }), ceiling('race', 6)),
          ),
        )
        assert.equal(results.filter(Boolean).length, 6)
        assert.equal(await store.countClients({ policy: 'race' }), 6)
      })
    })

    // issue 13 item 4: the admin service's search, with filters and keyset pagination
    describe('queryClients()', () => {
      /** A spread of clients: statuses, sources, policies, names, hosts and issue times. */
      async function seed(): Promise<void> {
        const records = [
          client('q-a', {
            client_id_issued_at: 100,
            metadata: metadata({
              client_name: 'Acme Portal',
              redirect_uris: ['https://portal.acme.example/cb'],
            }),
            policy: 'partners',
            initialAccessTokenId: 'iat-1',
          }),
          client('q-b', {
            client_id_issued_at: 200,
            status: 'pending',
            metadata: metadata({
              client_name: 'Cursor',
              redirect_uris: ['cursor://anysphere.cursor-mcp/oauth/callback'],
            }),
            policy: 'mcp',
          }),
          client('q-c', {
            client_id_issued_at: 300,
            status: 'disabled',
            software_statement: 'eyJ.eyJ.sig',
            policy: 'partners',
          }),
          client('q-d', {
            client_id_issued_at: 300,
            metadata: metadata({
              client_name: 'Claude',
              redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
            }),
            policy: 'mcp',
          }),
          client('q-e', { client_id_issued_at: 50, status: 'pending' }),
          // metadata that some SQL JSON functions refuse: the search must still work around it
          client('q-f', {
            client_id_issued_at: 250,
            metadata: metadata({
              client_name: 'nul\u0000 and lone \ud83d surrogate',
              redirect_uris: ['https://odd.example/cb'],
            }),
          }),
        ]
        for (const r of records) assert.equal(await store.createClient(r), true)
      }
      const ids = (cs: ClientRecord[]) => cs.map((c) => c.client_id)

      it('orders clients awaiting approval first, then the newest, then by client_id', async () => {
        await seed()
        assert.deepEqual(ids(await store.queryClients({ limit: 100 })), [
          'q-b',
          'q-e',
          'q-c',
          'q-d',
          'q-f',
          'q-a',
        ])
      })

      it('filters by status, policy and source; criteria combine', async () => {
        await seed()
        assert.deepEqual(ids(await store.queryClients({ status: 'pending', limit: 10 })), [
          'q-b',
          'q-e',
        ])
        assert.deepEqual(ids(await store.queryClients({ status: 'disabled', limit: 10 })), ['q-c'])
        assert.deepEqual(ids(await store.queryClients({ policy: 'partners', limit: 10 })), [
          'q-c',
          'q-a',
        ])
        assert.deepEqual(
          ids(await store.queryClients({ source: 'software_statement', limit: 10 })),
          ['q-c'],
        )
        assert.deepEqual(
          ids(await store.queryClients({ source: 'initial_access_token', limit: 10 })),
          ['q-a'],
        )
        assert.deepEqual(ids(await store.queryClients({ source: 'anonymous', limit: 10 })), [
          'q-b',
          'q-e',
          'q-d',
          'q-f',
        ])
        assert.deepEqual(
          ids(await store.queryClients({ policy: 'mcp', status: 'active', limit: 10 })),
          ['q-d'],
        )
        assert.deepEqual(ids(await store.queryClients({ policy: 'none-such', limit: 10 })), [])
      })

      it('searches client_id, client_name and redirect URIs, case-insensitively', async () => {
        await seed()
        assert.deepEqual(ids(await store.queryClients({ search: 'ACME', limit: 10 })), ['q-a'])
        assert.deepEqual(ids(await store.queryClients({ search: 'claude.ai', limit: 10 })), ['q-d'])
        assert.deepEqual(ids(await store.queryClients({ search: 'anysphere', limit: 10 })), ['q-b'])
        assert.deepEqual(ids(await store.queryClients({ search: 'Q-E', limit: 10 })), ['q-e'])
        assert.deepEqual(ids(await store.queryClients({ search: 'odd.example', limit: 10 })), [
          'q-f',
        ])
        // member names and other members are not searched
        assert.deepEqual(
          ids(await store.queryClients({ search: 'authorization_code', limit: 10 })),
          [],
        )
        assert.deepEqual(
          ids(
            await store.queryClients({ search: 'mcp', policy: 'mcp', status: 'active', limit: 10 }),
          ),
          ['q-d'],
        )
        // % and _ are plain characters, not patterns
        assert.deepEqual(ids(await store.queryClients({ search: '%', limit: 10 })), [])
        assert.deepEqual(ids(await store.queryClients({ search: 'q_', limit: 10 })), [])
      })

      it('pages with limit and after: every client exactly once, in order', async () => {
        await seed()
        const seen: string[] = []
        let after: ReturnType<typeof clientPosition> | undefined
        for (let i = 0; i < 10; i++) {
          const page = await store.queryClients({ limit: 4, ...(after && { after }) })
          seen.push(...ids(page))
          const last = page.at(-1)
          if (page.length < 4 || !last) break
          after = clientPosition(last)
        }
        assert.deepEqual(seen, ['q-b', 'q-e', 'q-c', 'q-d', 'q-f', 'q-a'])
        // a search pages the same way
        const first = await store.queryClients({ search: 'q-', limit: 2 })
        assert.deepEqual(ids(first), ['q-b', 'q-e'])
        const second = await store.queryClients({
          search: 'q-',
          limit: 10,
          after: clientPosition(first[1] as ClientRecord),
        })
        assert.deepEqual(ids(second), ['q-c', 'q-d', 'q-f', 'q-a'])
      })

      it('a search over more clients than one batch still finds the late matches', async () => {
        // 50 at a time: concurrent enough for SQLite's group commit, and never more waiters on the
        // PostgreSQL pool than a loaded machine connects within its connect timeout
        for (let start = 0; start < 1100; start += 50) {
          await Promise.all(
            Array.from({ length: 50 }, (_, j) => {
              const i = start + j
              return store.createClient(
                client(`bulk-${String(i).padStart(4, '0')}`, { client_id_issued_at: 10_000 - i }),
              )
            }),
          )
        }
        const found = await store.queryClients({ search: 'bulk-10', limit: 1000 })
        assert.equal(found.length, 100)
        assert.equal(found[0]?.client_id, 'bulk-1000')
      })

      it('countClientsByStatusAndSource() counts each pair present', async () => {
        await seed()
        const counts = (await store.countClientsByStatusAndSource())
          .map((c) => `${c.status}/${c.source}=${c.count}`)
          .sort()
        assert.deepEqual(counts, [
          'active/anonymous=2',
          'active/initial_access_token=1',
          'disabled/software_statement=1',
          'pending/anonymous=2',
        ])
      })
    })

    // issue 13 item 2: the append-only audit trail
    describe('audit trail', () => {
      function entry(overrides: Partial<Omit<AuditEntry, 'id'>> = {}): Omit<AuditEntry, 'id'> {
        return {
          at: 1_700_000_000,
          event: 'registered',
          actor: { type: 'anonymous' },
          ...overrides,
        }
      }

      it('appendAuditEntry() then listAuditEntries() round-trips, optional members absent', async () => {
        const full = entry({
          client_id: 'c-1',
          event: 'updated',
          actor: { type: 'client', id: 'c-1', address: '2001:db8::1' },
          changes: {
            client_name: { before: 'Old', after: 'Ünïcode 🔐' },
            logo_uri: { after: 'https://x.example/logo.png' },
            contacts: { before: ['a@example.org'] },
          },
          details: { rotated: false, nested: { n: 1 } },
        })
        await store.appendAuditEntry(entry())
        await store.appendAuditEntry(full)
        const [second, first] = await store.listAuditEntries({ limit: 10 })
        assert.ok(first && second)
        assert.ok(second.id > first.id, 'ids increase in append order')
        const { id: _1, ...firstRest } = first
        assert.deepStrictEqual(firstRest, entry())
        const { id: _2, ...secondRest } = second
        assert.deepStrictEqual(secondRest, full)
      })

      it('lists newest first; filters by client, since and beforeId; honours limit', async () => {
        for (let i = 0; i < 6; i++) {
          await store.appendAuditEntry(
            entry({ at: 1000 + i, client_id: i % 2 === 0 ? 'even' : 'odd', details: { i } }),
          )
        }
        const all = await store.listAuditEntries({ limit: 100 })
        assert.deepEqual(
          all.map((e) => e.details?.i),
          [5, 4, 3, 2, 1, 0],
        )
        const even = await store.listAuditEntries({ clientId: 'even', limit: 100 })
        assert.deepEqual(
          even.map((e) => e.details?.i),
          [4, 2, 0],
        )
        const recent = await store.listAuditEntries({ since: 1003, limit: 100 })
        assert.deepEqual(
          recent.map((e) => e.details?.i),
          [5, 4, 3],
        )
        const page = await store.listAuditEntries({ limit: 2 })
        const next = await store.listAuditEntries({
          limit: 2,
          beforeId: (page.at(-1) as AuditEntry).id,
        })
        assert.deepEqual(
          [...page, ...next].map((e) => e.details?.i),
          [5, 4, 3, 2],
        )
        const combined = await store.listAuditEntries({
          clientId: 'odd',
          since: 1002,
          beforeId: (all[0] as AuditEntry).id,
          limit: 100,
        })
        assert.deepEqual(
          combined.map((e) => e.details?.i),
          [3],
        )
      })

      it('purgeAuditEntries() deletes only entries older than the cut-off and counts them', async () => {
        for (const at of [10, 20, 30, 40]) await store.appendAuditEntry(entry({ at }))
        assert.equal(await store.purgeAuditEntries(30), 2)
        assert.deepEqual(
          (await store.listAuditEntries({ limit: 10 })).map((e) => e.at),
          [40, 30],
        )
        assert.equal(await store.purgeAuditEntries(30), 0)
      })

      it('entries are copies: mutating what was appended or listed changes nothing', async () => {
        const e = entry({ changes: { scope: { before: 'a', after: 'b' } } })
        await store.appendAuditEntry(e)
        ;(e.changes as Record<string, { before?: unknown }>).scope = { before: 'x' }
        const [listed] = await store.listAuditEntries({ limit: 1 })
        assert.deepEqual(listed?.changes, { scope: { before: 'a', after: 'b' } })
        ;(listed as AuditEntry).event = 'deleted'
        assert.equal((await store.listAuditEntries({ limit: 1 }))[0]?.event, 'registered')
      })
    })

    // issue 13 item 4: admin tokens, stored by hash
    describe('admin tokens', () => {
      function adminToken(id: string, overrides: Partial<AdminTokenRecord> = {}): AdminTokenRecord {
        return {
          id,
          tokenHash: `admin-hash-${id}`,
          createdAt: 1_700_000_000,
          expiresAt: null,
          readOnly: false,
          ...overrides,
        }
      }

      it('createAdminToken() then findAdminToken() round-trips, optional members absent or present', async () => {
        const plain = adminToken('a1')
        const full = adminToken('a2', {
          readOnly: true,
          expiresAt: 1_800_000_000,
          description: 'alice (read-only) ✓',
        })
        await store.createAdminToken(plain)
        await store.createAdminToken(full)
        assert.deepStrictEqual(await store.findAdminToken('admin-hash-a1'), plain)
        assert.deepStrictEqual(await store.findAdminToken('admin-hash-a2'), full)
        assert.equal(await store.findAdminToken('admin-hash-none'), undefined)
      })

      it('a token hash or id that exists is refused', async () => {
        await store.createAdminToken(adminToken('a1'))
        await assert.rejects(
          store.createAdminToken(adminToken('a2', { tokenHash: 'admin-hash-a1' })),
        )
        await assert.rejects(store.createAdminToken(adminToken('a1', { tokenHash: 'other' })))
      })

      it('listAdminTokens() orders by createdAt then id; revokeAdminToken() deletes by id', async () => {
        await store.createAdminToken(adminToken('b', { createdAt: 2 }))
        await store.createAdminToken(adminToken('a', { createdAt: 2 }))
        await store.createAdminToken(adminToken('c', { createdAt: 1 }))
        assert.deepEqual(
          (await store.listAdminTokens()).map((t) => t.id),
          ['c', 'a', 'b'],
        )
        assert.equal(await store.revokeAdminToken('a'), true)
        assert.equal(await store.revokeAdminToken('a'), false)
        assert.equal(await store.findAdminToken('admin-hash-a'), undefined)
        assert.deepEqual(
          (await store.listAdminTokens()).map((t) => t.id),
          ['c', 'b'],
        )
      })
    })

    describe('recordClientUse(): last used, at most once per interval (issue 10 item 1)', () => {
      it('writes the first use, skips uses within the interval, writes again after it', async () => {
        await store.createClient(client('u1'))
        assert.equal((await store.findClient('u1'))?.lastUsedAt, undefined)
        assert.equal(await store.recordClientUse('u1', NOW, 60), true)
        assert.equal((await store.findClient('u1'))?.lastUsedAt, NOW)
        assert.equal(await store.recordClientUse('u1', NOW + 59, 60), false)
        assert.equal((await store.findClient('u1'))?.lastUsedAt, NOW)
        assert.equal(await store.recordClientUse('u1', NOW + 60, 60), true)
        assert.equal((await store.findClient('u1'))?.lastUsedAt, NOW + 60)
        assert.equal((await store.listClients())[0]?.lastUsedAt, NOW + 60)
      })

      it('an unknown client: resolves false, creates nothing', async () => {
        assert.equal(await store.recordClientUse('nobody', NOW, 60), false)
        assert.equal(await store.countClients(), 0)
      })

      it('is store-managed: replaceClient keeps it, createClient and replaceClient never write it', async () => {
        await store.createClient(client('u2', { lastUsedAt: 5 }))
        assert.equal((await store.findClient('u2'))?.lastUsedAt, undefined)
        await store.recordClientUse('u2', NOW, 60)
        const current = (await store.findClient('u2')) as ClientRecord
        const next = { ...current, metadata: metadata({ client_name: 'renamed' }), version: 2 }
        assert.equal(await store.replaceClient({ ...next, lastUsedAt: 1 }, 1), true)
        const found = await store.findClient('u2')
        assert.equal(found?.lastUsedAt, NOW)
        assert.equal(found?.metadata.client_name, 'renamed')
      })

      it('20 concurrent uses at one instant: exactly one write', async () => {
        await store.createClient(client('u3'))
        const results = await Promise.all(
          Array.from({ length: 20 }, () => store.recordClientUse('u3', NOW, 60)),
        )
        assert.equal(results.filter(Boolean).length, 1)
      })
    })

    describe('metadata documents (issue 11, CIMD §11 D-10/D-26)', () => {
      const url = 'https://client.example/cimd.json'
      const cache = (extra: Record<string, unknown> = {}) => ({
        client_id: url,
        metadata: metadata({ client_name: 'CIMD client', token_endpoint_auth_method: 'none' }),
        fetchedAt: NOW,
        expiresAt: NOW + 600,
        staleUntil: NOW + 4200,
        bytes: 5432,
        ...extra,
      })

      it('saveMetadataDocument() then findMetadataDocument() round-trips the cache; unknown URL: undefined', async () => {
        assert.equal(await store.findMetadataDocument(url), undefined)
        await store.saveMetadataDocument(cache())
        assert.deepEqual(await store.findMetadataDocument(url), cache())
        const failure = { refusal: 'fetch_failed', detail: 'timeout', at: NOW, until: NOW + 10 }
        await store.saveMetadataDocument({ client_id: url, failure })
        assert.deepEqual(await store.findMetadataDocument(url), { client_id: url, failure })
      })

      it('decisions: set on an unknown URL, kept by a save and by forget, cleared with undefined', async () => {
        await store.decideMetadataDocument(url, 'blocked')
        assert.deepEqual(await store.findMetadataDocument(url), {
          client_id: url,
          decision: 'blocked',
        })
        await store.saveMetadataDocument(cache())
        assert.equal((await store.findMetadataDocument(url))?.decision, 'blocked')
        assert.equal(await store.forgetMetadataDocument(url), true)
        assert.deepEqual(await store.findMetadataDocument(url), {
          client_id: url,
          decision: 'blocked',
        })
        await store.decideMetadataDocument(url, 'approved')
        assert.equal((await store.findMetadataDocument(url))?.decision, 'approved')
        await store.decideMetadataDocument(url, undefined)
        assert.equal((await store.findMetadataDocument(url))?.decision, undefined)
      })

      it('forgetMetadataDocument(): an undecided URL is gone; an unknown one resolves false', async () => {
        assert.equal(await store.forgetMetadataDocument(url), false)
        await store.saveMetadataDocument(cache())
        assert.equal(await store.forgetMetadataDocument(url), true)
        assert.equal(await store.findMetadataDocument(url), undefined)
      })

      it('leaseMetadataDocumentFetch(): one holder at a time, 20 concurrent: exactly one; free again after expiry or a save', async () => {
        const results = await Promise.all(
          Array.from({ length: 20 }, () => store.leaseMetadataDocumentFetch(url, NOW, 10)),
        )
        assert.equal(results.filter(Boolean).length, 1)
        assert.equal(await store.leaseMetadataDocumentFetch(url, NOW + 9, 10), false)
        assert.equal(await store.leaseMetadataDocumentFetch(url, NOW + 10, 10), true)
        await store.saveMetadataDocument(cache())
        assert.equal(await store.leaseMetadataDocumentFetch(url, NOW + 11, 10), true)
        // a lease alone is no cached copy
        assert.equal((await store.findMetadataDocument(url))?.metadata?.client_name, 'CIMD client')
      })

      it('recordMetadataDocumentUse(): at most once per interval, kept by saves, unknown URL false', async () => {
        assert.equal(await store.recordMetadataDocumentUse(url, NOW, 60), false)
        await store.saveMetadataDocument(cache())
        assert.equal(await store.recordMetadataDocumentUse(url, NOW, 60), true)
        assert.equal(await store.recordMetadataDocumentUse(url, NOW + 30, 60), false)
        await store.saveMetadataDocument(cache({ bytes: 1 }))
        assert.equal((await store.findMetadataDocument(url))?.lastUsedAt, NOW)
        assert.equal(await store.recordMetadataDocumentUse(url, NOW + 60, 60), true)
      })

      it('listMetadataDocuments(): ordered by URL, paged with after and limit', async () => {
        const urls = ['https://b.example/c', 'https://a.example/c', 'https://c.example/c']
        for (const u of urls) await store.saveMetadataDocument({ client_id: u, fetchedAt: NOW })
        const all = await store.listMetadataDocuments()
        assert.deepEqual(
          all.map((d) => d.client_id),
          [...urls].sort(),
        )
        const page = await store.listMetadataDocuments({ after: 'https://a.example/c', limit: 1 })
        assert.deepEqual(
          page.map((d) => d.client_id),
          ['https://b.example/c'],
        )
      })
    })

    describe('idle clients: listIdleClients(), deleteIdleClients() (issue 13 item 1)', () => {
      const CUTOFF = NOW
      /** Creates a client last changed at `updatedAt`, optionally used at `usedAt`. */
      const seed = async (id: string, over: Partial<ClientRecord>, usedAt?: number) => {
        await store.createClient(client(id, { updatedAt: 1_000, ...over }))
        if (usedAt !== undefined) assert.equal(await store.recordClientUse(id, usedAt, 0), true)
      }
      const ids = (clients: ClientRecord[]) => clients.map((c) => c.client_id)

      it('lists active clients neither used nor changed since the cut-off, by client_id', async () => {
        await seed('i-never-used', {})
        await seed('i-used-long-ago', {}, CUTOFF - 10)
        await seed('i-used-recently', {}, CUTOFF)
        await seed('i-updated-recently', { updatedAt: CUTOFF })
        await seed('i-pending', { status: 'pending' })
        await seed('i-disabled', { status: 'disabled' })
        await seed('i-a-used-before', {}, CUTOFF - 1)
        assert.deepEqual(ids(await store.listIdleClients({ idleSince: CUTOFF, limit: 10 })), [
          'i-a-used-before',
          'i-never-used',
          'i-used-long-ago',
        ])
        const first = await store.listIdleClients({ idleSince: CUTOFF, limit: 2 })
        assert.deepEqual(ids(first), ['i-a-used-before', 'i-never-used'])
        assert.equal(first[0]?.lastUsedAt, CUTOFF - 1)
        assert.deepEqual(
          ids(await store.listIdleClients({ idleSince: CUTOFF, limit: 2, after: 'i-never-used' })),
          ['i-used-long-ago'],
        )
      })

      it('narrows by policy: one policy, no policy (null), or all but excluded policies', async () => {
        await seed('p-none', {})
        await seed('p-mcp', { policy: 'mcp' })
        await seed('p-partners', { policy: 'partners' })
        await seed('p-other', { policy: 'other' })
        const list = (q: Partial<Parameters<Store['listIdleClients']>[0]>) =>
          store.listIdleClients({ idleSince: CUTOFF, limit: 10, ...q }).then(ids)
        assert.deepEqual(await list({ policy: 'mcp' }), ['p-mcp'])
        assert.deepEqual(await list({ policy: null }), ['p-none'])
        assert.deepEqual(await list({ excludePolicies: ['mcp', 'partners'] }), [
          'p-none',
          'p-other',
        ])
        assert.deepEqual(await list({ policy: null, excludePolicies: ['mcp'] }), ['p-none'])
        assert.deepEqual(await list({ excludePolicies: [] }), [
          'p-mcp',
          'p-none',
          'p-other',
          'p-partners',
        ])
      })

      it('deleteIdleClients() deletes only those still idle, resolves their ids, reports the changes', async () => {
        await seed('d1', { policy: 'mcp' })
        await seed('d2', {})
        await seed('d3', {})
        await seed('d4', { status: 'pending' })
        const changed: string[] = []
        const stop = await store.watchClientChanges?.((e) => {
          if (e.type === 'changed') changed.push(e.clientId)
        })
        // d2 is used after it was listed: the delete re-checks and keeps it
        await store.recordClientUse('d2', CUTOFF + 5, 0)
        const deleted = await store.deleteIdleClients(['d1', 'd2', 'd3', 'd4', 'nobody'], CUTOFF)
        assert.deepEqual([...deleted].sort(), ['d1', 'd3'])
        assert.equal(await store.findClient('d1'), undefined)
        assert.ok(await store.findClient('d2'))
        assert.ok(await store.findClient('d4'))
        assert.equal(await store.countClients({ policy: 'mcp' }), 0)
        assert.deepEqual(await store.deleteIdleClients([], CUTOFF), [])
        if (stop) {
          // (PostgreSQL may report a change twice: this store's write, then its NOTIFY)
          assert.deepEqual([...new Set(changed)].sort(), ['d1', 'd3'])
          await stop()
        }
      })
    })

    describe('runExclusive(): one holder of a name at a time', () => {
      it('a second caller of a held name does not run; other names and later calls do', async () => {
        let release = () => {}
        const held = new Promise<void>((resolve) => {
          release = resolve
        })
        let entered = () => {}
        const inside = new Promise<void>((resolve) => {
          entered = resolve
        })
        const first = store.runExclusive('sweep', async () => {
          entered()
          await held
          return 'first'
        })
        // wait until the first holds the lock (PostgreSQL: a connection and a round trip, slow
        // under load); probing with more callers could take it first and turn the first away
        await Promise.race([
          inside,
          first.then((r) => assert.fail(`the first caller did not run: ${JSON.stringify(r)}`)),
        ])
        assert.deepEqual(await store.runExclusive('sweep', async () => 'second'), { ran: false })
        assert.deepEqual(await store.runExclusive('other', async () => 'other'), {
          ran: true,
          value: 'other',
        })
        release()
        assert.deepEqual(await first, { ran: true, value: 'first' })
        assert.deepEqual(await store.runExclusive('sweep', async () => 'third'), {
          ran: true,
          value: 'third',
        })
      })

      it("fn's error rejects as it is and frees the name", async () => {
        await assert.rejects(
          store.runExclusive('sweep', async () => {
            throw new RangeError('boom')
          }),
          RangeError,
        )
        assert.deepEqual(await store.runExclusive('sweep', async () => 1), { ran: true, value: 1 })
      })
    })

    describe('previousClientSecrets (secret renewal grace, issue 13 item 1)', () => {
      it('round-trip in order through createClient and replaceClient; a replace without them removes them', async () => {
        const previous = [
          { hash: 'old-hash', encrypted: 'v1.old', expiresAt: NOW + 60 },
          { encrypted: 'v1.older', expiresAt: NOW + 30 * 86_400 },
          { hash: 'oldest-hash', expiresAt: NOW + 5 },
        ]
        await store.createClient(client('g1', { previousClientSecrets: previous }))
        assert.deepEqual((await store.findClient('g1'))?.previousClientSecrets, previous)
        const current = (await store.findClient('g1')) as ClientRecord
        const { previousClientSecrets: _dropped, ...rest } = current
        assert.equal(await store.replaceClient({ ...rest, version: 2 }, 1), true)
        assert.equal((await store.findClient('g1'))?.previousClientSecrets, undefined)
        const hashOnly = [{ hash: 'h2', expiresAt: NOW }]
        assert.equal(
          await store.replaceClient({ ...rest, previousClientSecrets: hashOnly, version: 3 }, 2),
          true,
        )
        assert.deepEqual((await store.findClient('g1'))?.previousClientSecrets, hashOnly)
        // eight, the most a client has (MAX_PREVIOUS_CLIENT_SECRETS), all kept
        const eight = Array.from({ length: 8 }, (_, i) => ({
          hash: `h${i}`,
          encrypted: `v1.${'x'.repeat(120)}${i}`,
          expiresAt: NOW + i,
        }))
        assert.equal(
          await store.replaceClient({ ...rest, previousClientSecrets: eight, version: 4 }, 3),
          true,
        )
        assert.deepEqual((await store.findClient('g1'))?.previousClientSecrets, eight)
      })
    })

    describe('recordClientAssertion(): single-use jti (AS-7523-3-d)', () => {
      const jti = (clientId: string, id: string, expiresAt = NOW + 600) => ({
        clientId,
        jti: id,
        expiresAt,
      })

      it('records a jti once; the same again is a replay; other clients and jtis are independent', async () => {
        assert.equal(await store.recordClientAssertion(jti('a', 'j1'), NOW), true)
        assert.equal(await store.recordClientAssertion(jti('a', 'j1'), NOW + 1), false)
        assert.equal(await store.recordClientAssertion(jti('a', 'j1', NOW + 9999), NOW + 2), false)
        assert.equal(await store.recordClientAssertion(jti('b', 'j1'), NOW), true)
        assert.equal(await store.recordClientAssertion(jti('a', 'j2'), NOW), true)
      })

      it('a record is kept until expiresAt, then the pair may be recorded again', async () => {
        assert.equal(await store.recordClientAssertion(jti('a', 'j', NOW + 10), NOW), true)
        assert.equal(await store.recordClientAssertion(jti('a', 'j', NOW + 20), NOW + 10), false)
        assert.equal(await store.recordClientAssertion(jti('a', 'j', NOW + 20), NOW + 11), true)
        assert.equal(await store.recordClientAssertion(jti('a', 'j', NOW + 30), NOW + 15), false)
      })

      it('over a purge interval later: live records still refuse a replay, expired ones are free again', async () => {
        assert.equal(await store.recordClientAssertion(jti('a', 'old', NOW + 1), NOW), true)
        assert.equal(await store.recordClientAssertion(jti('a', 'live', NOW + 9999), NOW), true)
        // more than a purge interval later
        assert.equal(
          await store.recordClientAssertion(jti('a', 'other', NOW + 9999), NOW + 120),
          true,
        )
        assert.equal(
          await store.recordClientAssertion(jti('a', 'live', NOW + 9999), NOW + 121),
          false,
        )
        assert.equal(
          await store.recordClientAssertion(jti('a', 'old', NOW + 9999), NOW + 121),
          true,
        )
      })

      it('keeps jtis byte for byte: case, unicode and a NUL-free long value are distinct keys', async () => {
        assert.equal(await store.recordClientAssertion(jti('a', 'Jti'), NOW), true)
        assert.equal(await store.recordClientAssertion(jti('a', 'jti'), NOW), true)
        assert.equal(await store.recordClientAssertion(jti('a', 'jtï'), NOW), true)
        assert.equal(await store.recordClientAssertion(jti('a', 'x'.repeat(512)), NOW), true)
        assert.equal(await store.recordClientAssertion(jti('a', 'x'.repeat(512)), NOW), false)
      })

      it('30 concurrent records of one jti: exactly one succeeds', async () => {
        const results = await Promise.all(
          Array.from({ length: 30 }, () => store.recordClientAssertion(jti('c', 'race'), NOW)),
        )
        assert.equal(results.filter(Boolean).length, 1)
      })
    })

    describe('watchClientChanges(): writes through the store are reported before they resolve', () => {
      it('create, replace and delete each report the client; unsubscribe stops it', async () => {
        assert.ok(store.watchClientChanges, 'every bundled store implements it')
        const seen: string[] = []
        const stop = await store.watchClientChanges((event) => {
          seen.push(event.type === 'changed' ? event.clientId : event.type)
        })
        const count = (id: string) => seen.filter((s) => s === id).length
        // reported by the time the write resolves (PostgreSQL may report it again, from NOTIFY)
        await store.createClient(client('w1'))
        assert.ok(count('w1') >= 1)
        let before = count('w1')
        assert.equal(await store.replaceClient(client('w1', { version: 2 }), 1), true)
        assert.ok(count('w1') > before)
        before = count('w1')
        assert.equal(await store.deleteClient('w1'), true)
        assert.ok(count('w1') > before)
        await stop()
        await store.createClient(client('w2'))
        await new Promise((resolve) => setTimeout(resolve, 50))
        assert.equal(count('w2'), 0)
        assert.ok(!seen.includes('lost'))
      })
    })

    describe('lifecycle', () => {
      it('ping() resolves while the store is open', async () => {
        await store.ping()
      })

      it('after close(), operations reject; closing again is harmless', async () => {
        const other = await subject.open()
        await other.close()
        await assert.rejects(other.findClient('x'))
        await assert.rejects(other.createClient(client('x')))
        await assert.rejects(other.ping())
        await other.close()
      })
    })
  })
}
