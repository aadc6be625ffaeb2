import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { discover } from '../../src/client/index.js'
import { fakeServer } from './fake-server.js'

describe('discover()', () => {
  it('RMCP1125-g: an issuer without a path tries RFC 8414, then OpenID Connect Discovery', async () => {
    const server = await fakeServer((req) =>
      req.url === '/.well-known/openid-configuration'
        ? {
            status: 200,
            body: { issuer: server.url, registration_endpoint: `${server.url}/reg`, x_extra: 1 },
          }
        : { status: 404, body: 'not here' },
    )
    try {
      const metadata = await discover(server.url)
      assert.equal(metadata.registration_endpoint, `${server.url}/reg`)
      assert.equal(metadata.x_extra, 1)
      assert.deepEqual(
        server.seen.map((r) => r.url),
        ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'],
      )
      assert.equal(server.seen[0]?.headers.accept, 'application/json')
    } finally {
      await server.close()
    }
  })

  it('RMCP1125-g: an issuer with a path tries OAuth insertion, OIDC insertion, then OIDC appended', async () => {
    const server = await fakeServer((req) =>
      req.url === '/tenant/a/.well-known/openid-configuration'
        ? { status: 200, body: { issuer: `${server.url}/tenant/a` } }
        : { status: 404 },
    )
    try {
      const metadata = await discover(`${server.url}/tenant/a`)
      assert.equal(metadata.issuer, `${server.url}/tenant/a`)
      assert.deepEqual(
        server.seen.map((r) => r.url),
        [
          '/.well-known/oauth-authorization-server/tenant/a',
          '/.well-known/openid-configuration/tenant/a',
          '/tenant/a/.well-known/openid-configuration',
        ],
      )
    } finally {
      await server.close()
    }
  })

  it('R8414-3-a: the first document found wins and its issuer must be the requested one', async () => {
    const server = await fakeServer(() => ({
      status: 200,
      body: {
        issuer: 'https://attacker.example',
        registration_endpoint: 'https://attacker.example/r',
      },
    }))
    try {
      await assert.rejects(discover(server.url), (err: Error & { error?: string }) => {
        assert.equal(err.error, 'invalid_response')
        assert.match(err.message, /attacker\.example/)
        return true
      })
      assert.equal(server.seen.length, 1)
    } finally {
      await server.close()
    }
  })

  it('R8414-3-a: a path-less issuer matches with or without its trailing slash', async () => {
    const server = await fakeServer(() => ({ status: 200, body: { issuer: server.url } }))
    try {
      assert.equal((await discover(`${server.url}/`)).issuer, server.url)
      assert.equal((await discover(new URL(server.url))).issuer, server.url)
    } finally {
      await server.close()
    }
  })

  it('no document anywhere is metadata_not_found, naming what was tried; redirects are not followed', async () => {
    const server = await fakeServer((_req, i) =>
      i === 0 ? { status: 302, headers: { location: 'http://evil.example/' } } : { status: 404 },
    )
    try {
      await assert.rejects(discover(server.url), (err: Error & { error?: string }) => {
        assert.equal(err.error, 'metadata_not_found')
        assert.match(err.message, /oauth-authorization-server \(HTTP 302\)/)
        assert.match(err.message, /openid-configuration \(HTTP 404\)/)
        return true
      })
    } finally {
      await server.close()
    }
  })

  it('refuses insecure issuers and issuers with a query', async () => {
    await assert.rejects(discover('http://as.example.com'), TypeError)
    await assert.rejects(discover('https://as.example.com/?tenant=1'), TypeError)
  })
})
