import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { RegistrationError } from '../../src/core/errors.js'
import type { Store } from '../../src/core/store.js'
import { errorResponse } from '../../src/http/respond.js'
import { MemoryStore } from '../../src/storage/memory.js'
import { call, makeRegistrar } from '../helpers.js'

describe('errorResponse: the one place errors become HTTP (style §1.2, RFC 7591 §3.2.2, RFC 6750 §3)', () => {
  it('R7591-3.2.2-b: a RegistrationError becomes its status and the RFC 7591 body, no-store', () => {
    const r = errorResponse(new RegistrationError('invalid_redirect_uri', 'bad "uri"\\ é'))
    assert.equal(r.status, 400)
    assert.equal(r.headers['content-type'], 'application/json')
    assert.equal(r.headers['cache-control'], 'no-store')
    assert.deepEqual(JSON.parse(r.body!), {
      error: 'invalid_redirect_uri',
      // R7591-3.2.2-c: RFC 6749 §5.2 characters only
      error_description: 'bad ?uri?? ?',
    })
    assert.equal(r.headers['www-authenticate'], undefined)
  })

  it('RFC 6750 §3.1: a 401 without a token has a bare challenge; with one, the error code', () => {
    const missing = errorResponse(
      new RegistrationError('invalid_token', 'required', { status: 401, tokenMissing: true }),
    )
    assert.equal(missing.headers['www-authenticate'], 'Bearer realm="registrar"')
    const bad = errorResponse(new RegistrationError('invalid_token', 'the token is invalid'))
    assert.equal(
      bad.headers['www-authenticate'],
      'Bearer realm="registrar", error="invalid_token", error_description="the token is invalid"',
    )
  })

  it('anything else is a 500 server_error whose details go to the log only', () => {
    const seen: unknown[] = []
    const r = errorResponse(new Error('db password is hunter2'), {
      onUnexpected: (e) => seen.push(e),
    })
    assert.equal(r.status, 500)
    assert.deepEqual(JSON.parse(r.body!), { error: 'server_error' })
    assert.equal(seen.length, 1)
    assert.ok(!r.body!.includes('hunter2'))
  })

  it('a failing store gives a clean 500 at the handler, logged once with the error', async () => {
    const store = new MemoryStore()
    const broken: Store = Object.assign(Object.create(store), {
      createClient: async () => {
        throw new Error('disk full at /secret/path')
      },
    })
    const lines: { level: string; obj: Record<string, unknown> }[] = []
    const logger = {
      info: (obj: object) => lines.push({ level: 'info', obj: obj as Record<string, unknown> }),
      error: (obj: object) => lines.push({ level: 'error', obj: obj as Record<string, unknown> }),
      warn: (obj: object) => lines.push({ level: 'warn', obj: obj as Record<string, unknown> }),
    }
    const { fetch } = makeRegistrar({}, { store: broken, logger })
    const res = await call(fetch, 'POST', '/register', {
      body: { redirect_uris: ['https://client.example.org/cb'] },
    })
    assert.equal(res.status, 500)
    assert.deepEqual(res.body, { error: 'server_error' })
    assert.ok(!res.text.includes('disk full'))
    assert.deepEqual(
      lines.map((l) => [l.level, l.obj.status ?? (l.obj.err as Error).message]),
      [
        ['error', 'disk full at /secret/path'],
        ['info', 500],
      ],
    )
  })
})

describe('response headers and request codings (issue 12 item 10)', () => {
  const body = { redirect_uris: ['https://client.example.org/cb'] }

  it('X-Content-Type-Options: nosniff on every response', async () => {
    const { fetch } = makeRegistrar()
    const reg = await call(fetch, 'POST', '/register', { body })
    const path = new URL(reg.body.registration_client_uri).pathname
    const responses = [
      reg,
      await call(fetch, 'POST', '/register', { body: { redirect_uris: 'nope' } }),
      await call(fetch, 'GET', path, { token: 'wrong' }),
      await call(fetch, 'GET', path, { token: reg.body.registration_access_token }),
      await call(fetch, 'PATCH', '/register'),
      await call(fetch, 'OPTIONS', '/register', { headers: { origin: 'https://app.example' } }),
      await call(fetch, 'GET', '/.well-known/openid-configuration'),
      await call(fetch, 'GET', '/healthz'),
      await call(fetch, 'GET', '/nowhere'),
      await call(fetch, 'POST', '/register', { raw: 'x'.repeat(70_000) }),
      await call(fetch, 'DELETE', path, { token: reg.body.registration_access_token }),
    ]
    for (const r of responses) {
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', `${r.status} ${r.text}`)
    }
    assert.deepEqual(
      responses.map((r) => r.status),
      [201, 400, 401, 200, 405, 204, 200, 200, 404, 413, 204],
    )
  })

  it('Vary: Origin on discovery (and every response) when CORS origins are listed', async () => {
    const listed = makeRegistrar({ cors: { allowedOrigins: ['https://app.example'] } })
    const cases: Record<string, string>[] = [
      {},
      { origin: 'https://app.example' },
      { origin: 'https://evil.example' },
    ]
    for (const headers of cases) {
      const r = await call(listed.fetch, 'GET', '/.well-known/oauth-authorization-server', {
        headers,
      })
      assert.equal(r.status, 200)
      assert.equal(r.headers.get('vary'), 'Origin', JSON.stringify(headers))
    }
    const any = makeRegistrar()
    const r = await call(any.fetch, 'GET', '/.well-known/openid-configuration', {
      headers: { origin: 'https://app.example' },
    })
    assert.equal(r.headers.get('access-control-allow-origin'), '*')
    assert.equal(r.headers.get('vary'), null)
  })

  it('a request body with a Content-Encoding is 415 with Accept-Encoding: identity', async () => {
    const { fetch } = makeRegistrar()
    for (const coding of ['gzip', 'br', 'identity, gzip']) {
      const r = await call(fetch, 'POST', '/register', {
        body,
        headers: { 'content-encoding': coding },
      })
      assert.deepEqual([r.status, r.body.error], [415, 'invalid_request'], coding)
      assert.equal(r.headers.get('accept-encoding'), 'identity')
    }
    const plain = await call(fetch, 'POST', '/register', {
      body,
      headers: { 'content-encoding': 'identity' },
    })
    assert.equal(plain.status, 201)
    const put = await call(fetch, 'PUT', new URL(plain.body.registration_client_uri).pathname, {
      token: plain.body.registration_access_token,
      body: { client_id: plain.body.client_id, ...body },
      headers: { 'content-encoding': 'deflate' },
    })
    assert.equal(put.status, 415)
  })
})
