import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createInitialAccessToken } from '../../src/core/initial-access-token.js'
import { MemoryStore } from '../../src/storage/memory.js'
import { call, ISSUER, makeRegistrar, startServer } from '../helpers.js'

// RFC 7592 client configuration endpoint, over the web handler: RFC 7592 §2, OIDC Registration §3.5,
// C-7, C-10.

type Fetch = (r: Request) => Promise<Response>

const minimal = { redirect_uris: ['https://client.example.org/cb'] }
const MANAGED = [
  'registration_access_token',
  'registration_client_uri',
  'client_secret_expires_at',
  'client_id_issued_at',
] as const

/** Registers a client; returns the response body, its configuration path and its token. */
async function registered(
  fetch: Fetch,
  metadata: Record<string, unknown> = minimal,
  endpoint = '/register',
) {
  const res = await call(fetch, 'POST', endpoint, { body: metadata })
  assert.equal(res.status, 201, res.text)
  const reg = res.body as Record<string, unknown> & {
    client_id: string
    registration_access_token: string
    registration_client_uri: string
  }
  return {
    reg,
    path: new URL(reg.registration_client_uri).pathname,
    token: reg.registration_access_token,
  }
}

/** A response body minus the four members a PUT MUST NOT carry (RFC 7592 §2.2). */
function withoutManaged(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(body).filter(([k]) => !(MANAGED as readonly string[]).includes(k)),
  )
}

/** The registration as a GET returns it: no client_secret (stored hashed, RFC 7592 §3). */
function asRead(body: Record<string, unknown>): Record<string, unknown> {
  const { client_secret: _s, client_secret_expires_at: _e, ...rest } = body
  return rest
}

function assertNoStore(headers: Headers): void {
  assert.equal(headers.get('cache-control'), 'no-store')
  assert.equal(headers.get('pragma'), 'no-cache')
}

/** 401 invalid_token whose body and challenge name no client (suite CheckNoClientIdFromClientConfigurationEndpoint). */
function assertInvalidToken(res: Awaited<ReturnType<typeof call>>, ...clientIds: string[]): void {
  assert.equal(res.status, 401, res.text)
  assert.equal(res.body.error, 'invalid_token')
  const challenge = res.headers.get('www-authenticate') ?? ''
  assert.match(challenge, /^Bearer realm="registrar", error="invalid_token"/)
  for (const id of clientIds) {
    assert.ok(!res.text.includes(id), 'the body does not name the client')
    assert.ok(!challenge.includes(id), 'the challenge does not name the client')
  }
  assert.equal(res.body.client_id, undefined)
  assertNoStore(res.headers)
}

describe('provisioning (RFC 7592 §3)', () => {
  it('R7592-3-a ROIDR-3.2-e R7592-B-a: POST returns an absolute https registration_client_uri under the issuer and a registration_access_token', async () => {
    const { fetch } = makeRegistrar()
    const { reg } = await registered(fetch)
    assert.equal(reg.registration_client_uri, `${ISSUER}/register/${reg.client_id}`)
    assert.equal(new URL(reg.registration_client_uri).protocol, 'https:')
    assert.equal(typeof reg.registration_access_token, 'string')
    assert.ok(reg.registration_access_token.length > 0)
  })

  it('R7592-B-a ROIDR-4.1-b: with an issuer that has a path, the registration_client_uri is used verbatim', async () => {
    const { fetch } = makeRegistrar({ issuer: 'https://as.example.com/tenant-a' })
    const { reg, path, token } = await registered(fetch, minimal, '/tenant-a/register')
    assert.equal(path, `/tenant-a/register/${reg.client_id}`)
    const res = await call(fetch, 'GET', reg.registration_client_uri, { token })
    assert.equal(res.status, 200)
    assert.equal(res.body.registration_client_uri, reg.registration_client_uri)
  })
})

