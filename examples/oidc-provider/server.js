#!/usr/bin/env node
// A complete OpenID provider: oidc-provider 9 with Registrar as its client registry. Clients
// register at /register (RFC 7591, open registration) and manage themselves at /register/{id}
// (RFC 7592); oidc-provider serves discovery, /authorize, /token, /me, /jwks, introspection and
// revocation. One demo user; its sign-in and consent pages are deliberately minimal.
//
//   node examples/oidc-provider/server.js [--port N] [--store URL] [--config FILE] [--auto-login]
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { createRegistrar } from 'registrar'
import { createProvider } from 'registrar/oidc-provider'
import {
  checkAutoLogin,
  commandLine,
  escapeHtml,
  listen,
  logger,
  ready,
  registrarConfig,
} from '../shared.js'

const USAGE = `Usage: node examples/oidc-provider/server.js [options]

An OpenID provider (oidc-provider 9) whose clients are Registrar's: open registration at /register.

Options:
  --port N        port to listen on; 0 picks a free one            (default 3000)
  --store URL     memory | sqlite:PATH | postgres://…              (default memory)
  --config FILE   Registrar's JSON configuration (as registrar serve --config); its issuer is
                  replaced by http://HOST:PORT
  --auto-login    sign the demo user in and grant consent without a page (demos and tests;
                  refused unless the issuer is on loopback)
Prints "listening on http://HOST:PORT" once ready; that URL is the issuer.`

/** The demo user every sign-in is. */
const DEMO = {
  accountId: 'demo',
  claims: { sub: 'demo', name: 'Demo User', email: 'demo@example.com', email_verified: true },
}

const options = commandLine(USAGE)
const running = await listen(options)
checkAutoLogin(options.autoLogin, running.issuer)

const registrar = await createRegistrar({
  config: registrarConfig(options.file, running.issuer),
  store: options.store,
  logger: logger(options.file),
})

const provider = createProvider(registrar, {
  // a key for every asymmetric algorithm Registrar lets a client choose for its ID tokens;
  // generated per process, so tokens do not survive a restart (this is an example)
  jwks: { keys: signingKeys() },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  findAccount: (_ctx, sub) =>
    sub === DEMO.accountId ? { accountId: sub, claims: () => DEMO.claims } : undefined,
  claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
  scopes: ['openid', 'offline_access', 'profile', 'email'],
  routes: { authorization: '/authorize', userinfo: '/me' },
  features: {
    devInteractions: { enabled: false },
    introspection: { enabled: true },
    revocation: { enabled: true },
  },
  // as-side.md AS-9700-2.1.1-a: PKCE (S256) on every authorization code request
  pkce: { required: () => true },
  // a refresh token for every client registered for the refresh_token grant
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  renderError: (ctx, out) => {
    ctx.type = 'html'
    ctx.body = page(
      'Authorization error',
      `<p>${escapeHtml(out.error)}</p><p>${escapeHtml(out.error_description ?? '')}</p>`,
    )
  },
})

const interaction = /^\/interaction\/([\w-]+)(?:\/(login|confirm|abort))?$/
const callback = provider.callback()
running.serve((req, res) => {
  const path = new URL(req.url, running.issuer).pathname
  const match = interaction.exec(path)
  if (!match) return callback(req, res)
  interact(req, res, match[2]).catch((err) => {
    res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' })
    res.end(page('Sign-in failed', `<p>${escapeHtml(err.message)}</p>`))
  })
})
ready(running, () => registrar.close())

/** oidc-provider's login and consent prompts, for the one demo user. */
async function interact(req, res, action) {
  const details = await provider.interactionDetails(req, res)
  const { prompt, params, uid } = details
  if (action === 'abort') {
    return provider.interactionFinished(req, res, { error: 'access_denied' })
  }
  if (prompt.name === 'login') {
    if (options.autoLogin || (req.method === 'POST' && action === 'login')) {
      return provider.interactionFinished(req, res, { login: { accountId: DEMO.accountId } })
    }
    return html(
      res,
      page(
        'Sign in',
        `<p>${escapeHtml(params.client_id)} asks you to sign in.</p>
<form method="post" action="/interaction/${uid}/login"><button>Sign in as the demo user</button></form>
<form method="post" action="/interaction/${uid}/abort"><button>Cancel</button></form>`,
      ),
    )
  }
  if (options.autoLogin || (req.method === 'POST' && action === 'confirm')) {
    return provider.interactionFinished(
      req,
      res,
      { consent: { grantId: await grant(details) } },
      {
        mergeWithLastSubmission: true,
      },
    )
  }
  const client = await provider.Client.find(params.client_id)
  return html(
    res,
    page(
      'Allow access',
      `<p>${escapeHtml(client?.clientName ?? params.client_id)} asks for: ${escapeHtml(params.scope)}</p>
<form method="post" action="/interaction/${uid}/confirm"><button>Allow</button></form>
<form method="post" action="/interaction/${uid}/abort"><button>Deny</button></form>`,
    ),
  )
}

/** The grant consent creates or extends: what the prompt says is missing. */
async function grant({ grantId, params, prompt, session }) {
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id })
  const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = prompt.details
  if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '))
  if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims)
  for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '))
  }
  return grant.save()
}

function signingKeys() {
  const jwk = (type, options) =>
    generateKeyPairSync(type, options).privateKey.export({ format: 'jwk' })
  return [
    jwk('rsa', { modulusLength: 2048 }),
    jwk('ec', { namedCurve: 'P-256' }),
    jwk('ec', { namedCurve: 'P-384' }),
    jwk('ec', { namedCurve: 'P-521' }),
    jwk('ed25519'),
  ]
}

function page(title, body) {
  return `<!doctype html><meta charset="utf-8"><title>${escapeHtml(title)}</title><h1>${escapeHtml(title)}</h1>${body}`
}

function html(res, body) {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
  res.end(body)
}
