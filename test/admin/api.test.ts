import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { sha256 } from '../../src/core/crypto.js'
import { createInitialAccessToken } from '../../src/core/initial-access-token.js'
import { call, ISSUER, makeRegistrar } from '../helpers.js'
import { client } from '../storage/store.contract.js'
import { adminApp } from './support.js'

// Issue 13 item 4: the admin API, and its "Bad input and safety" (401, 403 read-only, tampered
// cursor, never a registration access token or an initial access token).

const API = '/admin/api'
const web = { redirect_uris: ['https://app.example/cb'], client_name: 'App' }

describe('admin API: authentication', () => {
  it('401 without a token, with a wrong one, with another scheme; with a Bearer challenge', async () => {
    const { fetch } = await adminApp()
    const none = await call(fetch, 'GET', `${API}/clients`)
    assert.equal(none.status, 401)
    assert.equal(none.body.error, 'invalid_token')
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer realm=/)
    assert.doesNotMatch(none.headers.get('www-authenticate') ?? '', /error=/)
    const wrong = await call(fetch, 'GET', `${API}/clients`, { token: 'x'.repeat(43) })
    assert.equal(wrong.status, 401)
    assert.match(wrong.headers.get('www-authenticate') ?? '', /error="invalid_token"/)
    const basic = await call(fetch, 'GET', `${API}/clients`, {
      headers: { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` },
    })
    assert.equal(basic.status, 401)
    for (const path of ['/clients/x', '/initial-access-tokens', '/audit']) {
      assert.equal((await call(fetch, 'GET', `${API}${path}`)).status, 401, path)
    }
    assert.equal(
      (await call(fetch, 'POST', `${API}/policy/dry-run`, { body: { metadata: web } })).status,
      401,
    )
  })

  it('never accepts a registration access token or an initial access token', async () => {
    const { fetch, registrar, store } = await adminApp()
    const reg = await registrar.register({ metadata: web })
    const { token: iat } = await createInitialAccessToken(store)
    for (const token of [reg.registration_access_token, iat, reg.client_secret as string]) {
      const res = await call(fetch, 'GET', `${API}/clients`, { token })
      assert.equal(res.status, 401)
      assert.equal(
        (await call(fetch, 'DELETE', `${API}/clients/${reg.client_id}`, { token })).status,
        401,
      )
    }
    assert.ok(await store.findClient(reg.client_id))
  })

  it('an expired or revoked admin token is refused', async () => {
    const { fetch, store, rw, rwId } = await adminApp()
    assert.equal((await call(fetch, 'GET', `${API}/clients`, { token: rw })).status, 200)
    await store.revokeAdminToken(rwId)
    assert.equal((await call(fetch, 'GET', `${API}/clients`, { token: rw })).status, 401)
    const { createAdminToken } = await import('../../src/admin/admin-token.js')
    const old = await createAdminToken(store, { expiresIn: 10, now: 1_000_000_000 })
    assert.equal((await call(fetch, 'GET', `${API}/clients`, { token: old.token })).status, 401)
  })

  it('403 insufficient_scope for every change with a read-only token; reads work', async () => {
    const { fetch, ro, store, rw } = await adminApp()
    await store.createClient(client('p', { status: 'pending' }))
    const { record } = await createInitialAccessToken(store)
    const writes: [string, string, unknown?][] = [
      ['POST', `${API}/clients/p/approve`],
      ['POST', `${API}/clients/p/disable`],
      ['POST', `${API}/clients/p/enable`],
      ['DELETE', `${API}/clients/p`],
      ['POST', `${API}/initial-access-tokens`, { max_uses: 1 }],
      ['DELETE', `${API}/initial-access-tokens/${record.id}`],
    ]
    for (const [method, path, body] of writes) {
      const res = await call(fetch, method, path, {
        token: ro,
        ...(body !== undefined && { body }),
      })
      assert.equal(res.status, 403, `${method} ${path}`)
      assert.equal(res.body.error, 'insufficient_scope')
      assert.match(res.headers.get('www-authenticate') ?? '', /insufficient_scope/)
    }
    assert.equal((await store.findClient('p'))?.status, 'pending')
    assert.equal((await store.listInitialAccessTokens()).length, 1)
    for (const path of ['/clients', '/clients/p', '/initial-access-tokens', '/audit']) {
      assert.equal((await call(fetch, 'GET', `${API}${path}`, { token: ro })).status, 200, path)
    }
    const dry = await call(fetch, 'POST', `${API}/policy/dry-run`, {
      token: ro,
      body: { metadata: web },
    })
    assert.equal(dry.status, 200)
    // the read-write token can
    assert.equal((await call(fetch, 'POST', `${API}/clients/p/approve`, { token: rw })).status, 200)
  })

  it('with admin off, the public router matches no admin path and answers 404', async () => {
    const { registrar } = makeRegistrar()
    const { composeRegistrar } = await import('../../src/app.js')
    const runtime = composeRegistrar(registrar.config, registrar.store)
    for (const path of ['/admin', '/admin/', '/admin/api/clients', '/admin/sign-in', '/metrics']) {
      assert.equal(runtime.router.matches(path), false, path)
      assert.equal((await call(runtime.fetch, 'GET', path)).status, 404, path)
    }
  })
})

describe('admin API: clients', () => {
  it('lists with filters and cursor pagination; a tampered cursor is 400', async () => {
    const { fetch, store, rw } = await adminApp()
    for (let i = 0; i < 5; i++) {
      await store.createClient(
        client(`c-${i}`, {
          client_id_issued_at: 100 + i,
          status: i === 1 ? 'pending' : 'active',
          metadata: { ...client('x').metadata, client_name: `Client ${i}` },
        }),
      )
    }
    const first = await call(fetch, 'GET', `${API}/clients?limit=2`, { token: rw })
    assert.equal(first.status, 200)
    assert.deepEqual(
      first.body.clients.map((c: { client_id: string }) => c.client_id),
      ['c-1', 'c-4'],
    )
    assert.equal(first.headers.get('cache-control'), 'no-store')
    const cursor = first.body.next_cursor as string
    const second = await call(
      fetch,
      'GET',
      `${API}/clients?limit=2&cursor=${encodeURIComponent(cursor)}`,
      {
        token: rw,
      },
    )
    assert.deepEqual(
      second.body.clients.map((c: { client_id: string }) => c.client_id),
      ['c-3', 'c-2'],
    )
    const tampered = `${cursor.slice(0, -3)}${cursor.at(-3) === 'A' ? 'B' : 'A'}${cursor.slice(-2)}`
    for (const bad of [tampered, 'not-a-cursor', `${cursor}x`]) {
      const res = await call(fetch, 'GET', `${API}/clients?cursor=${encodeURIComponent(bad)}`, {
        token: rw,
      })
      assert.equal(res.status, 400, bad)
      assert.equal(res.body.error, 'invalid_request')
      assert.match(res.body.error_description, /cursor/)
    }
    // the cursor is bound to its filters
    const other = await call(
      fetch,
      'GET',
      `${API}/clients?status=active&cursor=${encodeURIComponent(cursor)}`,
      { token: rw },
    )
    assert.equal(other.status, 400)
    const search = await call(fetch, 'GET', `${API}/clients?search=client%203&status=active`, {
      token: rw,
    })
    assert.deepEqual(
      search.body.clients.map((c: { client_id: string }) => c.client_id),
      ['c-3'],
    )
  })

  it('bad query parameters are 400 and name the problem', async () => {
    const { fetch, rw } = await adminApp()
    for (const [q, pattern] of [
      ['stauts=active', /unknown query parameter stauts/],
      ['status=gone', /status must be one of/],
      ['source=cli', /source must be one of/],
      ['limit=0', /limit/],
      ['limit=500', /limit/],
      ['limit=ten', /limit/],
      ['status=active&status=pending', /repeated/],
      [`search=${'x'.repeat(201)}`, /search/],
    ] as const) {
      const res = await call(fetch, 'GET', `${API}/clients?${q}`, { token: rw })
      assert.equal(res.status, 400, q)
      assert.match(res.body.error_description, pattern)
    }
  })

  it('shows a client with its version as ETag, never a hash or a sealed secret', async () => {
    const { fetch, registrar, rw, store } = await adminApp({
      registration: { secretEncryptionKey: Buffer.alloc(32, 1).toString('hex') },
    })
    const reg = await registrar.register({
      metadata: { ...web, token_endpoint_auth_method: 'client_secret_jwt' },
    })
    const res = await call(fetch, 'GET', `${API}/clients/${reg.client_id}`, { token: rw })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('etag'), '"1"')
    assert.equal(res.body.status, 'active')
    assert.equal(res.body.source, 'anonymous')
    assert.equal(res.body.metadata.client_name, 'App')
    const record = await store.findClient(reg.client_id)
    for (const secret of [
      reg.registration_access_token,
      sha256(reg.registration_access_token),
      reg.client_secret as string,
      record?.clientSecretEncrypted as string,
    ]) {
      assert.ok(!res.text.includes(secret))
    }
    assert.equal((await call(fetch, 'GET', `${API}/clients/nope`, { token: rw })).status, 404)
    assert.equal((await call(fetch, 'GET', `${API}/clients/%E0%A4%A`, { token: rw })).status, 404)
  })

  it('approve, disable, enable with If-Match; a stale version is 412, a wrong status 409', async () => {
    const { fetch, store, rw } = await adminApp()
    await store.createClient(client('p', { status: 'pending', version: 4 }))
    const stale = await call(fetch, 'POST', `${API}/clients/p/approve`, {
      token: rw,
      headers: { 'if-match': '"3"' },
    })
    assert.equal(stale.status, 412)
    assert.equal((await store.findClient('p'))?.status, 'pending')
    const bad = await call(fetch, 'POST', `${API}/clients/p/approve`, {
      token: rw,
      headers: { 'if-match': 'W/"4"' },
    })
    assert.equal(bad.status, 400)
    const approved = await call(fetch, 'POST', `${API}/clients/p/approve`, {
      token: rw,
      headers: { 'if-match': '"4"' },
    })
    assert.equal(approved.status, 200)
    assert.equal(approved.body.status, 'active')
    assert.equal(approved.headers.get('etag'), '"5"')
    assert.equal((await call(fetch, 'POST', `${API}/clients/p/approve`, { token: rw })).status, 409)
    assert.equal(
      (await call(fetch, 'POST', `${API}/clients/p/disable`, { token: rw })).body.status,
      'disabled',
    )
    assert.equal(
      (await call(fetch, 'POST', `${API}/clients/p/enable`, { token: rw })).body.status,
      'active',
    )
    assert.equal((await call(fetch, 'POST', `${API}/clients/p/reject`, { token: rw })).status, 404)
    const get = await call(fetch, 'POST', `${API}/clients/p`, { token: rw })
    assert.equal(get.status, 405)
    assert.equal(get.headers.get('allow'), 'GET, DELETE')
  })

  it('delete: 204, and the client registration access token no longer works', async () => {
    const { fetch, registrar, rw } = await adminApp()
    const reg = await registrar.register({ metadata: web })
    const res = await call(fetch, 'DELETE', `${API}/clients/${reg.client_id}`, { token: rw })
    assert.equal(res.status, 204)
    const read = await call(fetch, 'GET', `/register/${reg.client_id}`, {
      token: reg.registration_access_token,
    })
    assert.equal(read.status, 401)
    assert.equal(
      (await call(fetch, 'DELETE', `${API}/clients/${reg.client_id}`, { token: rw })).status,
      404,
    )
  })
})

describe('admin API: initial access tokens, audit, dry run', () => {
  it('creates a token shown once, lists without it, revokes', async () => {
    const { fetch, rw, store } = await adminApp({
      registration: { mode: 'token' },
      policies: { definitions: { partners: {} } },
    })
    const created = await call(fetch, 'POST', `${API}/initial-access-tokens`, {
      token: rw,
      body: { max_uses: 2, expires_in: 3600, policy: 'partners', description: 'Acme' },
    })
    assert.equal(created.status, 201)
    assert.equal(created.headers.get('cache-control'), 'no-store')
    const token = created.body.token as string
    assert.match(token, /^[A-Za-z0-9_-]{43}$/)
    assert.equal(created.body.max_uses, 2)
    assert.equal(created.body.policy, 'partners')
    const reg = await call(fetch, 'POST', '/register', { token, body: web })
    assert.equal(reg.status, 201)
    const list = await call(fetch, 'GET', `${API}/initial-access-tokens`, { token: rw })
    assert.equal(list.body.initial_access_tokens[0].uses, 1)
    assert.equal(list.body.initial_access_tokens[0].usable, true)
    assert.ok(!list.text.includes(token) && !list.text.includes(sha256(token)))
    const id = created.body.id as string
    assert.equal(
      (await call(fetch, 'DELETE', `${API}/initial-access-tokens/${id}`, { token: rw })).status,
      204,
    )
    assert.equal(
      (await call(fetch, 'DELETE', `${API}/initial-access-tokens/${id}`, { token: rw })).status,
      404,
    )
    assert.equal((await store.listInitialAccessTokens()).length, 0)
    assert.equal((await call(fetch, 'POST', '/register', { token, body: web })).status, 401)
  })

  it('refuses bad token requests with a clear 400', async () => {
    const { fetch, rw } = await adminApp()
    for (const [body, pattern] of [
      [{ max_uses: 0 }, /max_uses/],
      [{ max_uses: '3' }, /max_uses/],
      [{ expires_in: 1.5 }, /expires_in/],
      [{ policy: 'nope' }, /policy/],
      [{ description: 'x'.repeat(201) }, /description/],
      [{ uses: 1 }, /unknown member uses/],
    ] as const) {
      const res = await call(fetch, 'POST', `${API}/initial-access-tokens`, { token: rw, body })
      assert.equal(res.status, 400, JSON.stringify(body))
      assert.match(res.body.error_description, pattern)
    }
    const form = await call(fetch, 'POST', `${API}/initial-access-tokens`, {
      token: rw,
      raw: 'max_uses=1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    assert.equal(form.status, 400)
    const array = await call(fetch, 'POST', `${API}/initial-access-tokens`, {
      token: rw,
      raw: '[]',
    })
    assert.equal(array.status, 400)
  })

  it('the audit trail records the admin as the actor; since and client_id filter', async () => {
    const { fetch, rw, rwId, store, runtime } = await adminApp()
    await store.createClient(client('p', { status: 'pending' }))
    await call(fetch, 'POST', `${API}/clients/p/approve`, { token: rw })
    await runtime.operations.audit?.flush()
    const res = await call(fetch, 'GET', `${API}/audit?client_id=p&since=1h`, { token: rw })
    assert.equal(res.status, 200)
    assert.equal(res.body.entries.length, 1)
    assert.equal(res.body.entries[0].event, 'approved')
    assert.deepEqual(res.body.entries[0].actor, { type: 'admin', id: rwId })
    assert.deepEqual(res.body.entries[0].changes, {
      status: { before: 'pending', after: 'active' },
    })
    const bad = await call(fetch, 'GET', `${API}/audit?since=yesterday`, { token: rw })
    assert.equal(bad.status, 400)
    assert.match(bad.body.error_description, /since/)
  })

  it('policy dry run: accepted or refused as data; bad bodies are 400', async () => {
    const { fetch, rw, store } = await adminApp({
      policies: {
        anonymous: 'public',
        definitions: { public: { redirectUriHosts: ['app.example'] } },
      },
    })
    const accepted = await call(fetch, 'POST', `${API}/policy/dry-run`, {
      token: rw,
      body: { metadata: web },
    })
    assert.equal(accepted.status, 200)
    assert.equal(accepted.body.result, 'accepted')
    assert.equal(accepted.body.policy, 'public')
    assert.equal(accepted.body.decided_by.client_name, 'request')
    const refused = await call(fetch, 'POST', `${API}/policy/dry-run`, {
      token: rw,
      body: { metadata: { redirect_uris: ['https://evil.example/cb'] } },
    })
    assert.equal(refused.body.result, 'refused')
    assert.equal(refused.body.error, 'invalid_redirect_uri')
    assert.equal(await store.countClients(), 0)
    for (const body of [
      {},
      { metadata: [] },
      { metadata: web, extra: 1 },
      { metadata: web, initial_access_token: 5 },
    ]) {
      const res = await call(fetch, 'POST', `${API}/policy/dry-run`, { token: rw, body })
      assert.equal(res.status, 400, JSON.stringify(body))
    }
    assert.equal((await call(fetch, 'GET', `${API}/policy/dry-run`, { token: rw })).status, 405)
    assert.equal((await call(fetch, 'GET', `${API}/nope`, { token: rw })).status, 404)
  })

  it('lives under the issuer path', async () => {
    const { fetch, rw } = await adminApp({ issuer: `${ISSUER}/tenant` })
    assert.equal((await call(fetch, 'GET', `/tenant/admin/api/clients`, { token: rw })).status, 200)
    assert.equal((await call(fetch, 'GET', `/admin/api/clients`, { token: rw })).status, 404)
  })
})