describe('GET /register/{client_id} (RFC 7592 §2.1)', () => {
  it('R7592-2.1-a R7592-2.1-c ROIDR-4.3-a C-6: 200 JSON with every registered member, server defaults and both management members', async () => {
    const { fetch } = makeRegistrar()
    const { reg, path, token } = await registered(fetch, {
      ...minimal,
      client_name: 'Example',
      logo_uri: 'https://client.example.org/logo.png',
      contacts: ['ops@client.example.org'],
    })
    const res = await call(fetch, 'GET', path, { token })
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
    assertNoStore(res.headers)
    // the registration response minus the secret, which is stored hashed (RFC 7592 §3)
    assert.deepEqual(res.body, asRead(reg))
    assert.equal(res.body.registration_client_uri, reg.registration_client_uri)
    assert.equal(res.body.registration_access_token, token)
    // server-provisioned defaults are echoed (OIDR §4.3)
    assert.equal(res.body.token_endpoint_auth_method, 'client_secret_basic')
    assert.deepEqual(res.body.grant_types, ['authorization_code'])
  })

  it('R7592-5-a ROIDR-4.2-a R7592-2.1-b C-7: GET never rotates the token, even with rotation on PUT; two GETs answer the same', async () => {
    const { fetch } = makeRegistrar({
      registration: { mode: 'open', rotateRegistrationAccessToken: true },
    })
    const { reg, path, token } = await registered(fetch)
    const first = await call(fetch, 'GET', path, { token })
    const second = await call(fetch, 'GET', path, { token })
    assert.equal(first.status, 200)
    assert.equal(second.status, 200)
    assert.equal(first.body.registration_access_token, token)
    assert.equal(first.body.client_id, reg.client_id)
    assert.deepEqual(second.body, first.body)
  })

  it('R7592-2-a: no Authorization header: 401 with a bare Bearer challenge (RFC 6750 §3.1)', async () => {
    const { fetch } = makeRegistrar()
    const { reg, path } = await registered(fetch)
    const res = await call(fetch, 'GET', path)
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="registrar"')
    assert.equal(res.body.error, 'invalid_token')
    assert.ok(!res.text.includes(reg.client_id))
  })

  it('R7592-2.1-d: a bad token is 401 invalid_token with a challenge; neither names the client', async () => {
    const { fetch } = makeRegistrar()
    const { reg, path, token } = await registered(fetch)
    for (const bad of [`${token}x`, 'x', token.slice(1)]) {
      assertInvalidToken(await call(fetch, 'GET', path, { token: bad }), reg.client_id)
    }
    // a malformed Bearer value and another scheme are refused the same way
    const malformed = await call(fetch, 'GET', path, { headers: { authorization: 'Bearer a b' } })
    assertInvalidToken(malformed, reg.client_id)
    const basic = await call(fetch, 'GET', path, { headers: { authorization: `Basic ${token}` } })
    assert.equal(basic.status, 401)
  })

  it("ROIDR-4.1-a: another client's token is 401, naming neither client", async () => {
    const { fetch } = makeRegistrar()
    const a = await registered(fetch)
    const b = await registered(fetch)
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await call(fetch, method, b.path, {
        token: a.token,
        ...(method === 'PUT' && { body: { ...minimal, client_id: b.reg.client_id } }),
      })
      assertInvalidToken(res, a.reg.client_id, b.reg.client_id)
    }
    // B is untouched
    assert.equal((await call(fetch, 'GET', b.path, { token: b.token })).status, 200)
  })

  it('R7592-2.1-e ROIDR-4.4-a ROIDR-4.4-b: an unknown client is 401, never 404', async () => {
    const { fetch } = makeRegistrar()
    const { token } = await registered(fetch)
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await call(fetch, method, '/register/made-up-client', {
        token,
        ...(method === 'PUT' && { body: { ...minimal, client_id: 'made-up-client' } }),
      })
      assertInvalidToken(res, 'made-up-client')
    }
  })

  it('ROIDR-4.4-a: malformed client ids in the path are 401, never 404 or 500', async () => {
    // like PostgreSQL, this store cannot hold a NUL: a lookup with one would be a 500
    class NulRejectingStore extends MemoryStore {
      override findClient(id: string) {
        if (id.includes('\u0000'))
          throw new Error('invalid byte sequence for encoding "UTF8": 0x00')
        return super.findClient(id)
      }
    }
    const strict = new NulRejectingStore()
    const { fetch } = makeRegistrar({}, { store: strict })
    const { token } = await registered(fetch)
    const segments = [
      '%',
      '%zz',
      '%E0%A4%A',
      '%C0%80',
      '%ED%A0%80',
      '%00',
      'abc%00def',
      '%0A',
      'a'.repeat(256),
      'a'.repeat(8000),
      '',
      'a/b',
      '%2F',
      '%F0%9F%98%80',
    ]
    for (const segment of segments) {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const res = await call(fetch, method, `/register/${segment}`, {
          token,
          ...(method === 'PUT' && { body: { ...minimal, client_id: 'x' } }),
        })
        assert.equal(res.status, 401, `${method} /register/${segment.slice(0, 20)}: ${res.text}`)
        assert.equal(res.body.error, 'invalid_token')
      }
    }
  })

  it('§2.6: a client secret or an initial access token is not a registration access token', async () => {
    const { fetch, store } = makeRegistrar({ registration: { mode: 'token' } })
    const { token: iat } = await createInitialAccessToken(store)
    const res = await call(fetch, 'POST', '/register', { body: minimal, token: iat })
    assert.equal(res.status, 201)
    const path = new URL(res.body.registration_client_uri).pathname
    assertInvalidToken(await call(fetch, 'GET', path, { token: res.body.client_secret }))
    assertInvalidToken(await call(fetch, 'GET', path, { token: iat }))
    // and the registration access token is not an initial access token
    const again = await call(fetch, 'POST', '/register', {
      body: minimal,
      token: res.body.registration_access_token,
    })
    assert.equal(again.status, 401)
  })

  it('R7592-2-b: other methods are 405 with Allow', async () => {
    const { fetch } = makeRegistrar()
    const { path, token } = await registered(fetch)
    for (const method of ['PATCH', 'POST']) {
      const res = await call(fetch, method, path, { token, body: {} })
      assert.equal(res.status, 405)
      assert.equal(res.headers.get('allow'), 'GET, PUT, DELETE, OPTIONS')
    }
  })

  it('ROIDR-4-a: the endpoint answers CORS preflights and exposes WWW-Authenticate', async () => {
    const { fetch } = makeRegistrar()
    const { path, token } = await registered(fetch)
    const origin = { origin: 'https://spa.example.org' }
    const pre = await call(fetch, 'OPTIONS', path, {
      headers: { ...origin, 'access-control-request-method': 'PUT' },
    })
    assert.equal(pre.status, 204)
    assert.match(pre.headers.get('access-control-allow-methods') ?? '', /PUT/)
    assert.match(pre.headers.get('access-control-allow-headers') ?? '', /Authorization/)
    const denied = await call(fetch, 'GET', path, { token: 'bad', headers: origin })
    assert.equal(denied.headers.get('access-control-allow-origin'), '*')
    assert.match(denied.headers.get('access-control-expose-headers') ?? '', /WWW-Authenticate/)
    assert.equal((await call(fetch, 'GET', path, { token, headers: origin })).status, 200)
  })
})

