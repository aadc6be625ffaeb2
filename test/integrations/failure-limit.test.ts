import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { createRegistrar, type RegistrarApp } from '../../src/index.js'
import { createProvider } from '../../src/integrations/oidc-provider.js'
import type { JsonBody } from '../helpers.js'
import { type Example, startExample } from './support.js'

// RFC 6749 §2.3.1 / as-side AS-6749-2.3.1-c through the integrations: the token endpoint of
// oidc-provider and of the MCP SDK answers Registrar's failure limit as a 429 with Retry-After
// (not a 500), for known and unknown clients alike. The examples pass the peer address.

/** What jose signs with: an HMAC secret or a private key. */
type SigningKey = Parameters<SignJWT['sign']>[0]

const CONFIG = {
  log: { level: 'warn' },
  clientAuthentication: { failureLimit: { perClient: { max: 3 }, perAddress: { max: 1000 } } },
}

for (const name of ['oidc-provider', 'mcp-server'] as const) {
  describe(`AS-6749-2.3.1-c: failure limits at the ${name} example's token endpoint`, () => {
    let server: Example
    before(async () => {
      server = await startExample(name, ['--store', 'memory'], CONFIG)
    })
    after(() => server?.stop())

    async function registerClient(): Promise<JsonBody> {
      const res = await fetch(`${server.url}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          redirect_uris: ['https://client.example/cb'],
          grant_types: ['authorization_code', 'refresh_token'],
          token_endpoint_auth_method: 'client_secret_basic',
        }),
      })
      assert.equal(res.status, 201, await res.clone().text())
      return (await res.json()) as JsonBody
    }

    const token = (clientId: string, secret: string) =>
      fetch(`${server.url}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: 'not-a-code',
          redirect_uri: 'https://client.example/cb',
        }),
      })

    async function attempts(clientId: string, secret: string, n: number) {
      const out: { status: number; error: unknown; retryAfter: string | null }[] = []
      for (let i = 0; i < n; i++) {
        const res = await token(clientId, secret)
        const body = (await res.json()) as JsonBody
        out.push({
          status: res.status,
          error: body.error,
          retryAfter: res.headers.get('retry-after'),
        })
      }
      return out
    }

    it(`AS-6749-2.3.1-c: wrong secrets, then 429 with Retry-After, the right secret refused too (${name})`, async () => {
      const client = await registerClient()
      const wrong = await attempts(client.client_id, 'wrong-secret', 5)
      assert.deepEqual(
        wrong.map((o) => [o.status, o.error]),
        [
          [401, 'invalid_client'],
          [401, 'invalid_client'],
          [401, 'invalid_client'],
          [429, 'too_many_requests'],
          [429, 'too_many_requests'],
        ],
      )
      for (const o of wrong.slice(3)) assert.match(o.retryAfter ?? '', /^[1-9]\d*$/)
      const [right] = await attempts(client.client_id, client.client_secret, 1)
      assert.equal(right?.status, 429)
      assert.ok(right?.retryAfter)
    })

    it(`AS-6749-2.3.1-c AS-BP-06: an unknown client_id meets the same limit, the same way (${name})`, async () => {
      const unknown = await attempts('no-such-client-0123456789', 'wrong-secret', 5)
      assert.deepEqual(
        unknown.map((o) => [o.status, o.error]),
        [
          [401, 'invalid_client'],
          [401, 'invalid_client'],
          [401, 'invalid_client'],
          [429, 'too_many_requests'],
          [429, 'too_many_requests'],
        ],
      )
      assert.ok(unknown[4]?.retryAfter)
    })
  })
}

