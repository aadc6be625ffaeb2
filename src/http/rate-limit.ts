import { importOptional } from '../config/optional-dependency.js'
import { RegistrationError } from '../core/errors.js'
import { parseIp } from '../net/network-address.js'

/** One request counted against a key's window. */
export interface RateLimitResult {
  allowed: boolean
  /** Requests left in the current window. */
  remaining: number
  /** Seconds until the window resets. */
  resetSeconds: number
}

/**
 * A fixed-window request limit per key (the client address), for anonymous `POST /register` and
 * failed initial-access-token attempts (RFC 7591 §3: open registration MAY be rate-limited;
 * R7591-3-d, RFC 7591 §5; issue 12 items 7, 8).
 */
export interface RateLimiter {
  readonly limit: number
  readonly windowSeconds: number
  /** IPv6 clients are counted per prefix of this length (an end site gets a /64 or more). */
  readonly ipv6Prefix?: number
  /** Counts one request against `key`. */
  hit(key: string): Promise<RateLimitResult>
  /** What `hit` would answer, without counting. */
  peek(key: string): Promise<RateLimitResult>
  close(): Promise<void>
}

/** Options of {@link MemoryRateLimiter}. */
export interface MemoryRateLimiterOptions {
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number
  /** Most keys kept; past it the oldest window is forgotten (default 100,000). */
  maxKeys?: number
  ipv6Prefix?: number
}

/** One key's window, in a list ordered by expiry (oldest first). */
interface Window {
  key: string
  count: number
  resetAt: number
  older: Window | undefined
  newer: Window | undefined
}

/**
 * Per-process counters; right for one instance. Bounded, and O(1) per request whatever the number
 * of keys: every window has the same length, so keeping windows in a list in the order they were
 * opened keeps them in expiry order. Each request closes at most two expired windows from the old
 * end (never a scan of every key), and at `maxKeys` the oldest window is forgotten early, which
 * can only let its key through sooner. (A Map's own insertion order is not enough: deleting from
 * its front leaves holes that every later iteration walks over until the table is rebuilt.)
 *
 * Why not rate-limiter-flexible: its memory store keeps a timer and a Date per key and no bound
 * on the number of keys, and its Redis store would replace the five lines of Lua below; the
 * headers and fail-open behaviour would still be ours.
 */
export class MemoryRateLimiter implements RateLimiter {
  readonly limit: number
  readonly windowSeconds: number
  readonly ipv6Prefix: number
  readonly #windows = new Map<string, Window>()
  #oldest: Window | undefined
  #newest: Window | undefined
  readonly #now: () => number
  readonly #maxKeys: number

  constructor(
    limit: number,
    windowSeconds: number,
    options: MemoryRateLimiterOptions | (() => number) = {},
  ) {
    const o = typeof options === 'function' ? { now: options } : options
    this.limit = limit
    this.windowSeconds = windowSeconds
    this.#now = o.now ?? Date.now
    this.#maxKeys = Math.max(1, o.maxKeys ?? 100_000)
    this.ipv6Prefix = o.ipv6Prefix ?? 64
  }

  /** Number of windows held; for tests and metrics. */
  get size(): number {
    return this.#windows.size
  }

