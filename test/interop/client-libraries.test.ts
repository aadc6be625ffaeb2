import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  discoverAuthorizationServerMetadata,
  registerClient,
} from '@modelcontextprotocol/sdk/client/auth.js'
import {
  ClientCredentialsProvider,
  PrivateKeyJwtProvider,
} from '@modelcontextprotocol/sdk/client/auth-extensions.js'
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose'
import * as oauth from 'oauth4webapi'
import * as client from 'openid-client'
import { runCli, type ServerProcess, startServer, tempDir } from '../helpers.js'

/**
 * Three client libraries (openid-client, oauth4webapi, the MCP SDK's) register against `registrar serve` on 127.0.0.1 (open
 * mode; the config's `metadata` names the real AS's authorization and token endpoints) and parse
 * the response without error. Loopback http needs each library's explicit opt-in.
 */

const METADATA = {
  authorization_endpoint: 'https://as.example.com/authorize',
  token_endpoint: 'https://as.example.com/token',
}
const insecure = { [oauth.allowInsecureRequests]: true }

describe('interop: client libraries against registrar serve (open mode)', () => {
  let server: ServerProcess
  before(async () => {
    server = await startServer(['--registration', 'open', '--store', 'memory'], {
      config: { metadata: METADATA },
    })
  })
  after(async () => {
    assert.equal(await server.stop(), 0)
  })

  for (const algorithm of ['oidc', 'oauth2'] as const) {
    it(`openid-client 6 dynamicClientRegistration (${algorithm} discovery): confidential client`, async () => {
      const config = await client.dynamicClientRegistration(
        new URL(server.url),
        {
          redirect_uris: ['https://rp.example.com/cb'],
          client_name: 'openid-client RP',
          grant_types: ['authorization_code', 'refresh_token'],
        },
        undefined,
        { execute: [client.allowInsecureRequests], algorithm },
      )
      const meta = config.clientMetadata()
      assert.equal(typeof meta.client_id, 'string')
      assert.equal(typeof meta.client_secret, 'string')
      assert.equal(meta.client_secret_expires_at, 0)
      assert.equal(meta.token_endpoint_auth_method, 'client_secret_basic')
      assert.deepEqual(meta.grant_types, ['authorization_code', 'refresh_token'])
      const as = config.serverMetadata()
      assert.equal(as.issuer, server.url)
      assert.equal(as.registration_endpoint, `${server.url}/register`)
      assert.equal(as.authorization_endpoint, METADATA.authorization_endpoint)
      assert.equal(as.token_endpoint, METADATA.token_endpoint)
      // the library can build an authorization request with what it got
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: 'https://rp.example.com/cb',
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      })
      assert.equal(url.origin + url.pathname, METADATA.authorization_endpoint)
      assert.equal(url.searchParams.get('client_id'), meta.client_id)
    })
  }

  it('openid-client 6: public native client (none), and a refusal surfaces as an OAuth error', async () => {
    const config = await client.dynamicClientRegistration(
      new URL(server.url),
      { redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' },
      client.None(),
      { execute: [client.allowInsecureRequests] },
    )
    const meta = config.clientMetadata()
    assert.equal(meta.client_secret, undefined)
    assert.equal(meta.application_type, 'native')
    await assert.rejects(
      client.dynamicClientRegistration(
        new URL(server.url),
        { redirect_uris: ['http://rp.example.com/cb'] },
        undefined,
        { execute: [client.allowInsecureRequests] },
      ),
      (e: unknown) => {
        assert.ok(e instanceof client.ResponseBodyError, String(e))
        assert.equal(e.error, 'invalid_redirect_uri')
        assert.equal(e.status, 400)
        return true
      },
    )
  })

  it('oauth4webapi 3 dynamicClientRegistrationRequest + processDynamicClientRegistrationResponse', async () => {
    const issuer = new URL(server.url)
    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, insecure),
    )
    assert.equal(as.registration_endpoint, `${server.url}/register`)
    const response = await oauth.dynamicClientRegistrationRequest(
      as,
      {
        redirect_uris: ['https://rp.example.com/cb'],
        token_endpoint_auth_method: 'client_secret_post',
        client_name: 'oauth4webapi RP',
        'client_name#ja-Jpan-JP': 'クライアント',
      },
      insecure,
    )
    const registered = await oauth.processDynamicClientRegistrationResponse(response)
    assert.equal(typeof registered.client_id, 'string')
    assert.equal(typeof registered.client_secret, 'string')
    assert.equal(registered.client_secret_expires_at, 0)
    assert.equal(registered.token_endpoint_auth_method, 'client_secret_post')
    assert.equal(registered['client_name#ja-Jpan-JP'], 'クライアント')
    assert.equal(typeof registered.registration_access_token, 'string')
  })

  it('oauth4webapi 3: a refusal is a ResponseBodyError with the RFC 7591 code', async () => {
    const issuer = new URL(server.url)
    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, insecure),
    )
    const response = await oauth.dynamicClientRegistrationRequest(
      as,
      { redirect_uris: ['https://rp.example.com/cb'], jwks_uri: 'https://127.0.0.1/jwks' },
      insecure,
    )
    await assert.rejects(oauth.processDynamicClientRegistrationResponse(response), (e: unknown) => {
      assert.ok(e instanceof oauth.ResponseBodyError, String(e))
      assert.equal(e.error, 'invalid_client_metadata')
      return true
    })
  })

  it('MCP TypeScript SDK discoverAuthorizationServerMetadata + registerClient', async () => {
    const metadata = await discoverAuthorizationServerMetadata(server.url)
    assert.ok(metadata, 'metadata discovered')
    assert.equal(metadata.issuer, server.url)
    assert.equal(metadata.registration_endpoint, `${server.url}/register`)
    assert.ok(metadata.code_challenge_methods_supported?.includes('S256'))
    const info = await registerClient(server.url, {
      metadata,
      clientMetadata: {
        redirect_uris: ['http://localhost:33418/callback'],
        client_name: 'MCP SDK client',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      },
    })
    assert.equal(typeof info.client_id, 'string')
    assert.equal(info.client_secret, undefined)
    assert.deepEqual(info.redirect_uris, ['http://localhost:33418/callback'])
    assert.deepEqual(info.grant_types, ['authorization_code', 'refresh_token'])
    assert.equal(info.token_endpoint_auth_method, 'none')
  })

  it('MCP TypeScript SDK: a confidential client gets its secret with client_secret_expires_at (P-2)', async () => {
    const metadata = await discoverAuthorizationServerMetadata(server.url)
    const info = await registerClient(server.url, {
      metadata,
      clientMetadata: {
        redirect_uris: ['https://mcp-host.example.com/callback'],
        token_endpoint_auth_method: 'client_secret_post',
      },
      scope: 'read write',
    })
    assert.equal(typeof info.client_secret, 'string')
    assert.equal(info.client_secret_expires_at, 0)
    assert.equal(info.scope, 'read write')
  })
})

