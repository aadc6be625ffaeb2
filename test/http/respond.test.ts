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
