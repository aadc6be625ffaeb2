import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { exportJWK, generateKeyPair } from 'jose'
import { createSafeFetch } from '../../src/net/safe-fetch.js'
import { call, makeRegistrar } from '../helpers.js'
import {
  selfSignedCertificate,
  startConnectionCounter,
  startTlsServer,
  type TlsServer,
} from '../tls-helpers.js'

describe('metadata the server fetches: sector_identifier_uri (OIDR §5) and jwks_uri', () => {
  const tls = selfSignedCertificate()
  let server: TlsServer
  let counter: Awaited<ReturnType<typeof startConnectionCounter>>
  let publicJwk: Record<string, unknown>
  let privateJwk: Record<string, unknown>
  const redirect = 'https://rp.example.org/cb'
  before(async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
    publicJwk = { ...(await exportJWK(publicKey)), kid: 'c1', use: 'sig' }
    privateJwk = { ...(await exportJWK(privateKey)), kid: 'c1' }
    counter = await startConnectionCounter()
    server = await startTlsServer(tls, (req, res) => {
      const docs: Record<string, unknown> = {
        '/sector.json': [redirect, 'https://other.example.org/cb'],
        '/sector-missing.json': ['https://other.example.org/cb'],
        '/sector-object.json': { redirect_uris: [redirect] },
        '/jwks.json': { keys: [publicJwk] },
        '/jwks-private.json': { keys: [privateJwk] },
      }
      const doc = docs[req.url ?? '']
      if (doc === undefined) {
        res.writeHead(404)
        res.end()
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(doc))
    })
  })
  after(async () => {
    await server.close()
    await counter.close()
    tls.cleanup()
  })

  const registrar_ = (extra: Record<string, unknown> = {}) =>
    makeRegistrar(
      {
        metadata: { subject_types_supported: ['public', 'pairwise'] },
        fetch: { allowedAddresses: ['127.0.0.2/32'] },
        ...extra,
      },
      {
        fetch: createSafeFetch({
          timeoutMs: 1500,
          maxBytes: 4096,
          maxRedirects: 0,
          allowedAddresses: ['127.0.0.2/32'],
          ca: tls.cert,
        }),
      },
    )
  const post = (fetch: (r: Request) => Promise<Response>, body: unknown) =>
    call(fetch, 'POST', '/register', { body })

  it('ROIDR-5-b: a document listing every redirect URI is accepted', async () => {
    const { fetch } = registrar_()
    const res = await post(fetch, {
      redirect_uris: [redirect],
      subject_type: 'pairwise',
      sector_identifier_uri: `${server.origin}/sector.json`,
    })
    assert.equal(res.status, 201, res.text)
    assert.equal(res.body.sector_identifier_uri, `${server.origin}/sector.json`)
  })

  it('ROIDR-5-b: a redirect URI missing from the document gives 400 invalid_client_metadata', async () => {
    const { fetch, store } = registrar_()
    const res = await post(fetch, {
      redirect_uris: [redirect],
      sector_identifier_uri: `${server.origin}/sector-missing.json`,
    })
    assert.deepEqual([res.status, res.body.error], [400, 'invalid_client_metadata'])
    assert.match(res.body.error_description, /not listed in the sector_identifier_uri document/)
    assert.equal(await store.countClients(), 0)
  })

  it('ROIDR-5-b: not an array, a 404 or an unreachable host gives 400 invalid_client_metadata', async () => {
    const { fetch } = registrar_()
    for (const path of ['/sector-object.json', '/nope.json']) {
      const res = await post(fetch, {
        redirect_uris: [redirect],
        sector_identifier_uri: `${server.origin}${path}`,
      })
      assert.deepEqual([res.status, res.body.error], [400, 'invalid_client_metadata'], path)
    }
    const unreachable = await post(fetch, {
      redirect_uris: [redirect],
      sector_identifier_uri: 'https://10.9.8.7/sector.json',
    })
    assert.deepEqual([unreachable.status, unreachable.body.error], [400, 'invalid_client_metadata'])
  })

  it('RFC 7591 §5: jwks_uri and request_uris naming loopback are refused at registration without a connection', async () => {
    const { fetch } = makeRegistrar()
    const before = counter.connections()
    for (const extra of [
      { jwks_uri: `https://127.0.0.1:${counter.port}/jwks` },
      { jwks_uri: `https://localhost:${counter.port}/jwks` },
      { jwks_uri: `http://keys.example.org/jwks` },
      { request_uris: [`https://[::1]:${counter.port}/r`] },
      { request_uris: [`https://169.254.169.254/latest`] },
    ]) {
      const res = await post(fetch, { redirect_uris: [redirect], ...extra })
      assert.deepEqual(
        [res.status, res.body.error],
        [400, 'invalid_client_metadata'],
        JSON.stringify(extra),
      )
    }
    assert.equal(counter.connections(), before)
  })

  it('ROIDR-5-a ROIDR-5-d: http, localhost and loopback literals are refused without a connection', async () => {
    const { fetch } = makeRegistrar()
    const before = counter.connections()
    for (const uri of [
      `http://127.0.0.1:${counter.port}/s.json`,
      `https://localhost:${counter.port}/s.json`,
      `https://127.0.0.1:${counter.port}/s.json`,
      `https://[::ffff:127.0.0.1]:${counter.port}/s.json`,
    ]) {
      const res = await post(fetch, { redirect_uris: [redirect], sector_identifier_uri: uri })
      assert.deepEqual([res.status, res.body.error], [400, 'invalid_client_metadata'], uri)
    }
    assert.equal(counter.connections(), before)
  })

  it('ROIDR-5-c: pairwise with redirect URIs on several hosts needs a sector_identifier_uri', async () => {
    const { fetch } = registrar_()
    const res = await post(fetch, {
      redirect_uris: [redirect, 'https://other.example.org/cb'],
      subject_type: 'pairwise',
    })
    assert.deepEqual([res.status, res.body.error], [400, 'invalid_client_metadata'])
  })

  it('ROIDR-2-e: registration.verifyJwksUri fetches the keys and refuses private ones', async () => {
    const { fetch } = registrar_({ registration: { mode: 'open', verifyJwksUri: true } })
    const ok = await post(fetch, {
      redirect_uris: [redirect],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: `${server.origin}/jwks.json`,
    })
    assert.equal(ok.status, 201, ok.text)
    assert.equal(ok.body.jwks, undefined, 'R7591-3.2.1-i: the fetched keys are not echoed as jwks')
    const bad = await post(fetch, {
      redirect_uris: [redirect],
      jwks_uri: `${server.origin}/jwks-private.json`,
    })
    assert.deepEqual([bad.status, bad.body.error], [400, 'invalid_client_metadata'])
    assert.match(bad.body.error_description, /jwks_uri does not serve a usable JWK Set/)
  })

  it('without verifyJwksUri a jwks_uri is not fetched at registration', async () => {
    const { fetch } = registrar_()
    const res = await post(fetch, {
      redirect_uris: [redirect],
      jwks_uri: 'https://keys.rp.example.org/jwks.json',
    })
    assert.equal(res.status, 201)
  })
})
