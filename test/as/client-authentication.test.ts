import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { SignJWT } from 'jose'
import { sha256 } from '../../src/core/crypto.js'
import type { ClientRecord } from '../../src/core/store.js'
import type { ClientRegistryEvents, RegistrarApp } from '../../src/index.js'
import { MemoryStore } from '../../src/storage/memory.js'
import { call } from '../helpers.js'
import { selfSignedCertificate, startTlsServer, type TlsServer } from '../tls-helpers.js'
import { assertion, JWT_BEARER, keyPair, nowSeconds, unsecured } from './assertions.js'
import {
  basic,
  ISSUER,
  makeApp,
  register,
  rejectsWith,
  TOKEN_ENDPOINT,
  tokenRequest,
} from './support.js'

type Failure = ClientRegistryEvents['client.authentication_failed'][0]

/** Collects the registry's events. */
function events(app: RegistrarApp) {
  const ok: ClientRegistryEvents['client.authenticated'][0][] = []
  const failed: Failure[] = []
  app.clientRegistry.on('client.authenticated', (e) => ok.push(e))
  app.clientRegistry.on('client.authentication_failed', (e) => failed.push(e))
  return { ok, failed }
}

describe('authenticateClient: client_secret_basic and client_secret_post (RFC 6749 §2.3.1)', () => {
  let app: RegistrarApp
  let store: MemoryStore
  let basicClient: { client_id: string; client_secret: string }
  let postClient: { client_id: string; client_secret: string }
  let publicClient: { client_id: string }
  before(async () => {
    store = new MemoryStore()
    app = await makeApp({}, { store })
    basicClient = await register(app)
    postClient = await register(app, { token_endpoint_auth_method: 'client_secret_post' })
    publicClient = await register(app, { token_endpoint_auth_method: 'none' })
  })
  after(() => app?.close())

  it('AS-6749-2.3.1-a: Basic with the issued secret authenticates the client', async () => {
    const seen = events(app)
    const result = await app.authenticateClient(
      tokenRequest({}, { authorization: basic(basicClient.client_id, basicClient.client_secret) }),
    )
    assert.equal(result.client.client_id, basicClient.client_id)
    assert.equal(result.method, 'client_secret_basic')
    assert.deepEqual(seen.ok, [{ client_id: basicClient.client_id, method: 'client_secret_basic' }])
  })

  it('AS-6749-2.3.1-d: body credentials authenticate a client_secret_post client', async () => {
    const result = await app.authenticateClient(
      tokenRequest({ client_id: postClient.client_id, client_secret: postClient.client_secret }),
    )
    assert.equal(result.client.client_id, postClient.client_id)
    assert.equal(result.method, 'client_secret_post')
  })

  it('AS-6749-2.3.1-b: Basic halves are form-decoded (+ and %XX), split at the first colon; raw values are refused', async () => {
    const secret = 'a+b:c%d ~'
    const clientId = 'id:with+odd%chars'
    await store.createClient({
      ...((await store.findClient(basicClient.client_id)) as ClientRecord),
      client_id: clientId,
      clientSecretHash: sha256(secret),
      version: 1,
    })
    const ok = await app.authenticateClient(
      tokenRequest({}, { authorization: basic(clientId, secret) }),
    )
    assert.equal(ok.client.client_id, clientId)
    // unencoded: the first colon is inside the id, and + would become a space
    const raw = `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`
    await rejectsWith(
      app.authenticateClient(tokenRequest({}, { authorization: raw })),
      'invalid_client',
    )
    await store.deleteClient(clientId)
  })

  it('AS-BP-07: a Registrar secret works whether the client form-encodes it or not (base64url survives both)', async () => {
    const { client_id, client_secret } = basicClient
    assert.match(client_secret, /^[A-Za-z0-9_-]{43}$/)
    const raw = `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`
    assert.equal(
      (await app.authenticateClient(tokenRequest({}, { authorization: raw }))).method,
      'client_secret_basic',
    )
  })

  it('AS-BP-10, AS-6749-A-a: the scheme is case-insensitive; malformed Basic, a missing colon, an empty secret, a control character or another scheme is 401 with the challenge', async () => {
    const { client_id, client_secret } = basicClient
    const token = Buffer.from(`${client_id}:${client_secret}`).toString('base64')
    for (const scheme of ['basic', 'BASIC', 'bAsIc']) {
      const r = await app.authenticateClient(
        tokenRequest({}, { authorization: `${scheme} ${token}` }),
      )
      assert.equal(r.client.client_id, client_id)
    }
    const seen = events(app)
    for (const authorization of [
      'Basic x',
      'Basic !!!',
      'Basic',
      'Basic ',
      `Basic ${Buffer.from(`${client_id}${client_secret}`).toString('base64')}`, // no colon
      `Basic ${Buffer.from(`${client_id}:`).toString('base64')}`, // empty secret (App. A)
      `Basic ${Buffer.from(`:${client_secret}`).toString('base64')}`, // empty id
      `Basic ${Buffer.from(`${client_id}:a%0Ab`).toString('base64')}`, // control character
      `Basic ${Buffer.from(`${client_id}:a%zz`).toString('base64')}`, // bad percent-escape
      `Basic ${Buffer.from([0xff, 0x3a, 0x41]).toString('base64')}`, // not UTF-8
      `Bearer ${client_secret}`,
      'DPoP abc',
      `Basic ${token} extra`,
    ]) {
      const promise = app.authenticateClient(tokenRequest({}, { authorization }))
      await rejectsWith(promise, 'invalid_client', authorization)
      await promise.catch((err) => {
        assert.equal(err.headers['www-authenticate'], `Basic realm="${ISSUER}"`)
        assert.equal(err.headers['cache-control'], 'no-store')
      })
    }
    assert.deepEqual([...new Set(seen.failed.map((f) => f.reason))].sort(), [
      'malformed_basic',
      'unsupported_authorization_scheme',
    ])
  })

  it('AS-BP-08: a body client_id next to Basic is allowed when equal, 400 when it differs, never required', async () => {
    const { client_id, client_secret } = basicClient
    const authorization = basic(client_id, client_secret)
    assert.ok(await app.authenticateClient(tokenRequest({ client_id }, { authorization })))
    assert.ok(await app.authenticateClient(tokenRequest({}, { authorization })))
    await rejectsWith(
      app.authenticateClient(tokenRequest({ client_id: postClient.client_id }, { authorization })),
      'invalid_request',
    )
  })

  it('AS-6749-2.3-c: two mechanisms in one request are 400 invalid_request, a malformed Basic header included', async () => {
    const post = { client_id: postClient.client_id, client_secret: postClient.client_secret }
    const seen = events(app)
    for (const [label, request] of [
      [
        'Basic + client_secret',
        tokenRequest(post, {
          authorization: basic(basicClient.client_id, basicClient.client_secret),
        }),
      ],
      [
        'malformed Basic + valid body credentials',
        tokenRequest(post, { authorization: 'Basic !!!' }),
      ],
      ['Bearer + valid body credentials', tokenRequest(post, { authorization: 'Bearer x' })],
      [
        'client_secret + client_assertion',
        tokenRequest({ ...post, client_assertion: 'a.b.c', client_assertion_type: JWT_BEARER }),
      ],
      [
        'Basic + client_assertion',
        tokenRequest(
          { client_assertion: 'a.b.c', client_assertion_type: JWT_BEARER },
          { authorization: basic(basicClient.client_id, basicClient.client_secret) },
        ),
      ],
    ] as const) {
      await rejectsWith(app.authenticateClient(request), 'invalid_request', label)
    }
    assert.ok(seen.failed.every((f) => f.reason === 'multiple_mechanisms' && f.status === 400))
  })

  it('AS-6749-2.3.1-f: credentials in the query string are refused (400), the body ones too', async () => {
    const { client_id, client_secret } = postClient
    for (const query of [
      `client_secret=${client_secret}`,
      'client_assertion=x',
      `client_assertion_type=${JWT_BEARER}`,
    ]) {
      await rejectsWith(
        app.authenticateClient(
          tokenRequest({ client_id, client_secret }, { url: `${TOKEN_ENDPOINT}?${query}` }),
        ),
        'invalid_request',
        query,
      )
    }
    // a client_id alone in the query is no credential
    const ok = await app.authenticateClient(
      tokenRequest(
        { client_id, client_secret },
        { url: `${TOKEN_ENDPOINT}?client_id=${client_id}` },
      ),
    )
    assert.equal(ok.client.client_id, client_id)
  })

  it('AS-6749-3.2-a: a repeated parameter is 400; an empty one counts as absent', async () => {
    const { client_id, client_secret } = postClient
    const body = new URLSearchParams([
      ['client_id', client_id],
      ['client_id', client_id],
      ['client_secret', client_secret],
    ])
    const request = new Request(TOKEN_ENDPOINT, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    })
    await rejectsWith(app.authenticateClient(request), 'invalid_request')
    await rejectsWith(
      app.authenticateClient(tokenRequest({ client_id, client_secret: '' })),
      'invalid_client',
    )
  })

  it('AS-BP-06: unknown client and wrong secret fail alike: same error, description, status and headers', async () => {
    const outcomes = []
    for (const authorization of [
      basic('no-such-client', basicClient.client_secret),
      basic(basicClient.client_id, 'wrong-secret'),
      basic(publicClient.client_id, 'anything'),
    ]) {
      const err = await app.authenticateClient(tokenRequest({}, { authorization })).catch((e) => e)
      outcomes.push({ status: err.status, body: err.toJSON(), headers: err.headers })
    }
    for (const [id, secret] of [
      ['no-such-client', postClient.client_secret],
      [postClient.client_id, 'wrong-secret'],
    ]) {
      const err = await app
        .authenticateClient(
          tokenRequest({ client_id: id as string, client_secret: secret as string }),
        )
        .catch((e) => e)
      outcomes.push({ status: err.status, body: err.toJSON(), headers: err.headers })
    }
    for (const o of outcomes) assert.deepEqual(o, outcomes[0])
    assert.deepEqual(outcomes[0]?.body, {
      error: 'invalid_client',
      error_description: 'client authentication failed',
    })
  })

  it('AS-BP-09: basic and post stand in for each other by default', async () => {
    const asPost = await app.authenticateClient(
      tokenRequest({ client_id: basicClient.client_id, client_secret: basicClient.client_secret }),
    )
    assert.equal(asPost.method, 'client_secret_post')
    const asBasic = await app.authenticateClient(
      tokenRequest({}, { authorization: basic(postClient.client_id, postClient.client_secret) }),
    )
    assert.equal(asBasic.method, 'client_secret_basic')
  })

  it('AS-BP-09: with strictMethod the registered one is required', async () => {
    const strict = await makeApp({ clientAuthentication: { strictMethod: true } })
    try {
      const b = await register(strict)
      const p = await register(strict, { token_endpoint_auth_method: 'client_secret_post' })
      await rejectsWith(
        strict.authenticateClient(
          tokenRequest({ client_id: b.client_id, client_secret: b.client_secret }),
        ),
        'invalid_client',
      )
      await rejectsWith(
        strict.authenticateClient(
          tokenRequest({}, { authorization: basic(p.client_id, p.client_secret) }),
        ),
        'invalid_client',
      )
      assert.ok(
        await strict.authenticateClient(
          tokenRequest({}, { authorization: basic(b.client_id, b.client_secret) }),
        ),
      )
    } finally {
      await strict.close()
    }
  })

  it('AS-6749-3.2.1-a AS-6749-2.3.1-e: a confidential client sending only client_id is 401', async () => {
    const seen = events(app)
    await rejectsWith(
      app.authenticateClient(tokenRequest({ client_id: basicClient.client_id })),
      'invalid_client',
    )
    await rejectsWith(
      app.authenticateClient(tokenRequest({ client_id: postClient.client_id })),
      'invalid_client',
    )
    assert.deepEqual(
      seen.failed.map((f) => f.reason),
      ['credentials_missing', 'credentials_missing'],
    )
  })

  it('AS-6749-3.2.1-b AS-BP-13: a public client names itself with client_id; any credential it sends is refused', async () => {
    const id = publicClient.client_id
    const ok = await app.authenticateClient(tokenRequest({ client_id: id }))
    assert.deepEqual([ok.client.client_id, ok.method], [id, 'none'])
    await rejectsWith(app.authenticateClient(tokenRequest({})), 'invalid_request')
    await rejectsWith(
      app.authenticateClient(tokenRequest({ client_id: id, client_secret: 'x' })),
      'invalid_client',
    )
    await rejectsWith(
      app.authenticateClient(tokenRequest({}, { authorization: basic(id, 'x') })),
      'invalid_client',
    )
    const { privateKey } = await keyPair()
    await rejectsWith(
      app.authenticateClient(
        tokenRequest({
          client_assertion_type: JWT_BEARER,
          client_assertion: await assertion(id, privateKey),
        }),
      ),
      'invalid_client',
    )
  })

  it('AS-7592-2.3-a AS-BP-14: after an RFC 7592 delete, the secret fails at once (401, public clients too)', async () => {
    const c = await register(app)
    const p = await register(app, { token_endpoint_auth_method: 'none' })
    const authorization = basic(c.client_id, c.client_secret)
    assert.ok(await app.authenticateClient(tokenRequest({}, { authorization })))
    assert.ok(await app.authenticateClient(tokenRequest({ client_id: p.client_id })))
    for (const info of [c, p]) {
      const del = await call(app.fetch, 'DELETE', `/register/${info.client_id}`, {
        token: info.registration_access_token,
      })
      assert.equal(del.status, 204)
    }
    await rejectsWith(app.authenticateClient(tokenRequest({}, { authorization })), 'invalid_client')
    await rejectsWith(
      app.authenticateClient(tokenRequest({ client_id: p.client_id })),
      'invalid_client',
    )
  })

  it('AS-6749-3.2.1-c: a disabled (or awaiting approval) client fails like a deleted one', async () => {
    const c = await register(app)
    const record = (await store.findClient(c.client_id)) as ClientRecord
    await store.replaceClient(
      { ...record, status: 'disabled', version: record.version + 1 },
      record.version,
    )
    await rejectsWith(
      app.authenticateClient(
        tokenRequest({}, { authorization: basic(c.client_id, c.client_secret) }),
      ),
      'invalid_client',
    )
  })

  it('the body of a web Request stays readable for the host after authentication', async () => {
    const request = tokenRequest({
      client_id: postClient.client_id,
      client_secret: postClient.client_secret,
      code: 'abc',
    })
    await app.authenticateClient(request)
    const params = new URLSearchParams(await request.text())
    assert.equal(params.get('code'), 'abc')
  })

  it('a request the host already parsed ({ headers, body }): Express-style records, arrays for repeats', async () => {
    const { client_id, client_secret } = basicClient
    const ok = await app.authenticateClient({
      headers: {
        Authorization: basic(client_id, client_secret),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: { grant_type: 'client_credentials' },
    })
    assert.equal(ok.client.client_id, client_id)
    const post = await app.authenticateClient({
      headers: new Headers(),
      body: new URLSearchParams({ client_id, client_secret }),
    })
    assert.equal(post.method, 'client_secret_post')
    await rejectsWith(
      app.authenticateClient({
        headers: {},
        body: { client_id: [client_id, client_id], client_secret },
      }),
      'invalid_request',
    )
    await rejectsWith(
      app.authenticateClient({ headers: {}, body: { client_id: { nested: true }, client_secret } }),
      'invalid_request',
    )
    await rejectsWith(
      app.authenticateClient({ headers: { authorization: ['Basic a', 'Basic b'] }, body: {} }),
      'invalid_request',
    )
    await rejectsWith(
      app.authenticateClient({
        headers: {},
        body: { client_id, client_secret },
        query: { client_secret },
      }),
      'invalid_request',
    )
    assert.ok(
      await app.authenticateClient({
        headers: {},
        body: { client_id: [client_id], client_secret },
      }),
    )
  })

  it('a body that is not a form is not read: only the Authorization header can authenticate', async () => {
    const json = new Request(TOKEN_ENDPOINT, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: postClient.client_id,
        client_secret: postClient.client_secret,
      }),
    })
    await rejectsWith(app.authenticateClient(json), 'invalid_request')
    const big = tokenRequest({
      client_id: postClient.client_id,
      client_secret: postClient.client_secret,
      pad: 'x'.repeat(70_000),
    })
    await rejectsWith(app.authenticateClient(big), 'invalid_request')
  })

  it('events: never a secret; the reason and the client named', async () => {
    const seen = events(app)
    const secret = basicClient.client_secret
    await app.authenticateClient(
      tokenRequest({}, { authorization: basic(basicClient.client_id, secret) }),
    )
    await app
      .authenticateClient(
        tokenRequest({}, { authorization: basic(basicClient.client_id, `${secret}x`) }),
      )
      .catch(() => {})
    assert.deepEqual(seen.failed, [
      {
        client_id: basicClient.client_id,
        method: 'client_secret_basic',
        reason: 'invalid_secret',
        error: 'invalid_client',
        status: 401,
      },
    ])
    assert.ok(!JSON.stringify([seen.ok, seen.failed]).includes(secret))
  })
})

