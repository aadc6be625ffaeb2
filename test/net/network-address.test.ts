import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  CidrSet,
  inCidrs,
  isIpLiteral,
  isSpecialUseAddress,
  parseCidr,
  parseIp,
} from '../../src/net/network-address.js'

describe('isSpecialUseAddress (RFC 6890; RFC 7591 §5 outbound fetches; RCIMD-6.5-a)', () => {
  const special = [
    '0.0.0.0',
    '0.1.2.3',
    '10.0.0.1',
    '10.255.255.255',
    '100.64.0.1',
    '100.127.255.254',
    '127.0.0.1',
    '127.255.255.254',
    '169.254.169.254',
    '172.16.0.1',
    '172.31.255.255',
    '192.0.0.8',
    '192.0.2.1',
    '192.88.99.1',
    '192.168.0.1',
    '198.18.0.1',
    '198.19.255.255',
    '198.51.100.7',
    '203.0.113.9',
    '224.0.0.1',
    '239.255.255.250',
    '240.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    '[::1]',
    '::ffff:127.0.0.1',
    '::ffff:8.8.8.8', // IPv4-mapped: refused whatever the embedded address
    '::ffff:7f00:1',
    // issue 12 item 10: ::ffff:0:0/96 in every spelling, and the IPv4-translated ::ffff:0:0:0/96
    '0:0:0:0:0:ffff:7f00:1',
    '0000:0000:0000:0000:0000:FFFF:0808:0808',
    '::FFFF:169.254.169.254',
    '::ffff:0:7f00:1',
    '::ffff:0:8.8.8.8',
    '::127.0.0.1',
    '64:ff9b::10.0.0.1', // NAT64 of a private address
    '64:ff9b::a9fe:a9fe', // NAT64 of 169.254.169.254
    '64:ff9b:1::1',
    '100::1',
    '2001::1', // Teredo
    '2001:db8::1',
    '2002:a00:1::', // 6to4 of 10.0.0.1
    '2002:7f00:1::1', // 6to4 of 127.0.0.1
    'fc00::1',
    'fd12:3456:789a::1',
    'fe80::1',
    'febf::1',
    'fec0::1',
    'ff02::1',
  ]
  for (const ip of special) {
    it(`${ip} is special-use`, () => assert.equal(isSpecialUseAddress(ip), true))
  }

  const global = [
    '1.1.1.1',
    '8.8.8.8',
    '9.255.255.255',
    '11.0.0.0',
    '100.63.255.255',
    '100.128.0.0',
    '126.255.255.255',
    '128.0.0.0',
    '169.253.255.255',
    '172.15.255.255',
    '172.32.0.0',
    '192.167.255.255',
    '192.169.0.0',
    '198.17.255.255',
    '198.20.0.0',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2a00:1450:4001::200e',
    '2001:4860:4860::8888',
    '[2606:4700::1]',
    '64:ff9b::808:808', // NAT64 of 8.8.8.8
    '2002:808:808::1', // 6to4 of 8.8.8.8
  ]
  for (const ip of global) {
    it(`${ip} is not special-use`, () => assert.equal(isSpecialUseAddress(ip), false))
  }

  it('fails closed: anything that is not an address counts as special-use', () => {
    for (const v of [
      '',
      'localhost',
      'example.com',
      '1.2.3',
      '256.1.1.1',
      'fe80::1%eth0',
      '::g',
      '[::1',
    ]) {
      assert.equal(isSpecialUseAddress(v), true, v)
    }
  })

  it('an allow-list of CIDRs exempts exactly those ranges', () => {
    assert.equal(isSpecialUseAddress('10.1.2.3', ['10.0.0.0/8']), false)
    assert.equal(isSpecialUseAddress('11.1.2.3', ['10.0.0.0/8']), false)
    assert.equal(isSpecialUseAddress('192.168.1.1', ['10.0.0.0/8']), true)
    assert.equal(isSpecialUseAddress('fd00::5', ['fd00::/8']), false)
    assert.equal(isSpecialUseAddress('fe80::5', ['fd00::/8']), true)
    assert.equal(isSpecialUseAddress('127.0.0.1', ['127.0.0.1']), false)
    assert.equal(isSpecialUseAddress('127.0.0.2', ['127.0.0.1']), true)
    // the exemption also reaches an address embedded through NAT64
    assert.equal(isSpecialUseAddress('64:ff9b::a01:203', ['10.0.0.0/8']), false)
  })
})

