import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import fc from 'fast-check'
import { exportJWK, generateKeyPair, generateSecret } from 'jose'
import { resolveConfig } from '../../src/config/resolve.js'
import { RegistrationError } from '../../src/core/errors.js'
import { clientMetadataRules } from '../../src/metadata/rules.js'
import type { ClientMetadataRules } from '../../src/metadata/types.js'
import { LANGUAGE_TAGGED_FIELDS, validateClientMetadata } from '../../src/metadata/validate.js'
import { ISSUER, makeRegistrar } from '../helpers.js'

// A fixed seed keeps CI reproducible; FC_SEED and FC_SCALE (a run multiplier) explore further.
const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : 20_260_801
const runs = (n: number) => ({ seed: SEED, numRuns: n * Number(process.env.FC_SCALE ?? 1) })

const KEY = Buffer.alloc(32, 3).toString('base64url')

/** The default rules, and rich ones that enable every optional feature the validator has. */
const RULES: ClientMetadataRules[] = [
  clientMetadataRules(resolveConfig({ file: { issuer: ISSUER } })),
  clientMetadataRules(
    resolveConfig({
      file: {
        issuer: ISSUER,
        registration: {
          secretEncryptionKey: KEY,
          allowedPrivateUseSchemes: ['vscode', 'cursor'],
          extensionFields: ['x_ext'],
        },
        metadata: {
          grant_types_supported: [
            'authorization_code',
            'implicit',
            'refresh_token',
            'client_credentials',
          ],
          response_types_supported: ['code', 'token', 'id_token', 'code id_token', 'none'],
          subject_types_supported: ['public', 'pairwise'],
          id_token_signing_alg_values_supported: ['RS256', 'ES256', 'HS256', 'none'],
          id_token_encryption_alg_values_supported: ['RSA-OAEP-256', 'dir'],
          id_token_encryption_enc_values_supported: ['A128CBC-HS256', 'A256GCM'],
          userinfo_encryption_alg_values_supported: ['RSA-OAEP-256'],
          userinfo_encryption_enc_values_supported: ['A128CBC-HS256'],
          request_object_encryption_alg_values_supported: ['RSA-OAEP-256'],
          request_object_encryption_enc_values_supported: ['A256GCM'],
          token_endpoint_auth_methods_supported: [
            'client_secret_basic',
            'client_secret_post',
            'client_secret_jwt',
            'private_key_jwt',
            'tls_client_auth',
            'none',
          ],
          acr_values_supported: ['phr', 'phrh'],
          scopes_supported: ['openid', 'read', 'write'],
        },
      },
    }),
  ),
]

const KNOWN = [
  'redirect_uris',
  'token_endpoint_auth_method',
  'grant_types',
  'response_types',
  'client_name',
  'client_uri',
  'logo_uri',
  'scope',
  'contacts',
  'tos_uri',
  'policy_uri',
  'jwks_uri',
  'jwks',
  'software_id',
  'software_version',
  'application_type',
  'sector_identifier_uri',
  'subject_type',
  'id_token_signed_response_alg',
  'id_token_encrypted_response_alg',
  'id_token_encrypted_response_enc',
  'userinfo_signed_response_alg',
  'userinfo_encrypted_response_alg',
  'userinfo_encrypted_response_enc',
  'request_object_signing_alg',
  'request_object_encryption_alg',
  'request_object_encryption_enc',
  'token_endpoint_auth_signing_alg',
  'default_max_age',
  'require_auth_time',
  'default_acr_values',
  'initiate_login_uri',
  'request_uris',
  'post_logout_redirect_uris',
  'frontchannel_logout_uri',
  'frontchannel_logout_session_required',
  'backchannel_logout_uri',
  'backchannel_logout_session_required',
  'tls_client_auth_subject_dn',
  'tls_client_auth_san_dns',
  'tls_client_certificate_bound_access_tokens',
  'dpop_bound_access_tokens',
  'require_pushed_authorization_requests',
  'require_signed_request_object',
  'x_ext',
]

const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  '__defineGetter__',
  'then',
  'toJSON',
  'client_name#__proto__',
  'redirect_uris#en',
]

const uris = [
  'https://client.example.org/cb',
  'https://client.example.org/cb?x=1',
  'https://client.example.org/cb#f',
  'http://127.0.0.1/cb',
  'http://127.0.0.1:8080/cb',
  'http://[::1]/cb',
  'http://localhost/cb',
  'https://localhost/cb',
  'http://client.example.org/cb',
  'com.example.app:/cb',
  'vscode://ext/cb',
  'myapp://cb',
  'javascript:alert(1)',
  '/cb',
  'https://10.0.0.1/x',
  'https://keys.example.org/jwks',
  'https:///cb',
  'https://client.example.org/\u0000',
  'https://client.example.org/\u202e',
  '',
]

