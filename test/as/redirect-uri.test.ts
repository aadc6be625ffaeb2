import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { matchRedirectUri } from '../../src/as/redirect-uri.js'
import type { RegisteredClient } from '../../src/as/types.js'

function client(...redirect_uris: string[]): RegisteredClient {
  return {
    client_id: 'c',
    client_id_issued_at: 1,
    metadata: {
      redirect_uris,
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      application_type: 'native',
    },
    source: 'registration',
  }
}

describe('matchRedirectUri (RFC 6749 §3.1.2, RFC 8252 §7.3; docs/design-decisions.md)', () => {
  it('AS-9700-2.1-a AS-6749-3.1.2.3-a: exact string match; no normalisation of any kind', () => {
    const c = client('https://c.example/cb', 'https://c.example/other?x=1')
    assert.equal(matchRedirectUri(c, 'https://c.example/cb'), 'https://c.example/cb')
    assert.equal(matchRedirectUri(c, 'https://c.example/other?x=1'), 'https://c.example/other?x=1')
    for (const near of [
      'https://c.example/cb/',
      'https://C.example/cb',
      'HTTPS://c.example/cb',
      'https://c.example:443/cb',
      'https://c.example/cb?x=1',
      'https://c.example/cb#f',
      'https://c.example/%63b',
      'https://c.example/other?x=1&y=2',
      'https://c.example/other',
      'https://c.example/cb ',
      ' https://c.example/cb',
      'https://user@c.example/cb',
      'https://c.example/CB',
      '',
    ]) {
      assert.equal(matchRedirectUri(c, near), undefined, near)
    }
  })

  it('AS-8252-7.3-a: http on 127.0.0.1 and [::1] matches on any port, with or without a registered port', () => {
    const c = client('http://127.0.0.1/callback', 'http://[::1]:8080/cb?x=1')
    assert.equal(
      matchRedirectUri(c, 'http://127.0.0.1:53123/callback'),
      'http://127.0.0.1:53123/callback',
    )
    assert.equal(matchRedirectUri(c, 'http://127.0.0.1/callback'), 'http://127.0.0.1/callback')
    assert.equal(matchRedirectUri(c, 'http://[::1]:1/cb?x=1'), 'http://[::1]:1/cb?x=1')
    assert.equal(matchRedirectUri(c, 'http://[::1]/cb?x=1'), 'http://[::1]/cb?x=1')
    assert.equal(matchRedirectUri(c, 'http://[::1]:65535/cb?x=1'), 'http://[::1]:65535/cb?x=1')
    // the rest must stay identical
    for (const uri of [
      'http://127.0.0.1:53123/other',
      'http://127.0.0.1:53123/callback/',
      'http://127.0.0.1:53123/callback?x=1',
      'http://127.0.0.1:53123/Callback',
      'http://[::1]:8080/cb',
      'http://[::1]:8080/cb?x=2',
    ]) {
      assert.equal(matchRedirectUri(c, uri), undefined, uri)
    }
  })

  it('AS-8252-8.4-a: the path is required too; port alone is the exception', () => {
    const c = client('http://127.0.0.1:8080/cb')
    assert.equal(matchRedirectUri(c, 'http://127.0.0.1:8080/'), undefined)
    assert.equal(matchRedirectUri(c, 'http://127.0.0.1:8080'), undefined)
    assert.equal(matchRedirectUri(c, 'http://127.0.0.1:9090/cb'), 'http://127.0.0.1:9090/cb')
  })

  it('AS-BP-04: localhost gets the any-port rule; hosts never cross; https gets none', () => {
    const c = client('http://localhost/cb')
    assert.equal(matchRedirectUri(c, 'http://localhost:6274/cb'), 'http://localhost:6274/cb')
    for (const uri of [
      'http://127.0.0.1:6274/cb',
      'http://[::1]:6274/cb',
      'https://localhost:6274/cb',
      'https://localhost/cb',
      'http://LOCALHOST:6274/cb',
      'http://localhost.:6274/cb',
      'http://127.0.0.2:6274/cb',
    ]) {
      assert.equal(matchRedirectUri(c, uri), undefined, uri)
    }
    const ip = client('http://127.0.0.1/cb')
    assert.equal(matchRedirectUri(ip, 'http://localhost:6274/cb'), undefined)
    const secure = client('https://localhost:8443/cb')
    assert.equal(matchRedirectUri(secure, 'https://localhost:9443/cb'), undefined)
    assert.equal(matchRedirectUri(secure, 'https://localhost:8443/cb'), 'https://localhost:8443/cb')
  })

  it('AS-BP-04: the loopback rule holds for every client, not only native ones', () => {
    const web = client('http://localhost:3000/cb')
    ;(web.metadata as { application_type: string }).application_type = 'web'
    assert.equal(matchRedirectUri(web, 'http://localhost:4000/cb'), 'http://localhost:4000/cb')
  })

  it('AS-8252-7.3-a: a loopback URI in disguise is no loopback URI (userinfo, bad or empty ports)', () => {
    const c = client('http://127.0.0.1/cb')
    for (const uri of [
      'http://evil@127.0.0.1:1234/cb',
      'http://127.0.0.1:/cb',
      'http://127.0.0.1:0/cb',
      'http://127.0.0.1:65536/cb',
      'http://127.0.0.1:080/cb',
      'http://127.0.0.1:123456/cb',
      'http://127.0.0.1:12a/cb',
      'http://127.0.0.1.evil.example:80/cb',
      'http://127.0.0.1:80@evil.example/cb',
      'http://127.0.0.1:8080\n/cb',
    ]) {
      assert.equal(matchRedirectUri(c, uri), undefined, JSON.stringify(uri))
    }
  })

  it('AS-6749-3.1.2.3-b: omitted, the one registered URI is used; with several, nothing', () => {
    assert.equal(
      matchRedirectUri(client('https://c.example/cb'), undefined),
      'https://c.example/cb',
    )
    assert.equal(
      matchRedirectUri(client('https://c.example/cb', 'https://c.example/2'), undefined),
      undefined,
    )
    assert.equal(matchRedirectUri(client(), undefined), undefined)
    assert.equal(matchRedirectUri(client(), 'https://c.example/cb'), undefined)
  })

  it('AS-BP-05: omitted, a single port-less loopback URI is not used (its port is unknown)', () => {
    assert.equal(matchRedirectUri(client('http://127.0.0.1/cb'), undefined), undefined)
    assert.equal(matchRedirectUri(client('http://localhost/cb'), undefined), undefined)
    assert.equal(
      matchRedirectUri(client('http://127.0.0.1:8080/cb'), undefined),
      'http://127.0.0.1:8080/cb',
    )
  })

  it('a client without redirect_uris matches nothing; a non-string never throws', () => {
    const bare = client()
    delete (bare.metadata as { redirect_uris?: string[] }).redirect_uris
    assert.equal(matchRedirectUri(bare, undefined), undefined)
    assert.equal(matchRedirectUri(bare, 'https://c.example/cb'), undefined)
    assert.equal(matchRedirectUri(client('https://c.example/cb'), 42 as never), undefined)
  })
})