describe('PUT /register/{client_id} (RFC 7592 §2.2)', () => {
  it('R7592-2.2-a R7592-2.2-c R7592-2.2-h: the previous response minus the four server-managed members is accepted as is', async () => {
    const { fetch } = makeRegistrar()
    const { reg, path, token } = await registered(fetch, {
      ...minimal,
      client_name: 'Example',
      scope: 'openid profile',
    })
    // what the OIDF suite sends: client_id, client_secret and every default the server echoed
    const res = await call(fetch, 'PUT', path, { token, body: withoutManaged(reg) })
    assert.equal(res.status, 200, res.text)
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
    assertNoStore(res.headers)
    assert.equal(res.body.client_id, reg.client_id)
    // the secret is kept, so none is returned; everything else is as registered
    assert.deepEqual(res.body, asRead(reg))
    assert.deepEqual((await call(fetch, 'GET', path, { token })).body, res.body)
  })

  it('R7592-2.2-c: responses of every shape are accepted back (native, public, client_credentials, language tags, HMAC secrets)', async () => {
    const key = Buffer.alloc(32, 7).toString('base64url')
    const { fetch } = makeRegistrar({
      registration: { mode: 'open', secretEncryptionKey: key, extensionFields: ['tenant'] },
    })
    const shapes: Record<string, unknown>[] = [
      { redirect_uris: ['http://127.0.0.1:33418/'], token_endpoint_auth_method: 'none' },
      {
        redirect_uris: ['http://localhost:6274/oauth/callback'],
        token_endpoint_auth_method: 'none',
        scope: '',
        software_id: 'mcp-inspector',
        software_version: '1.0',
      },
      { grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post' },
      {
        ...minimal,
        client_name: 'Hello',
        'client_name#fr': 'Bonjour',
        post_logout_redirect_uris: ['https://client.example.org/out'],
        default_max_age: 300,
        require_auth_time: true,
        tenant: 'blue',
      },
      {
        ...minimal,
        token_endpoint_auth_method: 'client_secret_jwt',
        token_endpoint_auth_signing_alg: 'HS256',
      },
      { ...minimal, id_token_signed_response_alg: 'HS256' },
    ]
    for (const shape of shapes) {
      const { reg, path, token } = await registered(fetch, shape)
      for (const echoed of [
        withoutManaged(reg),
        reg,
        (await call(fetch, 'GET', path, { token })).body,
      ]) {
        const res = await call(fetch, 'PUT', path, { token, body: echoed })
        assert.equal(res.status, 200, `${JSON.stringify(shape)}: ${res.text}`)
        assert.deepEqual(res.body, asRead(reg))
      }
    }
  })

  it('R7592-2.2-c C-10: a server-managed member with a different value is 400 invalid_client_metadata and changes nothing', async () => {
    const { fetch, store } = makeRegistrar()
    const { reg, path, token } = await registered(fetch)
    const different: Record<(typeof MANAGED)[number], unknown> = {
      registration_access_token: 'another-token',
      registration_client_uri: `${ISSUER}/register/another`,
      client_secret_expires_at: 1,
      client_id_issued_at: (reg.client_id_issued_at as number) - 1,
    }
    for (const member of MANAGED) {
      const res = await call(fetch, 'PUT', path, {
        token,
        body: { ...withoutManaged(reg), client_name: 'changed', [member]: different[member] },
      })
      assert.equal(res.status, 400, member)
      assert.equal(res.body.error, 'invalid_client_metadata')
      assert.match(res.body.error_description, new RegExp(member))
    }
    const stored = await store.findClient(reg.client_id)
    assert.equal(stored?.version, 1)
    assert.equal(stored?.metadata.client_name, undefined)
  })

  it('R7592-2.2-d: client_id is required and must match', async () => {
    const { fetch } = makeRegistrar()
    const a = await registered(fetch)
    const b = await registered(fetch)
    const missing = await call(fetch, 'PUT', a.path, { token: a.token, body: minimal })
    assert.equal(missing.status, 400)
    assert.equal(missing.body.error, 'invalid_client_metadata')
    for (const other of [b.reg.client_id, 'x', 42, null]) {
      const res = await call(fetch, 'PUT', a.path, {
        token: a.token,
        body: { ...minimal, client_id: other },
      })
      assert.equal(res.status, 400, String(other))
      assert.equal(res.body.error, 'invalid_client_metadata')
    }
  })

  it('R7592-2.2-e: a client_secret that does not match is 400; the client cannot choose its secret', async () => {
    const { fetch, store } = makeRegistrar()
    const { reg, path, token } = await registered(fetch)
    const before = await store.findClient(reg.client_id)
    for (const secret of ['chosen-by-the-client', `${reg.client_secret}x`, 42]) {
      const res = await call(fetch, 'PUT', path, {
        token,
        body: { ...withoutManaged(reg), client_secret: secret },
      })
      assert.equal(res.status, 400)
      assert.equal(res.body.error, 'invalid_client_metadata')
      assert.equal(res.body.client_secret, undefined)
    }
    const after = await store.findClient(reg.client_id)
    assert.equal(after?.clientSecretHash, before?.clientSecretHash)
    assert.equal(after?.version, 1)
    // the right one is accepted, and the secret stays
    const ok = await call(fetch, 'PUT', path, { token, body: withoutManaged(reg) })
    assert.equal(ok.status, 200)
    assert.equal(
      (await store.findClient(reg.client_id))?.clientSecretHash,
      before?.clientSecretHash,
    )
  })

  it('R7592-2.2-f: omitted members are removed or take their default (a replace, not a merge)', async () => {
    const { fetch } = makeRegistrar()
    const { reg, path, token } = await registered(fetch, {
      ...minimal,
      client_name: 'Example',
      logo_uri: 'https://client.example.org/logo.png',
      contacts: ['ops@client.example.org'],
      scope: 'openid',
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'client_secret_post',
    })
    const res = await call(fetch, 'PUT', path, {
      token,
      body: { client_id: reg.client_id, redirect_uris: ['https://client.example.org/cb2'] },
    })
    assert.equal(res.status, 200, res.text)
    const read = (await call(fetch, 'GET', path, { token })).body
    for (const body of [res.body, read]) {
      for (const gone of ['client_name', 'logo_uri', 'contacts', 'scope']) {
        assert.equal(body[gone], undefined, gone)
      }
      assert.deepEqual(body.redirect_uris, ['https://client.example.org/cb2'])
      assert.deepEqual(body.grant_types, ['authorization_code'])
      assert.equal(body.token_endpoint_auth_method, 'client_secret_basic')
    }
    // null is "delete" too (RFC 7592 §2.2)
    const nulled = await call(fetch, 'PUT', path, {
      token,
      body: { ...withoutManaged(read), client_name: null, redirect_uris: minimal.redirect_uris },
    })
    assert.equal(nulled.status, 200)
    assert.equal(nulled.body.client_name, undefined)
  })

  it('R7592-2.2-g: values the server substitutes appear in the response', async () => {
    const { fetch } = makeRegistrar({ metadata: { scopes_supported: ['openid', 'profile'] } })
    const { reg, path, token } = await registered(fetch)
    const res = await call(fetch, 'PUT', path, {
      token,
      body: {
        ...withoutManaged(reg),
        scope: 'openid admin',
        grant_types: ['authorization_code', 'urn:example:unsupported'],
      },
    })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.scope, 'openid')
    assert.deepEqual(res.body.grant_types, ['authorization_code'])
  })

  it('R7592-2.2-i R7592-2.2-j: PUT bodies get exactly the validation of POST, and a refused PUT changes nothing', async () => {
    const { fetch, store } = makeRegistrar()
    const { reg, path, token } = await registered(fetch, { ...minimal, client_name: 'Kept' })
    const invalid: Record<string, unknown>[] = [
      { redirect_uris: ['http://client.example.org/cb'] },
      { redirect_uris: ['https://client.example.org/cb#frag'] },
      { redirect_uris: ['javascript:alert(1)'] },
      { redirect_uris: [] },
      { grant_types: ['authorization_code'] },
      { ...minimal, application_type: 'web', redirect_uris: ['http://app.example.org/cb'] },
      { ...minimal, jwks_uri: 'https://client.example.org/jwks', jwks: { keys: [] } },
      { ...minimal, jwks_uri: 'https://10.0.0.1/jwks' },
      { ...minimal, token_endpoint_auth_method: 'client_secret_jwt' },
      { ...minimal, token_endpoint_auth_method: 'private_key_jwt' },
      { ...minimal, grant_types: ['implicit'] },
      { ...minimal, scope: 'a\\b' },
      { ...minimal, client_name: 'a\u0000b' },
      { ...minimal, logo_uri: 'ftp://client.example.org/logo.png' },
    ]
    for (const metadata of invalid) {
      const post = await call(fetch, 'POST', '/register', { body: metadata })
      const put = await call(fetch, 'PUT', path, {
        token,
        body: { client_id: reg.client_id, ...metadata },
      })
      assert.equal(post.status, 400, JSON.stringify(metadata))
      assert.equal(put.status, post.status, JSON.stringify(metadata))
      assert.deepEqual(put.body, post.body, JSON.stringify(metadata))
    }
    const stored = await store.findClient(reg.client_id)
    assert.equal(stored?.version, 1)
    assert.equal(stored?.metadata.client_name, 'Kept')
  })

  it('R7592-2.2-i: a bad token is 401 whatever the body (authentication comes first)', async () => {
    const { fetch } = makeRegistrar()
    const { reg, path } = await registered(fetch)
    for (const options of [
      { raw: 'not json' },
      { raw: '[]' },
      { raw: '{}', headers: { 'content-type': 'text/plain' } },
      { body: { client_id: 'other' } },
    ]) {
      assertInvalidToken(
        await call(fetch, 'PUT', path, { token: 'bad', ...options }),
        reg.client_id,
      )
    }
    const none = await call(fetch, 'PUT', path, { raw: 'not json' })
    assert.equal(none.status, 401)
  })

  it('C-9: a PUT body that is not a JSON object, or not application/json, is 400 invalid_client_metadata', async () => {
    const { fetch } = makeRegistrar()
    const { reg, path, token } = await registered(fetch)
    for (const options of [
      { raw: 'not json' },
      { raw: '[]' },
      {
        raw: JSON.stringify({ ...minimal, client_id: reg.client_id }),
        headers: { 'content-type': 'text/plain' },
      },
      { raw: '{"client_id":"a","client_id":"b"}' },
    ]) {
      const res = await call(fetch, 'PUT', path, { token, ...options })
      assert.equal(res.status, 400, res.text)
      assert.equal(res.body.error, 'invalid_client_metadata')
    }
  })

  it('R7592-2.2-h C-8: from none to client_secret_basic a secret is minted and returned; back to none it is removed', async () => {
    const { fetch, store } = makeRegistrar()
    const { reg, path, token } = await registered(fetch, {
      redirect_uris: ['http://127.0.0.1:9000/cb'],
      token_endpoint_auth_method: 'none',
    })
    assert.equal(reg.client_secret, undefined)
    const confidential = await call(fetch, 'PUT', path, {
      token,
      body: { ...withoutManaged(reg), token_endpoint_auth_method: 'client_secret_basic' },
    })
    assert.equal(confidential.status, 200, confidential.text)
    assert.equal(typeof confidential.body.client_secret, 'string')
    assert.equal(confidential.body.client_secret.length, 43)
    assert.equal(confidential.body.client_secret_expires_at, 0)
    assert.ok((await store.findClient(reg.client_id))?.clientSecretHash)
    // the client echoes the new secret back: accepted, and not minted again
    const echoed = await call(fetch, 'PUT', path, {
      token,
      body: withoutManaged(confidential.body),
    })
    assert.equal(echoed.status, 200, echoed.text)
    assert.equal(echoed.body.client_secret, undefined)
    const pub = await call(fetch, 'PUT', path, {
      token,
      body: { ...withoutManaged(echoed.body), token_endpoint_auth_method: 'none' },
    })
    assert.equal(pub.status, 200)
    assert.equal(pub.body.client_secret, undefined)
    assert.equal(pub.body.client_secret_expires_at, undefined)
    const record = await store.findClient(reg.client_id)
    assert.equal(record?.clientSecretHash, undefined)
    assert.equal(record?.client_secret_expires_at, undefined)
    // the removed secret no longer matches anything
    const old = await call(fetch, 'PUT', path, {
      token,
      body: { ...withoutManaged(pub.body), client_secret: confidential.body.client_secret },
    })
    assert.equal(old.status, 400)
  })

  it('R7592-2.2-h: with secretEncryptionKey, moving to client_secret_jwt mints a sealed secret; moving back keeps it', async () => {
    const key = Buffer.alloc(32, 9).toString('base64url')
    const { fetch, store } = makeRegistrar({
      registration: { mode: 'open', secretEncryptionKey: key },
    })
    const { reg, path, token } = await registered(fetch)
    const hashed = await store.findClient(reg.client_id)
    assert.ok(hashed?.clientSecretHash)
    // a hash cannot key an HMAC: a new secret is minted and kept encrypted
    const jwt = await call(fetch, 'PUT', path, {
      token,
      body: {
        ...withoutManaged(reg),
        token_endpoint_auth_method: 'client_secret_jwt',
        token_endpoint_auth_signing_alg: 'HS256',
      },
    })
    assert.equal(jwt.status, 200, jwt.text)
    assert.equal(typeof jwt.body.client_secret, 'string')
    assert.notEqual(jwt.body.client_secret, reg.client_secret)
    const sealed = await store.findClient(reg.client_id)
    assert.equal(sealed?.clientSecretHash, undefined)
    assert.ok(sealed?.clientSecretEncrypted)
    assert.ok(!sealed?.clientSecretEncrypted?.includes(jwt.body.client_secret))
    // the old secret is gone, the new one matches
    const stale = await call(fetch, 'PUT', path, {
      token,
      body: { ...withoutManaged(jwt.body), client_secret: reg.client_secret },
    })
    assert.equal(stale.status, 400)
    const basic = await call(fetch, 'PUT', path, {
      token,
      body: {
        ...withoutManaged(jwt.body),
        token_endpoint_auth_method: 'client_secret_basic',
        token_endpoint_auth_signing_alg: null,
      },
    })
    assert.equal(basic.status, 200, basic.text)
    assert.equal(
      basic.body.client_secret,
      undefined,
      'the sealed secret serves client_secret_basic too',
    )
    assert.equal(
      (await store.findClient(reg.client_id))?.clientSecretEncrypted,
      sealed?.clientSecretEncrypted,
    )
  })

  it('R7592-2.2-h: an expired secret is replaced by the next PUT', async () => {
    let now = 1_800_000_000
    const { fetch } = makeRegistrar(
      { registration: { mode: 'open', clientSecretExpiresIn: 3600 } },
      { clock: () => now },
    )
    const { reg, path, token } = await registered(fetch)
    assert.equal(reg.client_secret_expires_at, now + 3600)
    // without the client_secret, an update keeps the secret (with it, it would renew it)
    const { client_secret: _secret, ...body } = withoutManaged(reg)
    const early = await call(fetch, 'PUT', path, { token, body })
    assert.equal(early.status, 200)
    assert.equal(early.body.client_secret, undefined)
    now += 3601
    const late = await call(fetch, 'PUT', path, { token, body: withoutManaged(reg) })
    assert.equal(late.status, 200, late.text)
    assert.equal(typeof late.body.client_secret, 'string')
    assert.equal(late.body.client_secret_expires_at, now + 3600)
  })

  it('R7592-2.2-h C-7: with rotateRegistrationAccessToken, PUT returns a new token and the old one is dead at once', async () => {
    const { fetch } = makeRegistrar({
      registration: { mode: 'open', rotateRegistrationAccessToken: true },
    })
    const { reg, path, token } = await registered(fetch)
    const res = await call(fetch, 'PUT', path, { token, body: withoutManaged(reg) })
    assert.equal(res.status, 200)
    const fresh = res.body.registration_access_token
    assert.notEqual(fresh, token)
    assert.equal(fresh.length, 43)
    assert.equal(res.body.client_id, reg.client_id)
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const old = await call(fetch, method, path, {
        token,
        ...(method === 'PUT' && { body: withoutManaged(reg) }),
      })
      assertInvalidToken(old, reg.client_id)
    }
    const read = await call(fetch, 'GET', path, { token: fresh })
    assert.equal(read.status, 200)
    assert.equal(read.body.registration_access_token, fresh)
    // the response of the rotating PUT, echoed whole (new token included), is accepted too
    const again = await call(fetch, 'PUT', path, { token: fresh, body: res.body })
    assert.equal(again.status, 200, again.text)
  })

  it('R7592-2.2-h: without rotation (the default), PUT keeps the token', async () => {
    const { fetch } = makeRegistrar()
    const { reg, path, token } = await registered(fetch)
    const res = await call(fetch, 'PUT', path, { token, body: withoutManaged(reg) })
    assert.equal(res.body.registration_access_token, token)
    assert.equal((await call(fetch, 'GET', path, { token })).status, 200)
  })

  it('R7591-3.2.1-f: a stored software_statement is echoed by GET and PUT, and accepted back', async () => {
    const { fetch, store } = makeRegistrar()
    const { reg, path, token } = await registered(fetch)
    const statement =
      'eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJodHRwczovL2RpcmVjdG9yeS5leGFtcGxlLmNvbSJ9.c2ln'
    const record = await store.findClient(reg.client_id)
    assert.ok(record)
    assert.ok(
      await store.replaceClient({ ...record, software_statement: statement, version: 2 }, 1),
    )
    const read = await call(fetch, 'GET', path, { token })
    assert.equal(read.body.software_statement, statement)
    const res = await call(fetch, 'PUT', path, { token, body: withoutManaged(read.body) })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.software_statement, statement)
  })
})