/** Precomputed key sets: valid ones and each kind of refusal. */
let JWKS: unknown[] = []
before(async () => {
  const ec = await generateKeyPair('ES256', { extractable: true })
  const ed = await generateKeyPair('EdDSA', { extractable: true })
  const pub = await exportJWK(ec.publicKey)
  JWKS = [
    { keys: [pub] },
    {
      keys: [
        { ...pub, use: 'sig', kid: 'a' },
        { ...(await exportJWK(ed.publicKey)), use: 'enc' },
      ],
    },
    { keys: [await exportJWK(ec.privateKey)] },
    { keys: [await exportJWK(await generateSecret('HS256', { extractable: true }))] },
    { keys: [{ ...pub, x5c: ['AAAA'] }] },
    { keys: [{ ...pub, alg: 42 }] },
    { keys: [] },
    { keys: 'x' },
  ]
})

const anyJson = fc.jsonValue({ maxDepth: 3 })
/** Mostly `plausible`, sometimes any JSON value at all. */
const mostly = <T>(plausible: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: plausible, weight: 6 }, { arbitrary: anyJson, weight: 1 })
const uri = fc.oneof(
  { arbitrary: fc.constantFrom(...uris), weight: 6 },
  { arbitrary: fc.webUrl(), weight: 1 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 30 }), weight: 1 },
)
const uriList = mostly(fc.array(uri, { maxLength: 3 }))
const word = (...values: string[]) => mostly(fc.constantFrom(...values))
const algs = [
  'RS256',
  'ES256',
  'HS256',
  'none',
  'RSA-OAEP-256',
  'dir',
  'A128CBC-HS256',
  'A256GCM',
  'XX',
]

/** Plausible values per member, so that generated requests often pass and reach deep checks. */
function valueFor(key: string): fc.Arbitrary<unknown> {
  if (key.endsWith('uris')) return uriList
  if (key.endsWith('_uri') || key.includes('_uri#')) return mostly(uri)
  if (key.endsWith('_alg') || key.endsWith('_enc')) return word(...algs)
  if (key === 'grant_types') {
    return mostly(
      fc.subarray([
        'authorization_code',
        'implicit',
        'refresh_token',
        'client_credentials',
        'password',
      ]),
    )
  }
  if (key === 'response_types') {
    return mostly(
      fc.subarray(['code', 'token', 'id_token', 'code id_token', 'id_token code', 'none', '']),
    )
  }
  if (key === 'token_endpoint_auth_method') {
    return word(
      'none',
      'client_secret_basic',
      'client_secret_post',
      'client_secret_jwt',
      'private_key_jwt',
      'tls_client_auth',
    )
  }
  if (key === 'application_type') return word('web', 'native', 'mobile')
  if (key === 'subject_type') return word('public', 'pairwise')
  if (key === 'scope')
    return mostly(fc.oneof(fc.constantFrom('', 'openid read', 'read  admin', 'a"b'), fc.string()))
  if (key === 'jwks') return mostly(fc.integer({ min: 0, max: 7 }).map((i) => JWKS[i]))
  if (key === 'default_max_age')
    return mostly(fc.oneof(fc.integer({ min: -5, max: 1e6 }), fc.double()))
  if (key === 'default_acr_values' || key === 'contacts')
    return mostly(fc.array(fc.string(), { maxLength: 3 }))
  if (key.endsWith('_required') || key.startsWith('require_') || key.endsWith('_tokens')) {
    return mostly(fc.boolean())
  }
  return mostly(fc.string({ unit: 'binary', maxLength: 40 }))
}

const taggedKey = fc
  .tuple(
    fc.constantFrom(...LANGUAGE_TAGGED_FIELDS),
    fc.constantFrom('en', 'ja-Jpan-JP', 'fr-CA', '', 'x y', 'EN-us'),
  )
  .map(([base, tag]) => `${base}#${tag}`)

