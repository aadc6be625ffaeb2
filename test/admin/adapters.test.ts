import assert from 'node:assert/strict'
import type { Server } from 'node:http'
import { describe, it } from 'node:test'
import express from 'express'
import Fastify from 'fastify'
import { registrarMiddleware } from '../../src/adapters/express.js'
import { registrarPlugin } from '../../src/adapters/fastify.js'
import { createAdminToken } from '../../src/admin/admin-token.js'
import type { RegistrarApp } from '../../src/index.js'
import { freePort, registrarFor } from '../adapters/support.js'

// Issue 13 items 4 and 5 inside Express and Fastify: the admin API and the console's forms go
// through the framework adapters like Registrar's other paths; with admin off, the application's
// own /admin routes stay its own.

type Mount = (app: RegistrarApp, port: number) => Promise<() => Promise<void>>

const MOUNTS: [string, Mount][] = [
  [
    'Express',
    async (app, port) => {
      const web = express()
      web.use(registrarMiddleware(app))
      web.use(express.urlencoded({ extended: false }))
      web.get('/oauth/admin/mine', (_req, res) => {
        res.send('the application')
      })
      const server: Server = await new Promise((resolve) => {
        const s = web.listen(port, '127.0.0.1', () => resolve(s))
      })
      return () => new Promise((resolve) => server.close(() => resolve()))
    },
  ],
  [
    'Fastify',
    async (app, port) => {
      const fastify = Fastify()
      await fastify.register(registrarPlugin(app))
      fastify.get('/oauth/admin/mine', async () => 'the application')
      await fastify.listen({ port, host: '127.0.0.1' })
      return () => fastify.close()
    },
  ],
]

for (const [name, mount] of MOUNTS) {
  describe(`admin surface in ${name}`, () => {
    it('API with a bearer admin token; console sign-in form and session', async () => {
      const port = await freePort()
      const origin = `http://127.0.0.1:${port}`
      const { app } = await registrarFor(`${origin}/oauth`, { admin: { enabled: true } })
      const stop = await mount(app, port)
      try {
        const { token } = await createAdminToken(app.store)
        const api = await fetch(`${origin}/oauth/admin/api/clients?limit=5`, {
          headers: { authorization: `Bearer ${token}` },
        })
        assert.equal(api.status, 200)
        assert.deepEqual(await api.json(), { clients: [] })
        const unauthenticated = await fetch(`${origin}/oauth/admin/api/clients`)
        assert.equal(unauthenticated.status, 401)
        await unauthenticated.text()
        const signIn = await fetch(`${origin}/oauth/admin/sign-in`, {
          method: 'POST',
          redirect: 'manual',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'sec-fetch-site': 'same-origin',
          },
          body: new URLSearchParams({ token }).toString(),
        })
        assert.equal(signIn.status, 303)
        const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] as string
        assert.match(cookie, /^__Host-registrar-admin=/)
        const page = await fetch(`${origin}/oauth/admin/clients`, { headers: { cookie } })
        assert.equal(page.status, 200)
        assert.match(await page.text(), /<h1>Clients<\/h1>/)
      } finally {
        await stop()
        await app.close()
      }
    })

    it('with admin off, the application keeps its own /admin paths', async () => {
      const port = await freePort()
      const origin = `http://127.0.0.1:${port}`
      const { app } = await registrarFor(`${origin}/oauth`)
      const stop = await mount(app, port)
      try {
        const mine = await fetch(`${origin}/oauth/admin/mine`)
        assert.equal(mine.status, 200)
        assert.equal(await mine.text(), 'the application')
      } finally {
        await stop()
        await app.close()
      }
    })
  })
}
