import assert from 'node:assert/strict'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { connect } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { type JsonBody, type ServerProcess, startServer } from '../helpers.js'

/** Black-box tests against `registrar serve` (the real CLI, a real socket on 127.0.0.1). */

const CB = 'https://client.example.org/cb'
const METADATA = {
  authorization_endpoint: 'https://as.example.com/authorize',
  token_endpoint: 'https://as.example.com/token',
}

interface Raw {
  status: number
  headers: IncomingHttpHeaders
  text: string
}

/**
 * One request over a fresh connection with full control of the framing: `chunks` are written as
 * given (chunked transfer coding when no Content-Length is set). Write errors after the server
 * has answered (it closes early on 413) are expected and ignored.
 */
function raw(
  port: number,
  options: {
    method?: string
    path?: string
    headers?: Record<string, string | number>
    chunks?: (string | Buffer)[]
    end?: boolean
  },
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    let answered = false
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'POST',
        path: options.path ?? '/register',
        headers: options.headers ?? {},
        agent: false,
      },
      (res) => {
        answered = true
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (d) => {
          text += d
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }))
        res.on('error', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }))
      },
    )
    req.on('error', (err) => {
      if (!answered) reject(err)
    })
    req.flushHeaders()
    for (const c of options.chunks ?? []) req.write(c)
    if (options.end !== false) req.end()
  })
}

async function json(
  base: string,
  path: string,
  init: RequestInit & { body?: string } = {},
): Promise<{
  status: number
  headers: Headers
  body: JsonBody
}> {
  const res = await fetch(`${base}${path}`, init)
  const text = await res.text()
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined }
}

