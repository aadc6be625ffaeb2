import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { after, before, describe, it } from 'node:test'
import express from 'express'
import { registrarMiddleware } from '../../src/adapters/express.js'
import type { RegistrarApp, RegistrarConfigInput } from '../../src/index.js'
import {
  advertisedRegistrationEndpoint,
  assertLimitedPerFrameworkIp,
  freePort,
  OVERSIZED,
  registrarFor,
  registrationLifecycle,
  send,
  WEB_CLIENT,
} from './support.js'

/** A Registrar whose issuer has the path `/oauth`, and an Express app built around it. */
async function mount(
  build: (web: express.Express, app: RegistrarApp) => void,
  config: RegistrarConfigInput = {},
) {
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const issuer = `${origin}/oauth`
  const { app, lines } = await registrarFor(issuer, config)
  const web = express()
  build(web, app)
  const server = await new Promise<Server>((resolve) => {
    const s = web.listen(port, '127.0.0.1', () => resolve(s))
  })
  return {
    origin,
    issuer,
    app,
    lines,
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await app.close()
    },
  }
}

describe("registrarMiddleware() mounted at the issuer's path: app.use('/oauth', …)", () => {
  let t: Awaited<ReturnType<typeof mount>>
  before(async () => {
    t = await mount((web, app) => {
      web.get('/oauth/before', (_req, res) => {
        res.json({ route: 'before' })
      })
      web.use('/oauth', registrarMiddleware(app))
      web.get('/oauth/after', (_req, res) => {
        res.json({ route: 'after' })
      })
      web.use(express.json())
      web.post('/echo', (req, res) => {
        res.json(req.body)
      })
    })
  })
  after(() => t.close())

  it('registers, and reads, updates and deletes through registration_client_uri', async () => {
    await registrationLifecycle(t.issuer)
  })

  it('serves the discovery documents inside the mount, with the registration endpoint', async () => {
    for (const path of [
      '/oauth/.well-known/openid-configuration',
      '/oauth/.well-known/oauth-authorization-server',
    ]) {
      assert.equal(await advertisedRegistrationEndpoint(t.origin + path), `${t.issuer}/register`)
    }
    assert.equal((await send(`${t.origin}/oauth/healthz`)).status, 200)
  })

  it('does not see the RFC 8414 path-inserted document, which lies outside the mount', async () => {
    const res = await send(`${t.origin}/.well-known/oauth-authorization-server/oauth`)
    assert.equal(res.status, 404)
    assert.match(res.text, /Cannot GET/) // Express's own 404, not Registrar's
  })

  it('calls next() for paths that are not Registrar’s, before and after it', async () => {
    assert.deepEqual((await send(`${t.origin}/oauth/before`)).body, { route: 'before' })
    assert.deepEqual((await send(`${t.origin}/oauth/after`)).body, { route: 'after' })
    const unknown = await send(`${t.origin}/oauth/nowhere`)
    assert.equal(unknown.status, 404)
    assert.match(unknown.text, /Cannot GET \/oauth\/nowhere/)
    // the application's body parser, mounted after Registrar, still parses the application's bodies
    assert.deepEqual((await send(`${t.origin}/echo`, { json: { a: 1 } })).body, { a: 1 })
  })

  it('answers 405 with Allow for another method on a Registrar path', async () => {
    const res = await send(`${t.issuer}/register`)
    assert.equal(res.status, 405)
    assert.equal(res.headers.get('allow'), 'POST, OPTIONS')
  })

  it('refuses a body over limits.maxBodyBytes with 413 and closes the connection', async () => {
    for (const chunked of [false, true]) {
      const res = await send(`${t.issuer}/register`, {
        raw: OVERSIZED,
        chunked,
        headers: JSON_TYPE,
      })
      assert.equal(res.status, 413, `chunked: ${chunked}`)
      assert.equal(res.body.error, 'invalid_request')
      assert.equal(res.headers.get('connection'), 'close')
    }
  })

  it('refuses a body that is not application/json with 400 invalid_client_metadata', async () => {
    const res = await send(`${t.issuer}/register`, {
      raw: JSON.stringify(WEB_CLIENT),
      headers: { 'content-type': 'text/plain' },
    })
    assert.equal(res.status, 400)
    assert.equal(res.body.error, 'invalid_client_metadata')
  })

  it('refuses duplicate member names, which only the raw bytes show', async () => {
    const res = await send(`${t.issuer}/register`, {
      raw: '{"redirect_uris":["https://a.example/cb"],"client_name":"a","client_name":"b"}',
      headers: JSON_TYPE,
    })
    assert.equal(res.status, 400)
    assert.equal(res.body.error_description, 'the request body has a duplicate member name')
  })
})

describe("registrarMiddleware() mounted at the issuer's path and at /.well-known", () => {
  let t: Awaited<ReturnType<typeof mount>>
  before(async () => {
    t = await mount((web, app) => {
      const middleware = registrarMiddleware(app)
      web.use('/oauth', middleware)
      web.use('/.well-known', middleware)
    })
  })
  after(() => t.close())

  it('serves the RFC 8414 path-inserted document too', async () => {
    assert.equal(
      await advertisedRegistrationEndpoint(
        `${t.origin}/.well-known/oauth-authorization-server/oauth`,
      ),
      `${t.issuer}/register`,
    )
    await registrationLifecycle(t.issuer)
  })
})

