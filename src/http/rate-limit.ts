import { RegistrationError } from '../core/errors.js'

/** One request counted against a key's window. */
export interface RateLimitResult {
  allowed: boolean
  /** Requests left in the current window. */
  remaining: number
  /** Seconds until the window resets. */
  resetSeconds: number
}

/**
 * A fixed-window request limit per key (the client IP), for anonymous `POST /register`
 * (RFC 7591 §3: open registration MAY be rate-limited; checklist R7591-3-d, P-14).
 */
export interface RateLimiter {
  readonly limit: number
  readonly windowSeconds: number
  hit(key: string): Promise<RateLimitResult>
  close(): Promise<void>
}

/** Per-process counters; right for one instance. */
export class MemoryRateLimiter implements RateLimiter {
  readonly limit: number
  readonly windowSeconds: number
  readonly #windows = new Map<string, { count: number; resetAt: number }>()
  readonly #now: () => number

  constructor(limit: number, windowSeconds: number, now: () => number = Date.now) {
    this.limit = limit
    this.windowSeconds = windowSeconds
    this.#now = now
  }

  async hit(key: string): Promise<RateLimitResult> {
    const now = this.#now()
    let w = this.#windows.get(key)
    if (!w || w.resetAt <= now) {
      if (this.#windows.size >= 100_000) this.#prune(now)
      w = { count: 0, resetAt: now + this.windowSeconds * 1000 }
      this.#windows.set(key, w)
    }
    w.count++
    return result(this.limit, w.count, w.resetAt - now)
  }

  #prune(now: number): void {
    for (const [k, w] of this.#windows) if (w.resetAt <= now) this.#windows.delete(k)
  }

  async close(): Promise<void> {
    this.#windows.clear()
  }
}

// INCR and set the expiry on the first hit, atomically; returns the count and the time left
const HIT_SCRIPT = `local c = redis.call('INCR', KEYS[1])
if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local t = redis.call('PTTL', KEYS[1])
if t < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); t = tonumber(ARGV[1]) end
return {c, t}`

/**
 * Counters shared by every instance through Redis (`rateLimit.store: redis://…`). If Redis does
 * not answer within a short timeout the request is let through and `onError` is told: an outage
 * of the limiter must not become an outage of registration.
 */
export async function createRedisRateLimiter(
  url: string,
  limit: number,
  windowSeconds: number,
  onError: (err: unknown) => void = () => {},
): Promise<RateLimiter> {
  const { Redis } = await import('ioredis')
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 1000,
    commandTimeout: 500,
    lazyConnect: true,
  })
  redis.on('error', onError)
  await redis.connect().catch(onError)
  const windowMs = windowSeconds * 1000
  return {
    limit,
    windowSeconds,
    async hit(key) {
      try {
        const [count, ttl] = (await redis.eval(
          HIT_SCRIPT,
          1,
          `registrar:ratelimit:${key}`,
          windowMs,
        )) as [number, number]
        return result(limit, count, ttl)
      } catch (err) {
        onError(err)
        return { allowed: true, remaining: limit, resetSeconds: windowSeconds }
      }
    },
    async close() {
      redis.disconnect()
    },
  }
}

function result(limit: number, count: number, msLeft: number): RateLimitResult {
  return {
    allowed: count <= limit,
    remaining: Math.max(0, limit - count),
    resetSeconds: Math.max(1, Math.ceil(msLeft / 1000)),
  }
}

/**
 * Counts one anonymous registration attempt; returns the `RateLimit` / `RateLimit-Policy` headers
 * (draft-ietf-httpapi-ratelimit-headers) or throws 429 with `Retry-After` (RFC 9110 §10.2.3).
 */
export async function limitAnonymousRegistration(
  limiter: RateLimiter,
  ip: string,
): Promise<Record<string, string>> {
  const r = await limiter.hit(`register:${ip}`)
  const headers = {
    'ratelimit-policy': `"anonymous-registration";q=${limiter.limit};w=${limiter.windowSeconds}`,
    ratelimit: `"anonymous-registration";r=${r.remaining};t=${r.resetSeconds}`,
  }
  if (!r.allowed) {
    throw new RegistrationError(
      'too_many_requests',
      `too many registrations from this address; retry in ${r.resetSeconds} seconds`,
      { headers: { ...headers, 'retry-after': String(r.resetSeconds) } },
    )
  }
  return headers
}
