import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { clientAuthenticationErrorResponse } from '../../src/as/errors.js'
import { DEFAULTS, resolveConfig } from '../../src/config/resolve.js'
import { MemoryStore } from '../../src/storage/memory.js'
import { assertion, JWT_BEARER, nowSeconds } from './assertions.js'
import { basic, makeApp, register, tokenRequest } from './support.js'

// RFC 6749 §2.3.1 / as-side AS-6749-2.3.1-c: failed client authentications are limited per
// client_id (from one address) and per source address; over the limit, 429 with Retry-After,
// without the credentials being checked; the right secret works again after the window.

const ATTACKER = '203.0.113.7'
const ELSEWHERE = '198.51.100.20'

/** An app on a clock the test moves (seconds), with the limits given. */
async function limitedApp(failureLimit: Record<string, unknown> = {}, config = {}) {
  let now = nowSeconds()
  const app = await makeApp(
    { clientAuthentication: { failureLimit }, audit: { enabled: true }, ...config },
    { clock: () => now },
  )
  return {
    app,
    clock: () => now,
    advance(seconds: number) {
      now += seconds
    },
  }
}

type Outcome = { status: number; error: string; retryAfter: string | null; body: string }

/** authenticateClient, rendered as the token endpoint would answer. */
async function attempt(
  app: Awaited<ReturnType<typeof makeApp>>,
  clientId: string,
  secret: string,
  address: string | undefined = ATTACKER,
): Promise<Outcome> {
  try {
    await app.authenticateClient(tokenRequest({}, { authorization: basic(clientId, secret) }), {
      ...(address !== undefined && { clientAddress: address }),
    })
    return { status: 200, error: '', retryAfter: null, body: '' }
  } catch (err) {
    const res = clientAuthenticationErrorResponse(err)
    const body = await res.text()
    return {
      status: res.status,
      error: JSON.parse(body).error,
      retryAfter: res.headers.get('retry-after'),
      body,
    }
  }
}

