// The integrations' set-up rules, in process: what they refuse, what they derive, and that the
// host's own clients keep working.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import Provider from 'oidc-provider'
import { createRegistrar, type RegistrarApp } from '../../src/index.js'
import { McpIntegration } from '../../src/integrations/mcp.js'
import { createProvider, OidcProviderIntegration } from '../../src/integrations/oidc-provider.js'

const ISSUER = 'http://127.0.0.1:4455'

describe('registrar/oidc-provider configuration', () => {
  let app: RegistrarApp
  before(async () => {
    app = await createRegistrar({
      config: { issuer: ISSUER, registration: { mode: 'open' } },
      store: 'memory',
      logger: false,
    })
  })
  after(() => app.close())

  it("refuses oidc-provider's own registration: Registrar serves RFC 7591/7592", () => {
    const integration = new OidcProviderIntegration(app)
    for (const feature of ['registration', 'registrationManagement'] as const) {
      assert.throws(
        () => integration.configuration({ features: { [feature]: { enabled: true } } }),
        new RegExp(`features\\.${feature} must stay off`),
      )
    }
  })

  it('RDISC-X-a: lists left unset come from what registration accepts; a list that leaves some out is refused', () => {
    const integration = new OidcProviderIntegration(app)
    const metadata = app.registrar.serverMetadata()
    const configuration = integration.configuration({})
    assert.deepEqual(
      [...(configuration.clientAuthMethods ?? [])],
      metadata.token_endpoint_auth_methods_supported,
    )
    assert.deepEqual(
      configuration.enabledJWA?.idTokenSigningAlgValues,
      metadata.id_token_signing_alg_values_supported,
    )
    // Registrar's default grant types include client_credentials: the feature is turned on
    assert.equal(configuration.features?.clientCredentials?.enabled, true)
    assert.equal(
      (configuration.discovery as Record<string, unknown>).registration_endpoint,
      `${ISSUER}/register`,
    )
    assert.equal(configuration.allowOmittingSingleRegisteredRedirectUri, false)
    assert.throws(
      () => integration.configuration({ clientAuthMethods: ['client_secret_basic'] }),
      /clientAuthMethods lacks .*metadata\.token_endpoint_auth_methods_supported/,
    )
    assert.throws(
      () => integration.configuration({ features: { clientCredentials: { enabled: false } } }),
      /features\.clientCredentials is off/,
    )
  })

  it("refuses a provider whose issuer is not Registrar's", () => {
    const integration = new OidcProviderIntegration(app)
    const provider = new Provider('http://127.0.0.1:9999', integration.configuration({}))
    assert.throws(() => integration.attach(provider), /issuer/)
  })
})

describe('registrar/oidc-provider in process: static clients, recordUse', () => {
  let app: RegistrarApp
  let url: string
  const server = createServer()
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    app = await createRegistrar({
      config: { issuer: url, registration: { mode: 'open' } },
      store: 'memory',
      logger: false,
    })
    const provider = createProvider(app, {
      clients: [
        {
          client_id: 'static',
          client_secret: 'a-static-secret-of-the-host',
          grant_types: ['client_credentials'],
          redirect_uris: [],
          response_types: [],
        },
      ],
    })
    server.on('request', provider.callback())
  })
  after(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await app.close()
  })

  it('a client of the configuration authenticates with its plaintext secret, as without Registrar', async () => {
    const token = (secret: string) =>
      fetch(`${url}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`static:${secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials',
      })
    assert.equal((await token('a-static-secret-of-the-host')).status, 200)
    assert.equal((await token('wrong')).status, 401)
  })

  it("recordUse on oidc-provider's grant.success: a registered client's last-used time is stored", async () => {
    const created = await fetch(`${url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: ['https://app.example.com/cb'],
        grant_types: ['authorization_code', 'client_credentials'],
      }),
    })
    assert.equal(created.status, 201)
    const { client_id, client_secret } = (await created.json()) as Record<string, string>
    assert.equal((await app.store.findClient(client_id as string))?.lastUsedAt, undefined)
    const granted = await fetch(`${url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: client_id as string,
        client_secret: client_secret as string,
      }),
    })
    assert.equal(granted.status, 200)
    // the write follows the response (fire and forget); 5 s is a generous bound
    const deadline = Date.now() + 5000
    let lastUsedAt: number | undefined
    while (lastUsedAt === undefined && Date.now() < deadline) {
      lastUsedAt = (await app.store.findClient(client_id as string))?.lastUsedAt
      if (lastUsedAt === undefined) await new Promise((r) => setTimeout(r, 50))
    }
    assert.equal(typeof lastUsedAt, 'number')
  })
})

describe('registrar/mcp set-up', () => {
  it("refuses a Registrar whose registration accepts grants the SDK's AS cannot serve", async () => {
    const app = await createRegistrar({
      config: { issuer: ISSUER, registration: { mode: 'open' } },
      store: 'memory',
      logger: false,
    })
    try {
      const options = {
        provider: {} as never,
        issuerUrl: new URL(ISSUER),
      }
      // Registrar's default grant types include client_credentials
      assert.throws(
        () => new McpIntegration(app).router(options),
        /client_credentials \(metadata\.grant_types_supported\)/,
      )
    } finally {
      await app.close()
    }
  })
})
