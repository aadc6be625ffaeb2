import { isIPv4, isIPv6 } from 'node:net'

/**
 * Special-use address ranges (RFC 6890 and the IANA special-purpose registries) that an outbound
 * fetch of a client- or issuer-supplied URL must never reach unless an operator allow-lists them:
 * loopback, private, shared, link-local, unique-local, multicast, documentation, benchmarking,
 * reserved. Guards against SSRF (Keycloak CVE-2026-1180 via jwks_uri; CIMD §6.5).
 */
const SPECIAL_USE_V4: readonly string[] = [
  '0.0.0.0/8', // "this network"
  '10.0.0.0/8', // private
  '100.64.0.0/10', // shared address space (CGN)
  '127.0.0.0/8', // loopback
  '169.254.0.0/16', // link-local, cloud metadata (169.254.169.254)
  '172.16.0.0/12', // private
  '192.0.0.0/24', // IETF protocol assignments
  '192.0.2.0/24', // TEST-NET-1
  '192.31.196.0/24', // AS112
  '192.52.193.0/24', // AMT
  '192.88.99.0/24', // 6to4 relay anycast
  '192.168.0.0/16', // private
  '192.175.48.0/24', // AS112
  '198.18.0.0/15', // benchmarking
  '198.51.100.0/24', // TEST-NET-2
  '203.0.113.0/24', // TEST-NET-3
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, and 255.255.255.255 broadcast
]

const SPECIAL_USE_V6: readonly string[] = [
  '::/128', // unspecified
  '::1/128', // loopback
  '::/96', // IPv4-compatible (deprecated)
  '::ffff:0:0/96', // IPv4-mapped: refused outright, whatever the embedded address
  '::ffff:0:0:0/96', // IPv4-translated (RFC 2765 §2.1, SIIT): a translator reaches the IPv4 address
  '64:ff9b:1::/48', // local-use NAT64
  '100::/64', // discard-only
  '2001::/23', // IETF protocol assignments (Teredo, ORCHID, …)
  '2001:db8::/32', // documentation
  '3fff::/20', // documentation
  '5f00::/16', // SRv6 SIDs
  'fc00::/7', // unique-local
  'fe80::/10', // link-local
  'fec0::/10', // site-local (deprecated)
  'ff00::/8', // multicast
]

interface Cidr {
  v6: boolean
  bits: bigint
  prefix: number
}

/** Parses an IPv4 or IPv6 literal (no brackets, no zone) into a 32- or 128-bit integer. */
export function parseIp(ip: string): { v6: boolean; bits: bigint } | undefined {
  if (isIPv4(ip)) {
    const parts = ip.split('.').map(Number)
    return {
      v6: false,
      bits: BigInt(((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!),
    }
  }
  if (!isIPv6(ip) || ip.includes('%')) return undefined
  let text = ip
  // a trailing dotted quad (::ffff:1.2.3.4) becomes two hex groups
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (quad) {
    const v4 = parseIp(quad[1]!)
    if (!v4) return undefined
    const n = Number(v4.bits)
    text = `${text.slice(0, -quad[1]!.length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined]
  const headGroups = head ? head.split(':') : []
  const tailGroups = tail ? tail.split(':') : []
  const fill = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length
  const groups = [...headGroups, ...Array<string>(fill).fill('0'), ...tailGroups]
  if (groups.length !== 8) return undefined
  let bits = 0n
  for (const g of groups) bits = (bits << 16n) | BigInt(Number.parseInt(g, 16))
  return { v6: true, bits }
}

/** Parses `a.b.c.d/n` or `x::y/n`; a bare address means a single host. */
export function parseCidr(text: string): Cidr | undefined {
  const parts = text.split('/')
  if (parts.length > 2) return undefined
  const [addr, len] = parts
  const ip = parseIp(addr ?? '')
  if (!ip) return undefined
  const max = ip.v6 ? 128 : 32
  const prefix = len === undefined ? max : Number(len)
  if (
    !Number.isInteger(prefix) ||
    prefix < 0 ||
    prefix > max ||
    (len !== undefined && !/^\d+$/.test(len))
  )
    return undefined
  return { v6: ip.v6, bits: ip.bits, prefix }
}

function contains(cidr: Cidr, ip: { v6: boolean; bits: bigint }): boolean {
  if (cidr.v6 !== ip.v6) return false
  const width = ip.v6 ? 128n : 32n
  const shift = width - BigInt(cidr.prefix)
  return cidr.bits >> shift === ip.bits >> shift
}

const V4_RANGES = SPECIAL_USE_V4.map((c) => parseCidr(c) as Cidr)
const V6_RANGES = SPECIAL_USE_V6.map((c) => parseCidr(c) as Cidr)
const NAT64 = parseCidr('64:ff9b::/96') as Cidr
const SIX_TO_FOUR = parseCidr('2002::/16') as Cidr

/**
 * True when `ip` (a literal, without brackets) is a special-use address: loopback, private,
 * link-local, unique-local, multicast, IPv4-mapped and the rest of RFC 6890. IPv6 forms that embed
 * an IPv4 address (NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by the embedded address.
 * Anything that does not parse as an address is reported as special-use (fail closed).
 */
export function isSpecialUseAddress(ip: string, allow: readonly string[] = []): boolean {
  const parsed = parseIp(ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip)
  if (!parsed) return true
  if (allow.length > 0 && inCidrs(ip, allow)) return false
  if (!parsed.v6) return V4_RANGES.some((r) => contains(r, parsed))
  if (V6_RANGES.some((r) => contains(r, parsed))) return true
  if (contains(NAT64, parsed)) {
    return isSpecialUseAddress(v4FromBits(parsed.bits & 0xffffffffn), allow)
  }
  if (contains(SIX_TO_FOUR, parsed)) {
    return isSpecialUseAddress(v4FromBits((parsed.bits >> 80n) & 0xffffffffn), allow)
  }
  return false
}

function v4FromBits(bits: bigint): string {
  const n = Number(bits)
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')
}

/** True for a literal IPv4 or IPv6 address (brackets allowed), as opposed to a DNS name. */
export function isIpLiteral(host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
  return isIPv4(h) || isIPv6(h)
}

/** True when the address `ip` lies in one of `cidrs` (addresses or `a.b.c.d/n`, `x::/n`). */
export function inCidrs(ip: string, cidrs: readonly string[]): boolean {
  const parsed = parseIp(ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip)
  if (!parsed) return false
  return cidrs.some((c) => {
    const cidr = parseCidr(c)
    return cidr !== undefined && contains(cidr, parsed)
  })
}
