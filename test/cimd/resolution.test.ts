import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { ClientRegistryEvents } from '../../src/as/client-registry.js'
import { MemoryStore } from '../../src/storage/memory.js'
import { assertion, JWT_BEARER, keyPair } from '../as/assertions.js'
import { makeRegistrar } from '../helpers.js'
import { startConnectionCounter } from '../tls-helpers.js'
import {
  claudeShapedDocument,
  type DocumentServer,
  startDocumentServer,
  vscodeShapedDocument,
} from './fixtures.js'

type Refusal = ClientRegistryEvents['metadata_document.refused'][0]

let docs: DocumentServer
before(async () => {
  docs = await startDocumentServer()
})
after(() => docs.stop())

/** A Registrar with CIMD on, trusting the fixture's CA and allowing 127.0.0.2 (tests only). */
function cimdRegistrar(
  extra: Record<string, unknown> = {},
  options: { clock?: () => number; store?: MemoryStore } = {},
) {
  const logs: { level: string; obj: Record<string, unknown>; msg?: string }[] = []
  const logger = {
    info: (obj: object, msg?: string) => logs.push({ level: 'info', obj: obj as never, msg }),
    warn: (obj: object, msg?: string) => logs.push({ level: 'warn', obj: obj as never, msg }),
    error: (obj: object, msg?: string) => logs.push({ level: 'error', obj: obj as never, msg }),
  }
  const { clientIdMetadataDocuments, ...rest } = extra as {
    clientIdMetadataDocuments?: Record<string, unknown>
  }
  const made = makeRegistrar(
    {
      clientIdMetadataDocuments: { enabled: true, timeoutMs: 1500, ...clientIdMetadataDocuments },
      fetch: { allowedAddresses: ['127.0.0.2'], caFile: docs.caFile },
      ...rest,
    },
    {
      logger,
      ...(options.clock && { clock: options.clock }),
      ...(options.store && { store: options.store }),
    },
  )
  const refusals: Refusal[] = []
  made.app.clientRegistry.on('metadata_document.refused', (e) => refusals.push(e))
  return { ...made, logs, refusals }
}

let n = 0
const path = (name: string) => `/${name}-${++n}.json`

