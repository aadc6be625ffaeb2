import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import {
  certificateSubject,
  parseDistinguishedName,
  sameDistinguishedName,
} from '../../src/as/distinguished-name.js'
import { certificateThumbprint } from '../../src/as/mutual-tls.js'
import type { RegistrarApp } from '../../src/index.js'
import { selfSignedCertificate, startTlsServer, type TlsServer } from '../tls-helpers.js'
import { assertion, JWT_BEARER, keyPair, nowSeconds } from './assertions.js'
import { certificateFactory, type Issued } from './certificates.js'
import { basic, makeApp, register, rejectsWith, tokenRequest } from './support.js'

const METHODS = [
  'client_secret_basic',
  'private_key_jwt',
  'tls_client_auth',
  'self_signed_tls_client_auth',
  'none',
]

describe('distinguished names compared as names (RFC 8705 §2.1.2, RFC 4514)', () => {
  const same = (a: string, b: string) =>
    sameDistinguishedName(parseDistinguishedName(a), parseDistinguishedName(b))

  it('type spellings, case, spaces and escapes do not matter; order and values do', () => {
    assert.ok(same('CN=client,O=Example\\, Inc,C=US', 'cn=CLIENT, o=example\\2c  inc ,c=us'))
    assert.ok(same('CN=client,O=Example', '2.5.4.3=client,OID.2.5.4.10=Example'))
    assert.ok(same('CN=a;O=b', 'CN=a,O=b'))
    assert.ok(same('CN=a+OU=x,O=b', 'OU=x+CN=a,O=b'), 'a multi-valued RDN is a set')
    assert.ok(same('emailAddress=a@b.c,CN=a', 'E=a@b.c,CN=a'))
    assert.ok(!same('CN=a,O=b', 'O=b,CN=a'))
    assert.ok(!same('CN=a,O=b', 'CN=a'))
    assert.ok(!same('CN=a,O=b', 'CN=a,O=c'))
    assert.ok(!same('CN=a+OU=x,O=b', 'CN=a,OU=x,O=b'))
    assert.ok(!same('CN=a\\,O=b', 'CN=a,O=b'), 'an escaped comma is part of the value')
  })

  it('unparseable names match nothing (fail closed): unknown types, #hex values, dangling escapes', () => {
    for (const bad of ['CN', 'nosuchtype=x', 'CN=#0403616263', 'CN=a\\', '=x', 'CN=\\ff\\fe']) {
      assert.equal(parseDistinguishedName(bad), undefined, bad)
      assert.ok(!same(bad, bad), bad)
    }
  })

  it("a certificate's subject (node:crypto, escaped multi-line) compares with the registered string", () => {
    const certs = certificateFactory()
    try {
      const ca = certs.ca('/CN=DN CA')
      const leaf = certs.leaf(ca, '/C=US/O=Ex, Inc+OU=Eng/CN=client \\+x "q"', [], true)
      const subject = certificateSubject(new X509Certificate(leaf.cert).subject)
      assert.ok(
        sameDistinguishedName(
          subject,
          parseDistinguishedName('CN=client \\+x \\"q\\",OU=Eng+O=Ex\\, Inc,C=US'),
        ),
      )
      assert.ok(
        !sameDistinguishedName(
          subject,
          parseDistinguishedName('CN=client +x "q",O=Ex\\, Inc,C=US'),
        ),
      )
    } finally {
      certs.cleanup()
    }
  })
})

