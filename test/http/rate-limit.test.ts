import assert from 'node:assert/strict'
import { randomInt } from 'node:crypto'
import { createConnection } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { clientIp } from '../../src/http/client-ip.js'
import { MemoryRateLimiter } from '../../src/http/rate-limit.js'
import { type ServerProcess, startServer } from '../helpers.js'

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
  return { 'x-forwarded-for': `192.0.2.1, 2001:db8:${run.toString(16)}::${clients.toString(16)}` }
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

    it('requests carrying an initial access token are not counted as anonymous', async () => {
      const client = fakeClient()
      for (let i = 0; i < 3; i++) assert.equal((await register(server, client)).status, 201)
      const withToken = await register(server, {
        ...client,
        authorization: 'Bearer not-a-real-token',
      })
      assert.equal(withToken.status, 401)
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
