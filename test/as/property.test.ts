import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { type RegistrarApp, RegistrationError } from '../../src/index.js'
import { assertion, JWT_BEARER, keyPair } from './assertions.js'
import { basic, makeApp, register, TOKEN_ENDPOINT } from './support.js'

/**
 * Whatever arrives, authenticateClient answers with an authenticated client or a
 * RegistrationError of status 4xx: never another exception, never a 5xx (issue 10 proofs).
 */
async function outcome(promise: Promise<unknown>): Promise<'ok' | number> {
  try {
    await promise
    return 'ok'
  } catch (err) {
    assert.ok(err instanceof RegistrationError, `not a RegistrationError: ${String(err)}`)
    assert.ok(err.status >= 400 && err.status < 500, `status ${err.status}`)
    assert.ok(err.error === 'invalid_client' || err.error === 'invalid_request', err.error)
    return err.status
  }
}

describe('property: random Authorization headers and form bodies', () => {
  let app: RegistrarApp
  let valid: { client_id: string; client_secret: string }
  let pkj: { client_id: string }
  let realAssertion: string
  before(async () => {
    app = await makeApp()
    valid = await register(app)
    const k = await keyPair()
    pkj = await register(app, {
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [k.publicJwk] },
    })
    realAssertion = await assertion(pkj.client_id, k.privateKey, {
      claims: { exp: Math.floor(Date.now() / 1000) + 600 },
    })
  })
  after(() => app?.close())

  /** Strings that look like what a token request carries, and worse. */
  const value = () =>
    fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.constantFrom(
        '',
        ' ',
        '%',
        '%zz',
        '+',
        ':',
        'a.b.c',
        'Basic',
        JWT_BEARER,
        'none',
        '\u0000',
        '\uD800',
        'eyJhbGciOiJub25lIn0.e30.',
      ),
      fc.constant(null).map(() => valid.client_id),
      fc.constant(null).map(() => valid.client_secret),
      fc.constant(null).map(() => pkj.client_id),
      fc.constant(null).map(() => realAssertion),
    )
  const name = () =>
    fc.constantFrom(
      'client_id',
      'client_secret',
      'client_assertion',
      'client_assertion_type',
      'grant_type',
      'code',
      'x',
    )
  const authorization = () =>
    fc.oneof(
      value(),
      value().map((v) => `Basic ${v}`),
      fc
        .tuple(value(), value())
        .map(([a, b]) => `Basic ${Buffer.from(`${a}:${b}`).toString('base64')}`),
      // encodeURIComponent refuses lone surrogates: such a client cannot even build the header
      fc.tuple(value(), value()).map(([a, b]) => {
        try {
          return basic(a, b)
        } catch {
          return `Basic ${a}`
        }
      }),
      fc.constant(null).map(() => basic(valid.client_id, valid.client_secret)),
      fc
        .uint8Array({ maxLength: 30 })
        .map((bytes) => `Basic ${Buffer.from(bytes).toString('base64')}`),
    )
  const form = () => fc.array(fc.tuple(name(), value()), { maxLength: 6 })

  it('as a web Request: authenticated, or 400/401; never a throw of another kind', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.option(authorization(), { nil: undefined }),
        form(),
        fc.option(form(), { nil: undefined }),
        fc.constantFrom(
          'application/x-www-form-urlencoded',
          'application/x-www-form-urlencoded; charset=utf-8',
          'application/json',
          'text/plain',
          undefined,
        ),
        async (auth, body, query, type) => {
          const url = new URL(TOKEN_ENDPOINT)
          if (query) url.search = new URLSearchParams(query).toString()
          const headers = new Headers()
          if (type) headers.set('content-type', type)
          try {
            if (auth !== undefined) headers.set('authorization', auth)
          } catch {
            // not a valid header value: fetch would refuse it before the server ever saw it
          }
          const request = new Request(url, {
            method: 'POST',
            headers,
            body: new URLSearchParams(body),
          })
          await outcome(app.authenticateClient(request))
        },
      ),
      { numRuns: 400 },
    )
  })

  it('as a parsed request ({ headers, body, query } of any shape): the same', async () => {
    const anything = () =>
      fc.oneof(
        value(),
        fc.array(value(), { maxLength: 3 }),
        fc.integer(),
        fc.constant(null),
        fc.constant(undefined),
        fc.object({ maxDepth: 1 }),
      )
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom('authorization', 'Authorization', 'AUTHORIZATION', 'x'),
          fc.oneof(
            authorization(),
            fc.array(authorization(), { maxLength: 2 }),
            fc.integer() as fc.Arbitrary<unknown>,
          ),
        ),
        fc.dictionary(name(), anything()),
        fc.option(fc.dictionary(name(), anything()), { nil: undefined }),
        async (headers, body, query) => {
          await outcome(
            app.authenticateClient({
              headers: headers as Record<string, string>,
              body,
              ...(query && { query }),
            }),
          )
        },
      ),
      { numRuns: 400 },
    )
  })

  it('the valid credentials among the noise still authenticate', async () => {
    assert.equal(
      await outcome(
        app.authenticateClient({
          headers: { authorization: basic(valid.client_id, valid.client_secret) },
          body: {},
        }),
      ),
      'ok',
    )
  })
})
