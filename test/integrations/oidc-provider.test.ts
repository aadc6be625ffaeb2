// openid-client 6 against examples/oidc-provider: oidc-provider 9 with Registrar as its client
// registry, driven as a child process over loopback (issue 10, "Proofs").
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { exportJWK, generateKeyPair } from 'jose'
import * as oidc from 'openid-client'
import { BIN, childEnv, type JsonBody, tempDir } from '../helpers.js'
import { type Example, followToClient, startExample, visit } from './support.js'

const WEB = 'https://client.example/cb'
const SCOPE = 'openid offline_access profile email'
const INSECURE = { execute: [oidc.allowInsecureRequests] }

/** Registers through discovery and RFC 7591 with openid-client, then authenticates with `auth`. */
async function registered(
  issuer: string,
  metadata: Partial<oidc.ClientMetadata>,
  auth: (registered: oidc.ClientMetadata) => oidc.ClientAuth,
): Promise<{ config: oidc.Configuration; information: oidc.ClientMetadata }> {
  const first = await oidc.dynamicClientRegistration(new URL(issuer), metadata, undefined, INSECURE)
  const information = first.clientMetadata() as oidc.ClientMetadata
  const config = new oidc.Configuration(
    first.serverMetadata(),
    information.client_id,
    information,
    auth(information),
  )
  oidc.allowInsecureRequests(config)
  return { config, information }
}

/** Authorization code + PKCE through the demo user's auto-login, then the token request. */
async function signIn(config: oidc.Configuration, redirectUri: string) {
  const verifier = oidc.randomPKCECodeVerifier()
  const state = oidc.randomState()
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: SCOPE,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    prompt: 'consent',
  })
  const callback = await followToClient(url.href, redirectUri)
  // RFC 9207: openid-client checks iss, since discovery says it is sent
  assert.equal(new URL(callback).searchParams.get('iss'), config.serverMetadata().issuer)
  return oidc.authorizationCodeGrant(config, new URL(callback), {
    pkceCodeVerifier: verifier,
    expectedState: state,
  })
}

/** The whole flow: code + PKCE, token, userinfo, refresh, userinfo with the refreshed token. */
async function fullFlow(config: oidc.Configuration, redirectUri: string) {
  const tokens = await signIn(config, redirectUri)
  const claims = tokens.claims()
  assert.equal(claims?.sub, 'demo')
  const info = await oidc.fetchUserInfo(config, tokens.access_token, 'demo')
  assert.equal(info.email, 'demo@example.com')
  assert.ok(tokens.refresh_token, 'a refresh token')
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token)
  assert.ok(refreshed.access_token)
  assert.notEqual(refreshed.access_token, tokens.access_token)
  const again = await oidc.fetchUserInfo(config, refreshed.access_token, 'demo')
  assert.equal(again.sub, 'demo')
  return tokens
}

/**
 * The OAuth error code and status of a refused request as openid-client reports it: a body error,
 * or (401 with a challenge, RFC 6749 §5.2) a WWW-Authenticate challenge carrying the code.
 */
function refusal(err: unknown): { error: unknown; status: unknown } {
  if (err instanceof oidc.WWWAuthenticateChallengeError) {
    return { error: err.cause[0]?.parameters.error, status: err.status }
  }
  const e = err as { error?: unknown; status?: unknown }
  return { error: e.error, status: e.status }
}

/** A plain authorization request URL (what a browser is sent to), with a PKCE challenge. */
function authorizeUrl(issuer: string, clientId: string, redirectUri: string): string {
  const url = new URL('/authorize', issuer)
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    scope: 'openid',
    state: 's',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
  }).toString()
  return url.href
}

