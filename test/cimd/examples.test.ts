// Issue 11 "Proofs": a Client ID Metadata Document client completes authorization code + PKCE
// through both examples (registrar/mcp with the MCP SDK client's clientMetadataUrl, and
// registrar/oidc-provider), its document served over https on 127.0.0.2 with a test CA.
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { auth } from '@modelcontextprotocol/sdk/client/auth.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { exportJWK, generateKeyPair } from 'jose'
import * as oidc from 'openid-client'
import type { JsonBody } from '../helpers.js'
import {
  type Example,
  followToClient,
  HeadlessProvider,
  startExample,
  visit,
} from '../integrations/support.js'
import { type DocumentServer, startDocumentServer } from './fixtures.js'

let docs: DocumentServer
before(async () => {
  docs = await startDocumentServer()
})
after(() => docs?.stop())

type CryptoKeyOf = Awaited<ReturnType<typeof generateKeyPair>>['privateKey']

/** The examples' --config: CIMD on, the fixture's CA trusted and its address allowed (tests only). */
const cimdConfig = () => ({
  log: { level: 'warn' },
  clientIdMetadataDocuments: { enabled: true },
  fetch: { allowedAddresses: ['127.0.0.2'], caFile: docs.caFile },
})

describe('the MCP SDK client with clientMetadataUrl at the MCP example (CIMD on)', () => {
  let mcp: Example
  before(async () => {
    mcp = await startExample('mcp-server', ['--auto-login', '--store', 'memory'], cimdConfig())
  })
  after(() => mcp?.stop())

  it('CIMD-7-a MCP-REG-a CIMD-BP-19: discovery advertises CIMD; the SDK uses the URL as client_id (no registration), authorizes on an ephemeral loopback port, gets a token, calls a tool', async () => {
    const url = docs.json('/mcp-client.json', {
      client_name: 'CIMD MCP client',
      redirect_uris: ['http://localhost/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    })
    const discovery = (await (
      await fetch(`${mcp.url}/.well-known/oauth-authorization-server`)
    ).json()) as JsonBody
    assert.equal(discovery.client_id_metadata_document_supported, true)

    const provider = new HeadlessProvider(
      'http://localhost:41234/callback',
      { client_name: 'unused', redirect_uris: ['http://localhost:41234/callback'] },
      url,
    )
    const serverUrl = new URL('/mcp', mcp.url)
    assert.equal(await auth(provider, { serverUrl }), 'REDIRECT')
    assert.equal(provider.information?.client_id, url)
    const authorization = provider.authorizationUrl as URL
    assert.equal(authorization.searchParams.get('client_id'), url)
    const callback = new URL(await followToClient(authorization.href, provider.redirectUrl))
    const code = callback.searchParams.get('code') as string
    assert.ok(code, callback.href)
    assert.equal(await auth(provider, { serverUrl, authorizationCode: code }), 'AUTHORIZED')
    assert.ok(provider.saved?.access_token)
    const client = new Client({ name: 'registrar-cimd-test', version: '1.0.0' })
    await client.connect(new StreamableHTTPClientTransport(serverUrl, { authProvider: provider }))
    try {
      const result = await client.callTool({ name: 'echo', arguments: { text: 'cimd' } })
      assert.deepEqual(result.content, [{ type: 'text', text: 'cimd' }])
    } finally {
      await client.close()
    }
    assert.equal(docs.hits('/mcp-client.json'), 1)
  })

  it('CIMD-5.1-a: a refused document (client_secret inside) ends on an error page, never a redirect', async () => {
    const url = docs.json('/mcp-bad.json', {
      redirect_uris: ['https://client.example/cb'],
      client_secret: 'oops',
    })
    const page = await visit(
      `${mcp.url}/authorize?${new URLSearchParams({
        response_type: 'code',
        client_id: url,
        redirect_uri: 'https://client.example/cb',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      })}`,
    )
    assert.ok(page.status >= 400 && page.status < 500, String(page.status))
    assert.equal(page.location, null)
    // the log line crosses a pipe from the child: it may arrive after the page
    const deadline = Date.now() + 10_000
    while (!/metadata_document\.refused/.test(mcp.output()) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50))
    }
    assert.match(mcp.output(), /"event":"metadata_document\.refused".*"refusal":"invalid_document"/)
  })
})

describe('a CIMD client at the oidc-provider example (CIMD on)', () => {
  let op: Example
  before(async () => {
    op = await startExample('oidc-provider', ['--auto-login', '--store', 'memory'], cimdConfig())
  })
  after(() => op?.stop())

  it('CIMD-7-a CIMD-BP-23 CIMD-6-a: both discovery documents advertise CIMD; authorization code + PKCE with client_id = the document URL (none)', async () => {
    const redirectUri = 'https://client.example/cb'
    const url = docs.json('/op-client.json', {
      client_name: 'CIMD OP client',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    })
    for (const wellKnown of ['openid-configuration', 'oauth-authorization-server']) {
      const res = await fetch(`${op.url}/.well-known/${wellKnown}`)
      if (res.status === 404) continue
      assert.equal(((await res.json()) as JsonBody).client_id_metadata_document_supported, true)
    }
    const verifier = randomBytes(32).toString('base64url')
    const challenge = createHash('sha256').update(verifier).digest('base64url')
    const start = `${op.url}/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: url,
      redirect_uri: redirectUri,
      scope: 'openid',
      state: 'st',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    })}`
    const back = new URL(await followToClient(start, redirectUri))
    assert.equal(back.searchParams.get('state'), 'st')
    const code = back.searchParams.get('code')
    assert.ok(code, back.href)
    const token = await fetch(`${op.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        code_verifier: verifier,
        client_id: url,
      }),
    })
    const body = (await token.json()) as JsonBody
    assert.equal(token.status, 200, JSON.stringify(body))
    assert.ok(body.access_token)
    assert.ok(body.id_token)
  })

  /**
   * Authorization code + PKCE with openid-client 6, the token request authenticated by a
   * private_key_jwt assertion signed with `key` (RFC 7523 §2.2).
   */
  async function privateKeyJwtFlow(clientId: string, key: CryptoKeyOf, redirectUri: string) {
    const config = await oidc.discovery(
      new URL(op.url),
      clientId,
      { token_endpoint_auth_method: 'private_key_jwt' },
      oidc.PrivateKeyJwt(key),
      { execute: [oidc.allowInsecureRequests] },
    )
    const verifier = oidc.randomPKCECodeVerifier()
    const state = oidc.randomState()
    const start = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    })
    const callback = await followToClient(start.href, redirectUri)
    return oidc.authorizationCodeGrant(config, new URL(callback), {
      pkceCodeVerifier: verifier,
      expectedState: state,
    })
  }

  /** The OAuth error of a refused token request as openid-client reports it. */
  function refusal(err: unknown): unknown {
    if (err instanceof oidc.WWWAuthenticateChallengeError) return err.cause[0]?.parameters.error
    return (err as { error?: unknown }).error
  }

  for (const where of ['jwks', 'jwks_uri'] as const) {
    it(`CIMD-6-a CIMD-9.6-a AS-7523-3-a: private_key_jwt with the keys of the document (${where}${where === 'jwks_uri' ? ', https with the test CA' : ''}): code + PKCE + token; a foreign key's assertion is invalid_client`, async () => {
      const redirectUri = 'https://client.example/cb'
      const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
      const jwks = { keys: [{ ...(await exportJWK(publicKey)), alg: 'ES256', use: 'sig' }] }
      let keys: Record<string, unknown> = { jwks }
      if (where === 'jwks_uri') {
        const path = '/op-pkjwt-keys.json'
        docs.route(path, (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks))
        })
        keys = { jwks_uri: docs.url(path) }
      }
      const url = docs.json(`/op-pkjwt-${where}.json`, {
        client_name: `CIMD private_key_jwt client (${where})`,
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        ...keys,
      })
      const tokens = await privateKeyJwtFlow(url, privateKey, redirectUri)
      assert.ok(tokens.access_token)
      assert.equal(tokens.claims()?.aud, url)
      if (where === 'jwks_uri') assert.ok(docs.hits('/op-pkjwt-keys.json') >= 1)

      const foreign = await generateKeyPair('ES256', { extractable: true })
      await assert.rejects(privateKeyJwtFlow(url, foreign.privateKey, redirectUri), (err) => {
        assert.equal(refusal(err), 'invalid_client', String(err))
        return true
      })
    })
  }
})