describe('authenticateClient: an expired secret (RFC 7591 §3.2.1: client_secret_expires_at)', () => {
  it('AS-7591-3.2.1-a: after client_secret_expires_at the right secret is 401; the record stays readable', async () => {
    let now = nowSeconds()
    const app = await makeApp(
      { registration: { clientSecretExpiresIn: 100 } },
      { clock: () => now },
    )
    try {
      const c = await register(app)
      assert.equal(c.client_secret_expires_at, now + 100)
      const authorization = basic(c.client_id, c.client_secret)
      assert.ok(await app.authenticateClient(tokenRequest({}, { authorization })))
      now += 100
      const err = await app.authenticateClient(tokenRequest({}, { authorization })).catch((e) => e)
      assert.deepEqual(
        [err.status, err.toJSON()],
        [401, { error: 'invalid_client', error_description: 'the client secret has expired' }],
      )
      // a wrong secret never learns that the right one expired
      const wrong = await app
        .authenticateClient(tokenRequest({}, { authorization: basic(c.client_id, 'nope') }))
        .catch((e) => e)
      assert.equal(wrong.error_description, 'client authentication failed')
      const read = await call(app.fetch, 'GET', `/register/${c.client_id}`, {
        token: c.registration_access_token,
      })
      assert.equal(read.status, 200)
    } finally {
      await app.close()
    }
  })
})