function register(base: string, body: unknown, headers: Record<string, string> = {}) {
  return json(base, '/register', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
}

describe('registrar serve over HTTP (issuer at the root)', () => {
  let server: ServerProcess
  before(async () => {
    server = await startServer(['--registration', 'open', '--store', 'memory'], {
      config: { metadata: METADATA },
    })
  })
  after(async () => {
    assert.equal(await server.stop(), 0)
  })

  it('R7591-3.2-a R7591-3.2.1-j C-14 R7592-3-a: POST /register answers 201 JSON, no-store, no-cache', async () => {
    const res = await register(server.url, { redirect_uris: [CB], client_name: 'Black Box' })
    assert.equal(res.status, 201)
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
    assert.equal(res.headers.get('cache-control'), 'no-store')
    assert.equal(res.headers.get('pragma'), 'no-cache')
    assert.equal(res.body.client_name, 'Black Box')
    assert.equal(typeof res.body.client_id, 'string')
    assert.equal(res.body.registration_client_uri, `${server.url}/register/${res.body.client_id}`)
    assert.ok(Math.abs(res.body.client_id_issued_at - Date.now() / 1000) < 60, 'R7591-3.2.1-c')
    const read = await json(server.url, `/register/${res.body.client_id}`, {
      headers: { authorization: `Bearer ${res.body.registration_access_token}` },
    })
    assert.equal(read.status, 200)
    assert.equal(read.headers.get('cache-control'), 'no-store')
    assert.equal(read.body.client_name, 'Black Box')
  })

  it('R7591-3.2.2-b: a refused registration is 400 JSON with error and error_description, no client_id', async () => {
    const res = await register(server.url, { redirect_uris: ['http://evil.example.com/cb'] })
    assert.equal(res.status, 400)
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
    assert.equal(res.headers.get('cache-control'), 'no-store')
    assert.equal(res.body.error, 'invalid_redirect_uri')
    assert.match(res.body.error_description, /^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/)
    assert.equal('client_id' in res.body, false)
  })

  it('R8414-3-a R8414-5-a RDISC-X-a: both discovery documents are the same, with the configured metadata merged', async () => {
    const oauth = await json(server.url, '/.well-known/oauth-authorization-server')
    const oidc = await json(server.url, '/.well-known/openid-configuration')
    assert.equal(oauth.status, 200)
    assert.equal(oidc.status, 200)
    assert.match(oauth.headers.get('content-type') ?? '', /^application\/json/)
    assert.deepEqual(oidc.body, oauth.body)
    const m = oauth.body
    assert.equal(m.issuer, server.url)
    assert.equal(m.registration_endpoint, `${server.url}/register`)
    assert.equal(m.authorization_endpoint, METADATA.authorization_endpoint)
    assert.equal(m.token_endpoint, METADATA.token_endpoint)
    assert.deepEqual(m.code_challenge_methods_supported, ['S256'], 'R8414-2-g')
    assert.ok(m.token_endpoint_auth_methods_supported.includes('none'), 'R8414-2-b')
    assert.ok(m.grant_types_supported.includes('refresh_token'), 'R8414-2-d P-19')
    assert.ok(
      !m.grant_types_supported.includes('implicit'),
      'R8414-2-d: implicit is not registered',
    )
    assert.ok(m.id_token_signing_alg_values_supported.includes('RS256'), 'ROIDD-3-b')
    for (const [k, v] of Object.entries(m)) {
      assert.ok(!(Array.isArray(v) && v.length === 0), `R8414-3-a: ${k} is an empty array`)
    }
    const head = await fetch(`${server.url}/.well-known/openid-configuration`, { method: 'HEAD' })
    assert.equal(head.status, 200)
    assert.equal(await head.text(), '')
  })

  it('RDISC-X-a R8414-2-b: discovery lists exactly what registration accepts', async () => {
    const { body: m } = await json(server.url, '/.well-known/oauth-authorization-server')
    for (const method of m.token_endpoint_auth_methods_supported as string[]) {
      const res = await register(server.url, {
        redirect_uris: method === 'none' ? ['http://127.0.0.1/cb'] : [CB],
        token_endpoint_auth_method: method,
        ...(method === 'private_key_jwt' && { jwks_uri: 'https://client.example.org/jwks' }),
      })
      assert.equal(res.status, 201, `${method}: ${res.body.error_description}`)
    }
    for (const grant of m.grant_types_supported as string[]) {
      const res = await register(server.url, {
        redirect_uris: [CB],
        grant_types: grant === 'refresh_token' ? ['authorization_code', grant] : [grant],
      })
      assert.equal(res.status, 201, `${grant}: ${res.body.error_description}`)
      assert.ok(res.body.grant_types.includes(grant))
    }
    for (const type of m.response_types_supported as string[]) {
      const res = await register(server.url, { redirect_uris: [CB], response_types: [type] })
      assert.equal(res.status, 201, type)
    }
    const algLists: [string, string][] = [
      ['id_token_signing_alg_values_supported', 'id_token_signed_response_alg'],
      ['userinfo_signing_alg_values_supported', 'userinfo_signed_response_alg'],
      ['request_object_signing_alg_values_supported', 'request_object_signing_alg'],
      ['token_endpoint_auth_signing_alg_values_supported', 'token_endpoint_auth_signing_alg'],
    ]
    for (const [list, field] of algLists) {
      for (const alg of m[list] as string[]) {
        const res = await register(server.url, {
          redirect_uris: [CB],
          [field]: alg,
          ...(field === 'token_endpoint_auth_signing_alg' && {
            token_endpoint_auth_method: 'private_key_jwt',
            jwks_uri: 'https://client.example.org/jwks',
          }),
        })
        assert.equal(res.status, 201, `${field} ${alg}: ${res.body.error_description}`)
        assert.equal(res.body[field], alg)
      }
      const refused = await register(server.url, { redirect_uris: [CB], [field]: 'HS256' })
      assert.equal(refused.status, 400, `${field} HS256 is not listed, so it is refused`)
    }
    // and what it does not list is refused
    for (const method of ['client_secret_jwt', 'tls_client_auth']) {
      assert.ok(!m.token_endpoint_auth_methods_supported.includes(method))
      const res = await register(server.url, {
        redirect_uris: [CB],
        token_endpoint_auth_method: method,
      })
      assert.equal(res.status, 400, method)
    }
  })

  it('GET /healthz answers 200 when the store answers', async () => {
    const res = await json(server.url, '/healthz')
    assert.equal(res.status, 200)
    assert.deepEqual(res.body, { status: 'ok' })
    assert.equal(res.headers.get('cache-control'), 'no-store')
  })

  it('ROIDR-3-d P-11: CORS preflight on /register allows POST with Content-Type and Authorization', async () => {
    const res = await fetch(`${server.url}/register`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://inspector.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, authorization',
      },
    })
    assert.equal(res.status, 204)
    assert.equal(res.headers.get('access-control-allow-origin'), '*')
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /\bPOST\b/)
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase()
    assert.ok(allowed.includes('content-type') && allowed.includes('authorization'), allowed)
    const post = await register(
      server.url,
      { redirect_uris: [CB] },
      { origin: 'https://inspector.example' },
    )
    assert.equal(post.status, 201)
    assert.equal(post.headers.get('access-control-allow-origin'), '*')
    assert.match(post.headers.get('access-control-expose-headers') ?? '', /WWW-Authenticate/i)
  })

  it('R7591-3-f P-12: application/json with a charset is accepted; text/plain and forms are not', async () => {
    const body = JSON.stringify({ redirect_uris: [CB] })
    const post = (ct: string) =>
      json(server.url, '/register', { method: 'POST', headers: { 'content-type': ct }, body })
    assert.equal((await post('application/json; charset=utf-8')).status, 201)
    assert.equal((await post('application/json;charset=UTF-8')).status, 201)
    for (const ct of [
      'text/plain',
      'text/plain;charset=UTF-8',
      'application/x-www-form-urlencoded',
    ]) {
      const res = await post(ct)
      assert.equal(res.status, 400, ct)
      assert.equal(res.body.error, 'invalid_client_metadata')
    }
  })

  it('R7591-3-g: a body over 64 KiB gets 413, with Content-Length', async () => {
    const body = JSON.stringify({ redirect_uris: [CB], x: 'a'.repeat(70_000) })
    const res = await raw(server.port, {
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      chunks: [body],
    })
    assert.equal(res.status, 413)
    assert.equal(JSON.parse(res.text).error, 'invalid_request')
    assert.equal(res.headers.connection, 'close')
  })

  it('limits.maxBodyBytes: 413 as soon as a declared Content-Length is over the limit, before any body byte', async () => {
    const res = await raw(server.port, {
      headers: { 'content-type': 'application/json', 'content-length': 10_000_000 },
      end: false,
    })
    assert.equal(res.status, 413)
  })

  it('limits.maxBodyBytes: a chunked body (no Content-Length) over 64 KiB gets 413', async () => {
    const chunk = Buffer.alloc(16 * 1024, 0x20)
    const res = await raw(server.port, {
      headers: { 'content-type': 'application/json' },
      chunks: Array(8).fill(chunk),
    })
    assert.equal(res.status, 413)
  })

  it('a chunked body under the limit is read normally', async () => {
    const body = JSON.stringify({ redirect_uris: [CB] })
    const res = await raw(server.port, {
      headers: { 'content-type': 'application/json' },
      chunks: [body.slice(0, 10), body.slice(10)],
    })
    assert.equal(res.status, 201)
    assert.equal(typeof JSON.parse(res.text).client_id, 'string')
  })

  it('a Content-Length that disagrees with Transfer-Encoding is refused and the server lives on', async () => {
    const status = await new Promise<string>((resolve, reject) => {
      const socket = connect(server.port, '127.0.0.1', () => {
        socket.end(
          'POST /register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
            'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
        )
      })
      let text = ''
      socket.on('data', (d) => {
        text += d
      })
      socket.on('close', () => resolve(text.split('\r\n')[0] ?? ''))
      socket.on('error', reject)
    })
    assert.match(status, /^HTTP\/1\.1 400/)
    assert.equal((await json(server.url, '/healthz')).status, 200)
  })

  it('a Content-Length smaller than what is sent: the rest is never read as part of the body', async () => {
    const head =
      'POST /register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n'
    const body = JSON.stringify({ redirect_uris: [CB], pad: 'a'.repeat(100_000) })
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(server.port, '127.0.0.1', () => socket.end(head + body))
      let text = ''
      socket.setEncoding('latin1')
      socket.on('data', (d) => {
        text += d
      })
      socket.on('close', () => resolve(text))
      socket.on('error', (e) => (text ? resolve(text) : reject(e)))
    })
    const statuses = [...reply.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]))
    // the declared 20 bytes are not a JSON object; what follows is not a request
    assert.equal(statuses[0], 400, reply.slice(0, 300))
    assert.ok(
      statuses.every((s) => s === 400),
      statuses.join(' '),
    )
    assert.equal((await json(server.url, '/healthz')).status, 200)
  })

  it('R7591-3-e R7592-2-b: other methods get 405 with Allow', async () => {
    const cases: [string, string, RegExp][] = [
      ['GET', '/register', /^POST, OPTIONS$/],
      ['PUT', '/register', /^POST, OPTIONS$/],
      ['DELETE', '/register', /^POST, OPTIONS$/],
      ['PATCH', '/register/abc', /^GET, PUT, DELETE, OPTIONS$/],
      ['POST', '/register/abc', /^GET, PUT, DELETE, OPTIONS$/],
      ['POST', '/.well-known/oauth-authorization-server', /^GET, HEAD, OPTIONS$/],
      ['DELETE', '/healthz', /^GET, HEAD$/],
    ]
    for (const [method, path, allow] of cases) {
      const res = await json(server.url, path, { method })
      assert.equal(res.status, 405, `${method} ${path}`)
      assert.match(res.headers.get('allow') ?? '', allow, `${method} ${path}`)
      assert.equal(typeof res.body.error, 'string')
    }
  })

  it('an unknown path gets a JSON 404', async () => {
    for (const path of ['/nope', '/register-x', '/.well-known/other', '//register']) {
      const res = await json(server.url, path)
      assert.equal(res.status, 404, path)
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
      assert.equal(res.body.error, 'invalid_request')
      assert.equal(typeof res.body.error_description, 'string')
    }
  })

  it('ROIDR-4.4-a R7592-2.1-e P-8: an unknown client at the configuration endpoint is 401, never 404', async () => {
    const res = await json(server.url, '/register/no-such-client', {
      headers: { authorization: 'Bearer abcdef' },
    })
    assert.equal(res.status, 401)
    assert.match(
      res.headers.get('www-authenticate') ?? '',
      /^Bearer realm="registrar", error="invalid_token"/,
    )
  })
})

