import { BlockList, isIPv4, isIPv6 } from 'node:net'

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

/** One IP address range, as written in `rateLimit.trustedProxies` or `fetch.allowedAddresses`. */
export interface Cidr {
  address: string
  prefix: number
  family: 'ipv4' | 'ipv6'
}

/** The family of an address literal (no brackets; an IPv6 zone is refused), or undefined. */
function familyOf(ip: string): 'ipv4' | 'ipv6' | undefined {
  if (isIPv4(ip)) return 'ipv4'
  if (isIPv6(ip) && !ip.includes('%')) return 'ipv6'
  return undefined
}

function unbracketed(ip: string): string {
  return ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip
}

/** Parses an IPv4 or IPv6 literal (no brackets, no zone) into a 32- or 128-bit integer. */
export function parseIp(ip: string): { v6: boolean; bits: bigint } | undefined {
  const family = familyOf(ip)
  if (family === 'ipv4') {
    const parts = ip.split('.').map(Number)
    return {
      v6: false,
      bits: BigInt(((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!),
    }
  }
  if (family !== 'ipv6') return undefined
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
  const [address = '', len] = parts
  const family = familyOf(address)
  if (family === undefined) return undefined
  const max = family === 'ipv6' ? 128 : 32
  if (len !== undefined && !/^\d+$/.test(len)) return undefined
  const prefix = len === undefined ? max : Number(len)
  if (prefix > max) return undefined
  return { address, prefix, family }
}

/**
 * A set of CIDRs matched with Node's `net.BlockList`, one list per family: BlockList on its own
 * lets an IPv4 rule match the IPv4-mapped IPv6 form and the reverse, while here an address is
 * judged in its own family only (an IPv4-mapped address is special-use in itself, whatever it
 * embeds). Entries that do not parse are ignored; the configuration refuses them first.
 */
export class CidrSet {
  readonly #v4 = new BlockList()
  readonly #v6 = new BlockList()

  constructor(cidrs: readonly string[]) {
    for (const text of cidrs) {
      const cidr = parseCidr(text)
      if (cidr === undefined) continue
      ;(cidr.family === 'ipv4' ? this.#v4 : this.#v6).addSubnet(
        cidr.address,
        cidr.prefix,
        cidr.family,
      )
    }
  }

  /** Whether the address literal `ip` (brackets allowed) lies in one of the ranges. */
  has(ip: string): boolean {
    const address = unbracketed(ip)
    const family = familyOf(address)
    if (family === 'ipv4') return this.#v4.check(address, 'ipv4')
    if (family === 'ipv6') return this.#v6.check(address, 'ipv6')
    return false
  }
}

const SPECIAL_USE = new CidrSet([...SPECIAL_USE_V4, ...SPECIAL_USE_V6])
const NAT64 = new CidrSet(['64:ff9b::/96'])
const SIX_TO_FOUR = new CidrSet(['2002::/16'])

/**
 * True when `ip` (a literal, without brackets) is a special-use address: loopback, private,
 * link-local, unique-local, multicast, IPv4-mapped and the rest of RFC 6890. IPv6 forms that embed
 * an IPv4 address (NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by the embedded address.
 * Anything that does not parse as an address is reported as special-use (fail closed).
 */
export function isSpecialUseAddress(ip: string, allow: readonly string[] = []): boolean {
  const address = unbracketed(ip)
  const parsed = parseIp(address)
  if (!parsed) return true
  if (allow.length > 0 && inCidrs(address, allow)) return false
  if (SPECIAL_USE.has(address)) return true
  if (!parsed.v6) return false
  // RFC 6052 §2.2: the IPv4 address is the last 32 bits of the well-known NAT64 prefix
  if (NAT64.has(address)) return isSpecialUseAddress(v4FromBits(parsed.bits & 0xffffffffn), allow)
  // RFC 3056 §2: 2002:V4ADDR::/48
  if (SIX_TO_FOUR.has(address)) {
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
  const h = unbracketed(host)
  return isIPv4(h) || isIPv6(h)
}

// configured lists are frozen arrays: each is compiled into a BlockList once
const compiled = new WeakMap<readonly string[], CidrSet>()

/** True when the address `ip` lies in one of `cidrs` (addresses or `a.b.c.d/n`, `x::/n`). */
export function inCidrs(ip: string, cidrs: readonly string[]): boolean {
  let set = compiled.get(cidrs)
  if (set === undefined) {
    set = new CidrSet(cidrs)
    compiled.set(cidrs, set)
  }
  return set.has(ip)
}
