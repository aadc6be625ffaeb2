import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { SignJWT } from 'jose'
import {
  clientAuthenticationErrorHeaders,
  clientAuthenticationErrorResponse,
  type RegistrarApp,
  RegistrationError,
} from '../../src/index.js'
import { assertion, JWT_BEARER, keyPair, nowSeconds, unsecured } from './assertions.js'
import { basic, ISSUER, makeApp, register, tokenRequest } from './support.js'

/**
 * The token endpoint of an AS built on Registrar, as small as it gets: authenticate, then 200; or
 * the rendered error.
 */
function tokenEndpoint(app: RegistrarApp) {
  return async (request: Request): Promise<Response> => {
    try {
      const { client } = await app.authenticateClient(request)
      return Response.json({ client_id: client.client_id })
    } catch (err) {
      return clientAuthenticationErrorResponse(err)
    }
  }
}

describe('the negative matrix of issue 10: invalid_client or invalid_request, never anything else', () => {
  let app: RegistrarApp
  const now = nowSeconds()
  let ec: Awaited<ReturnType<typeof keyPair>>
  let basicClient: { client_id: string; client_secret: string }
  let expiring: { client_id: string; client_secret: string }
  let pkj: { client_id: string }
  let publicClient: { client_id: string }
  let replayed: string
  const rows: [string, () => Promise<Request>, 'invalid_client' | 'invalid_request'][] = []

  before(async () => {
    app = await makeApp({}, { clock: () => now })
    ec = await keyPair()
    basicClient = await register(app)
    pkj = await register(app, {
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [ec.publicJwk] },
    })
    publicClient = await register(app, { token_endpoint_auth_method: 'none' })
    const shortLived = await makeApp(
      { registration: { clientSecretExpiresIn: 1 } },
      { store: app.store, clock: () => now - 10 },
    )
    expiring = await register(shortLived)
    await shortLived.close()
    replayed = await assertion(pkj.client_id, ec.privateKey)
    const first = await app.authenticateClient(
      tokenRequest({ client_assertion_type: JWT_BEARER, client_assertion: replayed }),
    )
    assert.equal(first.client.client_id, pkj.client_id)
  })
  after(() => app?.close())

  const jwt = (clientAssertion: string) =>
    tokenRequest({ client_assertion_type: JWT_BEARER, client_assertion: clientAssertion })
  const claims = (extra: Record<string, unknown>) => ({
    iss: pkj.client_id,
    sub: pkj.client_id,
    aud: ISSUER,
    exp: now + 60,
    jti: randomUUID(),
    ...extra,
  })

  rows.push(
    [
      'wrong secret (Basic)',
      async () => tokenRequest({}, { authorization: basic(basicClient.client_id, 'wrong') }),
      'invalid_client',
    ],
    [
      'wrong secret (post)',
      async () => tokenRequest({ client_id: basicClient.client_id, client_secret: 'wrong' }),
      'invalid_client',
    ],
    [
      'unknown client',
      async () => tokenRequest({}, { authorization: basic('nobody', 'x') }),
      'invalid_client',
    ],
    [
      'two mechanisms',
      async () =>
        tokenRequest(
          { client_id: basicClient.client_id, client_secret: basicClient.client_secret },
          { authorization: basic(basicClient.client_id, basicClient.client_secret) },
        ),
      'invalid_request',
    ],
    [
      'client_id mismatch (Basic)',
      async () =>
        tokenRequest(
          { client_id: pkj.client_id },
          { authorization: basic(basicClient.client_id, basicClient.client_secret) },
        ),
      'invalid_request',
    ],
    [
      'client_id mismatch (assertion)',
      async () =>
        tokenRequest({
          client_id: basicClient.client_id,
          client_assertion_type: JWT_BEARER,
          client_assertion: await assertion(pkj.client_id, ec.privateKey),
        }),
      'invalid_client',
    ],
    [
      'expired secret',
      async () =>
        tokenRequest({}, { authorization: basic(expiring.client_id, expiring.client_secret) }),
      'invalid_client',
    ],
    [
      'assertion with a wrong iss',
      async () =>
        jwt(await assertion(pkj.client_id, ec.privateKey, { claims: { iss: 'someone' } })),
      'invalid_client',
    ],
    [
      'assertion with a wrong sub',
      async () =>
        jwt(
          await assertion(pkj.client_id, ec.privateKey, { claims: { sub: basicClient.client_id } }),
        ),
      'invalid_client',
    ],
    [
      'assertion with a wrong aud',
      async () =>
        jwt(
          await assertion(pkj.client_id, ec.privateKey, {
            claims: { aud: 'https://elsewhere.example' },
          }),
        ),
      'invalid_client',
    ],
    [
      'exp too far',
      async () =>
        jwt(await assertion(pkj.client_id, ec.privateKey, { claims: { exp: now + 3600 } })),
      'invalid_client',
    ],
    [
      'exp missing',
      async () =>
        jwt(await assertion(pkj.client_id, ec.privateKey, { claims: { exp: undefined } })),
      'invalid_client',
    ],
    ['replayed jti', async () => jwt(replayed), 'invalid_client'],
    ['alg: none', async () => jwt(unsecured(claims({}))), 'invalid_client'],
    [
      'HS-signed assertion for a public client',
      async () =>
        jwt(
          await new SignJWT(claims({ iss: publicClient.client_id, sub: publicClient.client_id }))
            .setProtectedHeader({ alg: 'HS256' })
            .sign(new TextEncoder().encode('x'.repeat(32))),
        ),
      'invalid_client',
    ],
    [
      'HS-signed assertion keyed with the public key of a private_key_jwt client',
      async () =>
        jwt(
          await new SignJWT(claims({}))
            .setProtectedHeader({ alg: 'HS256' })
            .sign(new TextEncoder().encode(JSON.stringify(ec.publicJwk))),
        ),
      'invalid_client',
    ],
    [
      'malformed Basic',
      async () => tokenRequest({}, { authorization: 'Basic %%%' }),
      'invalid_client',
    ],
    [
      'malformed Basic next to valid body credentials',
      async () =>
        tokenRequest(
          { client_id: basicClient.client_id, client_secret: basicClient.client_secret },
          { authorization: 'Basic %%%' },
        ),
      'invalid_request',
    ],
  )

  it('each row, over the token endpoint: 401 invalid_client with the Basic challenge, or 400 invalid_request; never 5xx', async () => {
    const endpoint = tokenEndpoint(app)
    for (const [label, build, error] of rows) {
      const res = await endpoint(await build())
      const body = (await res.json()) as { error: string }
      assert.equal(body.error, error, label)
      assert.equal(res.status, error === 'invalid_client' ? 401 : 400, label)
      assert.equal(res.headers.get('cache-control'), 'no-store', label)
      assert.equal(res.headers.get('content-type'), 'application/json', label)
      if (error === 'invalid_client') {
        assert.equal(res.headers.get('www-authenticate'), `Basic realm="${ISSUER}"`, label)
        const expected =
          label === 'expired secret'
            ? 'the client secret has expired'
            : 'client authentication failed'
        assert.deepEqual(body, { error, error_description: expected }, label)
      }
    }
    // and the good request still passes
    const ok = await endpoint(
      tokenRequest({}, { authorization: basic(basicClient.client_id, basicClient.client_secret) }),
    )
    assert.equal(ok.status, 200)
  })
})

