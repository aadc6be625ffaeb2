// The MCP SDK client's auth() against examples/mcp-server: the SDK's authorization server with
// Registrar as its client registry, driven as a child process over loopback (issue 10, "Proofs").
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { auth } from '@modelcontextprotocol/sdk/client/auth.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { OAuthClientMetadata } from '@modelcontextprotocol/sdk/shared/auth.js'
import { openStore } from '../../src/storage/open-store.js'
import { type JsonBody, tempDir } from '../helpers.js'
import { type Example, followToClient, HeadlessProvider, startExample, visit } from './support.js'

/** register (RFC 7591) → authorize (headless, auto-login) → token → tools/call echo. */
async function connectAndEcho(mcp: Example, provider: HeadlessProvider) {
  const serverUrl = new URL('/mcp', mcp.url)
  assert.equal(await auth(provider, { serverUrl }), 'REDIRECT')
  assert.ok(provider.information?.client_id, 'registered')
  const authorization = provider.authorizationUrl as URL
  // MCP clients send resource (RFC 8707) and S256 PKCE
  assert.equal(authorization.searchParams.get('resource'), serverUrl.href)
  assert.equal(authorization.searchParams.get('code_challenge_method'), 'S256')
  const callback = new URL(await followToClient(authorization.href, provider.redirectUrl))
  // RFC 9207: the authorization response names the issuer
  assert.equal(callback.searchParams.get('iss'), mcp.url)
  const code = callback.searchParams.get('code') as string
  assert.equal(await auth(provider, { serverUrl, authorizationCode: code }), 'AUTHORIZED')
  assert.ok(provider.saved?.access_token)

  const client = new Client({ name: 'registrar-test', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(serverUrl, { authProvider: provider }))
  try {
    const result = await client.callTool({ name: 'echo', arguments: { text: 'hello' } })
    assert.deepEqual(result.content, [{ type: 'text', text: 'hello' }])
  } finally {
    await client.close()
  }
}

describe('the MCP SDK client at the MCP example (open registration, --auto-login)', () => {
  let mcp: Example
  const scratch = tempDir('registrar-mcp-')
  const store = `sqlite:${join(scratch.dir, 'registrar.db')}`
  before(async () => {
    mcp = await startExample('mcp-server', ['--auto-login', '--store', store], {
      log: { level: 'warn' },
    })
  })
  after(async () => {
    await mcp?.stop()
    scratch.cleanup()
  })

  const metadata = (method: string, redirect: string): OAuthClientMetadata => ({
    client_name: `registrar test (${method})`,
    redirect_uris: [redirect],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: method,
  })

  it('AS-9700-2.1.1-a AS-8707-2-a AS-9207-2-a: public client (none): register, authorize, token, tools/call echo', async () => {
    const redirect = 'http://localhost:33418/callback'
    await connectAndEcho(mcp, new HeadlessProvider(redirect, metadata('none', redirect)))
  })

  it('AS-6749-2.3.1-d AS-BP-06: client_secret_post (secret stored hashed): register, authorize, token, tools/call echo', async () => {
    const redirect = 'https://client.example/callback'
    const provider = new HeadlessProvider(redirect, metadata('client_secret_post', redirect))
    await connectAndEcho(mcp, provider)
    const information = provider.information as JsonBody
    assert.ok(information.client_secret, 'a secret was issued')
    const token = (body: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(`${mcp.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: provider.saved?.refresh_token as string,
          ...body,
        }),
      })

    // AS-6749-3.2.1-a: the SDK alone lets a client in on client_id when its record holds no
    // secret; here a confidential client without its secret, or with a wrong one, is refused
    for (const body of [
      { client_id: information.client_id } as Record<string, string>,
      { client_id: information.client_id, client_secret: 'wrong' },
    ]) {
      const refused = await token(body)
      assert.equal(refused.status, 401)
      assert.equal(((await refused.json()) as JsonBody).error, 'invalid_client')
      assert.match(refused.headers.get('www-authenticate') ?? '', /^Basic /)
    }
    // AS-BP-09 AS-BP-08: Basic works for a client_secret_post client, without a body client_id
    // (the SDK alone reads the body only)
    const basic = Buffer.from(`${information.client_id}:${information.client_secret}`).toString(
      'base64',
    )
    const refreshed = await token({}, { authorization: `Basic ${basic}` })
    assert.equal(refreshed.status, 200, await refreshed.clone().text())
    assert.ok(((await refreshed.json()) as JsonBody).access_token)

    // recordUse on authenticated token requests: the store of record has a last-used time
    const records = await openStore(store)
    try {
      const record = await records.findClient(information.client_id)
      assert.equal(typeof record?.lastUsedAt, 'number')
    } finally {
      await records.close()
    }
  })

  it('AS-6749-4.1.2.1-a: unknown client or unregistered redirect URI: an error page, never a redirect', async () => {
    const registration = await fetch(`${mcp.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(
        metadata('none', 'http://127.0.0.1/callback') as unknown as Record<string, unknown>,
      ),
    })
    assert.equal(registration.status, 201)
    const { client_id } = (await registration.json()) as JsonBody
    const authorize = (clientId: string, redirectUri: string) =>
      `${mcp.url}/authorize?${new URLSearchParams({
        response_type: 'bogus',
        client_id: clientId,
        redirect_uri: redirectUri,
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
        state: 's',
      })}`
    for (const [clientId, redirectUri] of [
      ['unknown-client', 'https://evil.example/'],
      [client_id, 'https://evil.example/'],
      // AS-BP-04: localhost never matches 127.0.0.1
      [client_id, 'http://localhost:4000/callback'],
    ]) {
      const page = await visit(authorize(clientId as string, redirectUri as string))
      assert.equal(page.status, 400, `${clientId} ${redirectUri}`)
      assert.equal(page.location, null)
    }
    // AS-8252-7.3-a: any port on the registered loopback host; the bad response_type then goes
    // back to the client, with iss (AS-6749-4.1.2.1-b, RFC 9207)
    const redirected = await visit(authorize(client_id, 'http://127.0.0.1:4000/callback'))
    assert.equal(redirected.status, 302)
    const location = new URL(redirected.location as string)
    assert.equal(location.origin + location.pathname, 'http://127.0.0.1:4000/callback')
    assert.equal(location.searchParams.get('error'), 'invalid_request')
    assert.equal(location.searchParams.get('iss'), mcp.url)
  })
})
