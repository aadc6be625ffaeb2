import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  ClientRegistration,
  type RegistrationCredentials,
  RegistrationError,
  register,
} from '../../src/client/index.js'
import { fakeServer, type Seen } from './fake-server.js'

const METADATA = {
  redirect_uris: ['https://app.example/cb'],
  client_name: 'App',
  'client_name#fr': 'Appli',
  grant_types: ['authorization_code'],
  token_endpoint_auth_method: 'client_secret_basic',
}

/** A client information response for client `c1`. */
function info(base: string, extra: Record<string, unknown> = {}) {
  return {
    client_id: 'c1',
    client_id_issued_at: 1700000000,
    client_secret: 's1',
    client_secret_expires_at: 0,
    ...METADATA,
    registration_client_uri: `${base}/cfg/abc?x=1&next=%2fa+b`,
    registration_access_token: 'rat-1',
    ...extra,
  }
}

const bearer = (req: Seen | undefined) => req?.headers.authorization

describe('ClientRegistration', () => {
  it('R7592-B-a CL-7592-b: GET, PUT and DELETE go to registration_client_uri exactly as given, query included', async () => {
    const server = await fakeServer((req) => {
      if (req.method === 'POST') return { status: 201, body: info(server.url) }
      if (req.method === 'DELETE') return { status: 204 }
      return { status: 200, body: info(server.url) }
    })
    try {
      const reg = await register(`${server.url}/register`, METADATA)
      await reg.read()
      await reg.update((m) => ({ ...m, client_name: 'App 2' }))
      await reg.delete()
      assert.deepEqual(
        server.seen.map((r) => `${r.method} ${r.url}`),
        [
          'POST /register',
          'GET /cfg/abc?x=1&next=%2fa+b',
          'PUT /cfg/abc?x=1&next=%2fa+b',
          'DELETE /cfg/abc?x=1&next=%2fa+b',
        ],
      )
      for (const req of server.seen.slice(1)) {
        assert.equal(bearer(req), 'Bearer rat-1')
        assert.equal(req.headers.accept, 'application/json')
      }
    } finally {
      await server.close()
    }
  })

  it('R7592-2.1-b CL-7592-c: a token rotated on every GET is stored, persisted, and carried by the next call', async () => {
    const events: string[] = []
    const server = await fakeServer((req, i) => {
      events.push(`request ${bearer(req)}`)
      // rotates on every read, as the OIDF conformance suite does when it plays the AS
      return { status: 200, body: info(server.url, { registration_access_token: `rat-${i + 2}` }) }
    })
    try {
      const persisted: RegistrationCredentials[] = []
      const reg = new ClientRegistration(
        {
          client_id: 'c1',
          registration_client_uri: `${server.url}/cfg/abc?x=1&next=%2fa+b`,
          registration_access_token: 'rat-1',
        },
        {
          onCredentials: async (c) => {
            await new Promise((r) => setTimeout(r, 20)) // slow storage must still come first
            events.push(`persisted ${c.registration_access_token}`)
            persisted.push({ ...c })
          },
        },
      )
      await reg.read()
      assert.equal(reg.credentials.registration_access_token, 'rat-2')
      await reg.read()
      await reg.delete().catch(() => undefined)
      assert.deepEqual(events, [
        'request Bearer rat-1',
        'persisted rat-2',
        'request Bearer rat-2',
        'persisted rat-3',
        'request Bearer rat-3',
      ])
      assert.deepEqual(
        persisted.map((c) => c.registration_access_token),
        ['rat-2', 'rat-3'],
      )
    } finally {
      await server.close()
    }
  })

  it('CL-7592-c: concurrent calls run one at a time, so the second carries the rotated token', async () => {
    const server = await fakeServer((req, i) => ({
      status: 200,
      delayMs: i === 0 ? 50 : 0,
      body: info(server.url, {
        registration_access_token: bearer(req) === 'Bearer rat-1' ? 'rat-2' : 'rat-3',
      }),
    }))
    try {
      const reg = new ClientRegistration({
        client_id: 'c1',
        registration_client_uri: `${server.url}/cfg/abc`,
        registration_access_token: 'rat-1',
      })
      await Promise.all([reg.read(), reg.read()])
      assert.deepEqual(
        server.seen.map((r) => bearer(r)),
        ['Bearer rat-1', 'Bearer rat-2'],
      )
      assert.equal(reg.credentials.registration_access_token, 'rat-3')
    } finally {
      await server.close()
    }
  })

  it('R7592-2.1-b CL-7592-c: a rotated client_secret replaces the stored one; the old credentials object is untouched', async () => {
    const server = await fakeServer(() => ({
      status: 200,
      body: info(server.url, { client_secret: 's2', client_secret_expires_at: 1900000000 }),
    }))
    try {
      const seen: RegistrationCredentials[] = []
      const reg = new ClientRegistration(
        {
          client_id: 'c1',
          client_secret: 's1',
          client_secret_expires_at: 0,
          registration_client_uri: `${server.url}/cfg/abc`,
          registration_access_token: 'rat-1',
        },
        { onCredentials: (c) => void seen.push(c) },
      )
      const before = reg.credentials
      await reg.read()
      assert.equal(before.client_secret, 's1')
      assert.equal(reg.credentials.client_secret, 's2')
      assert.equal(reg.credentials.client_secret_expires_at, 1900000000)
      assert.equal(reg.credentials.registration_access_token, 'rat-1')
      assert.equal(seen.length, 1)
      // a response that repeats the same credentials changes nothing
      await reg.read()
      assert.equal(seen.length, 1)
    } finally {
      await server.close()
    }
  })

  it('CL-7592-d: PUT sends the full metadata with client_id and without the secret or the four server-managed members', async () => {
    const server = await fakeServer((req) => ({
      status: 200,
      body: { ...info(server.url), ...req.json, registration_access_token: 'rat-1' },
    }))
    try {
      const reg = new ClientRegistration(
        {
          client_id: 'c1',
          client_secret: 's1',
          registration_client_uri: `${server.url}/cfg/abc`,
          registration_access_token: 'rat-1',
        },
        { information: info(server.url) },
      )
      await reg.update((current) => ({ ...current, client_name: 'Renamed', scope: ['a', 'b'] }))
      const put = server.seen[0]
      assert.equal(put?.method, 'PUT')
      assert.equal(put?.headers['content-type'], 'application/json')
      assert.deepEqual(put?.json, {
        client_id: 'c1',
        ...METADATA,
        client_name: 'Renamed',
        scope: 'a b',
      })
      // the object form replaces everything: omitted members are meant to be removed
      await reg.update({ redirect_uris: ['https://app.example/cb2'] })
      assert.deepEqual(server.seen[1]?.json, {
        client_id: 'c1',
        redirect_uris: ['https://app.example/cb2'],
      })
      await assert.rejects(reg.update({ client_id: 'other' } as never), TypeError)
    } finally {
      await server.close()
    }
  })

  it('CL-7592-d: update(fn) without a known response reads first', async () => {
    const server = await fakeServer((req) => ({
      status: 200,
      body: req.method === 'GET' ? info(server.url) : { ...info(server.url), ...req.json },
    }))
    try {
      const reg = new ClientRegistration({
        client_id: 'c1',
        registration_client_uri: `${server.url}/cfg/abc`,
        registration_access_token: 'rat-1',
      })
      const updated = await reg.update((m) => ({ ...m, client_name: 'New' }))
      assert.deepEqual(
        server.seen.map((r) => r.method),
        ['GET', 'PUT'],
      )
      assert.equal(updated.client_name, 'New')
      assert.equal(server.seen[1]?.json?.['client_name#fr'], 'Appli')
    } finally {
      await server.close()
    }
  })

  it('CL-7592-a: DELETE 204 is success, 200 is accepted with a warning, 302 and 401 are errors', async () => {
    const replies = [
      { status: 204 },
      { status: 200, body: {} },
      { status: 302, headers: { location: 'https://elsewhere.example/' } },
      { status: 401, body: { error: 'invalid_token', error_description: 'unknown client' } },
      { status: 202 },
    ]
    const server = await fakeServer((_req, i) => replies[i] ?? { status: 500 })
    try {
      const reg = new ClientRegistration({
        client_id: 'c1',
        registration_client_uri: `${server.url}/cfg/abc`,
        registration_access_token: 'rat-1',
      })
      await reg.delete()
      assert.deepEqual(reg.warnings, [])
      await reg.delete()
      assert.match(reg.warnings[0] ?? '', /200 instead of 204/)
      await assert.rejects(reg.delete(), (err: RegistrationError) => {
        assert.equal(err.error, 'invalid_response')
        assert.equal(err.status, 302)
        return true
      })
      await assert.rejects(reg.delete(), (err: RegistrationError) => {
        assert.equal(err.error, 'invalid_token')
        assert.equal(err.status, 401)
        return true
      })
      await assert.rejects(reg.delete(), { error: 'invalid_response', status: 202 })
      assert.equal(server.seen.length, 5)
    } finally {
      await server.close()
    }
  })

  it('CL-7592-e: a 401 from the configuration endpoint is invalid_token and says to register again', async () => {
    const server = await fakeServer(() => ({
      status: 401,
      headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
      body: { error: 'invalid_token', error_description: 'registration access token not found' },
    }))
    try {
      const reg = new ClientRegistration({
        client_id: 'c1',
        registration_client_uri: `${server.url}/cfg/abc`,
        registration_access_token: 'dead',
      })
      await assert.rejects(reg.read(), (err: unknown) => {
        assert.ok(err instanceof RegistrationError)
        assert.equal(err.error, 'invalid_token')
        assert.equal(err.status, 401)
        assert.equal(err.error_description, 'registration access token not found')
        assert.match(err.message, /register again/)
        return true
      })
      // and nothing is retried
      assert.equal(server.seen.length, 1)
    } finally {
      await server.close()
    }
  })

  it('R7592-2.1-b: a response naming another client_id is refused and changes nothing', async () => {
    const server = await fakeServer(() => ({
      status: 200,
      body: info(server.url, { client_id: 'c2', registration_access_token: 'rat-9' }),
    }))
    try {
      const reg = new ClientRegistration({
        client_id: 'c1',
        registration_client_uri: `${server.url}/cfg/abc`,
        registration_access_token: 'rat-1',
      })
      await assert.rejects(reg.read(), { error: 'invalid_response' })
      assert.equal(reg.credentials.registration_access_token, 'rat-1')
    } finally {
      await server.close()
    }
  })

  it('a failed update keeps the stored credentials and the queue going', async () => {
    const server = await fakeServer((req) =>
      req.method === 'PUT'
        ? { status: 400, body: { error: 'invalid_redirect_uri', error_description: 'no' } }
        : { status: 200, body: info(server.url) },
    )
    try {
      const reg = new ClientRegistration({
        client_id: 'c1',
        registration_client_uri: `${server.url}/cfg/abc`,
        registration_access_token: 'rat-1',
      })
      await assert.rejects(reg.update({ redirect_uris: ['http://x.example/cb'] }), {
        error: 'invalid_redirect_uri',
        status: 400,
      })
      const after = await reg.read()
      assert.equal(after.client_id, 'c1')
      assert.equal(reg.credentials.registration_access_token, 'rat-1')
    } finally {
      await server.close()
    }
  })

  it('refuses to send the token to an http registration_client_uri on a non-loopback host', async () => {
    let calls = 0
    const reg = new ClientRegistration(
      {
        client_id: 'c1',
        registration_client_uri: 'http://as.example.com/register/c1',
        registration_access_token: 'rat-1',
      },
      {
        fetch: async () => {
          calls++
          return new Response('{}')
        },
      },
    )
    await assert.rejects(reg.read(), TypeError)
    await assert.rejects(reg.delete(), TypeError)
    assert.equal(calls, 0)
  })

  it('per-call timeouts apply to management calls', async () => {
    const server = await fakeServer(() => ({ status: 200, delayMs: 2000, body: info(server.url) }))
    try {
      const reg = new ClientRegistration(
        {
          client_id: 'c1',
          registration_client_uri: `${server.url}/cfg/abc`,
          registration_access_token: 'rat-1',
        },
        { timeoutMs: 60_000 },
      )
      await assert.rejects(reg.read({ timeoutMs: 100 }), { name: 'TimeoutError' })
    } finally {
      await server.close()
    }
  })
})
