import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { JsonBody } from '../helpers.js'
import { type Example, startExample } from './support.js'

// RFC 6749 §2.3.1 / as-side AS-6749-2.3.1-c through the integrations: the token endpoint of
// oidc-provider and of the MCP SDK answers Registrar's failure limit as a 429 with Retry-After
// (not a 500), for known and unknown clients alike. The examples pass the peer address.

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