describe('openid-client 6 at the oidc-provider example (open registration, --auto-login)', () => {
  let op: Example
  before(async () => {
    op = await startExample('oidc-provider', ['--auto-login', '--store', 'memory'], {
      // client_secret_jwt needs the secret sealed, not hashed (RFC 7523 §2.2)
      registration: { secretEncryptionKey: randomBytes(32).toString('base64url') },
      log: { level: 'warn' },
    })
  })
  after(() => op?.stop())

  const web = (method: string) => ({
    redirect_uris: [WEB],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: method,
  })

  it('AS-6749-2.3.1-a: client_secret_basic: register (RFC 7591), code + PKCE, token, userinfo, refresh', async () => {
    const { config } = await registered(op.url, web('client_secret_basic'), (c) =>
      oidc.ClientSecretBasic(c.client_secret as string),
    )
    await fullFlow(config, WEB)
  })

  it('AS-6749-2.3.1-d: client_secret_post: register, code + PKCE, token, userinfo, refresh', async () => {
    const { config } = await registered(op.url, web('client_secret_post'), (c) =>
      oidc.ClientSecretPost(c.client_secret as string),
    )
    await fullFlow(config, WEB)
  })

  it('AS-7523-3-a AS-BP-12: client_secret_jwt (sealed secret): register, code + PKCE, token, userinfo, refresh', async () => {
    const { config } = await registered(
      op.url,
      { ...web('client_secret_jwt'), token_endpoint_auth_signing_alg: 'HS256' },
      (c) => oidc.ClientSecretJwt(c.client_secret as string),
    )
    await fullFlow(config, WEB)
  })

  it('AS-7523-3-a AS-7523-3-d: private_key_jwt (inline jwks): register, code + PKCE, token, userinfo, refresh', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256')
    const { config } = await registered(
      op.url,
      {
        ...web('private_key_jwt'),
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [{ ...(await exportJWK(publicKey)), alg: 'ES256', use: 'sig' }] },
      },
      () => oidc.PrivateKeyJwt(privateKey),
    )
    await fullFlow(config, WEB)
  })

  it('AS-9700-2.1.1-a AS-8252-7.3-a AS-MCP-sec-a: none (native, loopback on any port): register, code + PKCE, token, userinfo, rotating refresh', async () => {
    const { config } = await registered(
      op.url,
      { ...web('none'), application_type: 'native', redirect_uris: ['http://127.0.0.1/cb'] },
      () => oidc.None(),
    )
    const tokens = await fullFlow(config, 'http://127.0.0.1:53123/cb')
    // a public client's refresh token rotates: the one used above is spent
    await assert.rejects(
      oidc.refreshTokenGrant(config, tokens.refresh_token as string),
      (err) => refusal(err).error === 'invalid_grant',
    )
  })

  it('AS-7592-2.3-a AS-BP-14: after an RFC 7592 DELETE the next token request is 401 invalid_client at once', async () => {
    const { config, information } = await registered(op.url, web('client_secret_basic'), (c) =>
      oidc.ClientSecretBasic(c.client_secret as string),
    )
    const tokens = await signIn(config, WEB)
    const deleted = await fetch(information.registration_client_uri as string, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${information.registration_access_token}` },
    })
    assert.equal(deleted.status, 204)
    await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token as string), (err) => {
      assert.deepEqual(refusal(err), { error: 'invalid_client', status: 401 })
      return true
    })
    // and the client is unknown at /authorize: an error page, no redirect (AS-BP-01)
    const page = await visit(authorizeUrl(op.url, information.client_id, WEB))
    assert.equal(page.status, 400)
    assert.equal(page.location, null)
  })

  it('AS-9700-2.1-a AS-6749-4.1.2.1-a: after a PUT that changes redirect_uris the old URI is refused at /authorize, without a redirect', async () => {
    const old = 'https://client.example/old'
    const fresh = 'https://client.example/new'
    const { information } = await registered(
      op.url,
      { ...web('client_secret_basic'), redirect_uris: [old] },
      (c) => oidc.ClientSecretBasic(c.client_secret as string),
    )
    const before = await visit(authorizeUrl(op.url, information.client_id, old))
    assert.ok(
      before.status >= 300 && before.status < 400,
      `old URI accepted first (${before.status})`,
    )
    const {
      client_secret: _s,
      client_secret_expires_at: _e,
      client_id_issued_at: _i,
      registration_access_token: token,
      registration_client_uri: uri,
      ...metadata
    } = information as JsonBody
    const put = await fetch(uri, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...metadata, redirect_uris: [fresh] }),
    })
    assert.equal(put.status, 200, await put.clone().text())
    const refused = await visit(authorizeUrl(op.url, information.client_id, old))
    assert.equal(refused.status, 400)
    assert.equal(refused.location, null)
    assert.doesNotMatch(refused.body, /client\.example\/old\?/)
    const accepted = await visit(authorizeUrl(op.url, information.client_id, fresh))
    assert.ok(
      accepted.status >= 300 && accepted.status < 400,
      `new URI accepted (${accepted.status})`,
    )
  })

  it('AS-6749-4.1.2.1-a: unknown client and unregistered redirect URI get an error page, never a redirect (even with a bad response_type)', async () => {
    const { information } = await registered(op.url, web('client_secret_basic'), (c) =>
      oidc.ClientSecretBasic(c.client_secret as string),
    )
    for (const [clientId, redirectUri] of [
      ['unknown-client', 'https://evil.example/'],
      [information.client_id, 'https://evil.example/'],
      [information.client_id, `${WEB}/`],
    ] as const) {
      const url = new URL(authorizeUrl(op.url, clientId, redirectUri))
      url.searchParams.set('response_type', 'bogus')
      const page = await visit(url.href)
      assert.equal(page.status, 400, `${clientId} ${redirectUri}`)
      assert.equal(page.location, null)
    }
  })
})

describe('a client awaiting approval at the oidc-provider example', () => {
  let op: Example
  let store: string
  const scratch = tempDir('registrar-approval-')
  before(async () => {
    store = `sqlite:${join(scratch.dir, 'registrar.db')}`
    op = await startExample('oidc-provider', ['--auto-login', '--store', store], {
      policies: { anonymous: 'review', definitions: { review: { requireApproval: true } } },
      log: { level: 'warn' },
    })
  })
  after(async () => {
    await op?.stop()
    scratch.cleanup()
  })

  it('AS-BP-01 AS-6749-3.2.1-c: refused (error page, invalid_client) until `registrar clients approve`', async () => {
    const registration = await fetch(`${op.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: [WEB],
        grant_types: ['authorization_code', 'client_credentials'],
        token_endpoint_auth_method: 'client_secret_basic',
      }),
    })
    assert.equal(registration.status, 201)
    const client = (await registration.json()) as JsonBody
    const page = await visit(authorizeUrl(op.url, client.client_id, WEB))
    assert.equal(page.status, 400)
    assert.equal(page.location, null)
    const basic = `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`
    const grant = () =>
      fetch(`${op.url}/token`, {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      })
    const refused = await grant()
    assert.equal(refused.status, 401)
    assert.equal(((await refused.json()) as JsonBody).error, 'invalid_client')

    // the operator approves the version `clients show` printed (issue 12 item 1)
    const shown = spawnSync(
      process.execPath,
      [BIN, 'clients', 'show', client.client_id, '--store', store],
      {
        env: childEnv(),
        encoding: 'utf8',
      },
    )
    assert.equal(shown.status, 0, shown.stderr)
    const { version } = JSON.parse(shown.stdout) as { version: number }
    const approve = spawnSync(
      process.execPath,
      [BIN, 'clients', 'approve', client.client_id, '--version', String(version), '--store', store],
      { env: childEnv(), encoding: 'utf8' },
    )
    assert.equal(approve.status, 0, approve.stderr)
    // another process changed the SQLite store: the example's client cache drops its copy within
    // its TTL (a few seconds); 20 s is a generous bound on a shared machine
    const deadline = Date.now() + 20_000
    let status = 0
    while (Date.now() < deadline) {
      status = (await visit(authorizeUrl(op.url, client.client_id, WEB))).status
      if (status !== 400) break
      await new Promise((r) => setTimeout(r, 250))
    }
    assert.ok(status >= 300 && status < 400, `accepted after approval (${status})`)
    const accepted = await grant()
    assert.equal(accepted.status, 200, await accepted.clone().text())
  })
})
