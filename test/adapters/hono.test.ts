import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type ServerType, serve } from '@hono/node-server'
import { getConnInfo } from '@hono/node-server/conninfo'
import { Hono } from 'hono'
import { type RegistrarHonoOptions, registrarMiddleware } from '../../src/adapters/hono.js'
import type { RegistrarApp, RegistrarConfigInput } from '../../src/index.js'
import {
  advertisedRegistrationEndpoint,
  freePort,
  OVERSIZED,
  registrarFor,
  registrationLifecycle,
  send,
  WEB_CLIENT,
} from './support.js'

/**
 * `registrar/hono`: a middleware hands Registrar's paths to `app.handle` (the fetch handler, with
 * the client address) and lets every other path through, as docs/library-and-adapters.md shows.
 */
async function start(options: RegistrarHonoOptions, config: RegistrarConfigInput = {}) {
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const issuer = `${origin}/oauth`
  const { app } = await registrarFor(issuer, config)
  const hono = new Hono()
  hono.use(registrarMiddleware(app, options))
  hono.get('/oauth/authorize', (c) => c.json({ route: 'authorize' }))
  hono.post('/echo', async (c) => c.json(await c.req.json()))
  hono.notFound((c) => c.json({ from: 'application' }, 404))
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: hono.fetch, hostname: '127.0.0.1', port }, () => resolve(s))
  })
  return { origin, issuer, app, close: () => closeAll(server, app) }
}

async function closeAll(server: ServerType, app: RegistrarApp): Promise<void> {
  await new Promise((resolve) => server.close(resolve))
  await app.close()
}

describe('Hono: registrarMiddleware in front of app.handle()', () => {
  let t: Awaited<ReturnType<typeof start>>
  before(async () => {
    t = await start({ getConnInfo })
  })
  after(() => t.close())

  it('registers, and reads, updates and deletes through registration_client_uri', async () => {
    await registrationLifecycle(t.issuer)
  })

  it('serves every discovery document, the RFC 8414 path-inserted one included', async () => {
    for (const path of [
      '/.well-known/oauth-authorization-server/oauth',
      '/oauth/.well-known/openid-configuration',
    ]) {
      assert.equal(await advertisedRegistrationEndpoint(t.origin + path), `${t.issuer}/register`)
    }
  })

  it('leaves other paths to the application', async () => {
    assert.deepEqual((await send(`${t.issuer}/authorize`)).body, { route: 'authorize' })
    assert.deepEqual((await send(`${t.origin}/echo`, { json: { a: 1 } })).body, { a: 1 })
    assert.deepEqual((await send(`${t.issuer}/nowhere`)).body, { from: 'application' })
  })

  it('refuses a body over limits.maxBodyBytes with 413', async () => {
    for (const chunked of [false, true]) {
      const res = await send(`${t.issuer}/register`, {
        raw: OVERSIZED,
        chunked,
        headers: { 'content-type': 'application/json' },
      })
      assert.equal(res.status, 413, `chunked: ${chunked}`)
      assert.equal(res.body.error, 'invalid_request')
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
})

describe('Hono: the address given to app.handle() keys the rate limit', () => {
  let t: Awaited<ReturnType<typeof start>>
  before(async () => {
    // as a trusted proxy in front would tell it
    t = await start(
      { clientIp: (c) => c.req.header('x-client-ip') },
      { rateLimit: { anonymousRegistrations: 1, windowSeconds: 60 } },
    )
  })
  after(() => t.close())

  it('counts anonymous registrations per address', async () => {
    const from = (ip: string) =>
      send(`${t.issuer}/register`, { json: WEB_CLIENT, headers: { 'x-client-ip': ip } })
    assert.equal((await from('203.0.113.7')).status, 201)
    const limited = await from('203.0.113.7')
    assert.equal(limited.status, 429)
    assert.match(limited.headers.get('ratelimit') ?? '', /r=0/)
    assert.equal((await from('203.0.113.8')).status, 201)
  })

  it('app.fetch() knows no address: every call shares one bucket', async () => {
    const register = () =>
      t.app.fetch(
        new Request(`${t.issuer}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(WEB_CLIENT),
        }),
      )
    assert.equal((await register()).status, 201)
    assert.equal((await register()).status, 429)
  })
})

describe('Hono: getConnInfo through rateLimit.trustedProxies (issue 12 item 21: one X-Forwarded-For rule)', () => {
  let t: Awaited<ReturnType<typeof start>>
  before(async () => {
    t = await start(
      { getConnInfo },
      {
        rateLimit: { anonymousRegistrations: 1, windowSeconds: 60, trustedProxies: ['127.0.0.1'] },
      },
    )
  })
  after(() => t.close())

  it('the peer is a trusted proxy: the X-Forwarded-For address is counted', async () => {
    const from = (ip: string) =>
      send(`${t.issuer}/register`, { json: WEB_CLIENT, headers: { 'x-forwarded-for': ip } })
    assert.equal((await from('203.0.113.7')).status, 201)
    assert.equal((await from('203.0.113.7')).status, 429)
    assert.equal((await from('203.0.113.8')).status, 201)
  })
})
