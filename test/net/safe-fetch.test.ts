import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { OutboundFetchError } from '../../src/core/outbound-fetch.js'
import { createSafeFetch, type SafeFetchOptions } from '../../src/net/safe-fetch.js'
import {
  selfSignedCertificate,
  startConnectionCounter,
  startTlsServer,
  type TlsServer,
} from '../tls-helpers.js'

// ROIDR-5-d, RCIMD-6.5-a: every refused fetch below is checked against a local listener that
// counts connections, proving that no connection was made.
describe('safe outbound fetch (SSRF matrix)', () => {
  const tls = selfSignedCertificate()
  let counter: Awaited<ReturnType<typeof startConnectionCounter>>
  let counter6: Awaited<ReturnType<typeof startConnectionCounter>> | undefined
  let good: TlsServer
  let slowServer: TlsServer
  const resolveTable: Record<string, string> = {
    'evil.test': '127.0.0.1',
    'metadata.test': '169.254.169.254',
    'mapped.test': '::ffff:127.0.0.1',
    'issuer.test': '127.0.0.2',
  }
  const options = (extra: Partial<SafeFetchOptions> = {}): SafeFetchOptions => ({
    timeoutMs: 1500,
    maxBytes: 1024,
    maxRedirects: 0,
    allowedAddresses: ['127.0.0.2/32'],
    ca: tls.cert,
    resolve: async (host) => {
      const address = resolveTable[host]
      if (!address) throw new Error(`ENOTFOUND ${host}`)
      return [{ address, family: address.includes(':') ? 6 : 4 }]
    },
    ...extra,
  })

  before(async () => {
    counter = await startConnectionCounter('127.0.0.1')
    try {
      counter6 = await startConnectionCounter('::1')
    } catch {
      counter6 = undefined // no IPv6 loopback on this machine
    }
    good = await startTlsServer(tls, (req, res) => {
      if (req.url === '/jwks') {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end('{"keys":[]}')
      } else if (req.url === '/redirect-private') {
        res.writeHead(302, { location: `https://127.0.0.1:${counter.port}/x` })
        res.end()
      } else if (req.url === '/redirect-good') {
        res.writeHead(302, { location: '/jwks' })
        res.end()
      } else if (req.url === '/huge') {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(`"${'a'.repeat(100_000)}"`)
      } else if (req.url === '/post' && req.method === 'POST') {
        let received = ''
        req.on('data', (d) => {
          received += d
        })
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/json' })
          res.end(JSON.stringify({ received, type: req.headers['content-type'] }))
        })
      } else if (req.url === '/huge-chunked') {
        res.writeHead(200, { 'content-type': 'application/json' })
        const chunk = 'a'.repeat(512)
        for (let i = 0; i < 20; i++) res.write(chunk)
        res.end()
      } else {
        res.writeHead(404)
        res.end()
      }
    })
    slowServer = await startTlsServer(tls, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"keys":')
      // never finishes: the deadline must cut it off
    })
  })
  after(async () => {
    await counter.close()
    await counter6?.close()
    await good.close()
    await slowServer.close()
    tls.cleanup()
  })

  async function refused(url: string, pattern: RegExp, extra: Partial<SafeFetchOptions> = {}) {
    const before4 = counter.connections()
    const before6 = counter6?.connections() ?? 0
    const fetch = createSafeFetch(options(extra))
    await assert.rejects(fetch(url), (err: unknown) => {
      assert.ok(err instanceof OutboundFetchError, `expected OutboundFetchError, got ${err}`)
      assert.match(err.reason, pattern)
      return true
    })
    assert.equal(counter.connections(), before4, 'a connection reached the IPv4 loopback listener')
    assert.equal(
      counter6?.connections() ?? 0,
      before6,
      'a connection reached the IPv6 loopback listener',
    )
  }

  it('OIDC Back-Channel Logout §2.5: a POST sends its body; a redirect answering a POST is never followed', async () => {
    const fetch = createSafeFetch(options({ maxRedirects: 3 }))
    const res = await fetch(`${good.origin}/post`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'logout_token=abc',
    })
    assert.deepEqual(await res.json(), {
      received: 'logout_token=abc',
      type: 'application/x-www-form-urlencoded',
    })
    await assert.rejects(
      fetch(`${good.origin}/redirect-good`, { method: 'POST', body: 'x=1' }),
      /redirects are not followed/,
    )
  })

  it('RCIMD-6.5-a: 127.0.0.1 literal is refused without connecting', async () => {
    await refused(`https://127.0.0.1:${counter.port}/`, /special-use/)
  })
  it('RCIMD-6.5-a: localhost is refused by name', async () => {
    await refused(`https://localhost:${counter.port}/`, /localhost/)
  })
  it('RCIMD-6.5-a: [::1] is refused', async () => {
    await refused(`https://[::1]:${counter6?.port ?? counter.port}/`, /special-use/)
  })
  it('RCIMD-6.5-a: IPv4-mapped [::ffff:127.0.0.1] is refused', async () => {
    await refused(`https://[::ffff:127.0.0.1]:${counter.port}/`, /special-use/)
  })
  it('RCIMD-6.5-a: 10/8 and 169.254.169.254 (cloud metadata) are refused', async () => {
    await refused('https://10.1.2.3/', /special-use/)
    await refused('https://169.254.169.254/latest/meta-data/', /special-use/)
  })
  it('RCIMD-6.5-a: a name that resolves to loopback is refused after resolution', async () => {
    await refused(
      `https://evil.test:${counter.port}/`,
      /resolves to a loopback, private or special-use/,
    )
    await refused(`https://mapped.test:${counter.port}/`, /resolves to/)
    await refused('https://metadata.test/', /resolves to/)
  })
  it('issue 12 item 10: a URL with user information is refused, even to an allowed host', async () => {
    const { host } = new URL(good.origin)
    for (const userinfo of ['user:secret@', 'user@', ':secret@']) {
      await refused(`https://${userinfo}${host}/jwks`, /must not contain user information/)
    }
    // the same URL without it is fetched
    const fetch = createSafeFetch(options())
    assert.equal((await fetch(`${good.origin}/jwks`)).status, 200)
  })
  it('ROIDR-5-d: http is refused', async () => {
    await refused(`http://issuer.test:${good.port}/jwks`, /https/)
  })
  it('ROIDR-5-d: a redirect to a private address is refused without connecting to it', async () => {
    await refused(`${good.origin}/redirect-private`, /redirects are not followed/)
    await refused(`${good.origin}/redirect-private`, /special-use/, { maxRedirects: 3 })
  })
  it('follows an allowed redirect when maxRedirects permits', async () => {
    const fetch = createSafeFetch(options({ maxRedirects: 1 }))
    const res = await fetch(`${good.origin}/redirect-good`)
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { keys: [] })
  })
  it('RCIMD-6.6-a: a huge body is cut off at maxBytes (Content-Length and chunked)', async () => {
    await refused(`${good.origin}/huge`, /larger than 1024 bytes/)
    await refused(`${good.origin}/huge-chunked`, /larger than 1024 bytes/)
  })
  it('ROIDR-5-d: a slow body hits the deadline', async () => {
    const started = Date.now()
    await refused(`${slowServer.origin}/`, /did not answer within 1500 ms/)
    assert.ok(Date.now() - started < 4000)
  })
  it('fetches an allow-listed https URL, by address and by name', async () => {
    const fetch = createSafeFetch(options())
    const a = await fetch(`${good.origin}/jwks`)
    assert.equal(a.status, 200)
    const b = await fetch(`https://issuer.test:${good.port}/jwks`)
    assert.deepEqual(await b.json(), { keys: [] })
  })
  it('the same host is refused once it is no longer allow-listed', async () => {
    await refused(`${good.origin}/jwks`, /special-use/, { allowedAddresses: [] })
  })
  it('TLS certificates are verified (no trust anchor, no fetch)', async () => {
    const fetch = createSafeFetch({ ...options(), ca: undefined } as SafeFetchOptions)
    await assert.rejects(fetch(`${good.origin}/jwks`), /TLS certificate verification failed/)
  })
})