describe('CIMD resolution through getClient (issue 11)', () => {
  it('CIMD-5-a, CIMD-10.1-a: a VS Code-shaped document (> 5 KiB) resolves on first use and is served from the cache afterwards', async () => {
    const p = path('vscode')
    const url = docs.json(p, vscodeShapedDocument())
    const { app } = cimdRegistrar()
    const size = Buffer.byteLength(JSON.stringify({ client_id: url, ...vscodeShapedDocument() }))
    assert.ok(size > 5120, `document is ${size} bytes`)
    const client = await app.getClient(url)
    assert.equal(client?.client_id, url)
    assert.equal(client?.source, 'metadata_document')
    assert.equal(client?.metadata.client_name, 'Visual Studio Code')
    assert.equal(client?.metadata.token_endpoint_auth_method, 'none')
    assert.equal(client?.metadata.application_type, 'native')
    assert.equal(
      (client?.metadata as Record<string, unknown> | undefined)?.x_vscode_release_notes,
      undefined,
    )
    assert.equal(await app.getClient(url), client)
    assert.equal(docs.hits(p), 1)
    // CIMD-BP-04: Accept sent, no cookie, no authorization
    const request = docs.requests.find((r) => r.path === p)
    assert.equal(request?.headers.accept, 'application/json')
    assert.equal(request?.headers.cookie, undefined)
    assert.equal(request?.headers.authorization, undefined)
    // the store of record holds the copy (§11 D-10)
    const stored = await app.store.findMetadataDocument(url)
    assert.equal(stored?.metadata?.client_name, 'Visual Studio Code')
    assert.ok((stored?.bytes ?? 0) > 5120)
    await app.close()
  })

  it('D-3, CIMD-6-d, CIMD-BP-19: a claude.ai-shaped document (> 5 KiB) resolves as a public client whose port-less loopback redirects match any port', async () => {
    const p = path('claude')
    const document = claudeShapedDocument()
    const url = docs.json(p, document)
    const size = Buffer.byteLength(JSON.stringify({ client_id: url, ...document }))
    assert.ok(size > 5120, `document is ${size} bytes`)
    const { app, refusals } = cimdRegistrar()
    const client = await app.getClient(url)
    assert.ok(client, JSON.stringify(refusals))
    assert.equal(client.metadata.token_endpoint_auth_method, 'none')
    assert.equal(
      app.matchRedirectUri(client, 'http://localhost:53100/callback'),
      'http://localhost:53100/callback',
    )
    assert.equal(app.matchRedirectUri(client, 'http://localhost:53100/other'), undefined)
    assert.equal(
      app.matchRedirectUri(client, 'https://claude.ai/api/mcp/auth_callback/'),
      undefined,
    )
    assert.equal(
      app.matchRedirectUri(client, 'https://claude.ai/api/mcp/auth_callback'),
      'https://claude.ai/api/mcp/auth_callback',
    )
    await app.close()
  })

  it('CIMD-6-a: a minimal public client authenticates with client_id only (none)', async () => {
    const url = docs.json(path('public'), { redirect_uris: ['https://app.example/cb'] })
    const { app } = cimdRegistrar()
    const authenticated = await app.authenticateClient({ headers: {}, body: { client_id: url } })
    assert.equal(authenticated.method, 'none')
    assert.equal(authenticated.client.source, 'metadata_document')
    await app.close()
  })

  it("CIMD-6-g: private_key_jwt with the document's jwks; client_id alone is refused", async () => {
    const key = await keyPair()
    const url = docs.json(path('pkjwt'), {
      redirect_uris: ['https://app.example/cb'],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [key.publicJwk] },
    })
    const { app } = cimdRegistrar()
    const ok = await app.authenticateClient({
      headers: {},
      body: {
        client_id: url,
        client_assertion_type: JWT_BEARER,
        client_assertion: await assertion(url, key.privateKey),
      },
    })
    assert.equal(ok.method, 'private_key_jwt')
    await assert.rejects(
      app.authenticateClient({ headers: {}, body: { client_id: url } }),
      (err: { error?: string; status?: number }) =>
        err.error === 'invalid_client' && err.status === 401,
    )
    await app.close()
  })

  it("CIMD-6-g, CIMD-9.6-b: private_key_jwt with keys from the document's jwks_uri, fetched by the SSRF-safe fetcher", async () => {
    const key = await keyPair()
    const jwksPath = path('jwks')
    docs.route(jwksPath, (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ keys: [key.publicJwk] }))
    })
    const url = docs.json(path('pkjwt-uri'), {
      redirect_uris: ['https://app.example/cb'],
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      jwks_uri: docs.url(jwksPath),
    })
    const { createSafeFetch } = await import('../../src/net/safe-fetch.js')
    const { readFileSync } = await import('node:fs')
    const fetch = createSafeFetch({
      timeoutMs: 3000,
      maxBytes: 65536,
      maxRedirects: 0,
      allowedAddresses: ['127.0.0.2'],
      ca: readFileSync(docs.caFile),
    })
    const made = makeRegistrar(
      {
        clientIdMetadataDocuments: { enabled: true },
        fetch: { allowedAddresses: ['127.0.0.2'], caFile: docs.caFile },
      },
      { fetch },
    )
    const ok = await made.app.authenticateClient({
      headers: {},
      body: {
        client_id: url,
        client_assertion_type: JWT_BEARER,
        client_assertion: await assertion(url, key.privateKey),
      },
    })
    assert.equal(ok.method, 'private_key_jwt')
    assert.equal(ok.client.metadata.token_endpoint_auth_method, 'private_key_jwt')
    assert.equal(docs.hits(jwksPath), 1)
    // a key the document does not publish is refused
    const other = await keyPair('ES256', 'k2')
    await assert.rejects(
      made.app.authenticateClient({
        headers: {},
        body: {
          client_id: url,
          client_assertion_type: JWT_BEARER,
          client_assertion: await assertion(url, other.privateKey),
        },
      }),
      (err: { error?: string }) => err.error === 'invalid_client',
    )
    await made.app.close()
  })

  it('CIMD-7-a, CIMD-BP-23: client_id_metadata_document_supported in both discovery documents only when enabled', async () => {
    const on = cimdRegistrar()
    const off = makeRegistrar()
    for (const wellKnown of ['oauth-authorization-server', 'openid-configuration']) {
      const get = (fetch: (r: Request) => Promise<Response>) =>
        fetch(new Request(`https://as.example.com/.well-known/${wellKnown}`)).then(
          (r) => r.json() as Promise<Record<string, unknown>>,
        )
      assert.equal((await get(on.fetch)).client_id_metadata_document_supported, true)
      assert.equal('client_id_metadata_document_supported' in (await get(off.fetch)), false)
    }
    const url = docs.json(path('off'), { redirect_uris: ['https://app.example/cb'] })
    const p = new URL(url).pathname
    assert.equal(await off.app.getClient(url), undefined)
    assert.equal(docs.hits(p), 0)
    await on.app.close()
    await off.app.close()
  })
})