describe('registrarMiddleware() mounted at the root: app.use(…)', () => {
  let t: Awaited<ReturnType<typeof mount>>
  before(async () => {
    t = await mount(
      (web, app) => {
        web.set('trust proxy', 'loopback')
        web.use(registrarMiddleware(app))
        web.get('/hello', (_req, res) => {
          res.json({ route: 'hello' })
        })
      },
      { rateLimit: { anonymousRegistrations: 1, windowSeconds: 60 } },
    )
  })
  after(() => t.close())

  it('serves every discovery document, the RFC 8414 path-inserted one included', async () => {
    for (const path of [
      '/.well-known/oauth-authorization-server/oauth',
      '/.well-known/openid-configuration/oauth',
      '/oauth/.well-known/openid-configuration',
      '/oauth/.well-known/oauth-authorization-server',
    ]) {
      assert.equal(await advertisedRegistrationEndpoint(t.origin + path), `${t.issuer}/register`)
    }
    assert.equal((await send(`${t.origin}/healthz`)).status, 200)
  })

  it('leaves the rest to the application', async () => {
    assert.deepEqual((await send(`${t.origin}/hello`)).body, { route: 'hello' })
    assert.match((await send(`${t.origin}/.well-known/other`)).text, /Cannot GET/)
  })

  it("limits anonymous registration per req.ip, as Express's trust proxy setting finds it", async () => {
    await assertLimitedPerFrameworkIp(t.issuer)
  })
})

describe('registrarMiddleware() after a global express.json()', () => {
  let t: Awaited<ReturnType<typeof mount>>
  before(async () => {
    t = await mount((web, app) => {
      web.use(express.json())
      web.use(registrarMiddleware(app))
    })
  })
  after(() => t.close())

  it('answers 500 server_error at once and logs why, when the body was already parsed', async () => {
    const res = await send(`${t.issuer}/register`, { json: WEB_CLIENT })
    assert.equal(res.status, 500)
    assert.deepEqual(res.body, { error: 'server_error' })
    const logged = t.lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'unexpected error')
    assert.ok(logged, t.lines.join(''))
    assert.equal(logged.err.type, 'BodyAlreadyReadError')
    assert.match(logged.err.message, /mount Registrar before any body parser/)
  })

  it('still serves what needs no body, and refuses a body the parser left alone', async () => {
    assert.equal((await send(`${t.issuer}/.well-known/openid-configuration`)).status, 200)
    const text = await send(`${t.issuer}/register`, {
      raw: JSON.stringify(WEB_CLIENT),
      headers: { 'content-type': 'text/plain' },
    })
    assert.equal(text.status, 400)
    assert.equal(text.body.error, 'invalid_client_metadata')
  })
})

describe('registrarMiddleware() with rateLimit.trustedProxies configured', () => {
  let t: Awaited<ReturnType<typeof mount>>
  before(async () => {
    // Express trusts no proxy here, so its req.ip is 127.0.0.1 for every request
    t = await mount((web, app) => web.use(registrarMiddleware(app)), {
      rateLimit: { anonymousRegistrations: 1, windowSeconds: 60, trustedProxies: ['127.0.0.1'] },
    })
  })
  after(() => t.close())

  it('resolves X-Forwarded-For itself, as the standalone server does', async () => {
    const from = (ip: string) =>
      send(`${t.issuer}/register`, { json: WEB_CLIENT, headers: { 'x-forwarded-for': ip } })
    assert.equal((await from('198.51.100.1')).status, 201)
    assert.equal((await from('198.51.100.1')).status, 429)
    assert.equal((await from('198.51.100.2')).status, 201)
  })
})

describe('registrarMiddleware() without Express (Connect-style: no req.ip)', () => {
  let server: Server
  let issuer: string
  let app: RegistrarApp
  before(async () => {
    const port = await freePort()
    issuer = `http://127.0.0.1:${port}/oauth`
    ;({ app } = await registrarFor(issuer, {
      rateLimit: { anonymousRegistrations: 1, windowSeconds: 60, trustedProxies: ['127.0.0.1'] },
    }))
    const middleware = registrarMiddleware(app)
    server = createServer((req, res) =>
      middleware(req, res, (err) => {
        res.writeHead(err ? 500 : 404).end(err ? 'error' : 'next')
      }),
    )
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  })
  after(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await app.close()
  })

  it('routes on req.url and calls next for other paths', async () => {
    assert.equal((await send(`${issuer}/.well-known/openid-configuration`)).status, 200)
    assert.equal((await send(`${issuer}/other`)).text, 'next')
  })

  it('finds the client address through rateLimit.trustedProxies', async () => {
    const from = (ip: string) =>
      send(`${issuer}/register`, { json: WEB_CLIENT, headers: { 'x-forwarded-for': ip } })
    assert.equal((await from('198.51.100.1')).status, 201)
    assert.equal((await from('198.51.100.1')).status, 429)
    assert.equal((await from('198.51.100.2')).status, 201)
  })
})

const JSON_TYPE = { 'content-type': 'application/json' }
