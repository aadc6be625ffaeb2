import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { call, makeRegistrar } from '../helpers.js'

const minimal = { redirect_uris: ['https://client.example.org/cb'] }

describe('POST /register', () => {
  it('R7591-3-a R7591-3.2-a: minimal registration answers 201 JSON with defaults echoed', async () => {
    const { fetch } = makeRegistrar()
    const res = await call(fetch, 'POST', '/register', { body: minimal })
    assert.equal(res.status, 201)
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
    assert.equal(res.headers.get('cache-control'), 'no-store')
    assert.equal(res.headers.get('pragma'), 'no-cache')
    assert.equal(res.body.token_endpoint_auth_method, 'client_secret_basic')
    assert.deepEqual(res.body.grant_types, ['authorization_code'])
    assert.deepEqual(res.body.response_types, ['code'])
    assert.deepEqual(res.body.redirect_uris, minimal.redirect_uris)
    assert.equal(typeof res.body.client_secret, 'string')
    assert.equal(res.body.client_secret_expires_at, 0)
  })

  it('R7591-3.2.2-a: token mode without an initial access token answers 401 with a bare Bearer challenge', async () => {
    const { fetch } = makeRegistrar({ registration: { mode: 'token' } })
    const res = await call(fetch, 'POST', '/register', { body: minimal })
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="registrar"')
    assert.equal(res.body.error, 'invalid_token')
  })
})
