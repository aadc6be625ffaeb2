import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type JsonBody, type ServerProcess, startServer } from '../helpers.js'
import { CLIENTS } from './real-client-payloads.js'

describe('interop: the seven real client payloads of design §5', () => {
  let server: ServerProcess
  before(async () => {
    server = await startServer(['--registration', 'open', '--store', 'memory'], {
      config: { registration: { allowedPrivateUseSchemes: ['vscode', 'cursor'] } },
    })
  })
  after(async () => {
    assert.equal(await server.stop(), 0)
  })

  for (const c of CLIENTS) {
    it(`${c.name}: 201, values echoed, application_type ${c.applicationType}, ${c.secret ? 'a' : 'no'} secret`, async () => {
      if (c.origin) {
        // a browser client preflights first (ROIDR-3-d, P-11)
        const pre = await fetch(`${server.url}/register`, {
          method: 'OPTIONS',
          headers: {
            origin: c.origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type',
          },
        })
        assert.equal(pre.status, 204)
        assert.ok(pre.headers.get('access-control-allow-origin'))
      }
      const res = await fetch(`${server.url}/register`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(c.origin && { origin: c.origin }),
        },
        body: JSON.stringify(c.body),
      })
      const body = (await res.json()) as JsonBody
      assert.equal(res.status, 201, JSON.stringify(body))
      const expected = { ...c.body, ...c.registered }
      for (const [k, v] of Object.entries(expected)) {
        assert.deepEqual(body[k], v, k)
      }
      assert.equal(body.application_type, c.applicationType)
      assert.equal(typeof body.client_id, 'string')
      if (c.secret) {
        assert.equal(typeof body.client_secret, 'string')
        assert.equal(body.client_secret_expires_at, 0, 'P-2: always with client_secret_expires_at')
      } else {
        assert.equal(body.client_secret, undefined)
        assert.equal(body.client_secret_expires_at, undefined)
      }
      assert.equal(
        body.token_endpoint_auth_method,
        c.body.token_endpoint_auth_method ?? 'client_secret_basic',
      )
      if (c.origin) assert.ok(res.headers.get('access-control-allow-origin'))
    })
  }

  it('C-13: without the allow-list the dot-less schemes are refused', async () => {
    const other = await startServer(['--registration', 'open', '--store', 'memory'])
    try {
      for (const c of CLIENTS.filter((x) => x.name === 'Cursor')) {
        const res = await fetch(`${other.url}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(c.body),
        })
        assert.equal(res.status, 400)
        assert.equal(((await res.json()) as JsonBody).error, 'invalid_redirect_uri')
      }
    } finally {
      await other.stop()
    }
  })
})