describe('DELETE /register/{client_id} (RFC 7592 §2.3)', () => {
  it('R7592-2.3-a: 204 with an empty body', async () => {
    const { fetch } = makeRegistrar()
    const { path, token } = await registered(fetch)
    const res = await call(fetch, 'DELETE', path, { token })
    assert.equal(res.status, 204)
    assert.equal(res.text, '')
    assert.equal(res.headers.get('content-type'), null)
    assertNoStore(res.headers)
  })

  it('R7592-2.3-b R7592-5-d R7592-2.1-e: after DELETE the client, its secret and its token are gone: every call is 401, never 404', async () => {
    const { fetch, store } = makeRegistrar()
    const { reg, path, token } = await registered(fetch)
    const other = await registered(fetch)
    assert.equal((await call(fetch, 'DELETE', path, { token })).status, 204)
    assert.equal(await store.findClient(reg.client_id), undefined)
    assertInvalidToken(await call(fetch, 'GET', path, { token }), reg.client_id)
    assertInvalidToken(
      await call(fetch, 'PUT', path, { token, body: withoutManaged(reg) }),
      reg.client_id,
    )
    assertInvalidToken(await call(fetch, 'DELETE', path, { token }), reg.client_id)
    // other clients are untouched
    assert.equal((await call(fetch, 'GET', other.path, { token: other.token })).status, 200)
  })

  it('R7592-2.3-d: DELETE with a bad or missing token is 401 and deletes nothing', async () => {
    const { fetch, store } = makeRegistrar()
    const { reg, path, token } = await registered(fetch)
    assertInvalidToken(await call(fetch, 'DELETE', path, { token: `${token}x` }), reg.client_id)
    const none = await call(fetch, 'DELETE', path)
    assert.equal(none.status, 401)
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="registrar"')
    assert.ok(await store.findClient(reg.client_id))
  })
})

