import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { RunningServer } from '../../src/adapters/node.js'
import type { RegistrarApp } from '../../src/index.js'
import type { JsonBody } from '../helpers.js'
import { assertion, JWT_BEARER } from './assertions.js'
import { basic, makeApp, rejectsWith, tokenRequest } from './support.js'

const DAY = 86_400
const GRACE = 3600

/**
 * Secret expiry and renewal (issue 13 item 1, AS-7591-3.2.1-a): a policy's clientSecretExpiresIn,
 * renewal by an RFC 7592 §2.2 PUT carrying the current client_secret, the old secret accepted for
 * lifecycle.secretRotationGracePeriod and refused after. Black-box over HTTP on 127.0.0.1; the
 * clock is injected (no sleeps).
 */
describe('secret expiry and renewal over RFC 7592 (AS-7591-3.2.1-a, R7591-3.2.1-d)', () => {
  let now = 1_800_000_000
  let app: RegistrarApp
  let server: RunningServer
  let base: string

  before(async () => {
    app = await makeApp(
      {
        policies: {
          anonymous: 'public',
          definitions: { public: { clientSecretExpiresIn: 30 * DAY } },
        },
        lifecycle: { secretRotationGracePeriod: GRACE },
      },
      { clock: () => now },
    )
    server = await app.listen({ port: 0, host: '127.0.0.1' })
    base = `http://127.0.0.1:${server.port}`
  })
  after(async () => {
    await server?.close()
    await app?.close()
  })

  async function http(method: string, path: string, body?: unknown, token?: string) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...(token !== undefined && { authorization: `Bearer ${token}` }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as JsonBody, text }
  }

  async function registerOverHttp(metadata: Record<string, unknown> = {}): Promise<JsonBody> {
    const res = await http('POST', '/register', {
      redirect_uris: ['https://client.example.org/cb'],
      ...metadata,
    })
    assert.equal(res.status, 201, res.text)
    return res.body
  }

  /** The PUT a client sends to renew: its registration as returned, with its current secret. */
  function renewal(reg: JsonBody, secret: string): Record<string, unknown> {
    const {
      registration_access_token: _t,
      registration_client_uri: _u,
      client_secret_expires_at: _e,
      client_id_issued_at: _i,
      ...rest
    } = reg
    return { ...rest, client_secret: secret }
  }

  const authenticates = async (clientId: string, secret: string) =>
    (await app.authenticateClient(tokenRequest({}, { authorization: basic(clientId, secret) })))
      .client.client_id

  it("R7591-3.2.1-d: the policy's clientSecretExpiresIn sets client_secret_expires_at", async () => {
    const reg = await registerOverHttp()
    assert.equal(reg.client_secret_expires_at, now + 30 * DAY)
  })

  it('a PUT with the current secret returns a new secret and expiry; the old one works during the grace period, not after', async () => {
    const reg = await registerOverHttp()
    const path = new URL(reg.registration_client_uri).pathname
    const old = reg.client_secret as string
    now += 10 * DAY
    const res = await http('PUT', path, renewal(reg, old), reg.registration_access_token)
    assert.equal(res.status, 200, res.text)
    const fresh = res.body.client_secret as string
    assert.equal(typeof fresh, 'string')
    assert.notEqual(fresh, old)
    assert.equal(fresh.length, 43)
    assert.equal(res.body.client_secret_expires_at, now + 30 * DAY)
    assert.equal(res.body.client_id, reg.client_id)
    // the audit trail records the renewal (never the secret)
    await app.operations.audit?.flush()
    const [entry] = await app.store.listAuditEntries({ clientId: reg.client_id, limit: 1 })
    assert.equal(entry?.event, 'updated')
    assert.deepEqual(entry?.details, { client_secret_issued: true })
    assert.equal(JSON.stringify(entry).includes(fresh), false)
    assert.equal(JSON.stringify(entry).includes(old), false)

    // both authenticate during the grace period
    assert.equal(await authenticates(reg.client_id, fresh), reg.client_id)
    assert.equal(await authenticates(reg.client_id, old), reg.client_id)
    now += GRACE - 1
    assert.equal(await authenticates(reg.client_id, old), reg.client_id)
    // refused once it ends; the new one keeps working
    now += 1
    await rejectsWith(
      app.authenticateClient(tokenRequest({}, { authorization: basic(reg.client_id, old) })),
      'invalid_client',
    )
    await rejectsWith(
      app.authenticateClient(tokenRequest({ client_id: reg.client_id, client_secret: old }, {})),
      'invalid_client',
    )
    assert.equal(await authenticates(reg.client_id, fresh), reg.client_id)
    // an RFC 7592 read returns no secret (stored hashed), and no trace of the previous one
    const read = await http('GET', path, undefined, reg.registration_access_token)
    assert.equal(read.status, 200)
    assert.equal(read.body.client_secret, undefined)
    assert.equal(JSON.stringify(read.body).includes('previous'), false)
  })

  it('a client that never got the renewal response renews again with the old secret during the grace period', async () => {
    const reg = await registerOverHttp()
    const path = new URL(reg.registration_client_uri).pathname
    const old = reg.client_secret as string
    const first = await http('PUT', path, renewal(reg, old), reg.registration_access_token)
    assert.equal(first.status, 200, first.text)
    now += 60
    // it echoes its whole previous response (old secret, old expiry) as the OIDF suite would
    const { registration_access_token: _t, registration_client_uri: _u, ...echo } = reg
    const again = await http('PUT', path, echo, reg.registration_access_token)
    assert.equal(again.status, 200, again.text)
    const newest = again.body.client_secret as string
    assert.notEqual(newest, first.body.client_secret)
    assert.equal(await authenticates(reg.client_id, newest), reg.client_id)
    assert.equal(await authenticates(reg.client_id, old), reg.client_id)
    // the grace period is not extended by renewing again
    now += GRACE - 60
    await rejectsWith(
      app.authenticateClient(tokenRequest({}, { authorization: basic(reg.client_id, old) })),
      'invalid_client',
    )
    assert.equal(await authenticates(reg.client_id, newest), reg.client_id)
  })

  it('review finding 4: another instance renewing with the previous secret never strands the holder of the current one', async () => {
    const reg = await registerOverHttp()
    const path = new URL(reg.registration_client_uri).pathname
    const s1 = reg.client_secret as string
    const renewedAt = now
    // instance A renews with S1 and gets S2
    const a = await http('PUT', path, renewal(reg, s1), reg.registration_access_token)
    assert.equal(a.status, 200, a.text)
    const s2 = a.body.client_secret as string
    const s2ExpiresAt = a.body.client_secret_expires_at as number
    // 30 s later instance B, still holding S1, renews too and gets S3
    now += 30
    const b = await http('PUT', path, renewal(reg, s1), reg.registration_access_token)
    assert.equal(b.status, 200, b.text)
    const s3 = b.body.client_secret as string
    assert.equal(new Set([s1, s2, s3]).size, 3)
    for (const secret of [s1, s2, s3]) {
      assert.equal(await authenticates(reg.client_id, secret), reg.client_id)
    }
    // S1's grace period ran from the first renewal: B's renewal did not extend it
    now = renewedAt + GRACE
    await rejectsWith(
      app.authenticateClient(tokenRequest({}, { authorization: basic(reg.client_id, s1) })),
      'invalid_client',
    )
    // A's S2 lives as long as its response said, well past the grace period
    now = s2ExpiresAt - 1
    assert.equal(await authenticates(reg.client_id, s2), reg.client_id)
    assert.equal(await authenticates(reg.client_id, s3), reg.client_id)
    // A renews before then with S2 (an earlier secret now): B's S3 keeps its whole life,
    // S2 gets the grace period, never past its own expiry
    now = s2ExpiresAt - 600
    const a2 = await http('PUT', path, renewal(reg, s2), reg.registration_access_token)
    assert.equal(a2.status, 200, a2.text)
    const s4 = a2.body.client_secret as string
    now = s2ExpiresAt - 1
    for (const secret of [s2, s3, s4]) {
      assert.equal(await authenticates(reg.client_id, secret), reg.client_id)
    }
    now = s2ExpiresAt
    await rejectsWith(
      app.authenticateClient(tokenRequest({}, { authorization: basic(reg.client_id, s2) })),
      'invalid_client',
    )
    now = (b.body.client_secret_expires_at as number) - 1
    assert.equal(await authenticates(reg.client_id, s3), reg.client_id)
    assert.equal(await authenticates(reg.client_id, s4), reg.client_id)
    now = b.body.client_secret_expires_at as number
    await rejectsWith(
      app.authenticateClient(tokenRequest({}, { authorization: basic(reg.client_id, s3) })),
      'invalid_client',
    )
    assert.equal(await authenticates(reg.client_id, s4), reg.client_id)
  })

  it('review finding 4: a renewal with an earlier secret cuts that one only, whatever ended before it', async () => {
    const reg = await registerOverHttp()
    const path = new URL(reg.registration_client_uri).pathname
    const put = async (secret: string) => {
      const r = await http('PUT', path, renewal(reg, secret), reg.registration_access_token)
      assert.equal(r.status, 200, r.text)
      return r.body.client_secret as string
    }
    const start = now
    const s1 = reg.client_secret as string
    const s2 = await put(s1) // S1 ends at start + GRACE
    now += 10
    const s3 = await put(s1) // S2 keeps its life
    now += 10
    await put(s2) // S2 ends at start + 20 + GRACE; S3 keeps its life
    // S1 has ended (still stored before S2 and S3); S2 is valid: renewing with it must cut S2,
    // not S3
    now = start + GRACE + 5
    await put(s2)
    now = start + 2 * GRACE + 10
    assert.equal(await authenticates(reg.client_id, s3), reg.client_id)
    await rejectsWith(
      app.authenticateClient(tokenRequest({}, { authorization: basic(reg.client_id, s2) })),
      'invalid_client',
    )
  })

  it('review finding 4: two simultaneous renewals with the same secret both get a secret that keeps working', async () => {
    const reg = await registerOverHttp()
    const path = new URL(reg.registration_client_uri).pathname
    const s1 = reg.client_secret as string
    const results = await Promise.all(
      [0, 1, 2].map(() => http('PUT', path, renewal(reg, s1), reg.registration_access_token)),
    )
    for (const r of results) assert.equal(r.status, 200, r.text)
    const issued = results.map((r) => r.body.client_secret as string)
    assert.equal(new Set(issued).size, 3)
    now += GRACE
    // S1's grace period is over; every secret handed out still authenticates
    await rejectsWith(
      app.authenticateClient(tokenRequest({}, { authorization: basic(reg.client_id, s1) })),
      'invalid_client',
    )
    for (const secret of issued) {
      assert.equal(await authenticates(reg.client_id, secret), reg.client_id)
    }
  })

  it('review finding 4: at most 8 earlier secrets; a renewal that would keep a ninth is refused and strands nobody', async () => {
    const reg = await registerOverHttp()
    const path = new URL(reg.registration_client_uri).pathname
    const s1 = reg.client_secret as string
    const issued: string[] = []
    for (let i = 0; i < 8; i++) {
      const r = await http('PUT', path, renewal(reg, s1), reg.registration_access_token)
      assert.equal(r.status, 200, r.text)
      issued.push(r.body.client_secret as string)
      now += 1
    }
    const refused = await http('PUT', path, renewal(reg, s1), reg.registration_access_token)
    assert.equal(refused.status, 400, refused.text)
    assert.equal(refused.body.error, 'invalid_client_metadata')
    assert.match(refused.body.error_description, /8 earlier client secrets .* still valid/)
    for (const secret of [s1, ...issued]) {
      assert.equal(await authenticates(reg.client_id, secret), reg.client_id)
    }
    // once S1's grace period ends there is room again
    now += GRACE
    const current = issued.at(-1) as string
    const r = await http('PUT', path, renewal(reg, current), reg.registration_access_token)
    assert.equal(r.status, 200, r.text)
    for (const secret of [...issued, r.body.client_secret as string]) {
      assert.equal(await authenticates(reg.client_id, secret), reg.client_id)
    }
  })

  it('the grace period never outlives the old secret; a PUT without the secret keeps it; a wrong secret is 400', async () => {
    const reg = await registerOverHttp()
    const path = new URL(reg.registration_client_uri).pathname
    const old = reg.client_secret as string
    const { client_secret: _s, ...withoutSecret } = renewal(reg, old)
    const kept = await http('PUT', path, withoutSecret, reg.registration_access_token)
    assert.equal(kept.status, 200, kept.text)
    assert.equal(kept.body.client_secret, undefined)
    const wrong = await http(
      'PUT',
      path,
      renewal(reg, 'not-the-secret'),
      reg.registration_access_token,
    )
    assert.equal(wrong.status, 400)
    assert.equal(wrong.body.error, 'invalid_client_metadata')
    // renewed 10 minutes before expiry: the old secret ends at its own expiry, not an hour later
    now = reg.client_secret_expires_at - 600
    const res = await http('PUT', path, renewal(reg, old), reg.registration_access_token)
    assert.equal(res.status, 200, res.text)
    now = reg.client_secret_expires_at - 1
    assert.equal(await authenticates(reg.client_id, old), reg.client_id)
    now = reg.client_secret_expires_at
    await rejectsWith(
      app.authenticateClient(tokenRequest({}, { authorization: basic(reg.client_id, old) })),
      'invalid_client',
    )
    assert.equal(await authenticates(reg.client_id, res.body.client_secret), reg.client_id)
  })

  it('client_secret_jwt: the seal rotates too; an assertion signed with the old secret verifies during the grace period only', async () => {
    const reg = await registerOverHttp({ token_endpoint_auth_method: 'client_secret_jwt' })
    const path = new URL(reg.registration_client_uri).pathname
    const old = reg.client_secret as string
    const res = await http('PUT', path, renewal(reg, old), reg.registration_access_token)
    assert.equal(res.status, 200, res.text)
    const fresh = res.body.client_secret as string
    assert.notEqual(fresh, old)
    assert.equal(await app.symmetricSecret(reg.client_id), fresh)
    const signed = async (secret: string) =>
      app.authenticateClient(
        tokenRequest({
          client_assertion_type: JWT_BEARER,
          client_assertion: await assertion(reg.client_id, new TextEncoder().encode(secret), {
            header: { alg: 'HS256' },
            claims: { exp: now + 60, iat: now },
          }),
        }),
      )
    assert.equal((await signed(fresh)).method, 'client_secret_jwt')
    assert.equal((await signed(old)).method, 'client_secret_jwt')
    now += GRACE
    await rejectsWith(signed(old), 'invalid_client')
    assert.equal((await signed(fresh)).method, 'client_secret_jwt')
  })

  it('review finding 4, client_secret_jwt: the seal of the current secret survives a renewal with the previous one', async () => {
    const reg = await registerOverHttp({ token_endpoint_auth_method: 'client_secret_jwt' })
    const path = new URL(reg.registration_client_uri).pathname
    const s1 = reg.client_secret as string
    const a = await http('PUT', path, renewal(reg, s1), reg.registration_access_token)
    assert.equal(a.status, 200, a.text)
    now += 30
    const b = await http('PUT', path, renewal(reg, s1), reg.registration_access_token)
    assert.equal(b.status, 200, b.text)
    const signed = async (secret: string) =>
      app.authenticateClient(
        tokenRequest({
          client_assertion_type: JWT_BEARER,
          client_assertion: await assertion(reg.client_id, new TextEncoder().encode(secret), {
            header: { alg: 'HS256' },
            claims: { exp: now + 60, iat: now },
          }),
        }),
      )
    now += GRACE
    await rejectsWith(signed(s1), 'invalid_client')
    assert.equal((await signed(a.body.client_secret)).method, 'client_secret_jwt')
    assert.equal((await signed(b.body.client_secret)).method, 'client_secret_jwt')
    assert.equal(await app.symmetricSecret(reg.client_id), b.body.client_secret)
  })

  it('AS-BP-12: HS512 and HS384 clients get secrets of at least 512 and 384 bits that authenticate', async () => {
    for (const [alg, bytes] of [
      ['HS512', 64],
      ['HS384', 48],
    ] as const) {
      const reg = await registerOverHttp({
        token_endpoint_auth_method: 'client_secret_jwt',
        token_endpoint_auth_signing_alg: alg,
      })
      const secret = reg.client_secret as string
      assert.equal(Buffer.from(secret, 'base64url').length, bytes)
      const result = await app.authenticateClient(
        tokenRequest({
          client_assertion_type: JWT_BEARER,
          client_assertion: await assertion(reg.client_id, new TextEncoder().encode(secret), {
            header: { alg },
            claims: { exp: now + 60, iat: now },
          }),
        }),
      )
      assert.equal(result.method, 'client_secret_jwt')
    }
  })

  it('an update that moves a client to HS512 mints a secret long enough for it', async () => {
    const reg = await registerOverHttp({ token_endpoint_auth_method: 'client_secret_jwt' })
    const path = new URL(reg.registration_client_uri).pathname
    const { client_secret: _s, ...body } = renewal(reg, reg.client_secret)
    const res = await http(
      'PUT',
      path,
      { ...body, token_endpoint_auth_signing_alg: 'HS512' },
      reg.registration_access_token,
    )
    assert.equal(res.status, 200, res.text)
    assert.equal(Buffer.from(res.body.client_secret, 'base64url').length, 64)
  })
})

describe('secret renewal is off for secrets that never expire', () => {
  it('with no lifetime anywhere, a PUT echoing client_secret keeps the secret (R7592-2.2-c: the OIDF echo)', async () => {
    const app = await makeApp({})
    try {
      const server = await app.listen({ port: 0, host: '127.0.0.1' })
      try {
        const reg: JsonBody = await (
          await fetch(`http://127.0.0.1:${server.port}/register`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ redirect_uris: ['https://client.example.org/cb'] }),
          })
        ).json()
        assert.equal(reg.client_secret_expires_at, 0)
        const { registration_access_token, registration_client_uri, ...echo } = reg
        const res = await fetch(
          `http://127.0.0.1:${server.port}${new URL(registration_client_uri).pathname}`,
          {
            method: 'PUT',
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${registration_access_token}`,
            },
            body: JSON.stringify(echo),
          },
        )
        assert.equal(res.status, 200)
        assert.equal(((await res.json()) as JsonBody).client_secret, undefined)
      } finally {
        await server.close()
      }
    } finally {
      await app.close()
    }
  })
})