describe('interop: MCP SDK client_credentials clients register (issue 12 item 12)', () => {
  let server: ServerProcess
  before(async () => {
    server = await startServer(['--registration', 'open', '--store', 'memory'], {
      config: { metadata: METADATA },
    })
  })
  after(async () => {
    assert.equal(await server.stop(), 0)
  })

  it('issue 12 item 12: ClientCredentialsProvider metadata (redirect_uris []) registers and the SDK parses the answer', async () => {
    const metadata = await discoverAuthorizationServerMetadata(server.url)
    // the SDK's own client_credentials metadata, as its auth() flow would send it
    const provider = new ClientCredentialsProvider({
      clientId: 'unused',
      clientSecret: 'unused',
      expectedIssuer: server.url,
    })
    assert.deepEqual(provider.clientMetadata.redirect_uris, [])
    const info = await registerClient(server.url, {
      metadata,
      clientMetadata: provider.clientMetadata,
    })
    assert.equal(typeof info.client_id, 'string')
    assert.equal(typeof info.client_secret, 'string', 'the credentials reach the client')
    assert.deepEqual(info.redirect_uris, [])
    assert.deepEqual(info.grant_types, ['client_credentials'])
    assert.deepEqual(info.response_types, [])
    assert.equal(info.token_endpoint_auth_method, 'client_secret_basic')
  })

  it('issue 12 item 12: PrivateKeyJwtProvider metadata with its jwks registers too', async () => {
    const metadata = await discoverAuthorizationServerMetadata(server.url)
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
    const provider = new PrivateKeyJwtProvider({
      clientId: 'unused',
      privateKey: await exportPKCS8(privateKey),
      algorithm: 'ES256',
      expectedIssuer: server.url,
    })
    const info = await registerClient(server.url, {
      metadata,
      clientMetadata: {
        ...provider.clientMetadata,
        jwks: { keys: [{ ...(await exportJWK(publicKey)), use: 'sig', alg: 'ES256' }] },
      },
    })
    assert.equal(typeof info.client_id, 'string')
    assert.equal(info.client_secret, undefined)
    assert.deepEqual(info.redirect_uris, [])
    assert.equal(info.token_endpoint_auth_method, 'private_key_jwt')
  })
})

describe('interop: initial access tokens with oauth4webapi (token mode, SQLite)', () => {
  const t = tempDir()
  const store = `sqlite:${join(t.dir, 'iat.db')}`
  let server: ServerProcess
  before(async () => {
    server = await startServer(['--store', store], { config: { metadata: METADATA } })
  })
  after(async () => {
    await server.stop()
    t.cleanup()
  })

  it('R7591-3-c ROIDR-3-c: the IAT goes as a Bearer token; a bad one is an RFC 6750 challenge', async () => {
    const issuer = new URL(server.url)
    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, insecure),
    )
    const created = await runCli(['token', 'create', '--store', store, '--max-uses', '1'])
    assert.equal(created.code, 0, created.stderr)
    const iat = created.stdout.trim().split('\n').at(-1)!
    const metadata = { redirect_uris: ['https://rp.example.com/cb'] }
    const ok = await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(as, metadata, {
        ...insecure,
        initialAccessToken: iat,
      }),
    )
    assert.equal(typeof ok.client_id, 'string')
    const used = await oauth.dynamicClientRegistrationRequest(as, metadata, {
      ...insecure,
      initialAccessToken: iat,
    })
    assert.equal(used.status, 401)
    await assert.rejects(oauth.processDynamicClientRegistrationResponse(used), (e: unknown) => {
      assert.ok(e instanceof oauth.WWWAuthenticateChallengeError, String(e))
      assert.equal(e.cause[0]?.scheme, 'bearer')
      assert.equal(e.cause[0]?.parameters.error, 'invalid_token')
      return true
    })
  })
})
