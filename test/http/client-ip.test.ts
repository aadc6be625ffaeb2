import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { clientIpOf, type PeerRequest } from '../../src/http/client-ip.js'

// Issue 12 item 21: one X-Forwarded-For rule (clientIpOf) for the node listener, Express and
// Fastify, where there were three copies.

function req(peer: string | undefined, xff?: string | string[]): PeerRequest {
  return {
    headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
    socket: { remoteAddress: peer },
  }
}

describe('clientIpOf (issue 12 item 21)', () => {
  it('without trusted proxies: the framework’s address, else the socket peer; X-Forwarded-For ignored', () => {
    assert.equal(clientIpOf(req('192.0.2.9', '203.0.113.7'), []), '192.0.2.9')
    assert.equal(clientIpOf(req('192.0.2.9', '203.0.113.7'), [], '198.51.100.4'), '198.51.100.4')
    assert.equal(clientIpOf(req('::ffff:192.0.2.9'), []), '192.0.2.9')
    assert.equal(clientIpOf(req(undefined), []), undefined)
  })

  it('with trusted proxies: the right-most X-Forwarded-For hop that is not a proxy', () => {
    const proxies = ['10.0.0.0/8']
    assert.equal(clientIpOf(req('10.1.1.1', '203.0.113.7, 10.2.2.2'), proxies), '203.0.113.7')
    // the framework's own answer is not used: Registrar's trustedProxies decide
    assert.equal(clientIpOf(req('10.1.1.1', '203.0.113.7'), proxies, '10.1.1.1'), '203.0.113.7')
    // repeated headers are one list (RFC 9110 §5.3)
    assert.equal(
      clientIpOf(req('::ffff:10.1.1.1', ['198.51.100.1', '203.0.113.7']), proxies),
      '203.0.113.7',
    )
    // a peer that is not a proxy cannot choose its address
    assert.equal(clientIpOf(req('192.0.2.9', '203.0.113.7'), proxies), '192.0.2.9')
  })

  it('the node listener, Express and Fastify adapters all go through it', () => {
    for (const file of ['src/app.ts', 'src/adapters/express.ts', 'src/adapters/fastify.ts']) {
      const text = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8')
      assert.match(text, /clientIpOf\(/, file)
      assert.doesNotMatch(text, /x-forwarded-for/i, `${file} reads no X-Forwarded-For itself`)
    }
  })
})
