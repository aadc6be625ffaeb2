import assert from 'node:assert/strict'
import { Agent, request as httpRequest } from 'node:http'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { resolveConfig } from '../../src/config/resolve.js'
import { clientMetadataRules } from '../../src/metadata/rules.js'
import { validateClientMetadata } from '../../src/metadata/validate.js'
import { SqliteStore } from '../../src/storage/sqlite.js'
import { type ServerProcess, startServer, tempDir } from '../helpers.js'

/**
 * The issue's "bad input" acceptance test: 1,000 random and hostile bodies against a running
 * server on a SQLite file. None may get a 5xx or crash it; afterwards it still registers a valid
 * client, and the store holds exactly the clients that got a 201, each with metadata that
 * re-validates to itself.
 */

const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : 7_591
const COUNT = 1000
const LIMIT = 64 * 1024
const CONFIG = { registration: { allowedPrivateUseSchemes: ['vscode', 'cursor'] } }

const utf8 = (s: string) => Buffer.from(s, 'utf8')

const uris = [
  'https://client.example.org/cb',
  'http://127.0.0.1:8080/cb',
  'http://localhost/callback',
  'http://[::1]/cb',
  'com.example.app:/cb',
  'vscode://ext/cb',
  'cursor://anysphere.cursor-mcp/oauth/x/callback',
  'http://evil.example/cb',
  'javascript:alert(1)',
  'https://client.example.org/cb#frag',
  'https://*.example.org/cb',
  'data:text/html,x',
]
const CONTROL = [
  '\u0000',
  '\u0007',
  '\t',
  '\n',
  '\r',
  '\u001f',
  '\u007f',
  '\u0085',
  '\u2028',
  '\u202e',
  '\ufeff',
  ' ',
  '\\',
]
const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'then',
  'valueOf',
]
const KNOWN = [
  'redirect_uris',
  'grant_types',
  'response_types',
  'token_endpoint_auth_method',
  'application_type',
  'client_name',
  'scope',
  'jwks',
  'jwks_uri',
  'contacts',
  'default_max_age',
  'require_auth_time',
  'logo_uri',
  'client_name#ja-Jpan-JP',
]

const anyJson = fc.jsonValue({ maxDepth: 4 })

/** Plausible registrations (web or native, with optional extras), so that many get 201. */
const plausible = fc
  .tuple(
    fc.oneof(
      fc.record({
        redirect_uris: fc.subarray(
          ['https://client.example.org/cb', 'https://client.example.org/cb2?x=1'],
          {
            minLength: 1,
          },
        ),
        token_endpoint_auth_method: fc.constantFrom('client_secret_basic', 'client_secret_post'),
      }),
      fc.record({
        redirect_uris: fc.subarray(
          [
            'http://127.0.0.1:8080/cb',
            'http://localhost/callback',
            'http://[::1]/cb',
            'com.example.app:/cb',
            'vscode://ext/cb',
          ],
          { minLength: 1 },
        ),
        token_endpoint_auth_method: fc.constant('none'),
      }),
    ),
    fc.record(
      {
        redirect_uris: fc.array(fc.constantFrom(...uris), { minLength: 1, maxLength: 3 }),
        grant_types: fc.subarray(
          ['authorization_code', 'refresh_token', 'client_credentials', 'password'],
          {
            minLength: 1,
          },
        ),
        application_type: fc.constantFrom('web', 'native'),
        client_name: fc.string({ unit: 'binary', maxLength: 20 }),
        scope: fc.constantFrom('', 'openid', 'read write', 'a"b'),
        software_id: fc.string({ maxLength: 10 }),
        'client_name#ja-Jpan-JP': fc.constantFrom('クライアント', 'x'),
        unknown_member: anyJson,
      },
      { requiredKeys: [] },
    ),
    fc.nat({ max: 3 }),
  )
  .map(([base, extra, n]) => {
    // usually only a few extras, so that most stay valid
    const picked = Object.entries(extra).slice(0, n)
    return utf8(JSON.stringify({ ...base, ...Object.fromEntries(picked) }))
  })

/** An object text written member by member: hostile names and duplicates survive. */
const hostileObject = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom(...HOSTILE_KEYS, ...KNOWN), fc.string({ unit: 'binary' })),
      fc.oneof(anyJson, fc.array(fc.constantFrom(...uris), { maxLength: 2 })),
    ),
    { maxLength: 8 },
  )
  .map((m) => utf8(`{${m.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`))

const controlInUri = fc
  .tuple(
    fc.constantFrom(...uris),
    fc.constantFrom(...CONTROL),
    fc.nat({ max: 30 }),
    fc.constantFrom(...KNOWN.slice(0, 1), 'jwks_uri', 'logo_uri', 'initiate_login_uri'),
  )
  .map(([u, c, i, field]) => {
    const at = Math.min(i, u.length)
    const bad = u.slice(0, at) + c + u.slice(at)
    const value = field === 'redirect_uris' ? [bad] : bad
    return utf8(
      JSON.stringify({ redirect_uris: ['https://client.example.org/cb'], [field]: value }),
    )
  })

