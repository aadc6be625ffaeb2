import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { assertSecureUrl, RegistrationError, register } from '../../src/client/index.js'
import { selfSignedCertificate, startTlsServer } from '../tls-helpers.js'
import { fakeServer } from './fake-server.js'

const created = (extra: Record<string, unknown> = {}) => ({
  status: 201,
  body: {
    client_id: 'c1',
    client_secret: 's1',
    client_secret_expires_at: 0,
    redirect_uris: ['https://app.example/cb'],
    registration_client_uri: 'http://127.0.0.1:1/cfg/c1',
    registration_access_token: 'rat-1',
    ...extra,
  },
})

/** Runs `fn`, expecting a RegistrationError, and returns it. */
async function refused(fn: () => Promise<unknown>): Promise<RegistrationError> {
  try {
    await fn()
  } catch (err) {
    assert.ok(err instanceof RegistrationError, `expected a RegistrationError, got ${err}`)
    return err
  }
  assert.fail('expected a rejection')
}

describe('register()', () => {
  it('CL-7591-a CL-7591-g CL-7591-i CL-7591-j: POSTs JSON with Accept and the IAT as Bearer, scope joined, statement verbatim, no server-issued members', async () => {
    const server = await fakeServer(() => created())
    try {
      // a statement with odd but legal characters: it must arrive byte for byte
      const statement = 'eyJhbGciOiJFUzI1NiJ9.eyJzb2Z0d2FyZV9pZCI6IngifQ.c2lnLV8'
      await register(
        `${server.url}/register`,
        {
          redirect_uris: ['https://app.example/cb'],
          scope: ['openid', 'profile', 'read:items'],
          client_id: 'victim',
          client_secret: 'chosen',
          client_id_issued_at: 1,
          client_secret_expires_at: 2,
          registration_access_token: 'x',
          registration_client_uri: 'https://evil.example/',
        } as never,
        { initialAccessToken: 'iat-123', softwareStatement: statement },
      )
      const [req] = server.seen
      assert.equal(req?.method, 'POST')
      assert.equal(req?.url, '/register')
      assert.equal(req?.headers['content-type'], 'application/json')
      assert.equal(req?.headers.accept, 'application/json')
      assert.equal(req?.headers.authorization, 'Bearer iat-123')
      assert.deepEqual(req?.json, {
        redirect_uris: ['https://app.example/cb'],
        scope: 'openid profile read:items',
        software_statement: statement,
      })
    } finally {
      await server.close()
    }
  })

  it('CL-7591-a: no Authorization header without an initial access token', async () => {
    const server = await fakeServer(() => created())
    try {
      await register(`${server.url}/register`, { redirect_uris: ['https://app.example/cb'] })
      assert.equal(server.seen[0]?.headers.authorization, undefined)
    } finally {
      await server.close()
    }
  })

  it('CL-7591-c: 201 is success without warnings; 200 is accepted but flagged', async () => {
    let status = 201
    const server = await fakeServer(() => ({ ...created(), status }))
    try {
      const ok = await register(`${server.url}/register`, {
        redirect_uris: ['https://a.example/cb'],
      })
      assert.deepEqual(ok.warnings, [])
      status = 200
      const legacy = await register(`${server.url}/register`, {
        redirect_uris: ['https://a.example/cb'],
      })
      assert.equal(legacy.client_id, 'c1')
      assert.equal(legacy.warnings.length, 1)
      assert.match(legacy.warnings[0] ?? '', /200 instead of 201/)
    } finally {
      await server.close()
    }
  })

  it('CL-7591-d CL-7591-e CL-7591-h: keeps unknown and language-tagged members; the returned values are the ones used', async () => {
    const server = await fakeServer(() =>
      created({
        'client_name#ja-Jpan-JP': 'クライアント名',
        client_name: 'Client',
        vendor_extension: { nested: [1, 2] },
        token_endpoint_auth_method: 'client_secret_post',
      }),
    )
    try {
      const reg = await register(`${server.url}/register`, {
        redirect_uris: ['https://a.example/cb'],
        token_endpoint_auth_method: 'none',
        'client_name#ja-Jpan-JP': 'クライアント名',
      })
      assert.equal(reg.information?.['client_name#ja-Jpan-JP'], 'クライアント名')
      assert.deepEqual(reg.information?.vendor_extension, { nested: [1, 2] })
      // the server issued a secret although none was asked for: it is kept (PostHog #58881)
      assert.equal(reg.credentials.client_secret, 's1')
      assert.equal(reg.credentials.client_secret_expires_at, 0)
      assert.equal(reg.information?.token_endpoint_auth_method, 'client_secret_post')
      assert.equal(server.seen[0]?.json?.['client_name#ja-Jpan-JP'], 'クライアント名')
      assert.equal(reg.manageable, true)
    } finally {
      await server.close()
    }
  })

  it('CL-7591-c CL-7591-d: each RFC 7591 error code becomes a RegistrationError; extra members are ignored', async () => {
    const codes = [
      'invalid_redirect_uri',
      'invalid_client_metadata',
      'invalid_software_statement',
      'unapproved_software_statement',
    ]
    const server = await fakeServer((_req, i) => ({
      status: 400,
      body: {
        error: codes[i],
        error_description: `why ${i}`,
        error_uri: 'https://docs.example/e',
        trace_id: 'abc',
      },
    }))
    try {
      for (const [i, code] of codes.entries()) {
        const err = await refused(() =>
          register(`${server.url}/register`, { redirect_uris: ['https://a.example/cb'] }),
        )
        assert.equal(err.error, code)
        assert.equal(err.error_description, `why ${i}`)
        assert.equal(err.status, 400)
        assert.deepEqual(err.toJSON(), { error: code, error_description: `why ${i}` })
      }
    } finally {
      await server.close()
    }
  })

  it('CL-7591-c: a 401 with only a Bearer challenge becomes its invalid_token', async () => {
    const server = await fakeServer(() => ({
      status: 401,
      headers: {
        'www-authenticate':
          'Bearer realm="r", error="invalid_token", error_description="IAT expired, ask again"',
      },
    }))
    try {
      const err = await refused(() =>
        register(
          `${server.url}/register`,
          { redirect_uris: ['https://a.example/cb'] },
          {
            initialAccessToken: 'old',
          },
        ),
      )
      assert.equal(err.error, 'invalid_token')
      assert.equal(err.error_description, 'IAT expired, ask again')
      assert.equal(err.status, 401)
    } finally {
      await server.close()
    }
  })

  it('CL-7591-c: non-JSON error bodies get a code from the status', async () => {
    const cases = [
      { status: 502, type: 'text/html', body: '<html>Bad gateway</html>', code: 'server_error' },
      { status: 503, type: 'text/plain', body: 'busy', code: 'temporarily_unavailable' },
      { status: 429, type: 'text/plain', body: 'slow down', code: 'too_many_requests' },
      { status: 401, type: 'text/plain', body: 'no', code: 'invalid_token' },
      { status: 404, type: 'text/html', body: '<h1>Not Found</h1>', code: 'invalid_request' },
      { status: 400, type: 'application/json', body: '{"message":"bad"}', code: 'invalid_request' },
    ]
    const server = await fakeServer((_req, i) => ({
      status: cases[i]!.status,
      headers: { 'content-type': cases[i]!.type },
      body: cases[i]!.body,
    }))
    try {
      for (const c of cases) {
        const err = await refused(() =>
          register(`${server.url}/register`, { redirect_uris: ['https://a.example/cb'] }),
        )
        assert.equal(err.error, c.code, `HTTP ${c.status}`)
        assert.equal(err.status, c.status)
        assert.match(err.error_description ?? '', new RegExp(`HTTP ${c.status}`))
      }
    } finally {
      await server.close()
    }
  })

  it('a success without a JSON object or without client_id is invalid_response', async () => {
    const bodies = ['not json', '[1]', '{"client_secret":"s"}']
    const server = await fakeServer((_req, i) => ({
      status: 201,
      headers: { 'content-type': 'application/json' },
      body: bodies[i],
    }))
    try {
      for (const _ of bodies) {
        const err = await refused(() =>
          register(`${server.url}/register`, { redirect_uris: ['https://a.example/cb'] }),
        )
        assert.equal(err.error, 'invalid_response')
        assert.equal(err.status, 201)
      }
    } finally {
      await server.close()
    }
  })

  it('CL-7591-c: a 2xx other than 201 or 200 is invalid_response', async () => {
    const server = await fakeServer(() => ({ ...created(), status: 202 }))
    try {
      const err = await refused(() =>
        register(`${server.url}/register`, { redirect_uris: ['https://a.example/cb'] }),
      )
      assert.equal(err.error, 'invalid_response')
      assert.equal(err.status, 202)
    } finally {
      await server.close()
    }
  })

  it('a redirect is an error and is not followed', async () => {
    const server = await fakeServer((req) =>
      req.url === '/register' ? { status: 307, headers: { location: '/elsewhere' } } : created(),
    )
    try {
      const err = await refused(() =>
        register(
          `${server.url}/register`,
          { redirect_uris: ['https://a.example/cb'] },
          {
            initialAccessToken: 'secret-iat',
          },
        ),
      )
      assert.equal(err.error, 'invalid_response')
      assert.equal(err.status, 307)
      assert.equal(server.seen.length, 1)
    } finally {
      await server.close()
    }
  })

  it('warns when only one of the RFC 7592 members is returned, or a secret comes without its expiry', async () => {
    const server = await fakeServer(() => ({
      status: 201,
      body: { client_id: 'c', client_secret: 's', registration_access_token: 'r' },
    }))
    try {
      const reg = await register(`${server.url}/register`, { redirect_uris: ['https://a/cb'] })
      assert.equal(reg.manageable, false)
      assert.equal(reg.warnings.length, 2)
      await assert.rejects(reg.read(), TypeError)
    } finally {
      await server.close()
    }
  })

  it('timeoutMs aborts a slow server with a TimeoutError', async () => {
    const server = await fakeServer(() => ({ ...created(), delayMs: 2000 }))
    try {
      const started = Date.now()
      await assert.rejects(
        register(`${server.url}/register`, { redirect_uris: ['https://a/cb'] }, { timeoutMs: 100 }),
        { name: 'TimeoutError' },
      )
      assert.ok(Date.now() - started < 1500)
    } finally {
      await server.close()
    }
  })

  it("a caller's AbortSignal aborts the call with its reason", async () => {
    const server = await fakeServer(() => ({ ...created(), delayMs: 2000 }))
    try {
      const controller = new AbortController()
      setTimeout(() => controller.abort(), 50)
      await assert.rejects(
        register(
          `${server.url}/register`,
          { redirect_uris: ['https://a/cb'] },
          {
            signal: controller.signal,
          },
        ),
        { name: 'AbortError' },
      )
      const already = AbortSignal.abort(new Error('stop'))
      await assert.rejects(
        register(
          `${server.url}/register`,
          { redirect_uris: ['https://a/cb'] },
          { signal: already },
        ),
        { message: 'stop' },
      )
    } finally {
      await server.close()
    }
  })

  it('http is refused for non-loopback hosts, before any request', async () => {
    let calls = 0
    const spy: typeof fetch = async () => {
      calls++
      return new Response(null, { status: 500 })
    }
    for (const url of [
      'http://as.example.com/register',
      'http://10.0.0.1/register',
      'http://127.0.0.2/register',
      'ftp://as.example.com/register',
      'not a url',
    ]) {
      await assert.rejects(
        register(url, { redirect_uris: ['https://a/cb'] }, { fetch: spy }),
        TypeError,
        url,
      )
    }
    assert.equal(calls, 0)
    for (const ok of [
      'https://as.example.com/r',
      'http://localhost:3000/r',
      'http://127.0.0.1/r',
      'http://[::1]:8080/r',
    ]) {
      assert.ok(assertSecureUrl(ok))
    }
  })

  it('a metadata document without registration_endpoint is refused', async () => {
    await assert.rejects(
      register({ registration_endpoint: undefined }, { redirect_uris: ['https://a/cb'] }),
      /no registration_endpoint/,
    )
  })

  describe('over TLS', () => {
    let tls: ReturnType<typeof selfSignedCertificate> | undefined
    before(() => {
      try {
        tls = selfSignedCertificate()
      } catch {
        tls = undefined // openssl is not available
      }
    })
    after(() => tls?.cleanup())

    it('CL-7591-b: a self-signed certificate is rejected (TLS checks stay on)', async (t) => {
      if (!tls) return t.skip('openssl is not available')
      const server = await startTlsServer(
        tls,
        (_req, res) => {
          res.writeHead(201, { 'content-type': 'application/json' })
          res.end(JSON.stringify({ client_id: 'x' }))
        },
        '127.0.0.1',
      )
      const { port } = server
      try {
        await assert.rejects(
          register(`https://127.0.0.1:${port}/register`, { redirect_uris: ['https://a/cb'] }),
          (err: Error & { cause?: { code?: string } }) => {
            assert.ok(err instanceof TypeError)
            assert.match(String(err.cause?.code), /SELF_SIGNED|UNABLE_TO_VERIFY/)
            return true
          },
        )
      } finally {
        await server.close()
      }
    })
  })
})
