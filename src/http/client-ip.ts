import { inCidrs } from '../core/network-address.js'

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