const deepNesting = fc
  .tuple(fc.integer({ min: 20, max: 30_000 }), fc.constantFrom('array', 'object', 'open', 'value'))
  .map(([d, kind]) => {
    if (kind === 'array') return utf8(`{"a":${'['.repeat(d)}${']'.repeat(d)}}`)
    if (kind === 'object') return utf8(`${'{"a":'.repeat(d)}1${'}'.repeat(d)}`)
    if (kind === 'open') return utf8('['.repeat(d))
    return utf8(`{"redirect_uris":${'['.repeat(d)}"https://c.example/cb"${']'.repeat(d)}}`)
  })

const hugeArrays = fc
  .tuple(
    fc.integer({ min: 101, max: 2500 }),
    fc.constantFrom('redirect_uris', 'contacts', 'grant_types', 'x'),
  )
  .map(([n, field]) =>
    utf8(
      JSON.stringify({
        redirect_uris: ['https://c.example/cb'],
        [field]: Array(n).fill('https://c.example/cb'),
      }),
    ),
  )

const invalidUtf8 = fc
  .tuple(
    fc.constantFrom(
      [0xff],
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xe2, 0x82],
      [0xf8, 0x88, 0x80, 0x80, 0x80],
      [0x80],
    ),
    fc.constantFrom('client_name', 'redirect_uris', 'key'),
  )
  .map(([bad, where]) => {
    const head =
      where === 'key' ? '{"' : '{"redirect_uris":["https://c.example/cb"],"client_name":"'
    const tail = where === 'key' ? '":1}' : '"}'
    return Buffer.concat([utf8(head), Buffer.from(bad), utf8(tail)])
  })

const oddJson = fc
  .constantFrom(
    '{"redirect_uris":["https://c.example/cb"],"client_name":"\\ud800"}',
    '{"redirect_uris":["https://c.example/cb\\u0000"]}',
    '{"redirect_uris":["https://c.example/cb"],"default_max_age":1e400}',
    '{"redirect_uris":["https://c.example/cb"],"default_max_age":-0}',
    '{"redirect_uris":["https://c.example/cb"],"redirect_uris":["http://evil.example/cb"]}',
    '{"redirect_uris":["https://c.example/cb"],"\\u0072edirect_uris":["http://evil.example/cb"]}',
    '\ufeff{"redirect_uris":["https://c.example/cb"]}',
    '{"redirect_uris":["https://c.example/cb"]}\u0000',
    '{"__proto__":{"token_endpoint_auth_method":"none"},"redirect_uris":["https://c.example/cb"]}',
    '{"constructor":{"prototype":{"polluted":true}},"redirect_uris":["https://c.example/cb"]}',
    '{"redirect_uris":["https://c.example/cb"],"jwks":{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","d":"x"}]}}',
    '{"redirect_uris":["https://c.example/cb"],"jwks":{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}}',
    '{"redirect_uris":["https://c.example/cb"],"jwks":{"keys":[{"kty":"oct","k":"AAAA"}]}}',
    `{"redirect_uris":["https://c.example/cb"],"${'k'.repeat(60_000)}":1}`,
    'null',
    '',
    '[]',
    '"just a string"',
  )
  .map(utf8)

const oversized = fc.integer({ min: LIMIT - 64, max: LIMIT + 4096 }).map((n) => {
  const head = '{"redirect_uris":["https://client.example.org/cb"],"pad":"'
  return utf8(`${head}${'a'.repeat(Math.max(0, n - head.length - 2))}"}`)
})

const body = fc.oneof(
  {
    arbitrary: fc.jsonValue({ maxDepth: 6 }).map((v) => utf8(JSON.stringify(v) ?? 'null')),
    weight: 4,
  },
  { arbitrary: fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 512 }).map(utf8), weight: 1 },
  { arbitrary: plausible, weight: 6 },
  { arbitrary: hostileObject, weight: 3 },
  { arbitrary: controlInUri, weight: 2 },
  { arbitrary: deepNesting, weight: 1 },
  { arbitrary: hugeArrays, weight: 1 },
  { arbitrary: invalidUtf8, weight: 1 },
  { arbitrary: oddJson, weight: 2 },
  { arbitrary: oversized, weight: 1 },
)

const contentType = fc.oneof(
  { arbitrary: fc.constant('application/json'), weight: 12 },
  { arbitrary: fc.constant('application/json; charset=utf-8'), weight: 3 },
  {
    arbitrary: fc.constantFrom(
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/json; charset=latin1',
      '',
    ),
    weight: 1,
  },
)