describe('AS-6749-2.3.1-c: brute-force limits on client authentication', () => {
  it('AS-6749-2.3.1-c: 100 wrong secrets in a minute: later attempts 429 with Retry-After; the right secret is refused while limited and works after the window', async () => {
    const { app, advance } = await limitedApp()
    const client = await register(app)
    const checked: string[] = []
    app.clientRegistry.on('client.authentication_failed', (e) => checked.push(e.reason))
    const outcomes: Outcome[] = []
    for (let i = 0; i < 100; i++) {
      outcomes.push(await attempt(app, client.client_id, `wrong-${i}`))
      advance(i % 2) // 50 seconds in all: one window
    }
    const limit = app.config.clientAuthentication.failureLimit.perClient.max
    assert.equal(limit, 20, 'the documented default')
    assert.deepEqual(
      outcomes.slice(0, limit).map((o) => o.status),
      Array(limit).fill(401),
    )
    for (const o of outcomes.slice(limit)) {
      assert.equal(o.status, 429)
      assert.equal(o.error, 'too_many_requests')
      assert.match(o.retryAfter ?? '', /^\d+$/)
      assert.ok(Number(o.retryAfter) >= 1 && Number(o.retryAfter) <= 60)
    }
    // refused before the credentials are checked: no failure after the limit was reached
    assert.equal(checked.length, limit)

    const right = await attempt(app, client.client_id, client.client_secret)
    assert.equal(right.status, 429, 'the right secret is not even looked at while limited')
    advance(Number(right.retryAfter))
    assert.equal((await attempt(app, client.client_id, client.client_secret)).status, 200)
    await app.close()
  })

  it('AS-6749-2.3.1-c: the per-client limit is per address: the client still authenticates from elsewhere (no lockout by a stranger)', async () => {
    const { app } = await limitedApp({ perClient: { max: 5 } })
    const client = await register(app)
    for (let i = 0; i < 5; i++) await attempt(app, client.client_id, 'wrong')
    assert.equal((await attempt(app, client.client_id, client.client_secret)).status, 429)
    assert.equal(
      (await attempt(app, client.client_id, client.client_secret, ELSEWHERE)).status,
      200,
    )
    // an IPv6 attacker is one address per /64 (rateLimit.ipv6Prefix)
    for (let i = 0; i < 5; i++) await attempt(app, client.client_id, 'wrong', `2001:db8:1:2::${i}`)
    assert.equal(
      (await attempt(app, client.client_id, client.client_secret, '2001:db8:1:2::ffff')).status,
      429,
    )
    assert.equal(
      (await attempt(app, client.client_id, client.client_secret, '2001:db8:1:3::1')).status,
      200,
    )
    await app.close()
  })

  it('AS-6749-2.3.1-c: the per-address limit counts failures across client ids, unknown ones included', async () => {
    const { app, advance } = await limitedApp({ perClient: { max: 50 }, perAddress: { max: 10 } })
    const clients = [await register(app), await register(app), await register(app)]
    const ids = [...clients.map((c) => c.client_id), 'unknown-1', 'unknown-2']
    for (let i = 0; i < 10; i++) {
      assert.equal((await attempt(app, ids[i % ids.length] as string, 'wrong')).status, 401)
    }
    // every client, even one never tried, with its right secret: refused from that address
    for (const c of clients) {
      const o = await attempt(app, c.client_id, c.client_secret)
      assert.equal(o.status, 429)
      assert.ok(o.retryAfter)
    }
    assert.equal((await attempt(app, 'unknown-3', 'x')).status, 429)
    // other addresses are not affected
    assert.equal(
      (await attempt(app, clients[0]?.client_id, clients[0]?.client_secret, ELSEWHERE)).status,
      200,
    )
    advance(61)
    assert.equal((await attempt(app, clients[0]?.client_id, clients[0]?.client_secret)).status, 200)
    await app.close()
  })

  it('AS-6749-2.3.1-c AS-BP-06: an unknown client_id is counted and refused exactly as a known one (no enumeration)', async () => {
    const { app } = await limitedApp({ perClient: { max: 4 } })
    const known = await register(app)
    const run = async (id: string) => {
      const out: Outcome[] = []
      for (let i = 0; i < 6; i++) out.push(await attempt(app, id, 'wrong'))
      return out
    }
    const a = await run(known.client_id)
    const b = await run('no-such-client-0123456789abcdef')
    assert.deepEqual(
      a.map((o) => o.status),
      [401, 401, 401, 401, 429, 429],
    )
    assert.deepEqual(
      b.map((o) => o.status),
      a.map((o) => o.status),
    )
    // same body and headers, status for status (the clock does not move here)
    assert.deepEqual(
      b.map((o) => [o.body, o.retryAfter]),
      a.map((o) => [o.body, o.retryAfter]),
    )
    await app.close()
  })

  it('AS-6749-2.3.1-c: failed client assertions count too; the limit covers private_key_jwt and client_secret_jwt', async () => {
    const { app, clock, advance } = await limitedApp({ perClient: { max: 3 } })
    const csj = await register(app, { token_endpoint_auth_method: 'client_secret_jwt' })
    const right = new TextEncoder().encode(csj.client_secret)
    const wrong = new TextEncoder().encode('x'.repeat(64))
    const send = async (key: Uint8Array) => {
      const jwt = await assertion(csj.client_id, key, {
        header: { alg: 'HS256' },
        claims: { iat: clock(), exp: clock() + 60 },
      })
      try {
        await app.authenticateClient(
          tokenRequest({ client_assertion_type: JWT_BEARER, client_assertion: jwt }),
          { clientAddress: ATTACKER },
        )
        return 200
      } catch (err) {
        return (err as { status: number }).status
      }
    }
    const statuses = []
    for (let i = 0; i < 5; i++) statuses.push(await send(wrong))
    assert.deepEqual(statuses, [401, 401, 401, 429, 429])
    assert.equal(await send(right), 429)
    advance(61)
    assert.equal(await send(right), 200)
    await app.close()
  })

  it('AS-6749-2.3.1-c: a success resets nothing; only failures count', async () => {
    const { app } = await limitedApp({ perClient: { max: 3 } })
    const c = await register(app)
    const statuses = []
    for (const secret of ['wrong', c.client_secret, 'wrong', c.client_secret, 'wrong']) {
      statuses.push((await attempt(app, c.client_id, secret)).status)
    }
    assert.deepEqual(statuses, [401, 200, 401, 200, 401])
    assert.equal((await attempt(app, c.client_id, c.client_secret)).status, 429)
    // many successes are never limited
    const { app: other } = await limitedApp({ perClient: { max: 1 }, perAddress: { max: 1 } })
    const d = await register(other)
    for (let i = 0; i < 30; i++) {
      assert.equal((await attempt(other, d.client_id, d.client_secret)).status, 200)
    }
    await app.close()
    await other.close()
  })

  it('AS-6749-2.3.1-c: without clientAddress the per-client count is on client_id alone; max 0 turns a limit off', async () => {
    const { app } = await limitedApp({ perClient: { max: 2 } })
    const c = await register(app)
    await attempt(app, c.client_id, 'wrong', undefined)
    await attempt(app, c.client_id, 'wrong', undefined)
    assert.equal((await attempt(app, c.client_id, c.client_secret, undefined)).status, 429)
    assert.equal((await attempt(app, c.client_id, c.client_secret, ELSEWHERE)).status, 200)
    const { app: off } = await limitedApp({ perClient: { max: 0 }, perAddress: { max: 0 } })
    const d = await register(off)
    for (let i = 0; i < 150; i++) await attempt(off, d.client_id, 'wrong')
    assert.equal((await attempt(off, d.client_id, d.client_secret)).status, 200)
    await app.close()
    await off.close()
  })

  it('AS-6749-2.3.1-c: one audit entry when a key reaches its limit (not one per attempt); refusals are events and metrics', async () => {
    const { app, advance } = await limitedApp(
      { perClient: { max: 3 }, perAddress: { max: 100 } },
      { metrics: { enabled: true } },
    )
    const c = await register(app)
    const throttled: unknown[] = []
    const reached: unknown[] = []
    app.clientRegistry.on('client.authentication_throttled', (e) => throttled.push(e))
    app.clientRegistry.on('client.authentication_limit_reached', (e) => reached.push(e))
    for (let i = 0; i < 10; i++) await attempt(app, c.client_id, 'wrong')
    assert.deepEqual(reached, [
      { scope: 'client', client_id: c.client_id, address: ATTACKER, max: 3, window_seconds: 60 },
    ])
    assert.equal(throttled.length, 7)
    assert.deepEqual(throttled[0], {
      client_id: c.client_id,
      address: ATTACKER,
      scope: 'client',
      retry_after: 60,
    })
    await app.operations.audit?.flush()
    const entries = (await app.store.listAuditEntries({ limit: 50 })).filter(
      (e) => e.event === 'authentication_limit_reached',
    )
    assert.equal(entries.length, 1)
    assert.equal(entries[0]?.client_id, c.client_id)
    assert.deepEqual(entries[0]?.actor, { type: 'anonymous', address: ATTACKER })
    assert.deepEqual(entries[0]?.details, { scope: 'client', failures: 3, within_seconds: 60 })
    const metrics = await app.operations.metrics?.render()
    assert.match(
      metrics?.body ?? '',
      /registrar_rate_limited_total\{limit="client_authentication_client"\} 7/,
    )
    // the next window may report again
    advance(61)
    for (let i = 0; i < 3; i++) await attempt(app, c.client_id, 'wrong')
    assert.equal(reached.length, 2)
    await app.close()
  })

  it('AS-6749-2.3.1-c: docs/as-side.md "Brute-force protection" shows a valid configuration, the defaults', () => {
    const readme = readFileSync(new URL('../../docs/as-side.md', import.meta.url), 'utf8')
    const start = readme.indexOf('### Brute-force protection')
    assert.ok(start >= 0)
    const json = /```json\n([\s\S]*?)```/.exec(readme.slice(start))?.[1] as string
    const shown = JSON.parse(json)
    const config = resolveConfig({ file: { issuer: 'https://as.example.com', ...shown } })
    assert.deepEqual(
      config.clientAuthentication.failureLimit,
      shown.clientAuthentication.failureLimit,
    )
    assert.deepEqual(
      DEFAULTS.clientAuthentication.failureLimit,
      shown.clientAuthentication.failureLimit,
    )
  })

  it('AS-6749-2.3.1-c: the configuration refuses a bad limit', async () => {
    await assert.rejects(
      makeApp({ clientAuthentication: { failureLimit: { perClient: { max: -1 } } } }),
      /clientAuthentication\.failureLimit\.perClient\.max/,
    )
    await assert.rejects(
      makeApp({ clientAuthentication: { failureLimit: { perAddress: { windowSeconds: 0 } } } }),
      /clientAuthentication\.failureLimit\.perAddress\.windowSeconds/,
    )
  })
})

