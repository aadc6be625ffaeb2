import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  isIpLiteral,
  isSpecialUseAddress,
  parseCidr,
  parseIp,
} from '../../src/core/network-address.js'

describe('isSpecialUseAddress (RFC 6890; design §4 outbound fetches; RCIMD-6.5-a)', () => {
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
    assert.deepEqual(parseCidr('10.0.0.0/8'), { v6: false, bits: 0x0a000000n, prefix: 8 })
    assert.deepEqual(parseCidr('10.0.0.1'), { v6: false, bits: 0x0a000001n, prefix: 32 })
    assert.deepEqual(parseCidr('fd00::/8'), { v6: true, bits: 0xfdn << 120n, prefix: 8 })
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

describe('IPv4-mapped addresses are not unlocked by an IPv4 allow-list (issue 12 item 10)', () => {
  it('fetch.allowedAddresses 127.0.0.0/8 does not allow ::ffff:127.0.0.1', () => {
    assert.equal(isSpecialUseAddress('127.0.0.1', ['127.0.0.0/8']), false)
    assert.equal(isSpecialUseAddress('::ffff:127.0.0.1', ['127.0.0.0/8']), true)
    assert.equal(isSpecialUseAddress('::ffff:7f00:1', ['127.0.0.0/8']), true)
  })
})