describe('parseIp / parseCidr', () => {
  it('parses IPv4 and IPv6 (compressed, embedded dotted quad) into integers', () => {
    assert.deepEqual(parseIp('1.2.3.4'), { v6: false, bits: 0x01020304n })
    assert.deepEqual(parseIp('255.255.255.255'), { v6: false, bits: 0xffffffffn })
    assert.deepEqual(parseIp('::'), { v6: true, bits: 0n })
    assert.deepEqual(parseIp('::1'), { v6: true, bits: 1n })
    assert.deepEqual(parseIp('1::'), { v6: true, bits: 1n << 112n })
    assert.deepEqual(parseIp('::ffff:1.2.3.4'), parseIp('::ffff:102:304'))
    assert.deepEqual(parseIp('2001:db8:0:0:0:0:0:1'), parseIp('2001:db8::1'))
    assert.deepEqual(parseIp('FE80::1'), parseIp('fe80::1'))
  })

  it('refuses what is not an address', () => {
    for (const v of [
      '',
      '1.2.3',
      '1.2.3.4.5',
      '01.2.3.4',
      'a::b::c',
      'fe80::1%1',
      '::ffff:1.2.3.256',
    ]) {
      assert.equal(parseIp(v), undefined, v)
    }
  })

  it('parses CIDRs; a bare address is a single host', () => {
    assert.deepEqual(parseCidr('10.0.0.0/8'), { address: '10.0.0.0', prefix: 8, family: 'ipv4' })
    assert.deepEqual(parseCidr('10.0.0.1'), { address: '10.0.0.1', prefix: 32, family: 'ipv4' })
    assert.deepEqual(parseCidr('fd00::/8'), { address: 'fd00::', prefix: 8, family: 'ipv6' })
    assert.equal(parseCidr('::1')?.prefix, 128)
    assert.equal(parseCidr('0.0.0.0/0')?.prefix, 0)
  })

  it('refuses bad prefixes', () => {
    for (const v of [
      '10.0.0.0/33',
      '::/129',
      '10.0.0.0/',
      '10.0.0.0/-1',
      '10.0.0.0/8/8',
      '10.0.0.0/a',
      'x/8',
    ]) {
      assert.equal(parseCidr(v), undefined, v)
    }
  })

  it('a /0 range contains every address of its family, and only of its family', () => {
    assert.equal(isSpecialUseAddress('127.0.0.1', ['0.0.0.0/0']), false)
    assert.equal(isSpecialUseAddress('::1', ['0.0.0.0/0']), true)
    assert.equal(isSpecialUseAddress('::1', ['::/0']), false)
  })
})

describe('isIpLiteral', () => {
  it('tells address literals (with or without brackets) from DNS names', () => {
    for (const v of ['127.0.0.1', '::1', '[::1]', '[2001:db8::1]', '0.0.0.0']) {
      assert.equal(isIpLiteral(v), true, v)
    }
    for (const v of [
      'localhost',
      'example.com',
      '1.2.3',
      '[example.com]',
      '',
      '127.0.0.1.nip.io',
    ]) {
      assert.equal(isIpLiteral(v), false, v)
    }
  })
})

/**
 * The arithmetic CidrSet replaced (issue 12 item 21: CIDR matching with net.BlockList), kept here
 * as the reference the BlockList matcher must agree with.
 */
function referenceContains(cidr: string, ip: string): boolean {
  const [addr, len] = cidr.split('/')
  const net = parseIp(addr ?? '')
  const host = parseIp(ip)
  if (!net || !host || net.v6 !== host.v6) return false
  const width = host.v6 ? 128n : 32n
  const shift = width - BigInt(len === undefined ? width : Number(len))
  return net.bits >> shift === host.bits >> shift
}