describe('the error renderer (AS-6749-5.2-a, AS-6749-5.1-a)', () => {
  it('401 with WWW-Authenticate: Basic realm and no-store; 400 without the challenge; anything else 500 without details', async () => {
    const app = await makeApp()
    try {
      const err = await app
        .authenticateClient(tokenRequest({}, { authorization: basic('x', 'y') }))
        .catch((e) => e)
      const res = clientAuthenticationErrorResponse(err)
      assert.equal(res.status, 401)
      assert.equal(res.headers.get('www-authenticate'), `Basic realm="${ISSUER}"`)
      assert.equal(res.headers.get('cache-control'), 'no-store')
      assert.equal(res.headers.get('pragma'), 'no-cache')
      assert.deepEqual(await res.json(), {
        error: 'invalid_client',
        error_description: 'client authentication failed',
      })
      const bad = await app.authenticateClient(tokenRequest({})).catch((e) => e)
      const badRes = clientAuthenticationErrorResponse(bad)
      assert.equal(badRes.status, 400)
      assert.equal(badRes.headers.get('www-authenticate'), null)
      assert.equal(badRes.headers.get('cache-control'), 'no-store')
      const crash = clientAuthenticationErrorResponse(new Error('secret detail'))
      assert.equal(crash.status, 500)
      assert.deepEqual(await crash.json(), { error: 'server_error' })
      // a 401 made elsewhere still gets a challenge, with the realm given
      const headers = clientAuthenticationErrorHeaders(new RegistrationError('invalid_client'), {
        realm: 'https:"x\\',
      })
      assert.equal(headers['www-authenticate'], 'Basic realm="https:\\"x\\\\"')
      assert.equal(headers['cache-control'], 'no-store')
    } finally {
      await app.close()
    }
  })
})