describe('registrar serve with an issuer that has a path (RFC 8414 §3, OIDC Discovery §4)', () => {
  let server: ServerProcess
  const issuer = 'https://as.example.com/tenant1'
  before(async () => {
    server = await startServer(
      ['--registration', 'open', '--store', 'memory', '--issuer', issuer],
      {
        config: { cors: { allowedOrigins: ['https://app.example.com'] } },
      },
    )
  })
  after(async () => {
    assert.equal(await server.stop(), 0)
  })

  it('R8414-3-a: path insertion for OAuth; R8414-5-a RMCP1125-g: OIDC inserted and appended', async () => {
    const paths = [
      '/.well-known/oauth-authorization-server/tenant1',
      '/.well-known/openid-configuration/tenant1',
      '/tenant1/.well-known/openid-configuration',
    ]
    const docs = await Promise.all(paths.map((p) => json(server.url, p)))
    for (const [i, d] of docs.entries()) {
      assert.equal(d.status, 200, paths[i])
      assert.equal(d.body.issuer, issuer)
      assert.equal(d.body.registration_endpoint, `${issuer}/register`)
      assert.deepEqual(d.body, docs[0]!.body)
    }
    // the host's root is not this issuer
    assert.equal((await json(server.url, '/.well-known/oauth-authorization-server')).status, 404)
    assert.equal((await json(server.url, '/.well-known/openid-configuration')).status, 404)
  })

  it('endpoints live under the issuer path', async () => {
    const res = await json(server.url, '/tenant1/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [CB] }),
    })
    assert.equal(res.status, 201)
    assert.equal(res.body.registration_client_uri, `${issuer}/register/${res.body.client_id}`)
    assert.equal((await json(server.url, '/register', { method: 'POST' })).status, 404)
  })

  it('ROIDR-3-d: with an origin allow-list, only listed origins get CORS headers', async () => {
    const pre = (origin: string) =>
      fetch(`${server.url}/tenant1/register`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST' },
      })
    const ok = await pre('https://app.example.com')
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://app.example.com')
    assert.match(ok.headers.get('vary') ?? '', /Origin/)
    const other = await pre('https://evil.example')
    assert.equal(other.headers.get('access-control-allow-origin'), null)
  })
})

