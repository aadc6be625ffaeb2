import assert from 'node:assert/strict'
import { randomInt } from 'node:crypto'
import { createConnection } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { composeRegistrar } from '../../src/app.js'
import { createInitialAccessToken } from '../../src/core/initial-access-token.js'
import { clientIp } from '../../src/http/client-ip.js'
import { MemoryRateLimiter, rateLimitKey } from '../../src/http/rate-limit.js'
import { call, makeRegistrar, type ServerProcess, startServer } from '../helpers.js'

const body = JSON.stringify({
  redirect_uris: ['http://127.0.0.1/cb'],
  token_endpoint_auth_method: 'none',
})
const REDIS_URL = process.env.REGISTRAR_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

function register(server: ServerProcess, headers: Record<string, string> = {}) {
  return fetch(`${server.url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  })
}

/**
 * A fresh client address per call, carried in X-Forwarded-For from a trusted proxy (127.0.0.1).
 * Random high bits keep concurrent runs sharing one Redis apart.
 */
const run = randomInt(0, 0xffff)
let clients = 0
function fakeClient(): Record<string, string> {
  clients++
  // a /64 of its own: IPv6 clients are counted per /64 (issue 12 item 7)
  return {
    'x-forwarded-for': `192.0.2.1, 2001:db8:${run.toString(16)}:${clients.toString(16)}::1`,
  }
}

function redisReachable(): Promise<boolean> {
  const { hostname, port } = new URL(REDIS_URL)
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port || 6379) })
    socket.setTimeout(500)
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
    socket.once('timeout', () => {
      socket.destroy()
      resolve(false)
    })
  })
}

describe('anonymous registration rate limit (R7591-3-d, P-14)', () => {
  it('the memory limiter counts per key and resets with the window', async () => {
    let now = 0
    const limiter = new MemoryRateLimiter(2, 10, () => now)
    assert.equal((await limiter.hit('a')).allowed, true)
    assert.equal((await limiter.hit('a')).allowed, true)
    const third = await limiter.hit('a')
    assert.deepEqual(third, { allowed: false, remaining: 0, resetSeconds: 10 })
    assert.equal((await limiter.hit('b')).allowed, true)
    now = 10_000
    assert.equal((await limiter.hit('a')).allowed, true)
  })

  it('issue 12 item 7: keys: IPv4 as is, IPv4-mapped as IPv4, IPv6 by its /64 (configurable)', () => {
    assert.equal(rateLimitKey('203.0.113.7'), '203.0.113.7')
    assert.equal(rateLimitKey('::ffff:203.0.113.7'), '203.0.113.7')
    assert.equal(rateLimitKey('::ffff:cb00:7107'), '203.0.113.7')
    assert.equal(rateLimitKey('0:0:0:0:0:ffff:cb00:7107'), '203.0.113.7')
    assert.equal(rateLimitKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2:0:0:0:0/64')
    assert.equal(rateLimitKey('2001:db8:1:2::ffff'), '2001:db8:1:2:0:0:0:0/64')
    assert.equal(rateLimitKey('[2001:db8:1:2::1]'), '2001:db8:1:2:0:0:0:0/64')
    assert.equal(rateLimitKey('2001:db8:1:2ff::1', 56), '2001:db8:1:200:0:0:0:0/56')
    assert.equal(rateLimitKey('2001:db8::1', 128), '2001:db8:0:0:0:0:0:1/128')
    assert.equal(rateLimitKey('unknown'), 'unknown')
  })

  it('issue 12 item 7: 250,000 keys stay bounded and never block the event loop (no scan of every key)', async () => {
    // the limiter before this change scanned every key on each new one past 100,000: quadratic,
    // minutes for this loop. Measured here: 2.1-2.6 s in all, slowest hit 87-127 ms (a GC pause
    // or the scheduler, at load average 17 on two shared cores). Bounds are generous for that:
    // the whole loop within 20 s, no single hit over 1 s.
    let now = 0
    const limiter = new MemoryRateLimiter(5, 60, { now: () => now, maxKeys: 100_000 })
    let slowest = 0
    const started = performance.now()
    for (let i = 0; i < 250_000; i++) {
      if (i === 200_000) now = 61_000 // the first windows expire: drained a little per request
      // requests arrive between I/O: let the loop breathe (other suites' sockets run meanwhile)
      if (i % 1000 === 0) await new Promise(setImmediate)
      const t = performance.now()
      await limiter.hit(`k${i}`)
      slowest = Math.max(slowest, performance.now() - t)
    }
    const total = performance.now() - started
    assert.ok(limiter.size <= 100_000, `size ${limiter.size}`)
    assert.ok(total < 20_000, `250,000 hits took ${total.toFixed(0)} ms`)
    assert.ok(slowest < 1000, `slowest hit ${slowest.toFixed(1)} ms`)
    // the newest keys are still counted
    assert.equal((await limiter.hit('k249999')).remaining, 3)
  })

  it('issue 12 item 8: a valid initial access token is not counted; a used-up address waits', async () => {
    const { config, store } = makeRegistrar({ registration: { mode: 'open' } })
    const app = composeRegistrar(config, store, { rateLimiter: new MemoryRateLimiter(1, 60) })
    const handler = (request: Request) => app.handle(request, { ip: '203.0.113.9' })
    const { token } = await createInitialAccessToken(store)
    const metadata = JSON.parse(body)
    for (let i = 0; i < 3; i++) {
      assert.equal(
        (await call(handler, 'POST', '/register', { body: metadata, token })).status,
        201,
      )
    }
    assert.equal((await call(handler, 'POST', '/register', { body: metadata })).status, 201)
    const waits = await call(handler, 'POST', '/register', { body: metadata, token })
    assert.equal(waits.status, 429)
    assert.ok(Number(waits.headers.get('retry-after')) >= 1)
  })

  it('peek tells what a hit would answer without counting', async () => {
    const limiter = new MemoryRateLimiter(2, 10, () => 0)
    assert.equal((await limiter.peek('a')).allowed, true)
    await limiter.hit('a')
    await limiter.hit('a')
    assert.deepEqual(await limiter.peek('a'), { allowed: false, remaining: 0, resetSeconds: 10 })
    assert.equal(limiter.size, 1)
  })

  it('X-Forwarded-For is believed only from a trusted proxy', () => {
    assert.equal(clientIp('192.0.2.9', '203.0.113.7', []), '192.0.2.9')
    assert.equal(clientIp('192.0.2.9', '203.0.113.7', ['10.0.0.0/8']), '192.0.2.9')
    assert.equal(clientIp('10.1.1.1', '203.0.113.7, 10.2.2.2', ['10.0.0.0/8']), '203.0.113.7')
    assert.equal(clientIp('::ffff:10.1.1.1', '203.0.113.7', ['10.0.0.0/8']), '203.0.113.7')
  })

  describe('one instance, memory store', () => {
    let server: ServerProcess
    before(async () => {
      server = await startServer(['--registration', 'open', '--store', 'memory'], {
        config: {
          rateLimit: {
            anonymousRegistrations: 3,
            windowSeconds: 60,
            trustedProxies: ['127.0.0.1'],
          },
        },
      })
    })
    after(async () => {
      await server.stop()
    })

    it('allows the limit, then answers 429 with Retry-After and RateLimit headers', async () => {
      const client = fakeClient()
      for (let i = 0; i < 3; i++) {
        const res = await register(server, client)
        assert.equal(res.status, 201)
        assert.equal(res.headers.get('ratelimit-policy'), '"anonymous-registration";q=3;w=60')
        assert.match(
          res.headers.get('ratelimit') ?? '',
          new RegExp(`^"anonymous-registration";r=${2 - i};t=\\d+$`),
        )
      }
      const limited = await register(server, client)
      assert.equal(limited.status, 429)
      const retryAfter = Number(limited.headers.get('retry-after'))
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`)
      assert.match(limited.headers.get('ratelimit') ?? '', /r=0;t=\d+/)
      const json = (await limited.json()) as { error: string }
      assert.equal(json.error, 'too_many_requests')
      // another address is not affected
      assert.equal((await register(server, fakeClient())).status, 201)
    })

    it('issue 12 item 8: a Bearer header does not bypass the limit; failed token attempts count', async () => {
      const client = fakeClient()
      for (let i = 0; i < 3; i++) assert.equal((await register(server, client)).status, 201)
      const withToken = await register(server, {
        ...client,
        authorization: 'Bearer not-a-real-token',
      })
      assert.equal(withToken.status, 429)
      const guesser = fakeClient()
      for (let i = 0; i < 3; i++) {
        const res = await register(server, { ...guesser, authorization: `Bearer guess-${i}` })
        assert.equal(res.status, 401)
      }
      assert.equal(
        (await register(server, { ...guesser, authorization: 'Bearer guess-3' })).status,
        429,
      )
      assert.equal((await register(server, guesser)).status, 429)
    })

    it('issue 12 item 7: IPv6 clients are counted per /64', async () => {
      const client = fakeClient()
      const sibling = {
        'x-forwarded-for': (client['x-forwarded-for'] as string).replace(
          /::1$/,
          ':ffff:ffff:ffff:fffe',
        ),
      }
      for (let i = 0; i < 3; i++) assert.equal((await register(server, client)).status, 201)
      assert.equal((await register(server, sibling)).status, 429)
    })
  })

  describe('two instances sharing Redis', async () => {
    const available = await redisReachable()
    const required = process.env.REQUIRE_REDIS === '1'
    const skip = !available && !required
    if (!available && required) {
      it('Redis is required (REQUIRE_REDIS=1) but not reachable', () => {
        assert.fail(`no Redis at ${REDIS_URL}`)
      })
      return
    }
    let a: ServerProcess
    let b: ServerProcess
    before(async () => {
      if (skip) return
      const config = {
        rateLimit: {
          anonymousRegistrations: 4,
          windowSeconds: 60,
          store: REDIS_URL,
          trustedProxies: ['127.0.0.1'],
        },
      }
      a = await startServer(['--registration', 'open', '--store', 'memory'], { config })
      b = await startServer(['--registration', 'open', '--store', 'memory'], { config })
    })
    after(async () => {
      await a?.stop()
      await b?.stop()
    })

    it('the limit holds across instances', {
      skip: skip && `no Redis at ${REDIS_URL}; set REGISTRAR_TEST_REDIS_URL to run`,
    }, async () => {
      const client = fakeClient()
      const statuses = []
      for (const server of [a, b, a, b]) statuses.push((await register(server, client)).status)
      assert.deepEqual(statuses, [201, 201, 201, 201])
      assert.equal((await register(a, client)).status, 429)
      assert.equal((await register(b, client)).status, 429)
      // issue 12 item 8: the shared budget holds for Bearer requests too
      const bearer = { ...client, authorization: 'Bearer not-a-real-token' }
      assert.equal((await register(b, bearer)).status, 429)
    })
  })

  it('an unreachable Redis lets registrations through (the limiter fails open)', async () => {
    const server = await startServer(['--registration', 'open', '--store', 'memory'], {
      config: { rateLimit: { anonymousRegistrations: 1, store: 'redis://127.0.0.1:1' } },
    })
    try {
      const started = Date.now()
      assert.equal((await register(server)).status, 201)
      assert.equal((await register(server)).status, 201)
      assert.ok(Date.now() - started < 3000)
    } finally {
      await server.stop()
    }
  })
})
