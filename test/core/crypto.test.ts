import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import {
  constantEquals,
  openSecret,
  randomToken,
  sealSecret,
  sha256,
} from '../../src/core/crypto.js'

describe('credentials (RFC 6749 §10.10; R7592-5-b)', () => {
  it('randomToken: 256 bits, base64url, never repeated', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 1000; i++) {
      const t = randomToken()
      assert.match(t, /^[A-Za-z0-9_-]{43}$/)
      assert.equal(Buffer.from(t, 'base64url').length, 32)
      seen.add(t)
    }
    assert.equal(seen.size, 1000)
    assert.equal(Buffer.from(randomToken(16), 'base64url').length, 16)
  })

  it('sha256: base64url SHA-256 of the UTF-8 text', () => {
    assert.equal(sha256('abc'), createHash('sha256').update('abc').digest('base64url'))
    assert.equal(sha256('abc'), 'ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0')
    assert.notEqual(sha256('é'), sha256('e\u0301'))
  })

  it('constantEquals: equality of any two strings, lengths included', () => {
    assert.equal(constantEquals('secret', 'secret'), true)
    assert.equal(constantEquals('secret', 'secreT'), false)
    assert.equal(constantEquals('secret', 'secret-longer'), false)
    assert.equal(constantEquals('', ''), true)
    assert.equal(constantEquals('', 'x'), false)
    assert.equal(constantEquals('é', 'e\u0301'), false)
  })

  it('sealSecret / openSecret: AES-256-GCM bound to its client, tamper-evident', () => {
    const key = Buffer.alloc(32, 9)
    const sealed = sealSecret('the-secret', key, 'client-a')
    assert.match(sealed, /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/)
    assert.ok(!sealed.includes('the-secret'))
    assert.notEqual(sealSecret('the-secret', key, 'client-a'), sealed, 'a fresh IV each time')
    assert.equal(openSecret(sealed, key, 'client-a'), 'the-secret')
    assert.throws(() => openSecret(sealed, key, 'client-b'), 'bound to the client id')
    assert.throws(() => openSecret(sealed, Buffer.alloc(32, 8), 'client-a'), 'wrong key')
    const [v, iv, tag, body] = sealed.split('.')
    const flipped = Buffer.from(body!, 'base64url')
    flipped[0]! ^= 1
    assert.throws(() =>
      openSecret([v, iv, tag, flipped.toString('base64url')].join('.'), key, 'client-a'),
    )
    assert.throws(() => openSecret(`v2.${iv}.${tag}.${body}`, key, 'client-a'), /format/)
    assert.throws(() => openSecret('garbage', key, 'client-a'), /format/)
  })

  it('issue 12 item 10: AES-GCM tags are the full 16 bytes; a truncated tag is refused', () => {
    const key = Buffer.alloc(32, 9)
    const sealed = sealSecret('the-secret', key, 'client-a')
    const [v, iv, tag, body] = sealed.split('.') as [string, string, string, string]
    assert.equal(Buffer.from(tag, 'base64url').length, 16)
    // GCM checks a short tag against the same prefix of the real one: without a fixed length,
    // 4 bytes of the genuine tag would open the secret (and a forger needs only 2^32 tries)
    for (const bytes of [4, 8, 12, 15]) {
      const short = Buffer.from(tag, 'base64url').subarray(0, bytes).toString('base64url')
      assert.throws(
        () => openSecret([v, iv, short, body].join('.'), key, 'client-a'),
        `${bytes} bytes`,
      )
    }
  })
})
