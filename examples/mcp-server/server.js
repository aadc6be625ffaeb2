#!/usr/bin/env node
// An MCP server (Streamable HTTP at /mcp, one tool: echo) that is its own authorization server:
// the MCP SDK's endpoints (/authorize, /token, /revoke) with Registrar as the client registry
// (RFC 7591 / 7592 at /register, policies, hashed secrets), protected resource metadata (RFC 9728)
// and authorization server metadata (RFC 8414). Tokens live in memory; one demo user.
//
//   node examples/mcp-server/server.js [--port N] [--store URL] [--config FILE] [--auto-login]
import { randomBytes } from 'node:crypto'
import {
  InvalidGrantError,
  InvalidRequestError,
  InvalidTargetError,
  InvalidTokenError,
} from '@modelcontextprotocol/sdk/server/auth/errors.js'
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import express from 'express'
import { createRegistrar } from 'registrar'
import { McpIntegration } from 'registrar/mcp'
import { z } from 'zod'
import {
  checkAutoLogin,
  commandLine,
  escapeHtml,
  listen,
  logger,
  ready,
  registrarConfig,
} from '../shared.js'

const USAGE = `Usage: node examples/mcp-server/server.js [options]

An MCP server (Streamable HTTP at /mcp, tool "echo") whose authorization server is the MCP SDK's
with Registrar's clients: open registration at /register.

Options:
  --port N        port to listen on; 0 picks a free one            (default 3000)
  --store URL     memory | sqlite:PATH | postgres://…              (default memory)
  --config FILE   Registrar's JSON configuration (as registrar serve --config); its issuer is
                  replaced by http://HOST:PORT
  --auto-login    sign the demo user in and grant consent without a page (demos and tests;
                  refused unless the issuer is on loopback)
Prints "listening on http://HOST:PORT" once ready; that URL is the issuer.`

const CODE_TTL = 600 // RFC 6749 §4.1.2: at most ten minutes
const ACCESS_TTL = 3600
const REFRESH_TTL = 30 * 24 * 3600

const options = commandLine(USAGE)
const running = await listen(options)
checkAutoLogin(options.autoLogin, running.issuer)
const { issuer } = running
const resource = new URL('/mcp', issuer)

const registrar = await createRegistrar({
  // what the SDK's authorization server serves: codes with PKCE, refresh tokens
  config: registrarConfig(options.file, issuer, {
    metadata: {
      grant_types_supported: ['authorization_code', 'refresh_token'],
      response_types_supported: ['code'],
    },
  }),
  store: options.store,
  logger: logger(options.file),
})
const integration = new McpIntegration(registrar)

const now = () => Math.floor(Date.now() / 1000)
const token = () => randomBytes(32).toString('base64url')

/**
 * The SDK's `OAuthServerProvider`: authorization codes, access and refresh tokens, in memory.
 * Clients come from Registrar (the SDK hands over the client Registrar authenticated).
 */
class DemoAuthorizationServer {
  codes = new Map()
  accessTokens = new Map()
  refreshTokens = new Map()
  /** Authorization requests waiting for the demo user's consent, by a random id. */
  pending = new Map()

  get clientsStore() {
    return integration.clientsStore
  }