// oidc-provider in process: it checks a known client's assertion signature and registered method
// itself, so Registrar must authenticate every request at a client-authenticating endpoint first,
// or those failures are neither counted nor throttled, and a throttled address can tell known
// client_ids (401) from unknown ones (429).
describe('AS-6749-2.3.1-c AS-BP-06: oidc-provider in process, assertions and method mismatches', () => {
  let app: RegistrarApp
  let url: string
  const failures: string[] = []
  const running: { server: Server; app: RegistrarApp }[] = []

  /** A fresh Registrar + oidc-provider on 127.0.0.1 with this failure limit. */
  async function start(failureLimit: Record<string, unknown>) {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    app = await createRegistrar({
      config: {
        issuer: url,
        registration: { mode: 'open', secretEncryptionKey: 'a'.repeat(64) },
        metadata: {
          token_endpoint_auth_methods_supported: [
            'client_secret_basic',
            'client_secret_post',
            'client_secret_jwt',
            'private_key_jwt',
            'none',
          ],
        },
        clientAuthentication: { failureLimit },
      },
      store: 'memory',
      logger: false,
    })
    running.push({ server, app })
    failures.length = 0
    app.clientRegistry.on('client.authentication_failed', (e) => failures.push(e.client_id ?? ''))
    const provider = createProvider(app, {
      features: {
        clientCredentials: { enabled: true },
        introspection: { enabled: true },
        revocation: { enabled: true },
      },
    })
    server.on('request', provider.callback())
  }
  after(async () => {
    for (const { server, app } of running) {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await app.close()
    }
  })

  async function register(metadata: Record<string, unknown>): Promise<JsonBody> {
    const res = await fetch(`${url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: ['https://client.example/cb'],
        grant_types: ['authorization_code', 'client_credentials'],
        ...metadata,
      }),
    })
    assert.equal(res.status, 201, await res.clone().text())
    return (await res.json()) as JsonBody
  }

  function assertion(clientId: string, key: SigningKey, alg: string) {
    return new SignJWT({})
      .setProtectedHeader({ alg })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(url)
      .setIssuedAt()
      .setExpirationTime('1m')
      .setJti(randomUUID())
      .sign(key)
  }

  const post = (
    path: string,
    params: Record<string, string>,
    headers: Record<string, string> = {},
  ) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(params),
    })

  const withAssertion = async (clientId: string, key: SigningKey, alg: string) =>
    post('/token', {
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await assertion(clientId, key, alg),
    })

  const wrongKey = () => new Uint8Array(randomBytes(32))

  it('AS-6749-2.3.1-c: client_secret_jwt and private_key_jwt assertions with wrong keys count, then 429', async () => {
    await start({ perClient: { max: 3 }, perAddress: { max: 1000 } })
    const hmac = await register({ token_endpoint_auth_method: 'client_secret_jwt' })
    const statuses: number[] = []
    for (let i = 0; i < 5; i++)
      statuses.push((await withAssertion(hmac.client_id, wrongKey(), 'HS256')).status)
    assert.deepEqual(statuses, [401, 401, 401, 429, 429])
    assert.equal(failures.filter((id) => id === hmac.client_id).length, 3)

    const registered = await generateKeyPair('ES256', { extractable: true })
    const forger = await generateKeyPair('ES256')
    const jwk = { ...(await exportJWK(registered.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }
    const pkjwt = await register({
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks: { keys: [jwk] },
    })
    const forged: number[] = []
    for (let i = 0; i < 5; i++)
      forged.push((await withAssertion(pkjwt.client_id, forger.privateKey, 'ES256')).status)
    assert.deepEqual(forged, [401, 401, 401, 429, 429])
    // the right key is refused too while the limit holds
    assert.equal((await withAssertion(pkjwt.client_id, registered.privateKey, 'ES256')).status, 429)
  })

  it('AS-BP-06: once an address is throttled, known clients (any method, mismatched or not) get the same 429 as unknown ids', async () => {
    await start({ perClient: { max: 1000 }, perAddress: { max: 5 } })
    const hmac = await register({ token_endpoint_auth_method: 'client_secret_jwt' })
    const basic = await register({ token_endpoint_auth_method: 'client_secret_basic' })
    const open = await register({ token_endpoint_auth_method: 'none' })
    for (let i = 0; i < 5; i++) {
      const res = await post('/token', {
        grant_type: 'client_credentials',
        client_id: `no-such-client-${randomUUID()}`,
        client_secret: 'wrong',
      })
      assert.equal(res.status, 401)
    }
    const basicAuth = (id: string, secret: string) => ({
      authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
    })
    const probes = {
      'unknown client_id': () =>
        post('/token', { grant_type: 'client_credentials' }, basicAuth('no-such-client', 'x')),
      'client_secret_jwt client, an assertion': () =>
        withAssertion(hmac.client_id, wrongKey(), 'HS256'),
      'client_secret_basic client, an assertion (method mismatch)': () =>
        withAssertion(basic.client_id, wrongKey(), 'HS256'),
      "'none' client, Basic credentials (method mismatch)": () =>
        post('/token', { grant_type: 'client_credentials' }, basicAuth(open.client_id, 'x')),
      'client_secret_basic client, its right secret': () =>
        post(
          '/token',
          { grant_type: 'client_credentials' },
          basicAuth(basic.client_id, basic.client_secret),
        ),
    }
    for (const [probe, send] of Object.entries(probes)) {
      const res = await send()
      const body = (await res.json()) as JsonBody
      assert.deepEqual([res.status, body.error], [429, 'too_many_requests'], probe)
      assert.ok(res.headers.get('retry-after'), probe)
    }
  })

  it('AS-6749-2.3.1-c: a method mismatch of a known client counts as a failure', async () => {
    await start({ perClient: { max: 2 }, perAddress: { max: 1000 } })
    const basic = await register({ token_endpoint_auth_method: 'client_secret_basic' })
    const statuses: number[] = []
    for (let i = 0; i < 3; i++)
      statuses.push((await withAssertion(basic.client_id, wrongKey(), 'HS256')).status)
    assert.deepEqual(statuses, [401, 401, 429])
    assert.equal(failures.filter((id) => id === basic.client_id).length, 2)
  })

  it('idle expiry: a client that only introspects or revokes is recorded as used (recordUse)', async () => {
    await start({ perClient: { max: 20 }, perAddress: { max: 100 } })
    for (const path of ['/token/introspection', '/token/revocation']) {
      const client = await register({ token_endpoint_auth_method: 'client_secret_post' })
      assert.equal((await app.store.findClient(client.client_id))?.lastUsedAt, undefined)
      const res = await post(path, {
        token: 'not-a-token',
        client_id: client.client_id,
        client_secret: client.client_secret,
      })
      assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`)
      // the write follows the response (fire and forget); 5 s is a generous bound
      const deadline = Date.now() + 5000
      let lastUsedAt: number | undefined
      while (lastUsedAt === undefined && Date.now() < deadline) {
        lastUsedAt = (await app.store.findClient(client.client_id))?.lastUsedAt
        if (lastUsedAt === undefined) await new Promise((r) => setTimeout(r, 50))
      }
      assert.equal(typeof lastUsedAt, 'number', path)
    }
  })
})
