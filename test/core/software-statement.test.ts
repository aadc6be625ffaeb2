import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { exportJWK, generateKeyPair, type JWK, SignJWT, UnsecuredJWT } from 'jose'
import { createSafeFetch } from '../../src/net/safe-fetch.js'
import { call, makeRegistrar } from '../helpers.js'
import { selfSignedCertificate, startTlsServer, type TlsServer } from '../tls-helpers.js'

const DIRECTORY = 'https://directory.example.com'
const body = { redirect_uris: ['https://client.example.org/cb'], client_name: 'from json' }

async function keyPair(alg: string, kid: string) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
  return { privateKey, jwk }
}

describe('software statements (RFC 7591 §2.3, §3.1.1)', async () => {
  const es = await keyPair('ES256', 'es-1')
  const rs = await keyPair('RS256', 'rs-1')
  const other = await keyPair('ES256', 'es-1') // same kid, different key
  const trusted = {
    iss: DIRECTORY,
    jwks: { keys: [es.jwk, rs.jwk] },
    algorithms: ['ES256'],
    claimMapping: { software_redirect_uris: 'redirect_uris' },
  }
  const now = Math.floor(Date.now() / 1000)
  // what every statement needs by default (issue 12 item 3): a software_id and an expiry
  const sign = (
    claims: Record<string, unknown>,
    key = es,
    alg = 'ES256',
    header: Record<string, unknown> = {},
  ) =>
    new SignJWT({ software_id: 'sw-default', exp: now + 600, ...claims })
      .setProtectedHeader({ alg, kid: key.jwk.kid as string, ...header })
      .sign(key.privateKey)
  const registrar = (extra: Record<string, unknown> = {}) =>
    makeRegistrar({ softwareStatement: { trustedIssuers: [trusted], ...extra } })
  const post = (fetch: ReturnType<typeof registrar>['fetch'], b: unknown) =>
    call(fetch, 'POST', '/register', { body: b })

  it('R7591-3.2.1-h R7591-3.1.1-b RSSA-g: a valid statement is echoed once, unmodified, and its claims win', async () => {
    const { fetch } = registrar()
    const ssa = await sign({
      iss: DIRECTORY,
      iat: now,
      software_id: 'sw-1',
      client_name: 'from statement',
    })
    const res = await post(fetch, {
      ...body,
      software_statement: ssa,
      client_uri: 'https://client.example.org',
    })
    assert.equal(res.status, 201, res.text)
    assert.equal(res.body.software_statement, ssa)
    assert.equal(res.body.client_name, 'from statement')
    assert.equal(res.body.software_id, 'sw-1')
    // JSON members the statement does not carry are still used (GluuFederation/oxAuth #1447),
    // in canonical form (issue 12 item 5)
    assert.equal(res.body.client_uri, 'https://client.example.org/')
    assert.deepEqual(res.body.redirect_uris, body.redirect_uris)
  })

  it('RSSA-a: claim mapping renames directory claims (software_redirect_uris → redirect_uris)', async () => {
    const { fetch } = registrar()
    const ssa = await sign({
      iss: DIRECTORY,
      software_redirect_uris: ['https://mapped.example/cb'],
    })
    const res = await post(fetch, { ...body, software_statement: ssa })
    assert.equal(res.status, 201, res.text)
    assert.deepEqual(res.body.redirect_uris, ['https://mapped.example/cb'])
  })

  it('R7591-2.3-a: alg none is refused with invalid_software_statement', async () => {
    const { fetch } = registrar()
    const ssa = new UnsecuredJWT({ iss: DIRECTORY }).encode()
    const res = await post(fetch, { ...body, software_statement: ssa })
    assert.equal(res.status, 400)
    assert.equal(res.body.error, 'invalid_software_statement')
  })

  it('R7591-2.3-c: an algorithm outside the issuer allow-list is refused', async () => {
    const { fetch } = registrar()
    const ssa = await sign({ iss: DIRECTORY }, rs, 'RS256')
    const res = await post(fetch, { ...body, software_statement: ssa })
    assert.deepEqual([res.status, res.body.error], [400, 'invalid_software_statement'])
    assert.match(res.body.error_description, /RS256 is not accepted/)
  })

  it('RSSA-b: a statement signed with the wrong key is refused', async () => {
    const { fetch } = registrar()
    const ssa = await sign({ iss: DIRECTORY }, other)
    const res = await post(fetch, { ...body, software_statement: ssa })
    assert.deepEqual([res.status, res.body.error], [400, 'invalid_software_statement'])
  })

  it('RSSA-b: a tampered payload fails signature verification', async () => {
    const { fetch } = registrar()
    const ssa = await sign({ iss: DIRECTORY, client_name: 'honest' })
    const [h, p, s] = ssa.split('.') as [string, string, string]
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString())
    claims.client_name = 'evil'
    const tampered = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`
    const res = await post(fetch, { ...body, software_statement: tampered })
    assert.deepEqual([res.status, res.body.error], [400, 'invalid_software_statement'])
    assert.match(res.body.error_description, /signature/)
  })

  it('RSSA-c: an expired statement is refused', async () => {
    const { fetch } = registrar()
    const ssa = await sign({ iss: DIRECTORY, exp: now - 3600 })
    const res = await post(fetch, { ...body, software_statement: ssa })
    assert.deepEqual([res.status, res.body.error], [400, 'invalid_software_statement'])
    assert.match(res.body.error_description, /expired/)
  })

  it('RSSA-c: nbf in the future is refused; within the clock skew it is accepted', async () => {
    const { fetch } = registrar()
    const future = await sign({ iss: DIRECTORY, nbf: now + 3600 })
    const res = await post(fetch, { ...body, software_statement: future })
    assert.deepEqual([res.status, res.body.error], [400, 'invalid_software_statement'])
    const skewed = await sign({ iss: DIRECTORY, nbf: now + 20 })
    assert.equal((await post(fetch, { ...body, software_statement: skewed })).status, 201)
  })

  it('R7591-2.3-b: a statement without iss is refused', async () => {
    const { fetch } = registrar()
    const ssa = await sign({ software_id: 'x' })
    const res = await post(fetch, { ...body, software_statement: ssa })
    assert.deepEqual([res.status, res.body.error], [400, 'invalid_software_statement'])
    assert.match(res.body.error_description, /iss/)
  })

  it('RSSA-c: a statement from an issuer that is not trusted is unapproved', async () => {
    const { fetch } = registrar()
    const ssa = await sign({ iss: 'https://elsewhere.example' })
    const res = await post(fetch, { ...body, software_statement: ssa })
    assert.deepEqual([res.status, res.body.error], [400, 'unapproved_software_statement'])
  })

  it('R7591-3.2.2-sw: software outside the issuer allow-list is unapproved', async () => {
    const { fetch } = makeRegistrar({
      softwareStatement: { trustedIssuers: [{ ...trusted, softwareIds: ['sw-allowed'] }] },
    })
    const denied = await post(fetch, {
      ...body,
      software_statement: await sign({ iss: DIRECTORY, software_id: 'sw-other' }),
    })
    assert.deepEqual([denied.status, denied.body.error], [400, 'unapproved_software_statement'])
    const allowed = await post(fetch, {
      ...body,
      software_statement: await sign({ iss: DIRECTORY, software_id: 'sw-allowed' }),
    })
    assert.equal(allowed.status, 201)
  })

  it('RSSA-b: keys carried in the statement header are never used', async () => {
    const { fetch } = registrar()
    const ssa = await sign({ iss: DIRECTORY }, es, 'ES256', { jwk: es.jwk })
    const res = await post(fetch, { ...body, software_statement: ssa })
    assert.deepEqual([res.status, res.body.error], [400, 'invalid_software_statement'])
  })

  it('R7591-2.3-a: garbage and JWE-shaped values are refused', async () => {
    const { fetch } = registrar()
    for (const value of ['not-a-jwt', 'a.b.c.d.e', 42, { iss: DIRECTORY }]) {
      const res = await post(fetch, { ...body, software_statement: value })
      assert.deepEqual(
        [res.status, res.body.error],
        [400, 'invalid_software_statement'],
        String(value),
      )
    }
  })

  it('R7591-3.1-a: a statement cannot set the client_id or secret', async () => {
    const { fetch } = registrar()
    const ssa = await sign({ iss: DIRECTORY, client_id: 'chosen', client_secret: 'chosen' })
    const res = await post(fetch, { ...body, software_statement: ssa })
    assert.equal(res.status, 201)
    assert.notEqual(res.body.client_id, 'chosen')
    assert.notEqual(res.body.client_secret, 'chosen')
  })

  it('RSSA-f: softwareStatement.required refuses registrations without one', async () => {
    const { fetch } = registrar({ required: true })
    const res = await post(fetch, body)
    assert.deepEqual([res.status, res.body.error], [400, 'invalid_software_statement'])
    assert.match(res.body.error_description, /requires a software statement/)
  })

  it('R7591-3.1.1-a: with no trusted issuer configured a statement is ignored and not echoed', async () => {
    const { fetch } = makeRegistrar()
    const ssa = await sign({ iss: DIRECTORY, client_name: 'from statement' })
    const res = await post(fetch, { ...body, software_statement: ssa })
    assert.equal(res.status, 201)
    assert.equal(res.body.software_statement, undefined)
    assert.equal(res.body.client_name, 'from json')
  })

  it('RSSA-d R7592-2.2-j: on PUT the registered statement keeps precedence', async () => {
    const { fetch } = registrar()
    const ssa = await sign({ iss: DIRECTORY, client_name: 'from statement' })
    const reg = await post(fetch, { ...body, software_statement: ssa })
    const {
      registration_access_token,
      registration_client_uri,
      client_secret_expires_at: _e,
      client_id_issued_at: _i,
      client_secret: _s,
      ...rest
    } = reg.body
    const put = await call(fetch, 'PUT', new URL(registration_client_uri).pathname, {
      token: registration_access_token,
      body: { ...rest, client_name: 'changed by json' },
    })
    assert.equal(put.status, 200, put.text)
    assert.equal(put.body.client_name, 'from statement')
    assert.equal(put.body.software_statement, ssa)
  })

  describe('issue 12 item 3: not every JWT from a trusted issuer is a software statement', () => {
    // the directory is also an OpenID Provider: its ID tokens are RS256 with the same keys
    const provider = { ...trusted, algorithms: ['ES256', 'RS256'] }
    const withIssuer = (extra: Record<string, unknown> = {}) =>
      makeRegistrar({ softwareStatement: { trustedIssuers: [{ ...provider, ...extra }] } })
    const raw = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'es-1', ...header })
        .sign(es.privateKey)

    it('an ID token of the trusted issuer does not register a client', async () => {
      const { fetch, store } = withIssuer()
      // what an OpenID Provider issues to its relying party "webapp-7" after a login (OIDC Core §2)
      const idToken = await new SignJWT({
        iss: DIRECTORY,
        sub: '248289761001',
        aud: 'webapp-7',
        azp: 'webapp-7',
        nonce: 'n-0S6_WzA2Mj',
        auth_time: now - 30,
        at_hash: 'HK6E_P6Dh8Y93mRNtsDB1Q',
        name: 'Jane Doe',
        email: 'janedoe@example.com',
        email_verified: true,
      })
        .setProtectedHeader({ alg: 'RS256', kid: 'rs-1', typ: 'JWT' })
        .setIssuedAt(now - 30)
        .setExpirationTime(now + 3600)
        .sign(rs.privateKey)
      const res = await post(fetch, { ...body, software_statement: idToken })
      assert.deepEqual([res.status, res.body.error], [400, 'invalid_software_statement'])
      assert.match(res.body.error_description, /aud does not name this server/)
      assert.equal(await store.countClients(), 0)
    })

    it('an aud naming this server (issuer or registration endpoint) is accepted', async () => {
      const { fetch } = withIssuer()
      for (const aud of ['https://as.example.com', 'https://as.example.com/register']) {
        const res = await post(fetch, {
          ...body,
          software_statement: await sign({ iss: DIRECTORY, aud }),
        })
        assert.equal(res.status, 201, `${aud}: ${res.text}`)
      }
      const many = await sign({
        iss: DIRECTORY,
        aud: ['https://other.example', 'https://as.example.com'],
      })
      assert.equal((await post(fetch, { ...body, software_statement: many })).status, 201)
    })

    it('software_id is required by default; requireSoftwareId: false lifts it', async () => {
      const claims = { iss: DIRECTORY, exp: now + 600 }
      const res = await post(withIssuer().fetch, { ...body, software_statement: await raw(claims) })
      assert.deepEqual([res.status, res.body.error], [400, 'invalid_software_statement'])
      assert.match(res.body.error_description, /software_id/)
      const lifted = withIssuer({ requireSoftwareId: false })
      assert.equal(
        (await post(lifted.fetch, { ...body, software_statement: await raw(claims) })).status,
        201,
      )
    })

    it('a statement must expire: exp, or iat within the issuer maxAge', async () => {
      const claims = { iss: DIRECTORY, software_id: 'sw-1', iat: now }
      const res = await post(withIssuer().fetch, { ...body, software_statement: await raw(claims) })
      assert.deepEqual([res.status, res.body.error], [400, 'invalid_software_statement'])
      assert.match(res.body.error_description, /must expire/)
      const bounded = withIssuer({ maxAge: 300 })
      assert.equal(
        (await post(bounded.fetch, { ...body, software_statement: await raw(claims) })).status,
        201,
      )
      const { iat: _iat, ...noIat } = claims
      const none = await post(bounded.fetch, { ...body, software_statement: await raw(noIat) })
      assert.equal(none.status, 400)
    })

    it('typ: when the issuer requires one, other JWTs are refused', async () => {
      const { fetch } = withIssuer({ typ: 'software-statement+jwt' })
      const untyped = await post(fetch, {
        ...body,
        software_statement: await sign({ iss: DIRECTORY }),
      })
      assert.deepEqual([untyped.status, untyped.body.error], [400, 'invalid_software_statement'])
      assert.match(untyped.body.error_description, /typ/)
      const jwt = await sign({ iss: DIRECTORY }, es, 'ES256', { typ: 'JWT' })
      assert.equal((await post(fetch, { ...body, software_statement: jwt })).status, 400)
      for (const typ of ['software-statement+jwt', 'application/software-statement+jwt']) {
        const typed = await sign({ iss: DIRECTORY }, es, 'ES256', { typ })
        assert.equal((await post(fetch, { ...body, software_statement: typed })).status, 201, typ)
      }
    })

    it('audience: when the issuer configures one, the statement must name it', async () => {
      const { fetch } = withIssuer({ audience: ['https://federation.example/members'] })
      const missing = await post(fetch, {
        ...body,
        software_statement: await sign({ iss: DIRECTORY }),
      })
      assert.deepEqual([missing.status, missing.body.error], [400, 'invalid_software_statement'])
      assert.match(missing.body.error_description, /aud naming/)
      const named = await sign({ iss: DIRECTORY, aud: 'https://federation.example/members' })
      assert.equal((await post(fetch, { ...body, software_statement: named })).status, 201)
    })
  })

  describe('issuer keys by jwks_uri, through the safe fetcher', () => {
    const tls = selfSignedCertificate()
    let server: TlsServer
    let published: JWK[] = [es.jwk]
    let fetches = 0
    before(async () => {
      server = await startTlsServer(tls, (_req, res) => {
        fetches++
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ keys: published }))
      })
    })
    after(async () => {
      await server.close()
      tls.cleanup()
    })

    it('RSSA-a: keys are fetched, cached, and re-fetched for an unknown kid', async () => {
      const config = {
        softwareStatement: {
          keyRefreshCooldown: 0,
          trustedIssuers: [
            { iss: DIRECTORY, jwks_uri: `${server.origin}/jwks`, algorithms: ['ES256'] },
          ],
        },
        fetch: { allowedAddresses: ['127.0.0.2/32'] },
      }
      const outbound = createSafeFetch({
        timeoutMs: 2000,
        maxBytes: 65536,
        maxRedirects: 0,
        allowedAddresses: ['127.0.0.2/32'],
        ca: tls.cert,
      })
      const { fetch } = makeRegistrar(config, { fetch: outbound })
      const first = await sign({ iss: DIRECTORY })
      assert.equal((await post(fetch, { ...body, software_statement: first })).status, 201)
      assert.equal((await post(fetch, { ...body, software_statement: first })).status, 201)
      assert.equal(fetches, 1, 'the issuer JWKS is cached')
      const rotated = await keyPair('ES256', 'es-2')
      published = [es.jwk, rotated.jwk]
      const second = await sign({ iss: DIRECTORY }, rotated)
      assert.equal((await post(fetch, { ...body, software_statement: second })).status, 201)
      assert.equal(fetches, 2, 'an unknown kid triggers one re-fetch')
    })

    it('RSSA-b: an issuer whose keys cannot be fetched makes the statement unverifiable', async () => {
      const { fetch } = makeRegistrar(
        {
          softwareStatement: {
            trustedIssuers: [
              { iss: DIRECTORY, jwks_uri: 'https://10.0.0.1/jwks', algorithms: ['ES256'] },
            ],
          },
        },
        {
          fetch: createSafeFetch({
            timeoutMs: 500,
            maxBytes: 1000,
            maxRedirects: 0,
            allowedAddresses: [],
          }),
        },
      )
      const res = await post(fetch, { ...body, software_statement: await sign({ iss: DIRECTORY }) })
      assert.deepEqual([res.status, res.body.error], [400, 'invalid_software_statement'])
    })
  })
})