  async authorize(client, params, res) {
    // RFC 8707 §2: the only resource here is the MCP endpoint
    if (params.resource && params.resource.href !== resource.href) {
      throw new InvalidTargetError(`this server only issues tokens for ${resource.href}`)
    }
    if (options.autoLogin) return this.grant(client.client_id, params, res)
    const id = token()
    this.pending.set(id, { clientId: client.client_id, params, expiresAt: now() + CODE_TTL })
    res
      .status(200)
      .set({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
      .send(`<!doctype html><meta charset="utf-8"><title>Allow access</title>
<h1>Allow access</h1><p>${escapeHtml(client.client_name ?? client.client_id)} asks to use the MCP server as the demo user.</p>
<form method="post" action="/consent"><input type="hidden" name="id" value="${id}">
<button name="decision" value="allow">Allow</button> <button name="decision" value="deny">Deny</button></form>`)
  }

  /** Issues the code and sends the browser back to the client (`iss` is added by the integration). */
  grant(clientId, params, res) {
    const code = token()
    this.codes.set(code, { clientId, params, expiresAt: now() + CODE_TTL })
    const target = new URL(params.redirectUri)
    target.searchParams.set('code', code)
    if (params.state !== undefined) target.searchParams.set('state', params.state)
    res.redirect(302, target.href)
  }

  async challengeForAuthorizationCode(client, code) {
    return this.#code(client, code).params.codeChallenge
  }

  async exchangeAuthorizationCode(client, code, _verifier, redirectUri, requested) {
    const record = this.#code(client, code)
    this.codes.delete(code) // RFC 6749 §4.1.2: used once
    // RFC 6749 §4.1.3: the very redirect_uri of the authorization request
    if (redirectUri !== undefined && redirectUri !== record.params.redirectUri) {
      throw new InvalidGrantError('redirect_uri differs from the authorization request')
    }
    if (requested && requested.href !== resource.href)
      throw new InvalidTargetError('unknown resource')
    return this.#issue(client, record.params.scopes ?? [])
  }

  async exchangeRefreshToken(client, refreshToken, scopes, requested) {
    const record = this.refreshTokens.get(refreshToken)
    if (!record || record.clientId !== client.client_id || record.expiresAt <= now()) {
      throw new InvalidGrantError('the refresh token is invalid')
    }
    if (requested && requested.href !== resource.href)
      throw new InvalidTargetError('unknown resource')
    if (scopes?.some((s) => !record.scopes.includes(s))) {
      throw new InvalidRequestError('the scope exceeds the grant')
    }
    // MCP: refresh tokens rotate (public clients MUST; done for every client here)
    this.refreshTokens.delete(refreshToken)
    return this.#issue(client, scopes ?? record.scopes)
  }

  async verifyAccessToken(accessToken) {
    const record = this.accessTokens.get(accessToken)
    if (!record || record.expiresAt <= now()) throw new InvalidTokenError('the token is invalid')
    return {
      token: accessToken,
      clientId: record.clientId,
      scopes: record.scopes,
      expiresAt: record.expiresAt,
      resource,
    }
  }

  async revokeToken(client, { token: value }) {
    for (const map of [this.accessTokens, this.refreshTokens]) {
      if (map.get(value)?.clientId === client.client_id) map.delete(value)
    }
  }

  #code(client, code) {
    const record = this.codes.get(code)
    // RFC 6749 §4.1.3: the code is bound to the client it was issued to
    if (!record || record.clientId !== client.client_id || record.expiresAt <= now()) {
      throw new InvalidGrantError('the authorization code is invalid')
    }
    return record
  }

  #issue(client, scopes) {
    const accessToken = token()
    this.accessTokens.set(accessToken, {
      clientId: client.client_id,
      scopes,
      expiresAt: now() + ACCESS_TTL,
    })
    const tokens = {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: ACCESS_TTL,
      scope: scopes.join(' '),
    }
    if (client.grant_types?.includes('refresh_token')) {
      tokens.refresh_token = token()
      this.refreshTokens.set(tokens.refresh_token, {
        clientId: client.client_id,
        scopes,
        expiresAt: now() + REFRESH_TTL,
      })
    }
    return tokens
  }
}

const provider = new DemoAuthorizationServer()
const app = express()
app.disable('x-powered-by')
app.use(
  integration.router({
    provider,
    issuerUrl: new URL(issuer),
    resourceServerUrl: resource,
    scopesSupported: ['mcp'],
    resourceName: 'Registrar MCP example',
  }),
)

// the consent form: the pending request is looked up server-side, and its client and redirect
// URI are checked again now (as-side.md AS-BP-02), never taken from the form
app.post('/consent', express.urlencoded({ extended: false }), async (req, res) => {
  const pending = provider.pending.get(String(req.body?.id ?? ''))
  provider.pending.delete(String(req.body?.id ?? ''))
  const client = pending && (await registrar.getClient(pending.clientId))
  const redirectUri = client && registrar.matchRedirectUri(client, pending.params.redirectUri)
  if (!pending || pending.expiresAt <= now() || redirectUri !== pending.params.redirectUri) {
    res
      .status(400)
      .type('html')
      .send('<!doctype html><title>Expired</title><p>This request has expired.</p>')
    return
  }
  if (req.body.decision !== 'allow') {
    const target = new URL(redirectUri)
    target.searchParams.set('error', 'access_denied')
    if (pending.params.state !== undefined) target.searchParams.set('state', pending.params.state)
    target.searchParams.set('iss', issuer) // RFC 9207
    res.redirect(302, target.href)
    return
  }
  provider.grant(client.client_id, pending.params, {
    redirect: (status, url) => {
      const target = new URL(url)
      target.searchParams.set('iss', issuer) // RFC 9207
      res.redirect(status, target.href)
    },
  })
})

const bearer = requireBearerAuth({
  verifier: provider,
  expectedResource: resource,
  resourceMetadataUrl: new URL('/.well-known/oauth-protected-resource/mcp', issuer).href,
})
app.post('/mcp', bearer, express.json(), async (req, res) => {
  // stateless Streamable HTTP: one server and transport per request
  const server = new McpServer({ name: 'registrar-example', version: '1.0.0' })
  server.registerTool(
    'echo',
    { description: 'Returns its input', inputSchema: { text: z.string() } },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  )
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
  res.on('close', () => {
    transport.close()
    server.close()
  })
  await server.connect(transport)
  await transport.handleRequest(req, res, req.body)
})
for (const method of ['get', 'delete']) {
  app[method]('/mcp', (_req, res) => {
    res.status(405).set('allow', 'POST').json({ error: 'method_not_allowed' })
  })
}

running.serve(app)
ready(running, () => registrar.close())