describe('CidrSet: CIDR matching with net.BlockList (issue 12 item 21)', () => {
  it('agrees with the old arithmetic on the trusted-proxy and allow-list cases', () => {
    const cases: [string, string, boolean][] = [
      ['10.0.0.0/8', '10.255.0.1', true],
      ['10.0.0.0/8', '11.0.0.1', false],
      ['10.0.0.1/8', '10.9.9.9', true], // host bits set in the network: masked, as before
      ['127.0.0.1', '127.0.0.1', true],
      ['127.0.0.1', '127.0.0.2', false],
      ['0.0.0.0/0', '203.0.113.7', true],
      ['fd00::/8', 'fd12::1', true],
      ['fd00::/8', 'fe80::1', false],
      ['::/0', '2001:db8::1', true],
      ['2001:db8::/32', '[2001:db8::1]', true],
    ]
    for (const [cidr, ip, expected] of cases) {
      assert.equal(new CidrSet([cidr]).has(ip), expected, `${ip} in ${cidr}`)
      assert.equal(inCidrs(ip, [cidr]), expected, `inCidrs ${ip} in ${cidr}`)
    }
  })

  it('judges each address in its own family: IPv4-mapped forms do not match IPv4 rules', () => {
    // BlockList alone would say yes to all four
    assert.equal(inCidrs('::ffff:10.1.2.3', ['10.0.0.0/8']), false)
    assert.equal(inCidrs('::ffff:a01:203', ['10.0.0.0/8']), false)
    assert.equal(inCidrs('10.1.2.3', ['::ffff:0:0/96']), false)
    assert.equal(inCidrs('1.2.3.4', ['::/0']), false)
    // so an allow-listed private range does not open its IPv4-mapped form
    assert.equal(isSpecialUseAddress('::ffff:10.1.2.3', ['10.0.0.0/8']), true)
    assert.equal(isSpecialUseAddress('10.1.2.3', ['10.0.0.0/8']), false)
  })

  it('NAT64 and 6to4 are judged by the embedded IPv4 address, allow-list included', () => {
    assert.equal(isSpecialUseAddress('64:ff9b::7f00:1'), true) // NAT64 of 127.0.0.1
    assert.equal(isSpecialUseAddress('64:ff9b::127.0.0.1'), true)
    assert.equal(isSpecialUseAddress('64:ff9b::808:808'), false)
    assert.equal(isSpecialUseAddress('2002:c0a8:101::1'), true) // 6to4 of 192.168.1.1
    assert.equal(isSpecialUseAddress('2002:c0a8:101::1', ['192.168.0.0/16']), false)
    assert.equal(isSpecialUseAddress('2002:808:808::1'), false)
  })

  it('agrees with the old arithmetic on random addresses and prefixes', () => {
    const v4 = fc.ipV4()
    const v6 = fc.ipV6()
    const cidr = fc.oneof(
      fc.tuple(v4, fc.integer({ min: 0, max: 32 })),
      fc.tuple(v6, fc.integer({ min: 0, max: 128 })),
    )
    fc.assert(
      fc.property(cidr, fc.oneof(v4, v6), ([net, len], ip) => {
        const text = `${net}/${len}`
        assert.equal(new CidrSet([text]).has(ip), referenceContains(text, ip), `${ip} in ${text}`)
      }),
      { seed: 21, numRuns: 2000 },
    )
  })
})

describe('IPv4-mapped addresses are not unlocked by an IPv4 allow-list (issue 12 item 10)', () => {
  it('fetch.allowedAddresses 127.0.0.0/8 does not allow ::ffff:127.0.0.1', () => {
    assert.equal(isSpecialUseAddress('127.0.0.1', ['127.0.0.0/8']), false)
    assert.equal(isSpecialUseAddress('::ffff:127.0.0.1', ['127.0.0.0/8']), true)
    assert.equal(isSpecialUseAddress('::ffff:7f00:1', ['127.0.0.0/8']), true)
  })
})