  async hit(key: string): Promise<RateLimitResult> {
    const now = this.#now()
    for (let i = 0; i < 2 && this.#oldest && this.#oldest.resetAt <= now; i++) {
      this.#remove(this.#oldest)
    }
    let w = this.#windows.get(key)
    if (!w || w.resetAt <= now) {
      if (w) this.#remove(w)
      else if (this.#windows.size >= this.#maxKeys && this.#oldest) this.#remove(this.#oldest)
      w = {
        key,
        count: 0,
        resetAt: now + this.windowSeconds * 1000,
        older: this.#newest,
        newer: undefined,
      }
      if (this.#newest) this.#newest.newer = w
      else this.#oldest = w
      this.#newest = w
      this.#windows.set(key, w)
    }
    w.count++
    return result(this.limit, w.count, w.resetAt - now)
  }

  async peek(key: string): Promise<RateLimitResult> {
    const now = this.#now()
    const w = this.#windows.get(key)
    if (!w || w.resetAt <= now) {
      return { allowed: true, remaining: this.limit, resetSeconds: this.windowSeconds }
    }
    return peekResult(this.limit, w.count, w.resetAt - now)
  }

  #remove(w: Window): void {
    if (w.older) w.older.newer = w.newer
    else this.#oldest = w.newer
    if (w.newer) w.newer.older = w.older
    else this.#newest = w.older
    this.#windows.delete(w.key)
  }

  async close(): Promise<void> {
    this.#windows.clear()
    this.#oldest = undefined
    this.#newest = undefined
  }
}

// INCR and set the expiry on the first hit, atomically; returns the count and the time left
const HIT_SCRIPT = `local c = redis.call('INCR', KEYS[1])
if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local t = redis.call('PTTL', KEYS[1])
if t < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); t = tonumber(ARGV[1]) end
return {c, t}`

// the count and time left of a window, without counting
const PEEK_SCRIPT = `local c = tonumber(redis.call('GET', KEYS[1]) or '0')
return {c, redis.call('PTTL', KEYS[1])}`

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
  options: { ipv6Prefix?: number } = {},
): Promise<RateLimiter> {
  const { Redis } = await importOptional<typeof import('ioredis')>(
    'ioredis',
    'rateLimit.store',
    'a redis:// rate-limit store',
  )
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
  const failOpen = { allowed: true, remaining: limit, resetSeconds: windowSeconds }
  return {
    limit,
    windowSeconds,
    ipv6Prefix: options.ipv6Prefix ?? 64,
    async peek(key) {
      try {
        const [count, ttl] = (await redis.eval(PEEK_SCRIPT, 1, `registrar:ratelimit:${key}`)) as [
          number,
          number,
        ]
        return ttl < 0 ? failOpen : peekResult(limit, count, ttl)
      } catch (err) {
        onError(err)
        return failOpen
      }
    },
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
        return failOpen
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

/** Whether one more request would be allowed, after `count` in the window. */
function peekResult(limit: number, count: number, msLeft: number): RateLimitResult {
  return { ...result(limit, count, msLeft), allowed: count < limit }
}

/**
 * The key an address is counted under: an IPv4 address as is (IPv4-mapped IPv6 `::ffff:0:0/96`
 * too, whatever its spelling), an IPv6 address by its `/ipv6Prefix` network — one end site
 * holds at least a /64 (RFC 6177), so counting single IPv6 addresses would give every client
 * 2^64 budgets.
 */
export function rateLimitKey(ip: string, ipv6Prefix = 64): string {
  const parsed = parseIp(ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip)
  if (!parsed) return ip
  if (!parsed.v6) return ip
  if (parsed.bits >> 32n === 0xffffn) {
    const n = Number(parsed.bits & 0xffffffffn)
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')
  }
  const prefix = BigInt(Math.min(128, Math.max(0, ipv6Prefix)))
  const network = (parsed.bits >> (128n - prefix)) << (128n - prefix)
  const groups: string[] = []
  for (let i = 7; i >= 0; i--) groups.push(((network >> BigInt(i * 16)) & 0xffffn).toString(16))
  return `${groups.join(':')}/${prefix}`
}

function headersOf(limiter: RateLimiter, r: RateLimitResult): Record<string, string> {
  return {
    'ratelimit-policy': `"anonymous-registration";q=${limiter.limit};w=${limiter.windowSeconds}`,
    ratelimit: `"anonymous-registration";r=${r.remaining};t=${r.resetSeconds}`,
  }
}

function tooMany(headers: Record<string, string>, r: RateLimitResult): RegistrationError {
  return new RegistrationError(
    'too_many_requests',
    `too many registrations from this address; retry in ${r.resetSeconds} seconds`,
    { headers: { ...headers, 'retry-after': String(r.resetSeconds) } },
  )
}

function keyOf(limiter: RateLimiter, ip: string): string {
  return `register:${rateLimitKey(ip, limiter.ipv6Prefix)}`
}

/**
 * Counts one anonymous registration attempt; returns the `RateLimit` / `RateLimit-Policy` headers
 * (draft-ietf-httpapi-ratelimit-headers) or throws 429 with `Retry-After` (RFC 9110 §10.2.3).
 */
export async function limitAnonymousRegistration(
  limiter: RateLimiter,
  ip: string,
): Promise<Record<string, string>> {
  const r = await limiter.hit(keyOf(limiter, ip))
  const headers = headersOf(limiter, r)
  if (!r.allowed) throw tooMany(headers, r)
  return headers
}

/**
 * Before an initial access token is checked: 429 when the address has used up its budget, so that
 * a Bearer header does not bypass the limit (issue 12 item 8). A valid token is then not counted.
 */
export async function limitTokenAttempt(limiter: RateLimiter, ip: string): Promise<void> {
  const r = await limiter.peek(keyOf(limiter, ip))
  if (!r.allowed) throw tooMany(headersOf(limiter, r), r)
}

/** A failed initial-access-token attempt counts against the address like an anonymous request. */
export async function countFailedTokenAttempt(limiter: RateLimiter, ip: string): Promise<void> {
  await limiter.hit(keyOf(limiter, ip))
}
