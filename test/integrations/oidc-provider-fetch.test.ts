// oidc-provider's own outbound requests (a client's jwks_uri, sector_identifier_uri, notifications)
// go through Registrar's SSRF-safe fetcher (RFC 7591 §5, RFC 9700 §4.15; spec/cimd.md §10
// CIMD-9.6-*, D-20: one connect-time check shared by jwks_uri and sector_identifier_uri), in
// process with DNS simulated the way test/net/safe-fetch.test.ts does it.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import type Provider from 'oidc-provider'
import { composeRegistrar, type RegistrarApp } from '../../src/app.js'
import { resolveConfig } from '../../src/config/resolve.js'
import { OutboundFetchError } from '../../src/core/outbound-fetch.js'
import { createProvider, OidcProviderIntegration } from '../../src/integrations/oidc-provider.js'
import { createSafeFetch } from '../../src/net/safe-fetch.js'
import { MemoryStore } from '../../src/storage/memory.js'
import type { JsonBody } from '../helpers.js'
import { selfSignedCertificate, startConnectionCounter, startTlsServer } from '../tls-helpers.js'

describe("RFC 7591 §5 RFC 9700 §4.15 CIMD-9.6-a: oidc-provider's fetches go through Registrar's SSRF-safe fetcher", () => {
  const tls = selfSignedCertificate()
  const server = createServer()
  let url: string
  let app: RegistrarApp
  let provider: Provider
  let counter: Awaited<ReturnType<typeof startConnectionCounter>>
  let jwksServer: Awaited<ReturnType<typeof startTlsServer>>
  let jwksHits = 0
  let jwks: { keys: unknown[] } = { keys: [] }
  let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']
  // evil.test is a public-looking name that resolves to loopback; issuer.test to the allow-listed
  // 127.0.0.2 (both in the test certificate)
  const table: Record<string, string> = { 'evil.test': '127.0.0.1', 'issuer.test': '127.0.0.2' }

  before(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true })
    privateKey = pair.privateKey
    jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), alg: 'ES256', use: 'sig' }] }
    counter = await startConnectionCounter('127.0.0.1')
    jwksServer = await startTlsServer(tls, (req, res) => {
      jwksHits++
      if (req.url === '/huge') {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ keys: [], pad: 'a'.repeat(100_000) }))
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const config = resolveConfig({
      file: {
        issuer: url,
        registration: { mode: 'open' },
        metadata: { token_endpoint_auth_methods_supported: ['private_key_jwt', 'none'] },
        fetch: { allowedAddresses: ['127.0.0.2'], caFile: tls.caFile, maxBytes: 8192 },
      },
    })
    app = composeRegistrar(config, new MemoryStore(), {
      fetch: createSafeFetch({
        timeoutMs: config.fetch.timeoutMs,
        maxBytes: config.fetch.maxBytes,
        maxRedirects: 0,
        allowedAddresses: config.fetch.allowedAddresses,
        ca: tls.cert,
        resolve: async (host) => {
          const address = table[host]
          if (!address) throw new Error(`ENOTFOUND ${host}`)
          return [{ address, family: 4 }]
        },
      }),
    })
    provider = createProvider(app)
    server.on('request', provider.callback())
  })
  after(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await app.close()
    await counter.close()
    await jwksServer.close()
    tls.cleanup()
  })

  async function register(jwksUri: string): Promise<string> {
    const res = await fetch(`${url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: ['https://client.example/cb'],
        grant_types: ['authorization_code', 'client_credentials'],
        token_endpoint_auth_method: 'private_key_jwt',
        jwks_uri: jwksUri,
      }),
    })
    const body = (await res.json()) as JsonBody
    assert.equal(res.status, 201, JSON.stringify(body))
    return body.client_id as string
  }

  async function token(clientId: string): Promise<{ status: number; body: JsonBody }> {
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(url)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('60s')
      .sign(privateKey)
    const res = await fetch(`${url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      }),
    })
    return { status: res.status, body: (await res.json()) as JsonBody }
  }

  it('AS-7523-3-a: a jwks_uri on an allow-listed address, behind the test CA, works end to end (oidc-provider verifies with the keys it fetched through the safe fetcher)', async () => {
    const clientId = await register(`https://issuer.test:${jwksServer.port}/jwks`)
    jwksHits = 0
    const { status, body } = await token(clientId)
    assert.equal(status, 200, JSON.stringify(body))
    assert.ok(body.access_token)
    // Registrar's check and oidc-provider's both fetched it; oidc-provider's default fetch would
    // neither trust the test CA nor connect to 127.0.0.2
    assert.ok(jwksHits >= 2, `jwks fetched ${jwksHits} times`)
  })

  it('CIMD-9.6-a: a jwks_uri whose name resolves to loopback is never connected to, by Registrar or by oidc-provider', async () => {
    const clientId = await register(`https://evil.test:${counter.port}/jwks`)
    const { status, body } = await token(clientId)
    assert.equal(status, 401)
    assert.equal(body.error, 'invalid_client')
    // oidc-provider's own key store refresh (what it runs before verifying an assertion or
    // encrypting to the client), outside Registrar's authentication
    const client = (await provider.Client.find(clientId)) as unknown as {
      asymmetricKeyStore: { refresh(): Promise<void> }
    }
    await assert.rejects(client.asymmetricKeyStore.refresh(), (err: Error) => {
      const reason = err instanceof OutboundFetchError ? err : err.cause
      assert.ok(reason instanceof OutboundFetchError, String(err))
      assert.match(reason.reason, /resolves to a loopback, private or special-use address/)
      return true
    })
    assert.equal(counter.connections(), 0)
  })

  it('CIMD-9.7-a: a jwks_uri body over fetch.maxBytes is refused (no unbounded read)', async () => {
    const clientId = await register(`https://issuer.test:${jwksServer.port}/huge`)
    const client = (await provider.Client.find(clientId)) as unknown as {
      asymmetricKeyStore: { refresh(): Promise<void> }
    }
    await assert.rejects(client.asymmetricKeyStore.refresh(), (err: Error) => {
      assert.ok(err.cause instanceof OutboundFetchError, String(err))
      assert.match(err.cause.reason, /larger than 8192 bytes/)
      return true
    })
  })

  it("the configuration: the safe fetcher unless yours is given (opt-out), finite body limits, oidc-provider's CIMD off", async () => {
    const integration = new OidcProviderIntegration(app)
    const configuration = integration.configuration({
      fetchResponseBodyLimits: { jwks_uri: Number.POSITIVE_INFINITY, sector_identifier_uri: 4096 },
    })
    const limits = configuration.fetchResponseBodyLimits ?? {}
    assert.deepEqual(limits, {
      'client_id metadata document': app.config.clientIdMetadataDocuments.maxBytes,
      jwks_uri: 8192,
      sector_identifier_uri: 4096,
    })
    assert.equal(configuration.features?.clientIdMetadataDocument?.enabled, false)
    assert.throws(
      () =>
        integration.configuration({ features: { clientIdMetadataDocument: { enabled: true } } }),
      /features\.clientIdMetadataDocument must stay off/,
    )
    // an IP literal on loopback is refused before any connection, http is refused
    const safe = configuration.fetch as NonNullable<typeof configuration.fetch>
    await assert.rejects(safe(`https://127.0.0.1:${counter.port}/`, {}), /loopback/)
    await assert.rejects(safe(`http://issuer.test:${jwksServer.port}/jwks`, {}), /must use https/)
    assert.equal(counter.connections(), 0)
    const mine = async () => new Response('{}')
    assert.equal(integration.configuration({ fetch: mine }).fetch, mine)
  })
})