/**
 * The bad-input matrix of issue 11: each refused (getClient answers undefined, never throws), with a
 * reason in the event and in the log.
 */
describe('CIMD bad input: refused with a reason in the log and the event', () => {
  async function refused(
    url: string,
    expected: Refusal['refusal'],
    extra: Record<string, unknown> = {},
  ): Promise<Refusal> {
    const { app, refusals, logs } = cimdRegistrar(extra)
    assert.equal(await app.getClient(url), undefined)
    assert.equal(refusals.length, 1, JSON.stringify(refusals))
    const refusal = refusals[0] as Refusal
    assert.equal(refusal.refusal, expected, refusal.detail)
    assert.equal(refusal.client_id, url)
    const line = logs.find((l) => l.obj.event === 'metadata_document.refused')
    assert.equal(line?.level, 'warn')
    assert.equal(line?.obj.refusal, expected)
    assert.equal(line?.obj.detail, refusal.detail)
    await app.close()
    return refusal
  }

  it('CIMD-4-b, CIMD-3-h: client_id mismatch (trailing slash, other case) and missing', async () => {
    for (const client_id of [
      `${docs.url('/mismatch')}/`,
      docs.url('/mismatch').replace('https://', 'HTTPS://'),
    ]) {
      const p = path('mismatch')
      docs.json(p, { client_id, redirect_uris: ['https://app.example/cb'] })
      const r = await refused(docs.url(p), 'invalid_document')
      assert.match(r.detail, /does not equal/)
    }
    const p = path('missing')
    docs.route(p, (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ redirect_uris: ['https://app.example/cb'] }))
    })
    assert.match((await refused(docs.url(p), 'invalid_document')).detail, /client_id is missing/)
  })

  it('CIMD-5-d: a redirect is refused and its target never fetched', async () => {
    const target = docs.json(path('target'), { redirect_uris: ['https://app.example/cb'] })
    const p = path('redirect')
    docs.route(p, (_q, res) => res.writeHead(302, { location: target }).end())
    const r = await refused(docs.url(p), 'fetch_failed')
    assert.match(r.detail, /redirect/)
    assert.equal(docs.hits(new URL(target).pathname), 0)
  })

  it('CIMD-5-c: 203 and 204 are failures; only 200 succeeds', async () => {
    for (const status of [203, 204]) {
      const p = path(`status-${status}`)
      docs.route(p, (_q, res) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(),
      )
      assert.match((await refused(docs.url(p), 'fetch_failed')).detail, new RegExp(`${status}`))
    }
  })

  it('CIMD-9.7-a, D-3: an oversized body is refused, declared or not; the size cap is in the reason', async () => {
    const big = JSON.stringify({ client_id: 'x', pad: 'x'.repeat(20_000) })
    const declared = path('big')
    docs.route(declared, (_q, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(big),
    )
    assert.match((await refused(docs.url(declared), 'too_large')).detail, /16384 bytes/)
    const undeclared = path('big-chunked')
    docs.route(undeclared, (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })
      res.write(big.slice(0, 10_000))
      res.end(big.slice(10_000))
    })
    await refused(docs.url(undeclared), 'too_large')
  })

  it('CIMD-9.7-a: an endless body is refused after at most the cap; memory stays bounded', async () => {
    const p = path('endless')
    let written = 0
    let closed = false
    docs.route(p, (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      const chunk = Buffer.alloc(64 * 1024, 0x20)
      const pump = () => {
        while (!closed && written < 512 * 1024 * 1024) {
          written += chunk.length
          if (!res.write(chunk)) return void res.once('drain', pump)
        }
      }
      res.on('close', () => {
        closed = true
      })
      pump()
    })
    const heapBefore = process.memoryUsage().heapUsed
    await refused(docs.url(p), 'too_large')
    await new Promise((r) => setTimeout(r, 200))
    assert.ok(closed, 'the connection was closed')
    // the fetcher stopped reading: only what socket buffers absorbed was ever sent
    assert.ok(written < 64 * 1024 * 1024, `${written} bytes written`)
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 64 * 1024 * 1024)
  })

  it('CIMD-BP-03: a slow body past the deadline is refused', async () => {
    const p = path('slow')
    docs.route(p, (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"client_id":')
      const timer = setInterval(() => res.write(' '), 100)
      res.on('close', () => clearInterval(timer))
    })
    const started = Date.now()
    const r = await refused(docs.url(p), 'fetch_failed', {
      clientIdMetadataDocuments: { timeoutMs: 500 },
    })
    assert.match(r.detail, /within 500 ms/)
    assert.ok(Date.now() - started < 10_000)
  })

  it('CIMD-4-a, D-6: non-JSON media type, invalid JSON, and a JSON array are refused', async () => {
    const html = path('html')
    docs.route(html, (_q, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>'))
    assert.match((await refused(docs.url(html), 'not_json')).detail, /text\/html/)
    const broken = path('broken')
    docs.route(broken, (_q, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"client_id":'),
    )
    await refused(docs.url(broken), 'not_json')
    const array = path('array')
    docs.route(array, (_q, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('[]'),
    )
    await refused(docs.url(array), 'not_json')
  })

  it('CIMD-4-c: a more specific application/*+json media type is accepted', async () => {
    const url = docs.json(
      path('ld-json'),
      { redirect_uris: ['https://app.example/cb'] },
      { 'content-type': 'application/ld+json' },
    )
    const { app } = cimdRegistrar()
    assert.ok(await app.getClient(url))
    await app.close()
  })

  it('CIMD-4.3-a: a software_statement inside a document is ignored, its claims never applied', async () => {
    const claims = { client_name: 'Acme Bank', redirect_uris: ['https://evil.example/cb'] }
    const unsigned = `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`
    const url = docs.json(path('with-statement'), {
      client_name: 'Tool',
      redirect_uris: ['https://app.example/cb'],
      software_statement: unsigned,
    })
    const { app } = cimdRegistrar()
    const client = await app.getClient(url)
    assert.ok(client)
    assert.equal(client.metadata.client_name, 'Tool')
    assert.equal(client.metadata.software_statement, undefined)
    assert.equal(app.matchRedirectUri(client, 'https://evil.example/cb'), undefined)
    await app.close()
  })

  it('CIMD-4.1-a: a client_secret (even empty) or client_secret_expires_at in the document', async () => {
    for (const member of [{ client_secret: '' }, { client_secret_expires_at: 0 }]) {
      const url = docs.json(path('secret'), {
        redirect_uris: ['https://app.example/cb'],
        ...member,
      })
      await refused(url, 'invalid_document')
    }
  })

  it('CIMD-4.1-b, CIMD-6-c: symmetric auth methods in either member; method not in the list', async () => {
    for (const member of [
      { token_endpoint_auth_method: 'client_secret_basic' },
      { token_endpoint_auth_method: 'client_secret_jwt' },
      { token_endpoint_auth_methods_supported: ['none', 'client_secret_post'] },
      {
        token_endpoint_auth_method: 'none',
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
      },
      { token_endpoint_auth_methods_supported: ['tls_client_auth'] },
    ]) {
      const url = docs.json(path('symmetric'), {
        redirect_uris: ['https://app.example/cb'],
        ...member,
      })
      await refused(url, 'invalid_document')
    }
  })

  it('CIMD-4.1-c: private key material in jwks', async () => {
    const { privateKey } = await keyPair()
    const { exportJWK } = await import('jose')
    const url = docs.json(path('private-key'), {
      redirect_uris: ['https://app.example/cb'],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [await exportJWK(privateKey)] },
    })
    assert.match((await refused(url, 'invalid_document')).detail, /private/)
  })

  it('CIMD-3-a, CIMD-3-b, CIMD-3-c, CIMD-3-d, CIMD-3-e, CIMD-BP-01, D-1, D-2: http, fragment, userinfo, dot segments (also %2e), no path, query, whitespace: refused without a fetch', async () => {
    const base = docs.url('')
    const before = docs.requests.length
    for (const url of [
      base.replace('https://', 'http://') + '/doc',
      `${base}/doc#`,
      `${base}/doc#x`,
      base.replace('https://', 'https://user@') + '/doc',
      base.replace('https://', 'https://@') + '/doc',
      `${base}/a/../doc`,
      `${base}/a/./doc`,
      `${base}/%2e%2e/doc`,
      `${base}/%2E/doc`,
      base,
      `${base}?a=1`,
      `${base}/doc?a=1`,
      ` ${base}/doc`,
      `${base}/d oc`,
      `${base}\\doc`,
      'https:/127.0.0.2/doc',
      'HTTPS://127.0.0.2/doc',
    ]) {
      const { app, refusals } = cimdRegistrar()
      assert.equal(await app.getClient(url), undefined, url)
      if (url.startsWith('https://')) {
        assert.equal(refusals[0]?.refusal, 'invalid_client_id_url', url)
      }
      await app.close()
    }
    assert.equal(docs.requests.length, before)
  })

  it('CIMD-3-d: %252e is no dot segment', async () => {
    const url = docs.json('/%252e/doc.json', { redirect_uris: ['https://app.example/cb'] })
    const { app } = cimdRegistrar()
    assert.ok(await app.getClient(url))
    await app.close()
  })

  it('CIMD-9.6-a: a loopback (not allow-listed) address is refused and never connected to', async () => {
    const counter = await startConnectionCounter('127.0.0.1')
    const url = `https://127.0.0.1:${counter.port}/doc.json`
    const r = await refused(url, 'fetch_failed')
    assert.match(r.detail, /special-use/)
    assert.equal(counter.connections(), 0)
    await counter.close()
  })

  it('CIMD-BP-13, MCP-SEC-d: invalid redirect URIs in the document', async () => {
    for (const redirect_uris of [
      ['http://evil.example/cb'],
      ['https://app.example/cb#f'],
      'https://app.example/cb',
    ]) {
      const url = docs.json(path('bad-redirect'), { redirect_uris })
      await refused(url, 'invalid_document')
    }
  })

  it('CIMD-BP-15, CIMD-BP-17: http logo_uri and server-side members are refused', async () => {
    for (const member of [
      { logo_uri: 'http://app.example/logo.png' },
      { backchannel_logout_uri: 'https://app.example/logout' },
      { request_uris: ['https://app.example/r'] },
    ]) {
      const url = docs.json(path('members'), {
        redirect_uris: ['https://app.example/cb'],
        ...member,
      })
      await refused(url, 'invalid_document')
    }
  })
})

describe('CIMD cache, failures and changes', () => {
  it('CIMD-5.2-b, CIMD-5-b, CIMD-4.2-b, CIMD-9.4-a, CIMD-BP-22: a redirect URI added to the document is used only after the cached copy expires; the change is logged', async () => {
    let now = 1_800_000_000
    const p = path('changing')
    const url = docs.json(
      p,
      { redirect_uris: ['https://app.example/cb'] },
      { 'cache-control': 'max-age=300' },
    )
    const { app, logs } = cimdRegistrar({}, { clock: () => now })
    const changes: unknown[] = []
    app.clientRegistry.on('metadata_document.changed', (e) => changes.push(e))
    const first = await app.getClient(url)
    assert.ok(first)
    docs.json(p, { redirect_uris: ['https://app.example/cb', 'https://attacker.example/cb'] })
    now += 100
    const cached = await app.getClient(url)
    assert.equal(app.matchRedirectUri(cached!, 'https://attacker.example/cb'), undefined)
    assert.equal(docs.hits(p), 1)
    now += 201
    const refreshed = await app.getClient(url)
    assert.equal(docs.hits(p), 2)
    assert.equal(
      app.matchRedirectUri(refreshed!, 'https://attacker.example/cb'),
      'https://attacker.example/cb',
    )
    assert.deepEqual(changes, [{ client_id: url, changes: ['redirect_uris'] }])
    assert.ok(logs.some((l) => l.obj.event === 'metadata_document.changed'))
    await app.close()
  })

  it('CIMD-5.2-b: max-age is clamped to cacheMaxSeconds, no-store to cacheMinSeconds', async () => {
    const now = 1_800_000_000
    const long = path('long')
    const longUrl = docs.json(
      long,
      { redirect_uris: ['https://app.example/cb'] },
      { 'cache-control': 'max-age=999999' },
    )
    const noStore = path('nostore')
    const noStoreUrl = docs.json(
      noStore,
      { redirect_uris: ['https://app.example/cb'] },
      { 'cache-control': 'no-store' },
    )
    const { app } = cimdRegistrar(
      { clientIdMetadataDocuments: { cacheMinSeconds: 30, cacheMaxSeconds: 3600 } },
      { clock: () => now },
    )
    await app.getClient(longUrl)
    await app.getClient(noStoreUrl)
    assert.equal((await app.store.findMetadataDocument(longUrl))?.expiresAt, now + 3600)
    assert.equal((await app.store.findMetadataDocument(noStoreUrl))?.expiresAt, now + 30)
    await app.close()
  })

  it('CIMD-BP-09: a transient failure serves the expired copy within the stale bound; 404 ends the client at once', async () => {
    let now = 1_800_000_000
    const p = path('flaky')
    const url = docs.json(
      p,
      { redirect_uris: ['https://app.example/cb'] },
      { 'cache-control': 'max-age=60' },
    )
    const { app, refusals } = cimdRegistrar(
      {
        clientIdMetadataDocuments: {
          cacheMinSeconds: 60,
          staleIfErrorSeconds: 600,
          failureCacheSeconds: 0,
        },
      },
      { clock: () => now },
    )
    assert.ok(await app.getClient(url))
    docs.route(p, (_q, res) => res.writeHead(503).end())
    now += 120
    const stale: unknown[] = []
    app.clientRegistry.on('metadata_document.stale', (e) => stale.push(e))
    assert.ok(await app.getClient(url), 'served stale')
    assert.equal(stale.length, 1)
    docs.route(p, (_q, res) => res.writeHead(404).end())
    now += 10
    assert.equal(await app.getClient(url), undefined)
    assert.equal(refusals.at(-1)?.refusal, 'gone')
    assert.equal((await app.store.findMetadataDocument(url))?.metadata, undefined)
    await app.close()
  })

  it('CIMD-5.2-c, CIMD-5.2-d (bounded, §11): failures are remembered for failureCacheSeconds, then fetched again', async () => {
    let now = 1_800_000_000
    const p = path('fixed-later')
    docs.route(p, (_q, res) => res.writeHead(500).end())
    const { app } = cimdRegistrar(
      { clientIdMetadataDocuments: { failureCacheSeconds: 10 } },
      { clock: () => now },
    )
    const url = docs.url(p)
    assert.equal(await app.getClient(url), undefined)
    docs.json(p, { redirect_uris: ['https://app.example/cb'] })
    now += 2
    assert.equal(await app.getClient(url), undefined)
    assert.equal(docs.hits(p), 1)
    now += 10
    assert.ok(await app.getClient(url))
    assert.equal(docs.hits(p), 2)
    await app.close()
  })

  it('CIMD-BP-05: 50 concurrent getClient calls on a cold cache fetch once', async () => {
    const p = path('burst')
    const url = docs.json(p, { redirect_uris: ['https://app.example/cb'] })
    const { app } = cimdRegistrar()
    const results = await Promise.all(Array.from({ length: 50 }, () => app.getClient(url)))
    assert.ok(results.every((c) => c?.client_id === url))
    assert.equal(docs.hits(p), 1)
    await app.close()
  })
})

describe('CIMD policy and operator decisions', () => {
  const policies = (policy: Record<string, unknown>) => ({
    policies: { metadataDocument: 'cimd', definitions: { cimd: policy } },
  })

  it('CIMD-9.9-a: allowedHosts / deniedHosts refuse before any fetch', async () => {
    const p = path('hosts')
    const url = docs.json(p, { redirect_uris: ['https://app.example/cb'] })
    for (const policy of [{ allowedHosts: ['*.example.com'] }, { deniedHosts: ['127.0.0.2'] }]) {
      const { app, refusals } = cimdRegistrar(policies(policy))
      assert.equal(await app.getClient(url), undefined)
      assert.equal(refusals[0]?.refusal, 'denied')
      assert.match(refusals[0]?.detail ?? '', /rule (allowedHosts|deniedHosts)/)
      await app.close()
    }
    assert.equal(docs.hits(p), 0)
    const { app } = cimdRegistrar(policies({ allowedHosts: ['127.0.0.2'] }))
    assert.ok(await app.getClient(url))
    await app.close()
  })

  it('the existing policy rules apply to documents: redirectUriHosts refuses, scopes intersect', async () => {
    const url = docs.json(path('rules'), {
      redirect_uris: ['https://app.example/cb'],
      scope: 'read write admin',
    })
    const refusedBy = cimdRegistrar(policies({ redirectUriHosts: ['other.example'] }))
    assert.equal(await refusedBy.app.getClient(url), undefined)
    assert.equal(refusedBy.refusals[0]?.refusal, 'policy')
    await refusedBy.app.close()
    const { app } = cimdRegistrar(policies({ scopes: ['read', 'write'] }))
    assert.equal((await app.getClient(url))?.metadata.scope, 'read write')
    await app.close()
  })

  it('requireApproval: pending until approved; block refuses for good without fetching', async () => {
    const p = path('approval')
    const url = docs.json(p, { redirect_uris: ['https://app.example/cb'] })
    const store = new MemoryStore()
    const { app, refusals } = cimdRegistrar(policies({ requireApproval: true }), { store })
    assert.equal(await app.getClient(url), undefined)
    assert.equal(refusals[0]?.refusal, 'pending_approval')
    await store.decideMetadataDocument(url, 'approved')
    assert.equal((await app.getClient(url))?.client_id, url)
    await store.decideMetadataDocument(url, 'blocked')
    await store.forgetMetadataDocument(url)
    const hits = docs.hits(p)
    assert.equal(await app.getClient(url), undefined)
    assert.equal(refusals.at(-1)?.refusal, 'blocked')
    assert.equal(docs.hits(p), hits)
    await app.close()
  })

  it('CIMD-BP-25: a stored client is never shadowed by a document', async () => {
    const { app } = cimdRegistrar()
    const res = await app.fetch(
      new Request('https://as.example.com/register', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          redirect_uris: ['https://app.example/cb'],
          token_endpoint_auth_method: 'none',
        }),
      }),
    )
    const { client_id } = (await res.json()) as { client_id: string }
    assert.doesNotMatch(client_id, /^https:\/\//i) // CIMD-8.1-a
    assert.equal((await app.getClient(client_id))?.source, 'registration')
    await app.close()
  })
})
