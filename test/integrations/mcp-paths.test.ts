// registrar/mcp in process: the SDK mounts its endpoints with Express's `router.use(path)`, which
// ignores case and trailing slashes and takes sub-paths. Every spelling of /token, /revoke and
// /authorize must meet Registrar's checks first: client authentication (counted, the same answer
// for known and unknown client_ids, recordUse), and the authorization check (iss, RFC 9207).
import assert from 'node:assert/strict'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import type { OAuthServerProvider } from '@modelcontextprotocol/sdk/server/auth/provider.js'
import express from 'express'
import { createRegistrar, type RegistrarApp } from '../../src/index.js'
import { McpIntegration } from '../../src/integrations/mcp.js'
import type { JsonBody } from '../helpers.js'

const TOKEN_PATHS = ['/token', '/token/', '/TOKEN', '/Token/']
const REVOKE_PATHS = ['/revoke', '/revoke/', '/REVOKE', '/Revoke/']
const AUTHORIZE_PATHS = ['/authorize', '/authorize/', '/AUTHORIZE', '/Authorize/']

describe('AS-6749-2.3.1-c AS-BP-06: registrar/mcp checks every spelling of the SDK endpoint paths', () => {
  let app: RegistrarApp
  let url: string
  let server: Server
  const failures: string[] = []

  before(async () => {
    const host = express()
    server = host.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    app = await createRegistrar({
      config: {
        issuer: url,
        registration: { mode: 'open' },
        metadata: { grant_types_supported: ['authorization_code', 'refresh_token'] },
        clientAuthentication: {
          failureLimit: { perClient: { max: 1000 }, perAddress: { max: 1000 } },
        },
      },
      store: 'memory',
      logger: false,
    })
    app.clientRegistry.on('client.authentication_failed', (e) => failures.push(e.client_id ?? ''))
    const integration = new McpIntegration(app)
    const unreached = async (): Promise<never> => {
      throw new Error('not reached in these tests')
    }
    const provider: OAuthServerProvider = {
      clientsStore: integration.clientsStore,
      authorize: unreached,
      challengeForAuthorizationCode: unreached,
      exchangeAuthorizationCode: unreached,
      exchangeRefreshToken: async () => ({ access_token: 'an-access-token', token_type: 'bearer' }),
      verifyAccessToken: unreached,
      revokeToken: async () => {},
    }
    host.use(integration.router({ provider, issuerUrl: new URL(url) }))
  })
  after(async () => {
    server?.closeAllConnections()
    await new Promise((resolve) => server?.close(resolve))
    await app?.close()
  })

  async function register(metadata: Record<string, unknown>): Promise<JsonBody> {
    const res = await fetch(`${url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_types: ['authorization_code', 'refresh_token'], ...metadata }),
    })
    assert.equal(res.status, 201, await res.clone().text())
    return (await res.json()) as JsonBody
  }

  const post = (path: string, params: Record<string, string>) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params),
    })

  it('AS-6749-2.3.1-c AS-BP-06: a wrong secret at every spelling of /token and /revoke: counted, 401 invalid_client, the same for a known and an unknown client_id', async () => {
    const client = await register({
      redirect_uris: ['https://client.example/cb'],
      token_endpoint_auth_method: 'client_secret_post',
    })
    for (const path of [...TOKEN_PATHS, ...REVOKE_PATHS]) {
      const answers: unknown[] = []
      for (const clientId of [client.client_id, 'no-such-client-0123456789']) {
        const before = failures.length
        const res = await post(path, {
          grant_type: 'refresh_token',
          refresh_token: 'a-refresh-token',
          token: 'a-token',
          client_id: clientId,
          client_secret: 'wrong',
        })
        const body = (await res.json()) as JsonBody
        assert.equal(res.status, 401, `${path} ${clientId}: ${JSON.stringify(body)}`)
        assert.equal(body.error, 'invalid_client', path)
        assert.deepEqual(failures.slice(before), [clientId], `${path}: one failure counted`)
        answers.push(body)
      }
      assert.deepEqual(answers[0], answers[1], `${path}: known and unknown read alike`)
    }
  })

  it('idle expiry: the right secret at /TOKEN/ is authenticated by Registrar and recorded as a use', async () => {
    const client = await register({
      redirect_uris: ['https://client.example/cb'],
      token_endpoint_auth_method: 'client_secret_post',
    })
    const res = await post('/TOKEN/', {
      grant_type: 'refresh_token',
      refresh_token: 'a-refresh-token',
      client_id: client.client_id,
      client_secret: client.client_secret,
    })
    assert.equal(res.status, 200, await res.clone().text())
    // the write follows the response (fire and forget); 5 s is a generous bound
    const deadline = Date.now() + 5000
    let lastUsedAt: number | undefined
    while (lastUsedAt === undefined && Date.now() < deadline) {
      lastUsedAt = (await app.store.findClient(client.client_id))?.lastUsedAt
      if (lastUsedAt === undefined) await new Promise((r) => setTimeout(r, 50))
    }
    assert.equal(typeof lastUsedAt, 'number')
  })

  it('AS-6749-4.1.2.1-a AS-9207-2-a: every spelling of /authorize checks the client first and adds iss to an error redirect', async () => {
    const client = await register({
      redirect_uris: ['http://127.0.0.1/callback'],
      token_endpoint_auth_method: 'none',
    })
    const authorize = (path: string, clientId: string) =>
      fetch(
        `${url}${path}?${new URLSearchParams({
          response_type: 'bogus',
          client_id: clientId,
          redirect_uri: 'http://127.0.0.1:4000/callback',
          code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          code_challenge_method: 'S256',
          state: 's',
        })}`,
        { redirect: 'manual' },
      )
    for (const path of AUTHORIZE_PATHS) {
      const unknown = await authorize(path, 'no-such-client-0123456789')
      assert.equal(unknown.status, 400, path)
      assert.equal(unknown.headers.get('location'), null, path)
      assert.match(unknown.headers.get('content-type') ?? '', /^text\/html/, path)
      const redirected = await authorize(path, client.client_id)
      assert.equal(redirected.status, 302, path)
      const location = new URL(redirected.headers.get('location') ?? '')
      assert.equal(location.searchParams.get('error'), 'invalid_request', path)
      assert.equal(location.searchParams.get('iss'), url, path)
    }
  })
})
