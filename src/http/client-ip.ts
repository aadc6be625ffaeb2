import { inCidrs } from '../net/network-address.js'

/** What {@link clientIpOf} reads of a `node:http` request (Express's and Fastify's raw one too). */
export interface PeerRequest {
  readonly headers: { readonly [name: string]: string | string[] | undefined }
  readonly socket: { readonly remoteAddress?: string | undefined }
}

/**
 * The client address of a `node:http` request, for the per-IP limit on anonymous registration
 * (RFC 7591 §3): with `rateLimit.trustedProxies`, the socket peer resolved through
 * `X-Forwarded-For` ({@link clientIp}); without, the address the framework already found
 * (`frameworkIp`: Express's `req.ip`, Fastify's `request.ip`, which follow their own proxy
 * settings), or else the socket peer. The node listener, Express and Fastify adapters all use it.
 */
export function clientIpOf(
  req: PeerRequest,
  trustedProxies: readonly string[],
  frameworkIp?: string,
): string | undefined {
  if (trustedProxies.length === 0 && frameworkIp !== undefined) {
    return clientIp(frameworkIp, undefined, [])
  }
  const xff = req.headers['x-forwarded-for']
  return clientIp(
    req.socket.remoteAddress,
    Array.isArray(xff) ? xff.join(',') : xff,
    trustedProxies,
  )
}

/**
 * The client address of a request: the socket peer, or — when the peer is a trusted proxy
 * (`rateLimit.trustedProxies`) — the right-most `X-Forwarded-For` entry that is not itself a
 * trusted proxy. A client that is not behind a trusted proxy cannot choose its address.
 */
export function clientIp(
  peer: string | undefined,
  forwardedFor: string | undefined,
  trustedProxies: readonly string[],
): string | undefined {
  if (peer === undefined) return undefined
  let ip = unmapped(peer)
  if (trustedProxies.length === 0 || forwardedFor === undefined || !inCidrs(ip, trustedProxies))
    return ip
  const hops = forwardedFor
    .split(',')
    .map((h) => unmapped(h.trim()))
    .filter(Boolean)
  for (let i = hops.length - 1; i >= 0; i--) {
    ip = hops[i] as string
    if (!inCidrs(ip, trustedProxies)) return ip
  }
  return ip
}

/** `::ffff:192.0.2.1` (an IPv4 peer on a dual-stack socket) → `192.0.2.1`. */
function unmapped(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip
}