describe('authenticateClient: tls_client_auth and self_signed_tls_client_auth (RFC 8705 §2)', () => {
  const certs = certificateFactory()
  const tls = selfSignedCertificate()
  let ca: Issued
  let otherCa: Issued
  let leaf: Issued
  let wildcard: Issued
  let serverOnly: Issued
  let foreign: Issued
  let self: Issued
  let strangerSelf: Issued
  let app: RegistrarApp
  let now = nowSeconds()
  let jwksServer: TlsServer
  let served: unknown = { keys: [] }
  const SUBJECT = '/C=US/O=Example, Inc/CN=client-1'
  const SAN =
    'subjectAltName=DNS:client.example.org,URI:https://client.example.org/id,IP:10.0.0.1,email:c@client.example.org'

  before(async () => {
    ca = certs.ca('/CN=Test Client CA')
    otherCa = certs.ca('/CN=Other CA')
    leaf = certs.leaf(ca, SUBJECT, [SAN, 'extendedKeyUsage=clientAuth'])
    wildcard = certs.leaf(ca, '/CN=wild', [
      'subjectAltName=DNS:*.example.org',
      'extendedKeyUsage=clientAuth',
    ])
    serverOnly = certs.leaf(ca, SUBJECT, [SAN, 'extendedKeyUsage=serverAuth'])
    foreign = certs.leaf(otherCa, SUBJECT, [SAN, 'extendedKeyUsage=clientAuth'])
    self = certs.selfSigned('/CN=self-signed client')
    strangerSelf = certs.selfSigned('/CN=self-signed client')
    now = nowSeconds()
    jwksServer = await startTlsServer(tls, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(served))
    })
    app = await makeApp(
      {
        metadata: { token_endpoint_auth_methods_supported: METHODS },
        clientAuthentication: { tlsClientAuthCaFile: certs.bundle(ca.cert) },
        fetch: { allowedAddresses: ['127.0.0.2/32'], caFile: tls.caFile },
      },
      { clock: () => now },
    )
  })
  after(async () => {
    await app?.close()
    await jwksServer?.close()
    certs.cleanup()
    tls.cleanup()
  })

  const mtls = (clientId: string | undefined, cert: unknown, extra: Record<string, string> = {}) =>
    app.authenticateClient(
      tokenRequest({ ...(clientId !== undefined && { client_id: clientId }), ...extra }),
      { clientCertificate: cert as string },
    )
  const tlsClient = (member: string, value: string) =>
    register(app, { token_endpoint_auth_method: 'tls_client_auth', [member]: value })
  /** A JWK of the certificate's key with the certificate in x5c (RFC 7517 §4.7). */
  const x5cJwk = (issued: Issued) => {
    const cert = new X509Certificate(issued.cert)
    return {
      ...(cert.publicKey.export({ format: 'jwk' }) as Record<string, unknown>),
      use: 'sig',
      x5c: [cert.raw.toString('base64')],
    }
  }

  it('AS-8705-2.1-a: subject DN compared as a DN; the chain to a configured CA is checked', async () => {
    const c = await tlsClient('tls_client_auth_subject_dn', 'CN=client-1,O=Example\\, Inc,C=US')
    const r = await mtls(c.client_id, leaf.cert)
    assert.deepEqual([r.client.client_id, r.method], [c.client_id, 'tls_client_auth'])
    const spelled = await tlsClient(
      'tls_client_auth_subject_dn',
      'cn=CLIENT-1, o=example\\2C inc, c=us',
    )
    assert.ok(await mtls(spelled.client_id, leaf.cert))
    for (const dn of [
      'C=US,O=Example\\, Inc,CN=client-1',
      'CN=client-1',
      'CN=client-2,O=Example\\, Inc,C=US',
    ]) {
      const other = await tlsClient('tls_client_auth_subject_dn', dn)
      await rejectsWith(mtls(other.client_id, leaf.cert), 'invalid_client', dn)
    }
    // the same subject from a CA nobody configured; a certificate only for servers
    await rejectsWith(mtls(c.client_id, foreign.cert), 'invalid_client', 'untrusted CA')
    await rejectsWith(mtls(c.client_id, serverOnly.cert), 'invalid_client', 'EKU serverAuth only')
    await rejectsWith(mtls(c.client_id, ca.cert), 'invalid_client', 'the CA certificate itself')
  })

  it('AS-8705-2.1-a: each SAN type is an exact match of an entry of that type; no wildcards', async () => {
    for (const [member, value] of [
      ['tls_client_auth_san_dns', 'client.example.org'],
      ['tls_client_auth_san_uri', 'https://client.example.org/id'],
      ['tls_client_auth_san_ip', '10.0.0.1'],
      ['tls_client_auth_san_email', 'c@client.example.org'],
    ] as const) {
      const c = await tlsClient(member, value)
      assert.ok(await mtls(c.client_id, leaf.cert), member)
    }
    for (const [member, value, cert] of [
      ['tls_client_auth_san_dns', 'x.client.example.org', leaf],
      ['tls_client_auth_san_dns', 'example.org', leaf],
      ['tls_client_auth_san_dns', 'a.example.org', wildcard],
      ['tls_client_auth_san_uri', 'https://client.example.org/id/', leaf],
      ['tls_client_auth_san_uri', 'https://client.example.org', leaf],
      ['tls_client_auth_san_ip', '10.0.0.2', leaf],
      ['tls_client_auth_san_email', 'd@client.example.org', leaf],
      ['tls_client_auth_san_dns', 'client-1', leaf], // the CN is no SAN
    ] as const) {
      const c = await tlsClient(member, value)
      await rejectsWith(
        mtls(c.client_id, (cert as Issued).cert),
        'invalid_client',
        `${member} ${value}`,
      )
    }
  })

  it('the certificate may be PEM, DER or an X509Certificate; garbage is 401', async () => {
    const c = await tlsClient('tls_client_auth_san_dns', 'client.example.org')
    const x509 = new X509Certificate(leaf.cert)
    assert.ok(await mtls(c.client_id, x509))
    assert.ok(await mtls(c.client_id, new Uint8Array(x509.raw)))
    for (const junk of ['not a certificate', new Uint8Array([1, 2, 3]), '']) {
      await rejectsWith(mtls(c.client_id, junk), 'invalid_client')
    }
  })

  it('an expired client certificate is 401', async () => {
    const c = await tlsClient('tls_client_auth_san_dns', 'client.example.org')
    const saved = now
    now += 3 * 86_400
    try {
      await rejectsWith(mtls(c.client_id, leaf.cert), 'invalid_client')
    } finally {
      now = saved
    }
  })

  it('AS-8705-2-a: a certificate without client_id is 400 (the certificate does not name the client)', async () => {
    await rejectsWith(mtls(undefined, leaf.cert), 'invalid_request')
  })

  it("AS-8705-2-b: no certificate, or another client's, is 401", async () => {
    const a = await tlsClient('tls_client_auth_san_dns', 'client.example.org')
    const b = await tlsClient('tls_client_auth_san_dns', 'wild.example.org')
    await rejectsWith(
      app.authenticateClient(tokenRequest({ client_id: a.client_id })),
      'invalid_client',
    )
    await rejectsWith(mtls(b.client_id, leaf.cert), 'invalid_client')
  })

  it('AS-6749-2.3-c: a certificate-bound client sending a secret with its certificate is 400', async () => {
    const c = await tlsClient('tls_client_auth_san_dns', 'client.example.org')
    await rejectsWith(mtls(c.client_id, leaf.cert, { client_secret: 'x' }), 'invalid_request')
    // without the certificate it is only the wrong method
    await rejectsWith(
      app.authenticateClient(tokenRequest({}, { authorization: basic(c.client_id, 'x') })),
      'invalid_client',
    )
  })

  it('AS-8705-2.2-a: self_signed_tls_client_auth matches a certificate registered in jwks (x5c)', async () => {
    const c = await register(app, {
      token_endpoint_auth_method: 'self_signed_tls_client_auth',
      jwks: { keys: [x5cJwk(self)] },
    })
    const r = await mtls(c.client_id, self.cert)
    assert.deepEqual([r.client.client_id, r.method], [c.client_id, 'self_signed_tls_client_auth'])
    await rejectsWith(mtls(c.client_id, strangerSelf.cert), 'invalid_client', 'unregistered')
    await rejectsWith(mtls(c.client_id, leaf.cert), 'invalid_client', 'CA-issued but unregistered')
  })

  it('AS-8705-2.2-a: … or in jwks_uri, by x5t#S256 too; a rotated certificate is fetched again after the cool-down', async () => {
    const quick = await makeApp(
      {
        metadata: { token_endpoint_auth_methods_supported: METHODS },
        clientAuthentication: { tlsClientAuthCaFile: certs.bundle(ca.cert) },
        fetch: { allowedAddresses: ['127.0.0.2/32'], caFile: tls.caFile },
        softwareStatement: { keyRefreshCooldown: 1 },
      },
      { clock: () => now },
    )
    try {
      served = { keys: [x5cJwk(self)] }
      const c = await register(quick, {
        token_endpoint_auth_method: 'self_signed_tls_client_auth',
        jwks_uri: `${jwksServer.origin}/jwks.json`,
      })
      const go = (cert: string) =>
        quick.authenticateClient(tokenRequest({ client_id: c.client_id }), {
          clientCertificate: cert,
        })
      assert.ok(await go(self.cert))
      const stranger = new X509Certificate(strangerSelf.cert)
      const thumbprintOnly = {
        ...(stranger.publicKey.export({ format: 'jwk' }) as object),
        'x5t#S256': certificateThumbprint(stranger),
      }
      served = { keys: [x5cJwk(self), thumbprintOnly] } // the client adds a certificate
      await rejectsWith(go(strangerSelf.cert), 'invalid_client') // within the cool-down
      await new Promise((resolve) => setTimeout(resolve, 1100))
      assert.ok(await go(strangerSelf.cert))
    } finally {
      await quick.close()
    }
  })

  it('RFC 8705 §3: a certificate next to other methods (certificate-bound tokens) is no second mechanism', async () => {
    const pub = await register(app, { token_endpoint_auth_method: 'none' })
    assert.equal((await mtls(pub.client_id, leaf.cert)).method, 'none')
    const k = await keyPair()
    const pkj = await register(app, {
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [k.publicJwk] },
    })
    const jwt = await assertion(pkj.client_id, k.privateKey, {
      claims: { iat: now, exp: now + 60 },
    })
    const r = await mtls(undefined, leaf.cert, {
      client_assertion_type: JWT_BEARER,
      client_assertion: jwt,
    })
    assert.equal(r.method, 'private_key_jwt')
  })

  it('offering tls_client_auth without trust anchors is a configuration error', async () => {
    await assert.rejects(
      makeApp({ metadata: { token_endpoint_auth_methods_supported: METHODS } }),
      { name: 'ConfigError', key: 'clientAuthentication.tlsClientAuthCaFile' },
    )
    await assert.rejects(
      makeApp({
        metadata: { token_endpoint_auth_methods_supported: METHODS },
        clientAuthentication: { tlsClientAuthCaFile: certs.bundle('no certificate here') },
      }),
      { name: 'ConfigError' },
    )
  })
})