describe('authenticateClient: client assertions (RFC 7521 §4.2, RFC 7523 §3)', () => {
  let app: RegistrarApp
  let ec: Awaited<ReturnType<typeof keyPair>>
  let rsa: Awaited<ReturnType<typeof keyPair>>
  let pkj: { client_id: string }
  let pkjPinned: { client_id: string }
  let csj: { client_id: string; client_secret: string }
  let basicClient: { client_id: string; client_secret: string }
  const tls = selfSignedCertificate()
  let jwksServer: TlsServer
  let jwksFetches = 0
  let missingFetches = 0
  let served: { keys: unknown[] } = { keys: [] }

  before(async () => {
    ec = await keyPair('ES256', 'ec-1')
    rsa = await keyPair('RS256', 'rsa-1')
    jwksServer = await startTlsServer(tls, (req, res) => {
      if (req.url !== '/jwks.json') {
        missingFetches++
        res.writeHead(404)
        res.end()
        return
      }
      jwksFetches++
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(served))
    })
    app = await makeApp({
      fetch: { allowedAddresses: ['127.0.0.2/32'], caFile: tls.caFile },
      softwareStatement: { keyRefreshCooldown: 30 },
      // these tests send one client more bad assertions within a minute than the brute-force
      // limit admits; the limit itself is tested in failure-limit.test.ts
      clientAuthentication: { failureLimit: { perClient: { max: 0 } } },
    })
    pkj = await register(app, {
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [ec.publicJwk, rsa.publicJwk] },
    })
    pkjPinned = await register(app, {
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks: { keys: [ec.publicJwk, rsa.publicJwk] },
    })
    csj = await register(app, { token_endpoint_auth_method: 'client_secret_jwt' })
    basicClient = await register(app)
  })
  after(async () => {
    await app?.close()
    await jwksServer?.close()
    tls.cleanup()
  })

  const send = (clientAssertion: string, extra: Record<string, string> = {}, url?: string) =>
    app.authenticateClient(
      tokenRequest(
        { client_assertion_type: JWT_BEARER, client_assertion: clientAssertion, ...extra },
        url === undefined ? {} : { url },
      ),
    )

  it('RFC 7523: private_key_jwt with the registered jwks (ES256 and RS256)', async () => {
    const a = await send(await assertion(pkj.client_id, ec.privateKey))
    assert.deepEqual([a.client.client_id, a.method], [pkj.client_id, 'private_key_jwt'])
    const b = await send(
      await assertion(pkj.client_id, rsa.privateKey, { header: { alg: 'RS256', kid: 'rsa-1' } }),
    )
    assert.equal(b.method, 'private_key_jwt')
  })

  it('RFC 7523: client_secret_jwt with the sealed secret (HS256)', async () => {
    const key = new TextEncoder().encode(csj.client_secret)
    const r = await send(await assertion(csj.client_id, key, { header: { alg: 'HS256' } }))
    assert.deepEqual([r.client.client_id, r.method], [csj.client_id, 'client_secret_jwt'])
  })

  it('AS-7523-2.2-a: client_assertion_type exactly the jwt-bearer URN, and both parameters together (else 400)', async () => {
    const jwt = await assertion(pkj.client_id, ec.privateKey)
    for (const params of [
      { client_assertion_type: `${JWT_BEARER}x`, client_assertion: jwt },
      {
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer',
        client_assertion: jwt,
      },
      { client_assertion: jwt },
      { client_assertion_type: JWT_BEARER },
    ] as Record<string, string>[]) {
      await rejectsWith(
        app.authenticateClient(tokenRequest(params)),
        'invalid_request',
        JSON.stringify(params),
      )
    }
  })

  it('AS-7521-4.2-a: a client_id parameter must name the client the assertion names', async () => {
    const jwt = await assertion(pkj.client_id, ec.privateKey)
    await rejectsWith(send(jwt, { client_id: csj.client_id }), 'invalid_client')
    assert.ok(
      await send(await assertion(pkj.client_id, ec.privateKey), { client_id: pkj.client_id }),
    )
  })

  it('AS-7523-3-a: iss and sub must both be the client_id', async () => {
    const k = ec.privateKey
    await rejectsWith(
      send(await assertion(pkj.client_id, k, { claims: { iss: csj.client_id } })),
      'invalid_client',
    )
    await rejectsWith(
      send(await assertion(pkj.client_id, k, { claims: { sub: csj.client_id } })),
      'invalid_client',
    )
    await rejectsWith(
      send(await assertion(pkj.client_id, k, { claims: { iss: undefined } })),
      'invalid_client',
    )
    await rejectsWith(
      send(await assertion(pkj.client_id, k, { claims: { sub: undefined, iss: undefined } })),
      'invalid_client',
    )
  })

  it('AS-7523-3-b AS-10070-3-a: aud is the issuer; the token endpoint or the URL called is accepted too (compat)', async () => {
    const k = ec.privateKey
    const id = pkj.client_id
    for (const aud of [
      ISSUER,
      [ISSUER],
      TOKEN_ENDPOINT,
      [TOKEN_ENDPOINT, 'https://other.example'],
      ['x', ISSUER],
    ]) {
      assert.ok(await send(await assertion(id, k, { claims: { aud } })), JSON.stringify(aud))
    }
    // the URL of the endpoint called: from the request, or as the host tells it
    const introspection = `${ISSUER}/introspect`
    assert.ok(
      await send(await assertion(id, k, { claims: { aud: introspection } }), {}, introspection),
    )
    const told = await app.authenticateClient(
      tokenRequest({
        client_assertion_type: JWT_BEARER,
        client_assertion: await assertion(id, k, { claims: { aud: `${ISSUER}/revoke` } }),
      }),
      { endpoint: `${ISSUER}/revoke` },
    )
    assert.ok(told)
    for (const aud of [
      'https://other.example',
      `${ISSUER}/`,
      [],
      [42],
      42,
      `${ISSUER}/introspect`,
      undefined,
    ]) {
      await rejectsWith(
        send(await assertion(id, k, { claims: { aud } })),
        'invalid_client',
        JSON.stringify(aud),
      )
    }
  })

  it('AS-10070-3-a: strictAudience accepts the issuer as the only value, nothing else', async () => {
    const strict = await makeApp({ clientAuthentication: { strictAudience: true } })
    try {
      const c = await register(strict, {
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [ec.publicJwk] },
      })
      const k = ec.privateKey
      const go = async (aud: unknown) =>
        strict.authenticateClient(
          tokenRequest({
            client_assertion_type: JWT_BEARER,
            client_assertion: await assertion(c.client_id, k, { claims: { aud } }),
          }),
        )
      assert.ok(await go(ISSUER))
      assert.ok(await go([ISSUER]))
      await rejectsWith(go(TOKEN_ENDPOINT), 'invalid_client')
      await rejectsWith(go([ISSUER, 'https://other.example']), 'invalid_client')
      await rejectsWith(go([ISSUER, ISSUER]), 'invalid_client')
    } finally {
      await strict.close()
    }
  })

  it('AS-10070-3-b: typ naming another kind of JWT is refused; none, JWT and client-authentication+jwt pass', async () => {
    const k = ec.privateKey
    const id = pkj.client_id
    for (const typ of [
      undefined,
      'JWT',
      'jwt',
      'client-authentication+jwt',
      'application/client-authentication+jwt',
    ]) {
      assert.ok(
        await send(await assertion(id, k, { header: typ === undefined ? {} : { typ } })),
        String(typ),
      )
    }
    for (const typ of ['dpop+jwt', 'at+jwt', 'oauth-authz-req+jwt', 'secevent+jwt', 'JOSE']) {
      await rejectsWith(send(await assertion(id, k, { header: { typ } })), 'invalid_client', typ)
    }
  })

  it('AS-7523-3-c: exp required, not past, not beyond maxAssertionLifetime; nbf and iat not in the future', async () => {
    const k = ec.privateKey
    const id = pkj.client_id
    const now = nowSeconds()
    assert.ok(await send(await assertion(id, k, { claims: { exp: now + 600 } })))
    assert.ok(
      await send(await assertion(id, k, { claims: { exp: now - 5 } })),
      'within the 15 s skew',
    )
    for (const claims of [
      { exp: now + 86_400 },
      { exp: now + 700 },
      { exp: now - 60 },
      { exp: undefined },
      { exp: 'soon' },
      { nbf: now + 120 },
      { iat: now + 120 },
    ]) {
      await rejectsWith(
        send(await assertion(id, k, { claims })),
        'invalid_client',
        JSON.stringify(claims),
      )
    }
  })

  it('AS-7523-3-d: jti required and used once', async () => {
    const k = ec.privateKey
    const jwt = await assertion(pkj.client_id, k)
    assert.ok(await send(jwt))
    const seen = events(app)
    await rejectsWith(send(jwt), 'invalid_client')
    assert.equal(seen.failed[0]?.reason, 'assertion_replayed')
    await rejectsWith(
      send(await assertion(pkj.client_id, k, { claims: { jti: undefined } })),
      'invalid_client',
    )
    await rejectsWith(
      send(await assertion(pkj.client_id, k, { claims: { jti: '' } })),
      'invalid_client',
    )
    await rejectsWith(
      send(await assertion(pkj.client_id, k, { claims: { jti: 7 } })),
      'invalid_client',
    )
  })

  it('AS-7523-3-d: a jti is spent only by a valid signature: a forged assertion does not burn it', async () => {
    const jti = randomUUID()
    const other = await keyPair('ES256', 'ec-1')
    await rejectsWith(
      send(await assertion(pkj.client_id, other.privateKey, { claims: { jti } })),
      'invalid_client',
    )
    assert.ok(await send(await assertion(pkj.client_id, ec.privateKey, { claims: { jti } })))
  })

  it('AS-7523-3-e: alg none, HMAC for private_key_jwt (even keyed with the public key), RSA for client_secret_jwt: 401', async () => {
    const now = nowSeconds()
    const claims = {
      iss: pkj.client_id,
      sub: pkj.client_id,
      aud: ISSUER,
      exp: now + 60,
      jti: randomUUID(),
    }
    await rejectsWith(send(unsecured(claims)), 'invalid_client', 'alg none')
    for (const publicAsSecret of [
      JSON.stringify(ec.publicJwk),
      JSON.stringify(rsa.publicJwk),
      rsa.publicJwk.n as string,
    ]) {
      const hs = await new SignJWT({ ...claims, jti: randomUUID() })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(publicAsSecret))
      await rejectsWith(send(hs), 'invalid_client', 'HS256 keyed with the public key')
    }
    await rejectsWith(
      send(
        await assertion(csj.client_id, rsa.privateKey, { header: { alg: 'RS256', kid: 'rsa-1' } }),
      ),
      'invalid_client',
      'RS256 for client_secret_jwt',
    )
    const seen = events(app)
    await rejectsWith(send(unsecured({ ...claims, jti: randomUUID() })), 'invalid_client')
    assert.deepEqual(
      [seen.failed[0]?.reason, seen.failed[0]?.detail],
      ['invalid_assertion', 'alg none is not allowed'],
    )
  })

  it('AS-7523-3-e: a registered token_endpoint_auth_signing_alg is the only one accepted', async () => {
    assert.ok(await send(await assertion(pkjPinned.client_id, ec.privateKey)))
    await rejectsWith(
      send(
        await assertion(pkjPinned.client_id, rsa.privateKey, {
          header: { alg: 'RS256', kid: 'rsa-1' },
        }),
      ),
      'invalid_client',
    )
  })

  it('AS-7523-3-e: a signature by a key the client did not register is 401', async () => {
    const stranger = await keyPair('ES256', 'ec-1')
    await rejectsWith(send(await assertion(pkj.client_id, stranger.privateKey)), 'invalid_client')
    const csjKey = new TextEncoder().encode(`${csj.client_secret}x`)
    await rejectsWith(
      send(await assertion(csj.client_id, csjKey, { header: { alg: 'HS256' } })),
      'invalid_client',
    )
  })

  it('AS-BP-12: an HMAC key shorter than the hash (HS512 with a 256-bit secret) is refused', async () => {
    // no signing alg registered: the secret is minted for HS256 (256 bits)
    const c = await register(app, { token_endpoint_auth_method: 'client_secret_jwt' })
    assert.equal(c.client_secret.length, 43)
    const key = new TextEncoder().encode(c.client_secret)
    const seen = events(app)
    await rejectsWith(
      send(await assertion(c.client_id, key, { header: { alg: 'HS512' } })),
      'invalid_client',
    )
    assert.equal(seen.failed[0]?.detail, 'the secret is too short for HS512')
  })

  it('AS-7591-3.2.1-a: client_secret_jwt with an expired secret is 401', async () => {
    let now = nowSeconds()
    const expiring = await makeApp(
      { registration: { clientSecretExpiresIn: 10 } },
      { clock: () => now },
    )
    try {
      const c = await register(expiring, { token_endpoint_auth_method: 'client_secret_jwt' })
      const key = new TextEncoder().encode(c.client_secret)
      const go = async () =>
        expiring.authenticateClient(
          tokenRequest({
            client_assertion_type: JWT_BEARER,
            client_assertion: await assertion(c.client_id, key, {
              header: { alg: 'HS256' },
              claims: { exp: now + 60, iat: now },
            }),
          }),
        )
      assert.ok(await go())
      now += 10
      await rejectsWith(go(), 'invalid_client')
    } finally {
      await expiring.close()
    }
  })

  it('AS-6749-2.3-b: the registered method is enforced: secrets for JWT clients, assertions for secret clients', async () => {
    await rejectsWith(
      app.authenticateClient(
        tokenRequest({ client_id: csj.client_id, client_secret: csj.client_secret }),
      ),
      'invalid_client',
      'client_secret_jwt client posting its secret',
    )
    await rejectsWith(
      app.authenticateClient(
        tokenRequest({}, { authorization: basic(csj.client_id, csj.client_secret) }),
      ),
      'invalid_client',
    )
    const key = new TextEncoder().encode(basicClient.client_secret)
    await rejectsWith(
      send(await assertion(basicClient.client_id, key, { header: { alg: 'HS256' } })),
      'invalid_client',
      'a client_secret_basic client sending an HS256 assertion',
    )
    await rejectsWith(
      app.authenticateClient(tokenRequest({ client_id: pkj.client_id })),
      'invalid_client',
    )
  })

  it('AS-7523-3.2-a: an undecodable assertion, a JWE or garbage is 401 invalid_client', async () => {
    for (const junk of [
      'x',
      'a.b.c',
      'a.b.c.d.e',
      `${'e'.repeat(10)}..`,
      '...',
      'eyJhbGciOiJFUzI1NiJ9.e30.sig',
    ]) {
      await rejectsWith(send(junk), 'invalid_client', junk)
    }
  })

  it('AS-BP-11: jwks_uri keys through the safe fetcher, cached; 20 unknown kids within the cool-down fetch nothing more', async () => {
    served = { keys: [ec.publicJwk] }
    const c = await register(app, {
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: `${jwksServer.origin}/jwks.json`,
    })
    jwksFetches = 0
    assert.ok(await send(await assertion(c.client_id, ec.privateKey, { header: { kid: 'ec-1' } })))
    assert.equal(jwksFetches, 1)
    assert.ok(await send(await assertion(c.client_id, ec.privateKey, { header: { kid: 'ec-1' } })))
    assert.equal(jwksFetches, 1, 'cached')
    for (let i = 0; i < 20; i++) {
      await rejectsWith(
        send(
          await assertion(c.client_id, rsa.privateKey, {
            header: { alg: 'RS256', kid: `unknown-${i}` },
          }),
        ),
        'invalid_client',
      )
    }
    assert.equal(jwksFetches, 1, 'the first fetch is within the 30 s cool-down')
  })

  it('AS-BP-11: after the cool-down, an unknown kid fetches the jwks_uri once more (key rotation)', async () => {
    const quick = await makeApp({
      fetch: { allowedAddresses: ['127.0.0.2/32'], caFile: tls.caFile },
      softwareStatement: { keyRefreshCooldown: 1 },
    })
    try {
      served = { keys: [ec.publicJwk] }
      const c = await register(quick, {
        token_endpoint_auth_method: 'private_key_jwt',
        jwks_uri: `${jwksServer.origin}/jwks.json`,
      })
      const go = async (key: typeof ec) =>
        quick.authenticateClient(
          tokenRequest({
            client_assertion_type: JWT_BEARER,
            client_assertion: await assertion(c.client_id, key.privateKey, {
              header: { alg: key.alg, kid: key.kid },
            }),
          }),
        )
      jwksFetches = 0
      assert.ok(await go(ec))
      served = { keys: [ec.publicJwk, rsa.publicJwk] } // the client rotates in a new key
      await rejectsWith(go(rsa), 'invalid_client') // within the cool-down: not fetched
      assert.equal(jwksFetches, 1)
      await new Promise((resolve) => setTimeout(resolve, 1100))
      assert.ok(await go(rsa))
      assert.equal(jwksFetches, 2)
    } finally {
      await quick.close()
    }
  })

  it('AS-BP-11: an unreachable jwks_uri is 401 and is not fetched again within the cool-down', async () => {
    const c = await register(app, {
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: `${jwksServer.origin}/missing.json`,
    })
    const seen = events(app)
    missingFetches = 0
    for (let i = 0; i < 5; i++) {
      await rejectsWith(send(await assertion(c.client_id, ec.privateKey)), 'invalid_client')
    }
    assert.deepEqual([...new Set(seen.failed.map((f) => f.reason))], ['keys_unavailable'])
    assert.equal(missingFetches, 1, 'one fetch answered 404; the next four were not tried')
  })

  it('clientKeySet moved from Registrar: keys by value and by jwks_uri verify the same assertion', async () => {
    const { ClientKeySets } = await import('../../src/as/client-key-set.js')
    const { createSafeFetch } = await import('../../src/net/safe-fetch.js')
    const { compactVerify } = await import('jose')
    served = { keys: [ec.publicJwk] }
    const sets = new ClientKeySets({
      fetch: createSafeFetch({
        timeoutMs: 1500,
        maxBytes: 4096,
        maxRedirects: 0,
        allowedAddresses: ['127.0.0.2/32'],
        ca: tls.cert,
      }),
      cooldownSeconds: 30,
    })
    const jwt = await assertion('x', ec.privateKey, { header: { kid: 'ec-1' } })
    for (const metadata of [
      { jwks: { keys: [ec.publicJwk] } },
      { jwks_uri: `${jwksServer.origin}/jwks.json` },
    ]) {
      const keys = sets.for(metadata as never)
      assert.ok(keys)
      const { payload } = await compactVerify(jwt, keys.getKey as never)
      assert.equal(JSON.parse(new TextDecoder().decode(payload)).sub, 'x')
    }
    assert.equal(sets.for({} as never), undefined)
  })
})
