import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { registrarPlugin } from '../../src/adapters/fastify.js'
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

/** A Registrar whose issuer has the path `/oauth`, and a listening Fastify app built around it. */
async function start(
  build: (fastify: FastifyInstance, app: RegistrarApp) => Promise<void>,
  options: { config?: RegistrarConfigInput; fastify?: FastifyServerOptions } = {},
) {
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const issuer = `${origin}/oauth`
  const { app } = await registrarFor(issuer, options.config)
  const fastify = Fastify(options.fastify)
  await build(fastify, app)
  await fastify.listen({ port, host: '127.0.0.1' })
  return {
    origin,
    issuer,
    close: async () => {
      await fastify.close()
      await app.close()
    },
  }
}

describe('registrarPlugin() registered without a prefix', () => {
  let t: Awaited<ReturnType<typeof start>>
  before(async () => {
    t = await start(
      async (fastify, app) => {
        await fastify.register(registrarPlugin(app))
        fastify.get('/oauth/authorize', async () => ({ route: 'authorize' }))
        fastify.post('/echo', async (request) => request.body)
        fastify.setNotFoundHandler((_request, reply) => {
          reply.code(404).send({ from: 'application' })
        })
      },
      {
        config: { rateLimit: { anonymousRegistrations: 1, windowSeconds: 60 } },
        fastify: { trustProxy: '127.0.0.1' },
      },
    )
  })
  after(() => t.close())

  it('registers, and reads, updates and deletes through registration_client_uri', async () => {
    await registrationLifecycle(t.issuer)
  })

  it('serves every discovery document, the RFC 8414 path-inserted one included', async () => {
    for (const path of [
      '/.well-known/oauth-authorization-server/oauth',
      '/.well-known/openid-configuration/oauth',
      '/oauth/.well-known/openid-configuration',
      '/oauth/.well-known/oauth-authorization-server',
    ]) {
      assert.equal(await advertisedRegistrationEndpoint(t.origin + path), `${t.issuer}/register`)
    }
    assert.equal((await send(`${t.origin}/oauth/healthz`)).status, 200)
    const head = await send(`${t.issuer}/.well-known/openid-configuration`, { method: 'HEAD' })
    assert.equal(head.status, 200)
    assert.equal(head.text, '')
  })

  it("leaves other paths to the application's routes, parsers and not-found handler", async () => {
    assert.deepEqual((await send(`${t.issuer}/authorize`)).body, { route: 'authorize' })
    assert.deepEqual((await send(`${t.origin}/echo`, { json: { a: 1 } })).body, { a: 1 })
    const unknown = await send(`${t.issuer}/nowhere`)
    assert.equal(unknown.status, 404)
    assert.deepEqual(unknown.body, { from: 'application' })
  })

  it('answers 405 with Allow for another method on a Registrar path', async () => {
    const res = await send(`${t.issuer}/register`, { method: 'PATCH', json: {} })
    assert.equal(res.status, 405)
    assert.equal(res.headers.get('allow'), 'POST, OPTIONS')
  })

  it('refuses a body over limits.maxBodyBytes with 413 and closes the connection', async () => {
    for (const chunked of [false, true]) {
      const res = await send(`${t.issuer}/register`, {
        raw: OVERSIZED,
        chunked,
        headers: { 'content-type': 'application/json', 'x-forwarded-for': `192.0.2.4${+chunked}` },
      })
      assert.equal(res.status, 413, `chunked: ${chunked}`)
      assert.equal(res.body.error, 'invalid_request')
      assert.equal(res.headers.get('connection'), 'close')
    }
  })

  it('answers any other media type with 400 invalid_client_metadata, even one Fastify cannot parse', async () => {
    for (const [type, ip] of [
      ['text/plain', '192.0.2.51'],
      ['application/x-www-form-urlencoded', '192.0.2.52'],
      ['garbage', '192.0.2.53'],
    ] as const) {
      const res = await send(`${t.issuer}/register`, {
        raw: JSON.stringify(WEB_CLIENT),
        headers: { 'content-type': type, 'x-forwarded-for': ip },
      })
      assert.equal(res.status, 400, `${type}: ${res.text}`)
      assert.equal(res.body.error, 'invalid_client_metadata')
    }
  })

  it('refuses duplicate member names, which only the raw bytes show', async () => {
    const res = await send(`${t.issuer}/register`, {
      raw: '{"redirect_uris":["https://a.example/cb"],"client_name":"a","client_name":"b"}',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '192.0.2.61' },
    })
    assert.equal(res.status, 400)
    assert.equal(res.body.error_description, 'the request body has a duplicate member name')
  })

  it("limits anonymous registration per request.ip, as Fastify's trustProxy finds it", async () => {
    await assertLimitedPerFrameworkIp(t.issuer)
  })
})

describe("registrarPlugin() registered with the issuer's path as prefix", () => {
  let t: Awaited<ReturnType<typeof start>>
  before(async () => {
    t = await start(async (fastify, app) => {
      await fastify.register(registrarPlugin(app), { prefix: '/oauth' })
    })
  })
  after(() => t.close())

  it('declares the routes under the prefix, and registration works through them', async () => {
    await registrationLifecycle(t.issuer)
    assert.equal(
      await advertisedRegistrationEndpoint(`${t.issuer}/.well-known/openid-configuration`),
      `${t.issuer}/register`,
    )
  })

  it('cannot declare the RFC 8414 path-inserted document, which lies outside the prefix', async () => {
    const res = await send(`${t.origin}/.well-known/oauth-authorization-server/oauth`)
    assert.equal(res.status, 404)
    assert.equal(res.body.error, 'Not Found') // Fastify's own 404
  })
})

describe('registrarPlugin() with rateLimit.trustedProxies configured', () => {
  let t: Awaited<ReturnType<typeof start>>
  before(async () => {
    // Fastify trusts no proxy here, so its request.ip is 127.0.0.1 for every request
    t = await start(
      async (fastify, app) => {
        await fastify.register(registrarPlugin(app))
      },
      {
        config: {
          rateLimit: {
            anonymousRegistrations: 1,
            windowSeconds: 60,
            trustedProxies: ['127.0.0.1'],
          },
        },
      },
    )
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

it('registrarPlugin() refuses a prefix that leads to none of its paths', async () => {
  const { app } = await registrarFor('http://127.0.0.1:1/oauth')
  const fastify = Fastify()
  try {
    fastify.register(registrarPlugin(app), { prefix: '/auth' })
    await assert.rejects(
      async () => {
        await fastify.ready()
      },
      { message: /prefix \/auth leads to none of Registrar's paths/ },
    )
  } finally {
    await fastify.close()
    await app.close()
  }
})