describe('the configuration endpoint over a real socket', () => {
  it('R7592-2.1-a R7592-2.2-h R7592-2.3-a: read, update and delete through registrar serve', async () => {
    const server = await startServer(['--store', 'memory', '--registration', 'open'])
    try {
      const created = await fetch(`${server.url}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...minimal, client_name: 'Socket' }),
      })
      assert.equal(created.status, 201)
      const reg = (await created.json()) as Record<string, string>
      const uri = reg.registration_client_uri as string
      assert.equal(uri, `${server.url}/register/${reg.client_id}`)
      const auth = { authorization: `Bearer ${reg.registration_access_token}` }
      const read = await fetch(uri, { headers: auth })
      assert.equal(read.status, 200)
      assert.equal(((await read.json()) as Record<string, unknown>).client_name, 'Socket')
      const update = await fetch(uri, {
        method: 'PUT',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ ...withoutManaged(reg), client_name: 'Renamed' }),
      })
      assert.equal(update.status, 200)
      assert.equal(((await update.json()) as Record<string, unknown>).client_name, 'Renamed')
      const unauthorised = await fetch(uri, { method: 'PUT', body: 'not json' })
      assert.equal(unauthorised.status, 401)
      await unauthorised.text()
      const removed = await fetch(uri, { method: 'DELETE', headers: auth })
      assert.equal(removed.status, 204)
      assert.equal(await removed.text(), '')
      const gone = await fetch(uri, { headers: auth })
      assert.equal(gone.status, 401)
      assert.ok(!(await gone.text()).includes(reg.client_id as string))
      const malformed = await fetch(`${server.url}/register/%E0%A4%A`, { headers: auth })
      assert.equal(malformed.status, 401)
      await malformed.text()
    } finally {
      await server.stop()
    }
  })
})