/** No object anywhere in stored metadata has a member named like a prototype link. */
function assertNoPrototypeNames(value: unknown, where: string): void {
  if (typeof value !== 'object' || value === null) return
  for (const name of ['__proto__', 'constructor', 'prototype']) {
    assert.equal(Object.hasOwn(value, name), false, `${where}: ${name}`)
  }
  for (const [k, v] of Object.entries(value)) assertNoPrototypeNames(v, `${where}.${k}`)
}

interface Outcome {
  status: number
  json: Record<string, unknown> | undefined
}

function post(agent: Agent, port: number, ct: string, payload: Buffer): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    let answered = false
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/register',
        agent,
        headers: { ...(ct && { 'content-type': ct }), 'content-length': payload.length },
      },
      (res) => {
        answered = true
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let parsed: Record<string, unknown> | undefined
          try {
            parsed = JSON.parse(text)
          } catch {
            parsed = undefined
          }
          resolve({ status: res.statusCode ?? 0, json: parsed })
        })
      },
    )
    req.on('error', (err) => {
      if (!answered) reject(err)
    })
    req.end(payload)
  })
}

describe('fuzz: 1,000 random bodies against a running server on SQLite', () => {
  const t = tempDir()
  const storePath = join(t.dir, 'fuzz.db')
  let server: ServerProcess
  before(async () => {
    server = await startServer(['--registration', 'open', '--store', `sqlite:${storePath}`], {
      config: CONFIG,
    })
  })
  after(async () => {
    await server?.stop()
    t.cleanup()
  })

  it('no 5xx, no crash, a valid registration still works, and the store holds only valid clients', async () => {
    const cases = fc.sample(fc.tuple(contentType, body), { numRuns: COUNT, seed: SEED })
    assert.equal(cases.length, COUNT)
    const agent = new Agent({ keepAlive: true, maxSockets: 4 })
    const statuses = new Map<number, number>()
    const created: string[] = []
    let next = 0
    const worker = async () => {
      while (next < cases.length) {
        const [ct, payload] = cases[next++]!
        let outcome: Outcome
        try {
          outcome = await post(agent, server.port, ct, payload)
        } catch (err) {
          // the server closes an oversized upload early; the reset may beat the 413 to the client
          assert.ok(
            payload.length > LIMIT,
            `connection error on a ${payload.length}-byte body: ${err}`,
          )
          outcome = { status: 413, json: undefined }
        }
        const { status, json } = outcome
        statuses.set(status, (statuses.get(status) ?? 0) + 1)
        assert.ok(
          status === 201 || (status >= 400 && status < 500),
          `status ${status} for ${payload.subarray(0, 200).toString()}`,
        )
        if (status === 201) created.push(String(json?.client_id))
        else if (json) {
          assert.equal(typeof json.error, 'string')
          assert.equal('client_id' in json, false, 'R7591-3.1-b: no client_id in an error')
        }
        // over the limit: 413, unless the media type was already refused without reading the body
        if (payload.length > LIMIT) assert.ok(status === 413 || status === 400, `${status}`)
        if (payload.length > LIMIT && /^application\/json(; charset=utf-8)?$/.test(ct)) {
          assert.equal(status, 413)
        }
      }
    }
    await Promise.all([worker(), worker(), worker(), worker()])
    agent.destroy()

    if (process.env.FUZZ_DEBUG) console.error(statuses, created.length)
    // the mix must exercise both outcomes, or the test proves little
    assert.ok(created.length >= 100, `only ${created.length} registrations succeeded`)
    assert.ok((statuses.get(400) ?? 0) >= 300, `only ${statuses.get(400)} refusals`)
    assert.ok((statuses.get(413) ?? 0) >= 5, 'some bodies were over the limit')

    // still alive and still registering
    const health = await fetch(`${server.url}/healthz`)
    assert.equal(health.status, 200)
    const ok = await fetch(`${server.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['https://client.example.org/after-fuzz'] }),
    })
    assert.equal(ok.status, 201)
    created.push(((await ok.json()) as { client_id: string }).client_id)

    // the store holds exactly the clients that got a 201, each valid (opened beside the server: WAL)
    const rules = clientMetadataRules(resolveConfig({ file: { issuer: server.url, ...CONFIG } }))
    const store = new SqliteStore(storePath)
    try {
      const clients = await store.listClients()
      assert.deepEqual(clients.map((c) => c.client_id).sort(), [...created].sort())
      for (const c of clients) {
        assert.deepEqual(
          await validateClientMetadata(structuredClone(c.metadata), rules),
          c.metadata,
          c.client_id,
        )
        assert.equal(Object.hasOwn(c.metadata, 'unknown_member'), false)
        assertNoPrototypeNames(c.metadata, c.client_id)
      }
    } finally {
      await store.close()
    }
    assert.equal(await server.stop(), 0)
    assert.ok(!server.stderr().includes('unexpected error'), server.stderr())
  })
})