describe('AS-6749-2.3.1-c: two registries sharing Redis (rateLimit.store) share the failure counts', async () => {
  const REDIS_URL = process.env.REGISTRAR_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
  const available = await redisReachable(REDIS_URL)
  const required = process.env.REQUIRE_REDIS === '1'
  if (!available && required) {
    it('Redis is required (REQUIRE_REDIS=1) but not reachable', () => {
      assert.fail(`no Redis at ${REDIS_URL}`)
    })
    return
  }
  it('AS-6749-2.3.1-c: failures at one instance are refused at the other', {
    skip: !available && `no Redis at ${REDIS_URL}; set REGISTRAR_TEST_REDIS_URL to run`,
  }, async () => {
    const store = new MemoryStore()
    const config = {
      rateLimit: { store: REDIS_URL },
      clientAuthentication: { failureLimit: { perClient: { max: 4 }, perAddress: { max: 6 } } },
    }
    const a = await makeApp(config, { store })
    const b = await makeApp(config, { store })
    try {
      const c = await register(a)
      // a fresh address per run: counts of earlier runs stay in Redis for their window
      const address = `10.${rand()}.${rand()}.${rand()}`
      for (const app of [a, b, a, b]) {
        assert.equal((await attempt(app, c.client_id, 'wrong', address)).status, 401)
      }
      for (const app of [a, b]) {
        const o = await attempt(app, c.client_id, c.client_secret, address)
        assert.equal(o.status, 429)
        assert.ok(Number(o.retryAfter) >= 1)
      }
      // the per-address budget is shared as well: 2 more failures on other ids exhaust it
      await attempt(b, 'unknown-a', 'wrong', address)
      await attempt(a, 'unknown-b', 'wrong', address)
      const other = await register(b)
      assert.equal((await attempt(a, other.client_id, other.client_secret, address)).status, 429)
      assert.equal((await attempt(b, other.client_id, other.client_secret)).status, 200)
    } finally {
      await a.close()
      await b.close()
    }
  })
})

function rand(): number {
  return Math.floor(Math.random() * 254) + 1
}

async function redisReachable(url: string): Promise<boolean> {
  const { createConnection } = await import('node:net')
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port || 6379) })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1000, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}