/** Valid starting points: a web client, a native public client, a machine client. */
const BASES: Record<string, unknown>[] = [
  { redirect_uris: ['https://client.example.org/cb'] },
  { redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' },
  { grant_types: ['client_credentials'] },
]

/** A client metadata request: a valid base, some known members with plausible values, noise. */
const metadataArb: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(
    fc.constantFrom(...BASES),
    fc
      .subarray(KNOWN, { maxLength: 5 })
      .chain((keys) => fc.tuple(...keys.map((k) => valueFor(k).map((v) => [k, v] as const)))),
    fc.array(
      fc.tuple(fc.oneof(taggedKey, fc.constantFrom(...HOSTILE_KEYS), fc.string()), anyJson),
      {
        maxLength: 2,
      },
    ),
  )
  .map(([base, known, noise]) => {
    const o: Record<string, unknown> = {}
    // defineProperty: a '__proto__' member must stay an own data member, as JSON.parse makes it
    for (const [k, v] of [...Object.entries(base), ...known, ...noise]) {
      Object.defineProperty(o, k, {
        value: v,
        enumerable: true,
        writable: true,
        configurable: true,
      })
    }
    return o
  })

function assertRefusal(e: unknown): void {
  assert.ok(e instanceof RegistrationError, `threw ${String(e)}`)
  assert.ok(e.status >= 400 && e.status < 500, `status ${e.status}`)
  assert.ok(
    e.error === 'invalid_client_metadata' || e.error === 'invalid_redirect_uri',
    `error ${e.error}`,
  )
  // the wire form: descriptions keep what the code wrote, toJSON() restricts the characters
  assert.match(
    e.toJSON().error_description ?? '',
    /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/,
    'RFC 6749 §5.2 characters',
  )
}

describe('property: validateClientMetadata', () => {
  it('never throws anything but a 4xx RegistrationError, and its output re-validates to itself', async () => {
    let accepted = 0
    await fc.assert(
      fc.asyncProperty(metadataArb, fc.constantFrom(0, 1), async (input, r) => {
        const rules = RULES[r]!
        let out: Record<string, unknown>
        try {
          out = await validateClientMetadata(input, rules)
        } catch (e) {
          assertRefusal(e)
          return
        }
        accepted++
        // registered metadata is stable: validating it again changes nothing
        assert.deepEqual(await validateClientMetadata(structuredClone(out), rules), out)
        for (const k of Object.keys(out)) {
          assert.ok(KNOWN.includes(k) || k.includes('#'), `unexpected member ${k}`)
        }
        assert.ok(!('jwks' in out && 'jwks_uri' in out), 'jwks xor jwks_uri')
        assert.equal(Object.getPrototypeOf(out), Object.prototype)
      }),
      runs(1500),
    )
    // the generator must reach the success path often enough for the second half to mean something
    assert.ok(accepted > 50, `only ${accepted} inputs were accepted`)
  })

  it('arbitrary JSON values of any shape are refused or accepted, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 4 })), async (input) => {
        try {
          await validateClientMetadata(input, RULES[0]!)
        } catch (e) {
          assertRefusal(e)
        }
      }),
      runs(500),
    )
  })
})

/** A JSON object text built member by member, so hostile names and duplicates reach the wire. */
const objectText = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom(...HOSTILE_KEYS, ...KNOWN), taggedKey, fc.string()),
      fc.oneof(anyJson, uriList),
    ),
    { maxLength: 8 },
  )
  .map(
    (members) =>
      `{${members.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`,
  )

describe('property: the HTTP handler never answers 5xx', () => {
  async function post(fetch: (r: Request) => Promise<Response>, body: string | Uint8Array) {
    const res = await fetch(
      new Request(`${ISSUER}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      }),
    )
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }

  /** Runs the property; resolves with how many bodies were registered (201). */
  async function check(
    arb: fc.Arbitrary<string | Uint8Array>,
    numRuns: number,
    rules: 0 | 1 = 0,
  ): Promise<number> {
    const file =
      rules === 0
        ? {}
        : { registration: { allowedPrivateUseSchemes: ['vscode'], secretEncryptionKey: KEY } }
    const { fetch, store, registrar } = makeRegistrar(file)
    let created = 0
    await fc.assert(
      fc.asyncProperty(arb, async (body) => {
        const before = await store.countClients()
        const res = await post(fetch, body)
        assert.ok(
          res.status === 201 || (res.status >= 400 && res.status < 500),
          `status ${res.status}`,
        )
        assert.equal(typeof res.body.error === 'string', res.status !== 201)
        // a refusal leaves nothing behind (R7591-3.1-b); a success leaves exactly one client
        assert.equal(await store.countClients(), before + (res.status === 201 ? 1 : 0))
        if (res.status === 201) created++
        else assert.equal('client_id' in res.body, false)
      }),
      runs(numRuns),
    )
    // nothing leaked onto Object.prototype
    for (const k of ['polluted', 'token_endpoint_auth_method', 'redirect_uris', 'x']) {
      assert.equal((Object.prototype as Record<string, unknown>)[k], undefined, k)
    }
    // every stored client holds metadata that validates to itself
    for (const c of await store.listClients()) {
      assert.deepEqual(
        await validateClientMetadata(structuredClone(c.metadata), registrar.rules),
        c.metadata,
      )
    }
    return created
  }

  it('arbitrary JSON values', async () => {
    await check(
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null'),
      300,
    )
  })

  it('arbitrary bytes, and arbitrary text', async () => {
    await check(fc.oneof(fc.uint8Array({ maxLength: 512 }), fc.string({ unit: 'binary' })), 300)
  })

  it('objects with hostile member names, duplicates and plausible metadata', async () => {
    await check(objectText, 300, 1)
    const created = await check(
      metadataArb.map((o) => JSON.stringify(o)),
      300,
      1,
    )
    // the success path (store, re-validation) must be exercised too
    assert.ok(created > 30, `only ${created} registered`)
  })
})