describe('access log (one pino line per request, no credentials)', () => {
  it('logs method, path, status, ms and client_id once per request, and never a secret or token', async () => {
    const server = await startServer(['--registration', 'open', '--store', 'memory'], {
      env: { REGISTRAR_LOG_LEVEL: 'info' },
    })
    let stopped = false
    try {
      const created = await register(server.url, { redirect_uris: [CB] })
      assert.equal(created.status, 201)
      const { client_id, client_secret, registration_access_token } = created.body
      const auth = { authorization: `Bearer ${registration_access_token}` }
      const requests: [string, string, number, RequestInit][] = [
        ['GET', `/register/${client_id}`, 200, { headers: auth }],
        [
          'PUT',
          `/register/${client_id}`,
          200,
          {
            method: 'PUT',
            headers: { ...auth, 'content-type': 'application/json' },
            body: JSON.stringify({ client_id, client_secret, redirect_uris: [CB] }),
          },
        ],
        [
          'GET',
          `/register/${client_id}`,
          401,
          { headers: { authorization: `Bearer ${client_secret}` } },
        ],
        ['GET', '/healthz', 200, {}],
        ['GET', '/nope', 404, {}],
        [
          'POST',
          '/register',
          400,
          { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' },
        ],
        ['DELETE', `/register/${client_id}`, 204, { method: 'DELETE', headers: auth }],
      ]
      for (const [, path, status, init] of requests) {
        const res = await fetch(`${server.url}${path}`, init)
        await res.arrayBuffer()
        assert.equal(res.status, status, path)
      }
      assert.equal(await server.stop(), 0)
      stopped = true

      const lines = server
        .stderr()
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
      const access = lines.filter((l) => l.msg === 'request')
      const expected = [['POST', '/register', 201], ...requests.map(([m, p, s]) => [m, p, s])]
      assert.deepEqual(
        access.map((l) => [l.method, l.path, l.status]),
        expected,
      )
      for (const l of access) {
        assert.equal(typeof l.ms, 'number')
        assert.ok((l.ms as number) >= 0)
      }
      assert.equal(access[0]!.client_id, client_id)
      assert.equal(access[1]!.client_id, client_id)
      // one line per request: nothing else at info level names the client
      const mentions = lines.filter((l) => JSON.stringify(l).includes(client_id))
      assert.equal(
        mentions.length,
        access.filter((l) => JSON.stringify(l).includes(client_id)).length,
      )
      const all = server.stderr() + server.stdout()
      for (const secret of [client_secret, registration_access_token]) {
        assert.ok(!all.includes(secret), 'a credential reached the log')
      }
    } finally {
      if (!stopped) await server.stop()
    }
  })

  it('a client that goes away mid-body is a 400 in the log, not a 500 "unexpected error"', async () => {
    const server = await startServer(['--registration', 'open', '--store', 'memory'], {
      env: { REGISTRAR_LOG_LEVEL: 'info' },
    })
    let stopped = false
    try {
      await new Promise<void>((resolve) => {
        const socket = connect(server.port, '127.0.0.1', () => {
          socket.write(
            'POST /register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
              'Content-Length: 100\r\n\r\n{"redirect',
          )
          setTimeout(() => {
            socket.destroy()
            resolve()
          }, 150)
        })
        socket.on('error', () => {})
      })
      // the server lives on
      assert.equal((await json(server.url, '/healthz')).status, 200)
      assert.equal(await server.stop(), 0)
      stopped = true
      const lines = server
        .stderr()
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
      const post = lines.filter((l) => l.msg === 'request' && l.path === '/register')
      assert.deepEqual(
        post.map((l) => l.status),
        [400],
      )
      assert.equal(lines.filter((l) => l.msg === 'unexpected error').length, 0)
    } finally {
      if (!stopped) await server.stop()
    }
  })
})
