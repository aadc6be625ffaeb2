/** Seconds since the epoch, the unit of every time on the wire (RFC 7591 §3.2.1, RFC 7519 §2). */
export function epochSeconds(): number {
  return Math.floor(Date.now() / 1000)
}
