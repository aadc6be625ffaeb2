import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { composeRegistrar } from '../../src/app.js'
import { resolveConfig } from '../../src/config/resolve.js'
import { createInitialAccessToken } from '../../src/core/initial-access-token.js'
import { MemoryStore } from '../../src/storage/memory.js'
import { adminApp } from '../admin/support.js'
import { call, ISSUER } from '../helpers.js'
import { client } from '../storage/store.contract.js'
import { section } from './markdown.js'

// docs/operations.md "Audit trail and metrics" and "Admin console" stay true to the code: the configuration shown is
// accepted, every metric in the table is exposed, every admin API request in the table is served.

const PAGE = 'docs/operations.md'

describe('docs/operations.md "Audit trail and metrics" and "Admin console"', () => {
  it('the configuration shown is valid', () => {
    const json = /```json\n([\s\S]*?)```/.exec(section(PAGE, 'Admin console'))?.[1]
    assert.ok(json)
    const config = resolveConfig({ file: { issuer: ISSUER, ...JSON.parse(json) } })
    assert.equal(config.admin.listen, '127.0.0.1:9400')
    assert.equal(config.metrics.listen, '127.0.0.1:9464')
  })

  it('every metric of the table is exposed', async () => {
    const names = [
      ...section(PAGE, 'Audit trail and metrics').matchAll(/^\| `(registrar_[a-z_]+)`/gm),
    ].map((m) => m[1])
    assert.equal(names.length, 10)
    const config = resolveConfig({
      file: { issuer: ISSUER, registration: { mode: 'open' }, metrics: { enabled: true } },
    })
    const runtime = composeRegistrar(config, new MemoryStore())
    await call(runtime.fetch, 'POST', '/register', {
      body: { redirect_uris: ['https://a.example/cb'] },
    })
    const text = (await call(runtime.fetch, 'GET', '/metrics')).text
    for (const name of names) assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name)
  })

  it('every request of the admin API table is served', async () => {
    const rows = [
      ...section(PAGE, 'Admin console').matchAll(/^\| `(GET|POST|DELETE) (\/admin\/api\/[^`?]*)/gm),
    ]
    assert.equal(rows.length, 9)
    const app = await adminApp()
    const { record } = await createInitialAccessToken(app.store)
    for (const [, method, template] of rows) {
      await app.store.createClient(client('c-1', { status: 'pending' })).catch(() => {})
      // a pending client for each row: approve, then delete, need one
      const path = (template as string).replace('{client_id}', 'c-1').replace('{id}', record.id)
      const body =
        method === 'POST' && path.endsWith('dry-run')
          ? { metadata: { redirect_uris: ['https://a.example/cb'] } }
          : method === 'POST' && path.endsWith('tokens')
            ? { max_uses: 1 }
            : undefined
      const res = await call(app.fetch, method as string, path, {
        token: app.rw,
        ...(body !== undefined && { body }),
      })
      assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${res.text}`)
    }
  })
})
