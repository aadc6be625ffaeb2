import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { exportJWK, generateKeyPair, generateSecret, type JWK } from 'jose'
import { resolveConfig } from '../../src/config/resolve.js'
import { openSecret, sha256 } from '../../src/core/crypto.js'
import { RegistrationError } from '../../src/core/errors.js'
import { isSymmetricAlg, needsPlaintextSecret, needsSecret } from '../../src/metadata/algorithms.js'
import { clientMetadataRules } from '../../src/metadata/rules.js'
import type { ClientMetadata } from '../../src/metadata/types.js'
import { validateClientMetadata } from '../../src/metadata/validate.js'
import { call, ISSUER, makeRegistrar } from '../helpers.js'

type File = Record<string, unknown>
type Input = Record<string, unknown>

const CB = 'https://client.example.org/cb'
const minimal = { redirect_uris: [CB] }
/** A 32-byte key, base64url: enables client_secret_jwt and HS* algorithms (docs/design-decisions.md). */
const KEY = Buffer.alloc(32, 7).toString('base64url')

function rulesFor(file: File = {}) {
  return clientMetadataRules(resolveConfig({ file: { issuer: ISSUER, ...file } }))
}

function validate(input: Input, file: File = {}): Promise<ClientMetadata> {
  return validateClientMetadata(input, rulesFor(file))
}

/** Asserts the input is refused with `error` (400), and optionally a description matching `re`. */
async function refuse(input: Input, error: string, file: File = {}, re?: RegExp): Promise<void> {
  await assert.rejects(validate(input, file), (e: unknown) => {
    assert.ok(e instanceof RegistrationError, `not a RegistrationError: ${String(e)}`)
    assert.equal(e.error, error, `${e.error}: ${e.error_description}`)
    assert.equal(e.status, 400)
    if (re) assert.match(e.error_description ?? '', re)
    return true
  })
}

/** Metadata enabling the OIDC response types and the implicit grant for the tests that need them. */
const OIDC_TYPES: File = {
  metadata: {
    grant_types_supported: [
      'authorization_code',
      'implicit',
      'refresh_token',
      'client_credentials',
    ],
    response_types_supported: [
      'code',
      'token',
      'id_token',
      'id_token token',
      'code id_token',
      'code token',
      'code id_token token',
    ],
  },
}

/** A self-signed P-256 certificate (CN=registrar-test-client), base64 DER, and its public key. */
const CERT_B64 =
  'MIIBlzCCAT2gAwIBAgIUcJL6nGP4WF4p3OfMa+SX4GAhDmYwCgYIKoZIzj0EAwIwIDEeMBwGA1UEAwwVcmVnaXN0cmFyLXRlc3QtY2xpZW50MCAXDTI2MTEyNzA5NDIzM1oYDzIxMjYxMTAzMDk0MjMzWjAgMR4wHAYDVQQDDBVyZWdpc3RyYXItdGVzdC1jbGllbnQwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARxyH2dYjn4W5fLlrfzSNnbz+fpVsLZCBbGaHOAi+9l42ewDRbLO353rLUYpuB/IGei03ua//cplNfrHDtLZLGYo1MwUTAdBgNVHQ4EFgQUoZ4bzEPUqjMb2TgNnWRF20Cer1IwHwYDVR0jBBgwFoAUoZ4bzEPUqjMb2TgNnWRF20Cer1IwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiBjbjhtql5ijJAA1IuHywCV6tNZHk6gyWKRIVF5qMX3hQIhAOcCJIp8uSHKYwOOhd7RX6UTPB14jrswp3L1o60shARg'
const CERT_JWK: JWK = {
  kty: 'EC',
  crv: 'P-256',
  x: 'cch9nWI5-FuXy5a380jZ28_n6VbC2QgWxmhzgIvvZeM',
  y: 'Z7ANFss7fnestRim4H8gZ6LTe5r_9ymU1-scO0tksZg',
}

async function publicJwk(alg: string, extra: JWK = {}): Promise<JWK> {
  const { publicKey } = await generateKeyPair(alg, { extractable: true })
  return { ...(await exportJWK(publicKey)), ...extra }
}

async function privateJwk(alg: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true })
  return exportJWK(privateKey)
}

describe('validateClientMetadata: defaults (RFC 7591 §2, §3.2.1; OIDC Registration §2)', () => {
  it('R7591-3.2.1-e ROIDR-2-b ROIDR-2-i ROIDR-2-r: a minimal request gets every default, echoed', async () => {
    const out = await validate(minimal)
    assert.deepEqual(out, {
      redirect_uris: [CB],
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      application_type: 'web',
      subject_type: 'public',
      id_token_signed_response_alg: 'RS256',
      require_auth_time: false,
    })
  })

  it('R7591-2-f02 R7591-2-f03 R7591-2-f04: defaults reach the HTTP response', async () => {
    const { fetch } = makeRegistrar()
    const res = await call(fetch, 'POST', '/register', { body: minimal })
    assert.equal(res.status, 201)
    for (const [k, v] of Object.entries(await validate(minimal)))
      assert.deepEqual(res.body[k], v, k)
  })

  it('R7591-2-c: null members are treated as omitted and take their defaults', async () => {
    const out = await validate({
      ...minimal,
      client_name: null,
      token_endpoint_auth_method: null,
      grant_types: null,
      application_type: null,
      require_auth_time: null,
    })
    assert.equal(out.client_name, undefined)
    assert.equal('client_name' in out, false)
    assert.equal(out.token_endpoint_auth_method, 'client_secret_basic')
    assert.deepEqual(out.grant_types, ['authorization_code'])
    assert.equal(out.application_type, 'web')
    assert.equal(out.require_auth_time, false)
  })

  it('ROIDR-2-h: subject_type defaults to the first supported one and is echoed', async () => {
    const out = await validate(minimal, { metadata: { subject_types_supported: ['pairwise'] } })
    assert.equal(out.subject_type, 'pairwise')
  })

  it('ROIDR-2-i: id_token_signed_response_alg defaults to RS256, or the first supported algorithm', async () => {
    assert.equal((await validate(minimal)).id_token_signed_response_alg, 'RS256')
    const out = await validate(minimal, {
      metadata: { id_token_signing_alg_values_supported: ['ES256', 'PS256'] },
    })
    assert.equal(out.id_token_signed_response_alg, 'ES256')
  })
})

describe('validateClientMetadata: every field, valid values echoed (RFC 7591 §2, OIDR §2)', () => {
  it('R7591-2-f05..f15 ROIDR-2-c..v RRPL-3-c RX-8705-c RX-9449-a RX-9126-a RX-9101-a: a full request is echoed as registered', async () => {
    const jwk = await publicJwk('ES256', { kid: 'k1', use: 'sig' })
    const input = {
      redirect_uris: [CB, 'https://client.example.org/cb2?tenant=1'],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      client_name: 'Example Client ✓',
      client_uri: 'https://client.example.org/',
      logo_uri: 'https://client.example.org/logo.png',
      scope: 'openid profile offline_access',
      contacts: ['ops@client.example.org', 'security@client.example.org'],
      tos_uri: 'https://client.example.org/tos',
      policy_uri: 'https://client.example.org/privacy',
      jwks: { keys: [jwk] },
      software_id: '4NRB1-0XZABZI9E6-5SM3R',
      software_version: '2.1.0',
      application_type: 'web',
      sector_identifier_uri: 'https://client.example.org/sector.json',
      subject_type: 'public',
      id_token_signed_response_alg: 'PS256',
      userinfo_signed_response_alg: 'RS256',
      request_object_signing_alg: 'ES256',
      default_max_age: 3600,
      require_auth_time: true,
      default_acr_values: ['urn:mace:incommon:iap:silver', 'phr'],
      initiate_login_uri: 'https://client.example.org/login',
      request_uris: [
        'https://client.example.org/rf.txt#qpXaRLh_n93TTR9F252ValdatUQvQiJi5BDub2BeznA',
      ],
      post_logout_redirect_uris: ['https://client.example.org/logged-out'],
      frontchannel_logout_uri: 'https://client.example.org/fc-logout',
      frontchannel_logout_session_required: true,
      backchannel_logout_uri: 'https://client.example.org/bc-logout',
      backchannel_logout_session_required: false,
      tls_client_certificate_bound_access_tokens: false,
      dpop_bound_access_tokens: true,
      require_pushed_authorization_requests: true,
      require_signed_request_object: false,
    }
    const out = await validate(input)
    assert.deepEqual(out, input)
  })

  it('R7591-2-a ROIDR-3.2-a P-1 P-22: unknown members are dropped, never an error', async () => {
    const out = await validate({
      ...minimal,
      example_extension_parameter: 'x',
      resource: 'https://rs.example.com/',
      'unknown#en': 'y',
      nested: { deep: [1, 2, 3] },
    })
    for (const k of ['example_extension_parameter', 'resource', 'unknown#en', 'nested']) {
      assert.equal(k in out, false, k)
    }
  })

  it('R7591-3.1-a R7591-4.1-a: server-issued members in a request are ignored', async () => {
    const out = await validate({
      ...minimal,
      client_id: 'victim',
      client_secret: 'x',
      client_id_issued_at: 1,
      client_secret_expires_at: 1,
      registration_access_token: 't',
      registration_client_uri: 'https://evil.example/',
    })
    for (const k of [
      'client_id',
      'client_secret',
      'client_id_issued_at',
      'registration_access_token',
    ]) {
      assert.equal(k in out, false, k)
    }
  })

  it('R7591-3.1-a: a client cannot choose its client_id or client_secret over HTTP', async () => {
    const { fetch } = makeRegistrar()
    const res = await call(fetch, 'POST', '/register', {
      body: { ...minimal, client_id: 'victim', client_secret: 'chosen' },
    })
    assert.equal(res.status, 201)
    assert.notEqual(res.body.client_id, 'victim')
    assert.notEqual(res.body.client_secret, 'chosen')
  })

  it('RFC 7591 §2: configured extension fields are kept verbatim', async () => {
    const out = await validate(
      { ...minimal, x_tenant: { id: 7, tags: ['a'] }, x_other: 1 },
      { registration: { extensionFields: ['x_tenant'] } },
    )
    assert.deepEqual(out.x_tenant, { id: 7, tags: ['a'] })
    assert.equal('x_other' in out, false)
  })

  it('R7591-2-f05: client_name is stored verbatim (non-ASCII, no normalisation) and limited in length', async () => {
    const name = 'Cafe\u0301 Client 日本語'
    assert.equal((await validate({ ...minimal, client_name: name })).client_name, name)
    await refuse({ ...minimal, client_name: 'x'.repeat(257) }, 'invalid_client_metadata')
    await refuse({ ...minimal, client_name: 'a\u0000b' }, 'invalid_client_metadata')
    await refuse({ ...minimal, client_name: '\ud800' }, 'invalid_client_metadata')
  })

  it('R7591-2-f08 P-13: scope is a string, normalised to single spaces and deduplicated; "" is omitted', async () => {
    assert.equal((await validate({ ...minimal, scope: 'read  write read' })).scope, 'read write')
    assert.equal('scope' in (await validate({ ...minimal, scope: '' })), false)
    assert.equal('scope' in (await validate({ ...minimal, scope: '   ' })), false)
    await refuse({ ...minimal, scope: ['read', 'write'] }, 'invalid_client_metadata')
    await refuse({ ...minimal, scope: 'read "write"' }, 'invalid_client_metadata', {}, /scope/)
  })

  it('R7591-3.2.1-f R8414-2-f: scope outside scopes_supported is dropped (intersect) or refused (reject)', async () => {
    const metadata = { scopes_supported: ['read', 'write'] }
    assert.equal((await validate({ ...minimal, scope: 'read admin' }, { metadata })).scope, 'read')
    assert.equal('scope' in (await validate({ ...minimal, scope: 'admin' }, { metadata })), false)
    await refuse({ ...minimal, scope: 'read admin' }, 'invalid_client_metadata', {
      metadata,
      registration: { scopePolicy: 'reject' },
    })
  })

  it('R7591-2-f09 ROIDR-2-c: contacts is an array of non-empty strings', async () => {
    await refuse({ ...minimal, contacts: 'ops@example.org' }, 'invalid_client_metadata')
    await refuse({ ...minimal, contacts: [1] }, 'invalid_client_metadata')
    await refuse({ ...minimal, contacts: [''] }, 'invalid_client_metadata')
  })

  it('R7591-2-f14 R7591-2-f15: software_id and software_version are opaque strings', async () => {
    const out = await validate({
      ...minimal,
      software_id: 'mcp-remote',
      software_version: '0.1.29',
    })
    assert.equal(out.software_id, 'mcp-remote')
    assert.equal(out.software_version, '0.1.29')
    await refuse({ ...minimal, software_version: 2 }, 'invalid_client_metadata')
  })
})

describe('validateClientMetadata: wrong JSON types give 400 (R7591-2-c)', () => {
  const cases: [string, unknown, string][] = [
    ['redirect_uris', CB, 'invalid_redirect_uri'],
    ['redirect_uris', [1], 'invalid_redirect_uri'],
    ['redirect_uris', [[CB]], 'invalid_redirect_uri'],
    ['redirect_uris', { 0: CB }, 'invalid_redirect_uri'],
    ['token_endpoint_auth_method', 1, 'invalid_client_metadata'],
    ['token_endpoint_auth_method', ['none'], 'invalid_client_metadata'],
    ['grant_types', 'authorization_code', 'invalid_client_metadata'],
    ['grant_types', [true], 'invalid_client_metadata'],
    ['response_types', 'code', 'invalid_client_metadata'],
    ['response_types', [{}], 'invalid_client_metadata'],
    ['client_name', 7, 'invalid_client_metadata'],
    ['client_name', { en: 'x' }, 'invalid_client_metadata'],
    ['client_uri', 1, 'invalid_client_metadata'],
    ['logo_uri', [], 'invalid_client_metadata'],
    ['tos_uri', true, 'invalid_client_metadata'],
    ['policy_uri', {}, 'invalid_client_metadata'],
    ['scope', 1, 'invalid_client_metadata'],
    ['contacts', {}, 'invalid_client_metadata'],
    ['jwks_uri', 1, 'invalid_client_metadata'],
    ['jwks', 'keys', 'invalid_client_metadata'],
    ['jwks', [], 'invalid_client_metadata'],
    ['jwks', { keys: 'x' }, 'invalid_client_metadata'],
    ['jwks', { keys: [] }, 'invalid_client_metadata'],
    ['jwks', { keys: ['x'] }, 'invalid_client_metadata'],
    ['software_id', 1, 'invalid_client_metadata'],
    ['application_type', 'mobile', 'invalid_client_metadata'],
    ['application_type', 1, 'invalid_client_metadata'],
    ['sector_identifier_uri', 1, 'invalid_client_metadata'],
    ['subject_type', 1, 'invalid_client_metadata'],
    ['subject_type', 'pairwise', 'invalid_client_metadata'],
    ['id_token_signed_response_alg', 256, 'invalid_client_metadata'],
    ['id_token_signed_response_alg', 'XX999', 'invalid_client_metadata'],
    ['userinfo_signed_response_alg', 1, 'invalid_client_metadata'],
    ['userinfo_signed_response_alg', 'XX999', 'invalid_client_metadata'],
    ['request_object_signing_alg', 1, 'invalid_client_metadata'],
    ['request_object_signing_alg', 'XX999', 'invalid_client_metadata'],
    ['id_token_encrypted_response_alg', 1, 'invalid_client_metadata'],
    ['userinfo_encrypted_response_alg', 'RSA-OAEP', 'invalid_client_metadata'],
    ['request_object_encryption_alg', 'RSA-OAEP', 'invalid_client_metadata'],
    ['token_endpoint_auth_signing_alg', 1, 'invalid_client_metadata'],
    ['default_max_age', '60', 'invalid_client_metadata'],
    ['default_max_age', -1, 'invalid_client_metadata'],
    ['default_max_age', 1.5, 'invalid_client_metadata'],
    ['require_auth_time', 'true', 'invalid_client_metadata'],
    ['require_auth_time', 1, 'invalid_client_metadata'],
    ['default_acr_values', 'phr', 'invalid_client_metadata'],
    ['default_acr_values', [1], 'invalid_client_metadata'],
    ['default_acr_values', [''], 'invalid_client_metadata'],
    ['initiate_login_uri', 1, 'invalid_client_metadata'],
    ['request_uris', 'https://client.example.org/r', 'invalid_client_metadata'],
    ['request_uris', [1], 'invalid_client_metadata'],
    ['post_logout_redirect_uris', 'https://client.example.org/out', 'invalid_client_metadata'],
    ['post_logout_redirect_uris', [null], 'invalid_client_metadata'],
    ['frontchannel_logout_uri', 1, 'invalid_client_metadata'],
    ['backchannel_logout_uri', [], 'invalid_client_metadata'],
    ['frontchannel_logout_session_required', 'yes', 'invalid_client_metadata'],
    ['backchannel_logout_session_required', 0, 'invalid_client_metadata'],
    ['tls_client_certificate_bound_access_tokens', 'false', 'invalid_client_metadata'],
    ['dpop_bound_access_tokens', 1, 'invalid_client_metadata'],
    ['require_pushed_authorization_requests', 'true', 'invalid_client_metadata'],
    ['require_signed_request_object', {}, 'invalid_client_metadata'],
  ]
  for (const [field, value, error] of cases) {
    it(`${field}: ${JSON.stringify(value)} gives 400 ${error}`, async () => {
      await refuse({ ...minimal, [field]: value }, error)
    })
  }

  it('R7591-2-c: huge arrays are refused, not processed', async () => {
    const many = Array.from({ length: 101 }, (_, i) => `https://client.example.org/cb${i}`)
    await refuse({ redirect_uris: many }, 'invalid_redirect_uri')
    await refuse({ ...minimal, contacts: Array(101).fill('a@b.c') }, 'invalid_client_metadata')
  })
})

describe('validateClientMetadata: grant_types and response_types (RFC 7591 §2.1, OIDR §2)', () => {
  it('R7591-5-e P-5: ["authorization_code","refresh_token"] is registered and echoed', async () => {
    const out = await validate({ ...minimal, grant_types: ['authorization_code', 'refresh_token'] })
    assert.deepEqual(out.grant_types, ['authorization_code', 'refresh_token'])
    assert.deepEqual(out.response_types, ['code'])
  })

  it('R7591-2-b R7591-3.2.1-f P-5: unsupported grant types are dropped and the rest echoed', async () => {
    const out = await validate({ ...minimal, grant_types: ['authorization_code', 'password'] })
    assert.deepEqual(out.grant_types, ['authorization_code'])
  })

  it('R7591-2-b: nothing usable left gives invalid_client_metadata', async () => {
    await refuse({ ...minimal, grant_types: ['password'] }, 'invalid_client_metadata')
    await refuse({ ...minimal, grant_types: [] }, 'invalid_client_metadata')
  })

  it('R7591-2.1-a: authorization_code with response type token is inconsistent', async () => {
    await refuse(
      { ...minimal, grant_types: ['authorization_code'], response_types: ['token'] },
      'invalid_client_metadata',
      OIDC_TYPES,
      /implicit/,
    )
  })

  it('R7591-2.1-a: implicit with response type code is inconsistent', async () => {
    await refuse(
      { ...minimal, grant_types: ['implicit'], response_types: ['code'] },
      'invalid_client_metadata',
      OIDC_TYPES,
    )
  })

  it('R7591-2.1-b: response_types alone is checked against grant_types: the consistent grant is registered and echoed', async () => {
    const out = await validate({ ...minimal, response_types: ['token'] }, OIDC_TYPES)
    assert.deepEqual(out.grant_types, ['implicit'])
    assert.deepEqual(out.response_types, ['token'])
  })

  it('R7591-2.1-b: grant_types ["implicit"] alone needs a response type', async () => {
    await refuse({ ...minimal, grant_types: ['implicit'] }, 'invalid_client_metadata', OIDC_TYPES)
  })

  it('R7591-2.1-b: response_types ["token"] where implicit is not supported gives 400', async () => {
    await refuse({ ...minimal, response_types: ['token'] }, 'invalid_client_metadata')
  })

  it('R7591-2-f04 RX-CIBA-a: client_credentials with response_types [] and no redirect_uris', async () => {
    const out = await validate({ grant_types: ['client_credentials'], response_types: [] })
    assert.deepEqual(out.response_types, [])
    assert.equal('redirect_uris' in out, false)
    const implied = await validate({ grant_types: ['client_credentials'] })
    assert.deepEqual(implied.response_types, [])
  })

  it('issue 12 item 12 R7591-3.2.1-e: redirect_uris [] is registered and echoed as [], like response_types []', async () => {
    // both MCP SDKs send it for client_credentials clients and parse redirect_uris as required
    const out = await validate({ grant_types: ['client_credentials'], redirect_uris: [] })
    assert.deepEqual(out.redirect_uris, [])
    const omitted = await validate({ grant_types: ['client_credentials'] })
    assert.equal('redirect_uris' in omitted, false, 'an omitted member stays omitted')
    const { fetch } = makeRegistrar()
    const res = await call(fetch, 'POST', '/register', {
      body: { grant_types: ['client_credentials'], redirect_uris: [] },
    })
    assert.equal(res.status, 201)
    assert.deepEqual(res.body.redirect_uris, [])
    const read = await call(fetch, 'GET', new URL(res.body.registration_client_uri).pathname, {
      token: res.body.registration_access_token,
    })
    assert.deepEqual(read.body.redirect_uris, [], 'RFC 7592 read returns it too')
  })

  it('ROIDR-2-aa: "code id_token" needs both authorization_code and implicit', async () => {
    await refuse(
      { ...minimal, response_types: ['code id_token'], grant_types: ['authorization_code'] },
      'invalid_client_metadata',
      OIDC_TYPES,
    )
    const out = await validate(
      {
        ...minimal,
        response_types: ['code id_token'],
        grant_types: ['authorization_code', 'implicit'],
      },
      OIDC_TYPES,
    )
    assert.deepEqual(out.response_types, ['code id_token'])
  })

  it('ROIDR-2-aa: every row of the OIDC table is accepted with its grants', async () => {
    const table: [string, string[]][] = [
      ['code', ['authorization_code']],
      ['id_token', ['implicit']],
      ['id_token token', ['implicit']],
      ['code id_token', ['authorization_code', 'implicit']],
      ['code token', ['authorization_code', 'implicit']],
      ['code id_token token', ['authorization_code', 'implicit']],
    ]
    for (const [responseType, grants] of table) {
      const out = await validate(
        { ...minimal, response_types: [responseType], grant_types: grants },
        OIDC_TYPES,
      )
      assert.deepEqual(out.grant_types, grants, responseType)
      const missing = grants.length > 1 ? [grants[0]!] : ['refresh_token']
      await refuse(
        { ...minimal, response_types: [responseType], grant_types: missing },
        'invalid_client_metadata',
        OIDC_TYPES,
      )
    }
  })

  it('ROIDR-2-aa: response type components in another order name the same type', async () => {
    const out = await validate(
      {
        ...minimal,
        response_types: ['id_token code'],
        grant_types: ['authorization_code', 'implicit'],
      },
      OIDC_TYPES,
    )
    assert.deepEqual(out.response_types, ['code id_token'])
    const twice = await validate(
      {
        ...minimal,
        response_types: ['code id_token', 'id_token code'],
        grant_types: ['authorization_code', 'implicit'],
      },
      OIDC_TYPES,
    )
    assert.deepEqual(twice.response_types, ['code id_token'], 'registered once')
  })

  it('R7591-2-f04 RDISC-X-a: a response type outside response_types_supported gives 400 when none is left', async () => {
    await refuse(
      { ...minimal, response_types: ['code id_token'] },
      'invalid_client_metadata',
      {},
      /none of the requested response_types is supported; supported: code/,
    )
  })

  it('issue 12 item 13 R7591-3.2.1-f: unsupported response types are dropped like grant types, the rest echoed', async () => {
    const out = await validate({
      ...minimal,
      response_types: ['code', 'id_token', 'code id_token'],
      grant_types: ['authorization_code', 'refresh_token'],
    })
    assert.deepEqual(out.response_types, ['code'])
    assert.deepEqual(out.grant_types, ['authorization_code', 'refresh_token'])
    // grant_types omitted: the default follows what was kept (RFC 7591 §2.1)
    const implied = await validate({ ...minimal, response_types: ['id_token token', 'code'] })
    assert.deepEqual(implied.response_types, ['code'])
    assert.deepEqual(implied.grant_types, ['authorization_code'])
  })

  it('issue 12 item 13: a grant only the dropped response types needed is dropped with them', async () => {
    const file = {
      metadata: {
        grant_types_supported: ['authorization_code', 'implicit', 'refresh_token'],
        response_types_supported: ['code', 'token'],
      },
    }
    const out = await validate(
      {
        ...minimal,
        response_types: ['code', 'id_token'],
        grant_types: ['authorization_code', 'implicit'],
      },
      file,
    )
    assert.deepEqual(out.response_types, ['code'])
    assert.deepEqual(out.grant_types, ['authorization_code'], 'implicit served only id_token')
    // a grant that a kept response type needs stays
    const kept = await validate(
      {
        ...minimal,
        response_types: ['code', 'token', 'id_token'],
        grant_types: ['authorization_code', 'implicit'],
      },
      file,
    )
    assert.deepEqual(kept.response_types, ['code', 'token'])
    assert.deepEqual(kept.grant_types, ['authorization_code', 'implicit'])
    // nothing was dropped: an inconsistent pair is still refused, not repaired (R7591-2.1-a)
    await refuse(
      { ...minimal, response_types: ['code'], grant_types: ['authorization_code', 'implicit'] },
      'invalid_client_metadata',
      file,
    )
  })

  it('R7591-2-f01 R7591-5-b: redirect-based grants need redirect_uris', async () => {
    await refuse({}, 'invalid_redirect_uri')
    await refuse({ redirect_uris: [] }, 'invalid_redirect_uri')
    await refuse({ grant_types: ['authorization_code'] }, 'invalid_redirect_uri')
    await refuse(
      { grant_types: ['implicit'], response_types: ['token'] },
      'invalid_redirect_uri',
      OIDC_TYPES,
    )
  })
})

describe('validateClientMetadata: redirect URI decision table (RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700 §2.1)', () => {
  type Outcome = 'accept' | 'reject'
  // [uri, explicit web, explicit native, application_type omitted]: 'web' / 'native' is the
  // application_type registered, 'reject' a 400 (RFC 7591 §3.2.1: explicit web with loopback or
  // private-use redirect URIs is registered as native, issue 12 item 11)
  const rows: [string, 'web' | 'native' | 'reject', Outcome, 'web' | 'native' | 'reject'][] = [
    ['https://app.example.com/cb', 'web', 'accept', 'web'],
    ['https://app.example.com/cb?tenant=1', 'web', 'accept', 'web'],
    ['https://app.example.com/cb#x', 'reject', 'reject', 'reject'],
    ['/cb', 'reject', 'reject', 'reject'],
    ['cb', 'reject', 'reject', 'reject'],
    ['//app.example.com/cb', 'reject', 'reject', 'reject'],
    ['https:/app.example.com/cb', 'reject', 'reject', 'reject'],
    ['https:///cb', 'reject', 'reject', 'reject'],
    ['http://app.example.com/cb', 'reject', 'reject', 'reject'],
    ['http://127.0.0.1/cb', 'native', 'accept', 'native'],
    ['http://[::1]/cb', 'native', 'accept', 'native'],
    ['http://localhost/cb', 'native', 'accept', 'native'],
    ['http://127.0.0.1:3000/cb', 'native', 'accept', 'native'],
    ['http://localhost:33418/', 'native', 'accept', 'native'],
    ['https://localhost/cb', 'web', 'accept', 'web'],
    ['com.example.app:/oauth2redirect', 'native', 'accept', 'native'],
    ['vscode://publisher.ext/cb', 'reject', 'reject', 'reject'],
    ['javascript:alert(1)', 'reject', 'reject', 'reject'],
    ['javascript://app.example.com/%0aalert(1)', 'reject', 'reject', 'reject'],
    ['data:text/html,hi', 'reject', 'reject', 'reject'],
    ['file:///etc/passwd', 'reject', 'reject', 'reject'],
    ['vbscript:msgbox', 'reject', 'reject', 'reject'],
    ['about:blank', 'reject', 'reject', 'reject'],
    ['https://*.example.com/cb', 'reject', 'reject', 'reject'],
    ['https://user:pw@app.example.com/cb', 'reject', 'reject', 'reject'],
    ['https://app.example.com/c b', 'reject', 'reject', 'reject'],
    ['https://app.example.com/cb\n', 'reject', 'reject', 'reject'],
    ['https://app.example.com\\@evil.example/cb', 'reject', 'reject', 'reject'],
    ['https://app.example.com/\u202ebc', 'reject', 'reject', 'reject'],
  ]
  for (const [uri, web, native, omitted] of rows) {
    it(`R6749-3.1.2-a R9700-2.6-a ROIDR-2-x ROIDR-2-y: ${JSON.stringify(uri)}: web ${web}, native ${native}, omitted ${omitted}`, async () => {
      const body = { redirect_uris: [uri] }
      if (web === 'reject')
        await refuse({ ...body, application_type: 'web' }, 'invalid_redirect_uri')
      else
        assert.equal((await validate({ ...body, application_type: 'web' })).application_type, web)
      if (native === 'accept') {
        const out = await validate({ ...body, application_type: 'native' })
        assert.equal(out.application_type, 'native')
        assert.deepEqual(out.redirect_uris, [uri], 'registered verbatim, never substituted')
      } else await refuse({ ...body, application_type: 'native' }, 'invalid_redirect_uri')
      if (omitted === 'reject') await refuse(body, 'invalid_redirect_uri')
      else assert.equal((await validate(body)).application_type, omitted)
    })
  }

  it('ROIDR-2-w: web clients using the implicit grant must not use localhost', async () => {
    const implicit = { grant_types: ['implicit'], response_types: ['id_token'] }
    await refuse(
      { ...implicit, application_type: 'web', redirect_uris: ['https://localhost/cb'] },
      'invalid_redirect_uri',
      OIDC_TYPES,
    )
    const ok = await validate(
      { ...implicit, application_type: 'web', redirect_uris: ['https://app.example.com/cb'] },
      OIDC_TYPES,
    )
    assert.deepEqual(ok.grant_types, ['implicit'])
  })

  it('R8252-7.1-a C-13: dot-less private-use schemes only when allow-listed, then for native clients', async () => {
    const file = { registration: { allowedPrivateUseSchemes: ['vscode', 'cursor'] } }
    const uri = 'vscode://publisher.ext/cb'
    assert.equal((await validate({ redirect_uris: [uri] }, file)).application_type, 'native')
    const web = await validate({ redirect_uris: [uri], application_type: 'web' }, file)
    assert.equal(web.application_type, 'native', 'RFC 7591 §3.2.1: registered as native')
    await refuse({ redirect_uris: ['myapp://cb'] }, 'invalid_redirect_uri', file, /8252/)
  })

  it('RFC 7591 §3.2.1, RFC 8252 §7: application_type omitted with only loopback or private-use redirect URIs is native', async () => {
    const out = await validate({
      redirect_uris: ['http://127.0.0.1:8080/cb', 'http://localhost/cb', 'com.example.app:/cb'],
    })
    assert.equal(out.application_type, 'native')
  })

  it('issue 12 item 11 RFC 7591 §3.2.1: claimed https beside loopback (VS Code) is native when application_type is omitted', async () => {
    const uris = ['https://vscode.dev/redirect', 'http://127.0.0.1:33418/', 'http://127.0.0.1/']
    const out = await validate({ redirect_uris: uris })
    assert.equal(out.application_type, 'native')
    assert.deepEqual(out.redirect_uris, uris)
  })

  it('issue 12 item 11 R7591-3.2.1-f: explicit web with loopback or private-use redirect URIs is registered as native', async () => {
    for (const uris of [
      ['http://localhost:4242'],
      ['edu.kit.data.oidc-agent:/redirect'],
      ['http://localhost:4242', 'http://localhost:8080', 'edu.kit.data.oidc-agent:/redirect'],
      ['https://app.example.com/cb', 'http://127.0.0.1/cb'],
    ]) {
      const out = await validate({ redirect_uris: uris, application_type: 'web' })
      assert.equal(out.application_type, 'native', uris.join(' '))
      assert.deepEqual(out.redirect_uris, uris)
    }
  })

  it('issue 12 items 11 and 13: the dry run says which members the server replaced or narrowed', async () => {
    const { registrar } = makeRegistrar()
    const result = await registrar.evaluate({
      metadata: {
        application_type: 'web',
        redirect_uris: ['http://localhost:4242'],
        response_types: ['code', 'id_token'],
        grant_types: ['authorization_code', 'implicit'],
      },
    })
    assert.match(result.decisions.application_type ?? '', /replaced: .*native client/)
    assert.equal(result.decisions.response_types, 'request, narrowed to response_types_supported')
    assert.equal(result.decisions.grant_types, 'request, narrowed to grant_types_supported')
  })

  it('issue 12 item 11: what no application type could use is still refused', async () => {
    for (const application_type of ['web', 'native', undefined]) {
      await refuse(
        { redirect_uris: ['http://127.0.0.1/cb', 'http://app.example.com/cb'], application_type },
        'invalid_redirect_uri',
        {},
        /RFC 9700/,
      )
    }
    await refuse(
      { redirect_uris: ['https://app.example.com/cb'], application_type: 'mobile' },
      'invalid_client_metadata',
    )
  })

  it('P-7: https://localhost is not inferred native', async () => {
    assert.equal(
      (await validate({ redirect_uris: ['https://localhost/cb'] })).application_type,
      'web',
    )
  })

  it('R8252-7.2-a: native clients may mix claimed https with loopback (VS Code)', async () => {
    const uris = ['https://vscode.dev/redirect', 'http://127.0.0.1:33418/', 'http://127.0.0.1/']
    const out = await validate({ redirect_uris: uris, application_type: 'native' })
    assert.deepEqual(out.redirect_uris, uris)
  })

  it('ROIDR-2-z ROIDR-3.2-a C-3: one bad entry rejects the whole list; nothing is substituted', async () => {
    await refuse(
      { redirect_uris: ['https://app.example.com/cb', 'http://evil.example.com/cb'] },
      'invalid_redirect_uri',
    )
  })

  it('ROIDR-6-a: redirect URIs are kept verbatim (no Unicode or case normalisation), duplicates dropped', async () => {
    const uris = ['https://App.Example.com/caf\u00e9', 'https://app.example.com/cafe\u0301']
    const out = await validate({ redirect_uris: [...uris, uris[0]!] })
    assert.deepEqual(out.redirect_uris, uris)
  })
})

describe('issue 12 item 6: human-readable members refuse bidirectional and invisible characters', () => {
  const HIDDEN: [string, string][] = [
    ['\u202e', 'RIGHT-TO-LEFT OVERRIDE'],
    ['\u202a', 'LEFT-TO-RIGHT EMBEDDING'],
    ['\u2066', 'LEFT-TO-RIGHT ISOLATE'],
    ['\u2069', 'POP DIRECTIONAL ISOLATE'],
    ['\u061c', 'ARABIC LETTER MARK'],
    ['\u200e', 'LEFT-TO-RIGHT MARK'],
    ['\u200f', 'RIGHT-TO-LEFT MARK'],
    ['\u200b', 'ZERO WIDTH SPACE'],
    ['\u200c', 'ZERO WIDTH NON-JOINER'],
    ['\u200d', 'ZERO WIDTH JOINER'],
    ['\u2060', 'WORD JOINER'],
    ['\u2064', 'INVISIBLE PLUS'],
    ['\ufeff', 'ZERO WIDTH NO-BREAK SPACE'],
    ['\u00ad', 'SOFT HYPHEN'],
    ['\u034f', 'COMBINING GRAPHEME JOINER'],
    ['\u180e', 'MONGOLIAN VOWEL SEPARATOR'],
    ['\u3164', 'HANGUL FILLER'],
    ['\u{e0041}', 'TAG LATIN CAPITAL LETTER A'],
    ['\u{e007f}', 'CANCEL TAG'],
    ['\u2028', 'LINE SEPARATOR'],
    ['\u2029', 'PARAGRAPH SEPARATOR'],
  ]
  const FIELDS = ['client_name', 'client_name#ar', 'software_id', 'software_version']
  for (const [ch, name] of HIDDEN) {
    it(`${name} (U+${ch.codePointAt(0)!.toString(16).toUpperCase()}) is refused in ${FIELDS.join(', ')} and contacts`, async () => {
      for (const field of FIELDS) {
        await refuse(
          { ...minimal, [field]: `Acme${ch}Bank` },
          'invalid_client_metadata',
          {},
          new RegExp(`${field} must not contain invisible or bidirectional control characters`),
        )
      }
      await refuse({ ...minimal, contacts: [`admin${ch}@example.com`] }, 'invalid_client_metadata')
    })
  }

  it('the same characters are refused in every URI (redirect URIs included)', async () => {
    for (const [ch] of HIDDEN) {
      await refuse({ redirect_uris: [`https://pay${ch}pal.example/cb`] }, 'invalid_redirect_uri')
      await refuse(
        { ...minimal, client_uri: `https://client.example.org/${ch}` },
        'invalid_client_metadata',
      )
    }
  })

  it('R7591-2.2-c R7591-2-f05: names in any script, accents and emoji stay accepted and verbatim', async () => {
    for (const name of [
      'クライアント名',
      'Café Noir',
      'Cafe\u0301 Noir',
      'Ελληνικά',
      'مرحبا بالعالم',
      'עברית',
      'हिन्दी',
      '❤\ufe0f App',
      '☃\ufe0e Snow',
    ]) {
      const out = await validate({ ...minimal, client_name: name, 'client_name#xx': name })
      assert.equal(out.client_name, name)
      assert.equal(out['client_name#xx'], name)
    }
  })
})

describe('validateClientMetadata: language-tagged members (RFC 7591 §2.2, OIDR §2.1)', () => {
  it('R7591-2.2-a ROIDR-2.1-a: tagged human-readable members are stored and echoed byte for byte', async () => {
    const input = {
      ...minimal,
      client_name: 'My Example Client',
      'client_name#ja-Jpan-JP': 'クライアント名',
      'client_name#en-US': 'My Example Client (US)',
      'tos_uri#fr': 'https://client.example.org/fr/cgu',
      'policy_uri#de': 'https://client.example.org/de/datenschutz',
      'logo_uri#ja': 'https://client.example.org/ja/logo.png',
      'client_uri#es': 'https://client.example.org/es/',
    }
    const out = await validate(input)
    for (const [k, v] of Object.entries(input)) assert.deepEqual(out[k], v, k)
    const { fetch } = makeRegistrar()
    const res = await call(fetch, 'POST', '/register', { body: input })
    assert.equal(res.status, 201)
    assert.equal(res.body['client_name#ja-Jpan-JP'], 'クライアント名')
    const read = await call(fetch, 'GET', new URL(res.body.registration_client_uri).pathname, {
      token: res.body.registration_access_token,
    })
    assert.equal(read.body['client_name#ja-Jpan-JP'], 'クライアント名')
  })

  it('R7591-2.2-e: tagged URL members are validated like the untagged ones', async () => {
    await refuse(
      { ...minimal, 'logo_uri#fr': 'http://evil.example/logo.png' },
      'invalid_client_metadata',
      {},
      /logo_uri#fr/,
    )
    await refuse({ ...minimal, 'tos_uri#fr': 'javascript:alert(1)' }, 'invalid_client_metadata')
    await refuse({ ...minimal, 'client_name#fr': 42 }, 'invalid_client_metadata')
  })

  it('R7591-2.2-e: malformed tags, and tags on non-human-readable members, are ignored like unknown members', async () => {
    const out = await validate({
      ...minimal,
      'client_name#': 'x',
      'client_name#not a tag': 'x',
      'client_name#toolongsubtag': 'x',
      'redirect_uris#en': ['https://other.example/cb'],
      'scope#en': 'admin',
      '#en': 'x',
    })
    for (const k of Object.keys(out)) assert.ok(!k.includes('#'), k)
  })
})

describe('validateClientMetadata: jwks and jwks_uri (RFC 7591 §2, OIDR §2)', () => {
  it('R7591-2-f13 ROIDR-2-f: public RSA, EC and OKP keys are accepted and echoed', async () => {
    const keys = [
      await publicJwk('RS256', { kid: 'rsa', use: 'sig' }),
      await publicJwk('ES384', { kid: 'ec', use: 'sig' }),
      await publicJwk('EdDSA', { kid: 'ed', use: 'sig' }),
    ]
    const out = await validate({ ...minimal, jwks: { keys } })
    assert.deepEqual(out.jwks, { keys })
  })

  it('R7591-2-f13 ROIDR-2-f: a key with private material (d) gives 400', async () => {
    for (const alg of ['ES256', 'RS256', 'EdDSA']) {
      await refuse(
        { ...minimal, jwks: { keys: [await privateJwk(alg)] } },
        'invalid_client_metadata',
        {},
        /private/,
      )
    }
  })

  it('ROIDR-2-f: a symmetric (oct) key gives 400', async () => {
    const secret = await generateSecret('HS256', { extractable: true })
    const jwk = await exportJWK(secret)
    assert.equal(jwk.kty, 'oct')
    await refuse({ ...minimal, jwks: { keys: [jwk] } }, 'invalid_client_metadata')
    const { k: _k, ...withoutK } = jwk
    await refuse({ ...minimal, jwks: { keys: [withoutK] } }, 'invalid_client_metadata')
  })

  it('R7591-2-f12 R7591-2-f13: jwks and jwks_uri together give 400', async () => {
    await refuse(
      {
        ...minimal,
        jwks: { keys: [await publicJwk('ES256')] },
        jwks_uri: 'https://client.example.org/jwks',
      },
      'invalid_client_metadata',
      {},
      /jwks_uri and jwks/,
    )
  })

  it('ROIDR-2-f: an x5c certificate must carry the same key as the JWK', async () => {
    const ok = await validate({ ...minimal, jwks: { keys: [{ ...CERT_JWK, x5c: [CERT_B64] }] } })
    assert.equal(ok.jwks?.keys[0]?.x5c?.[0], CERT_B64)
    const other = await publicJwk('ES256')
    await refuse(
      { ...minimal, jwks: { keys: [{ ...other, x5c: [CERT_B64] }] } },
      'invalid_client_metadata',
      {},
      /x5c/,
    )
    await refuse(
      { ...minimal, jwks: { keys: [{ ...CERT_JWK, x5c: ['bm90IGEgY2VydA=='] }] } },
      'invalid_client_metadata',
    )
    await refuse(
      { ...minimal, jwks: { keys: [{ ...CERT_JWK, x5c: [] }] } },
      'invalid_client_metadata',
    )
  })

  it('ROIDR-2-f: unusable keys give 400 (bad curve point, unknown kty, alg mismatch)', async () => {
    const ec = await publicJwk('ES256')
    await refuse({ ...minimal, jwks: { keys: [{ ...ec, x: 'AAAA' }] } }, 'invalid_client_metadata')
    await refuse(
      { ...minimal, jwks: { keys: [{ kty: 'XYZ', x: 'a' }] } },
      'invalid_client_metadata',
    )
    await refuse(
      { ...minimal, jwks: { keys: [{ ...ec, alg: 'RS256' }] } },
      'invalid_client_metadata',
    )
    await refuse(
      { ...minimal, jwks: { keys: [{ ...ec, use: 'other' }] } },
      'invalid_client_metadata',
    )
  })

  it('RFC 7517 §4: prototype-named members of a key are ignored, not stored', async () => {
    const jwk = await publicJwk('ES256')
    const hostile = JSON.parse(
      `{"keys":[${JSON.stringify(jwk).slice(0, -1)},"__proto__":{"admin":true},"constructor":1,"x-extra":"kept"}]}`,
    )
    assert.ok(Object.hasOwn(hostile.keys[0], '__proto__'))
    const out = await validate({ ...minimal, jwks: hostile })
    const stored = out.jwks?.keys[0] as Record<string, unknown>
    assert.equal(Object.hasOwn(stored, '__proto__'), false)
    assert.equal(Object.hasOwn(stored, 'constructor'), false)
    assert.equal(stored['x-extra'], 'kept')
    assert.equal(Object.getPrototypeOf(stored), Object.prototype)
    assert.deepEqual(await validate({ ...minimal, jwks: out.jwks }), out)
  })

  it('ROIDR-2-e: signing and encryption keys in one set each need use', async () => {
    const sig = await publicJwk('ES256', { use: 'sig' })
    const enc = await publicJwk('ES256', { use: 'enc' })
    const bare = await publicJwk('ES256')
    await validate({ ...minimal, jwks: { keys: [sig, enc] } })
    await refuse({ ...minimal, jwks: { keys: [sig, enc, bare] } }, 'invalid_client_metadata')
  })

  it('ROIDR-2-o RX-8705-b: private_key_jwt and self_signed_tls_client_auth need jwks or jwks_uri', async () => {
    await refuse(
      { ...minimal, token_endpoint_auth_method: 'private_key_jwt' },
      'invalid_client_metadata',
    )
    const out = await validate({
      ...minimal,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: 'https://client.example.org/jwks.json',
    })
    assert.equal(out.jwks_uri, 'https://client.example.org/jwks.json')
  })

  it('ROIDR-2-p: token_endpoint_auth_signing_alg none is refused; the alg must fit the method', async () => {
    const keyed = {
      ...minimal,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: 'https://c.example.org/j',
    }
    await refuse(
      { ...keyed, token_endpoint_auth_signing_alg: 'none' },
      'invalid_client_metadata',
      {},
      /none/,
    )
    await refuse(
      { ...keyed, token_endpoint_auth_signing_alg: 'HS256' },
      'invalid_client_metadata',
      {
        registration: { secretEncryptionKey: KEY },
      },
    )
    await refuse(
      {
        ...minimal,
        token_endpoint_auth_method: 'client_secret_jwt',
        token_endpoint_auth_signing_alg: 'RS256',
      },
      'invalid_client_metadata',
      { registration: { secretEncryptionKey: KEY } },
    )
  })

  it('RX-8705-a: tls_client_auth needs exactly one subject member', async () => {
    const file = { metadata: { token_endpoint_auth_methods_supported: ['tls_client_auth'] } }
    const base = { ...minimal, token_endpoint_auth_method: 'tls_client_auth' }
    await refuse(base, 'invalid_client_metadata', file)
    await refuse(
      { ...base, tls_client_auth_subject_dn: 'CN=a', tls_client_auth_san_dns: 'a.example' },
      'invalid_client_metadata',
      file,
    )
    const out = await validate({ ...base, tls_client_auth_san_dns: 'client.example.org' }, file)
    assert.equal(out.tls_client_auth_san_dns, 'client.example.org')
  })
})

describe('validateClientMetadata: OIDC algorithms and encryption pairs (OIDR §2)', () => {
  const ENC: File = {
    metadata: {
      id_token_encryption_alg_values_supported: ['RSA-OAEP-256', 'ECDH-ES'],
      id_token_encryption_enc_values_supported: ['A128CBC-HS256', 'A256GCM'],
      userinfo_encryption_alg_values_supported: ['RSA-OAEP-256'],
      userinfo_encryption_enc_values_supported: ['A128CBC-HS256', 'A256GCM'],
      request_object_encryption_alg_values_supported: ['RSA-OAEP-256'],
      request_object_encryption_enc_values_supported: ['A128CBC-HS256'],
    },
  }
  const prefixes = [
    'id_token_encrypted_response',
    'userinfo_encrypted_response',
    'request_object_encryption',
  ]

  for (const p of prefixes) {
    it(`ROIDR-2-j ROIDR-2-l ROIDR-2-n: ${p}_enc without ${p}_alg gives 400`, async () => {
      await refuse(
        { ...minimal, [`${p}_enc`]: 'A128CBC-HS256' },
        'invalid_client_metadata',
        ENC,
        /requires/,
      )
    })

    it(`ROIDR-2-j ROIDR-2-l ROIDR-2-n: ${p}_alg alone gets ${p}_enc A128CBC-HS256, echoed`, async () => {
      const out = await validate({ ...minimal, [`${p}_alg`]: 'RSA-OAEP-256' }, ENC)
      assert.equal(out[`${p}_alg`], 'RSA-OAEP-256')
      assert.equal(out[`${p}_enc`], 'A128CBC-HS256')
    })

    it(`RDISC-X-a: ${p} values outside the *_supported lists give 400`, async () => {
      await refuse({ ...minimal, [`${p}_alg`]: 'RSA1_5' }, 'invalid_client_metadata', ENC)
      await refuse(
        { ...minimal, [`${p}_alg`]: 'RSA-OAEP-256', [`${p}_enc`]: 'A192GCM' },
        'invalid_client_metadata',
        ENC,
      )
      // nothing configured: encryption is not offered at all
      await refuse({ ...minimal, [`${p}_alg`]: 'RSA-OAEP-256' }, 'invalid_client_metadata')
    })
  }

  it('ROIDR-2-j: an explicit supported enc is kept', async () => {
    const out = await validate(
      {
        ...minimal,
        id_token_encrypted_response_alg: 'ECDH-ES',
        id_token_encrypted_response_enc: 'A256GCM',
      },
      ENC,
    )
    assert.equal(out.id_token_encrypted_response_enc, 'A256GCM')
  })

  it('ROIDR-2-i: id_token_signed_response_alg none only for response types without an ID Token', async () => {
    const file = {
      metadata: {
        ...(OIDC_TYPES.metadata as object),
        id_token_signing_alg_values_supported: ['RS256', 'none'],
      },
    }
    const ok = await validate({ ...minimal, id_token_signed_response_alg: 'none' }, file)
    assert.equal(ok.id_token_signed_response_alg, 'none')
    await refuse(
      {
        ...minimal,
        id_token_signed_response_alg: 'none',
        response_types: ['id_token'],
        grant_types: ['implicit'],
      },
      'invalid_client_metadata',
      file,
      /none/,
    )
    await refuse(
      {
        ...minimal,
        id_token_signed_response_alg: 'none',
        response_types: ['code id_token'],
        grant_types: ['authorization_code', 'implicit'],
      },
      'invalid_client_metadata',
      file,
    )
    // not advertised: refused whatever the response types
    await refuse({ ...minimal, id_token_signed_response_alg: 'none' }, 'invalid_client_metadata')
  })

  it('ROIDR-2-s: default_acr_values must be within acr_values_supported when that is configured', async () => {
    const file = { metadata: { acr_values_supported: ['phr', 'phrh'] } }
    assert.deepEqual(
      (await validate({ ...minimal, default_acr_values: ['phrh'] }, file)).default_acr_values,
      ['phrh'],
    )
    await refuse({ ...minimal, default_acr_values: ['gold'] }, 'invalid_client_metadata', file)
  })

  it('ROIDR-5-c: pairwise clients on several redirect hosts need a sector_identifier_uri', async () => {
    const file = { metadata: { subject_types_supported: ['public', 'pairwise'] } }
    const body = {
      redirect_uris: ['https://a.example.org/cb', 'https://b.example.org/cb'],
      subject_type: 'pairwise',
    }
    await refuse(body, 'invalid_client_metadata', file, /sector_identifier_uri/)
    const out = await validate(
      { ...body, sector_identifier_uri: 'https://a.example.org/sector.json' },
      file,
    )
    assert.equal(out.subject_type, 'pairwise')
  })

  it('ROIDR-2-t: initiate_login_uri must be https', async () => {
    await refuse(
      { ...minimal, initiate_login_uri: 'http://client.example.org/login' },
      'invalid_client_metadata',
    )
    await refuse({ ...minimal, initiate_login_uri: '/login' }, 'invalid_client_metadata')
  })

  it('RRPL-3.1-a: post_logout_redirect_uris follow the redirect rules of the client type', async () => {
    await refuse(
      { ...minimal, post_logout_redirect_uris: ['http://rp.example/logout'] },
      'invalid_client_metadata',
    )
    await refuse(
      { ...minimal, post_logout_redirect_uris: ['http://localhost/out'] },
      'invalid_client_metadata',
    )
    const native = await validate({
      redirect_uris: ['http://127.0.0.1/cb'],
      post_logout_redirect_uris: ['http://127.0.0.1/out'],
    })
    assert.deepEqual(native.post_logout_redirect_uris, ['http://127.0.0.1/out'])
  })

  it('RRPL-3-c: front- and back-channel logout URIs must be https for web clients', async () => {
    await refuse(
      { ...minimal, backchannel_logout_uri: 'http://rp.example/bc' },
      'invalid_client_metadata',
    )
    await refuse(
      { ...minimal, frontchannel_logout_uri: 'https://rp.example/fc#x' },
      'invalid_client_metadata',
    )
  })

  it('R7591-2-f06 R7591-2-f07 R7591-2-f10 R7591-2-f11: web page URIs must be absolute https without fragment', async () => {
    for (const field of ['client_uri', 'logo_uri', 'tos_uri', 'policy_uri']) {
      await refuse({ ...minimal, [field]: 'javascript:alert(1)' }, 'invalid_client_metadata')
      await refuse({ ...minimal, [field]: 'http://client.example.org/' }, 'invalid_client_metadata')
      await refuse({ ...minimal, [field]: '/relative' }, 'invalid_client_metadata')
      await refuse(
        { ...minimal, [field]: 'https://client.example.org/#frag' },
        'invalid_client_metadata',
      )
      await refuse(
        { ...minimal, [field]: 'https://user:pw@client.example.org/' },
        'invalid_client_metadata',
      )
    }
  })
})

describe('issue 12 item 5: URLs the AS may fetch or show are checked at registration (R7591-5-g, RCIMD-6.5-a)', () => {
  const native = { redirect_uris: ['http://127.0.0.1/cb'] }
  const REFERENCE_FIELDS = [
    'client_uri',
    'logo_uri',
    'tos_uri',
    'policy_uri',
    'client_uri#fr',
    'logo_uri#ja',
    'tos_uri#de',
    'policy_uri#en-GB',
    'initiate_login_uri',
    'frontchannel_logout_uri',
    'backchannel_logout_uri',
  ]
  const refused = [
    'https://localhost/x',
    'https://LocalHost./x',
    'https://app.localhost/x',
    'https://127.0.0.1/x',
    'https://10.0.0.1/x',
    'https://172.16.5.4/x',
    'https://192.168.1.1/x',
    'https://100.64.0.1/x',
    'https://169.254.169.254/latest/meta-data',
    'https://0.0.0.0/x',
    'https://[::1]/x',
    'https://[fe80::1]/x',
    'https://[fd00::1]/x',
    'https://[::ffff:7f00:1]/x',
    'https://[64:ff9b::a00:1]/x',
    'http://localhost/x',
    'http://127.0.0.1:8080/x',
    // numeric host spellings the WHATWG parser turns into an IPv4 address
    'https://2130706433/x',
    'https://0x7f000001/x',
    'https://127.1/x',
    'https://0177.0.0.1/x',
    'https://0x7f.0.0.1/x',
    'https://8.8.8.8./x',
    'https://[::FFFF:127.0.0.1]/x',
    'https://client.example.org:0/x',
  ]
  // what a native client may still name in a redirect target (front-channel logout, login initiation)
  const loopback = new Set([
    'https://localhost/x',
    'https://127.0.0.1/x',
    'https://[::1]/x',
    'http://localhost/x',
    'http://127.0.0.1:8080/x',
  ])
  const redirectTargets = new Set(['frontchannel_logout_uri', 'initiate_login_uri'])
  for (const field of REFERENCE_FIELDS) {
    it(`${field}: loopback, private, link-local, special-use and numeric-spelling hosts and port 0 are refused`, async () => {
      for (const url of refused) {
        await refuse({ ...minimal, [field]: url }, 'invalid_client_metadata')
        if (redirectTargets.has(field) && loopback.has(url)) continue
        await refuse({ ...native, [field]: url }, 'invalid_client_metadata')
      }
    })
  }

  it('they are stored in their canonical (WHATWG) form', async () => {
    const out = await validate({
      ...minimal,
      client_uri: 'https://Client.Example.ORG:443/a/../b?q=1',
      'logo_uri#fr': 'https://CLIENT.example.org/logo%2epng',
      tos_uri: 'https://client.example.org',
      policy_uri: 'https://bücher.example/privacy',
      backchannel_logout_uri: 'https://rp.example:443/bc?x=1',
      initiate_login_uri: 'https://rp.example/login',
    })
    assert.equal(out.client_uri, 'https://client.example.org/b?q=1')
    assert.equal(out['logo_uri#fr'], 'https://client.example.org/logo%2epng')
    assert.equal(out.tos_uri, 'https://client.example.org/')
    assert.equal(out.policy_uri, 'https://xn--bcher-kva.example/privacy')
    assert.equal(out.backchannel_logout_uri, 'https://rp.example/bc?x=1')
    assert.equal(out.initiate_login_uri, 'https://rp.example/login')
  })

  it('a native client may name a loopback host in a redirect target (front-channel logout, login initiation), not elsewhere', async () => {
    const out = await validate({
      ...native,
      frontchannel_logout_uri: 'http://127.0.0.1:8080/logout',
      initiate_login_uri: 'https://localhost:8443/login',
    })
    assert.equal(out.frontchannel_logout_uri, 'http://127.0.0.1:8080/logout')
    assert.equal(out.initiate_login_uri, 'https://localhost:8443/login')
    // a private address is not loopback; the back channel is called by the AS, not the browser
    await refuse(
      { ...native, frontchannel_logout_uri: 'http://10.0.0.1/logout' },
      'invalid_client_metadata',
    )
    await refuse(
      { ...native, backchannel_logout_uri: 'http://127.0.0.1/bc' },
      'invalid_client_metadata',
    )
    await refuse(
      { ...native, backchannel_logout_uri: 'https://127.0.0.1/bc' },
      'invalid_client_metadata',
    )
    await refuse({ ...native, client_uri: 'http://localhost:3000/' }, 'invalid_client_metadata')
    // web clients get no exception
    await refuse(
      { ...minimal, frontchannel_logout_uri: 'https://127.0.0.1/logout' },
      'invalid_client_metadata',
    )
  })

  it('fetch.allowedAddresses lets an operator allow an internal range here too', async () => {
    const file = { fetch: { allowedAddresses: ['10.0.0.0/8'] } }
    const out = await validate(
      { ...minimal, backchannel_logout_uri: 'https://10.1.2.3/bc', logo_uri: 'https://10.1.2.3/l' },
      file,
    )
    assert.equal(out.backchannel_logout_uri, 'https://10.1.2.3/bc')
    await refuse(
      { ...minimal, backchannel_logout_uri: 'https://192.168.1.1/bc' },
      'invalid_client_metadata',
      file,
    )
  })

  it('Back-Channel Logout §2.2: backchannel_logout_uri must not carry a fragment', async () => {
    await refuse(
      { ...minimal, backchannel_logout_uri: 'https://rp.example/bc#x' },
      'invalid_client_metadata',
    )
  })

  it('numeric host spellings and port 0 are refused in redirect URIs too (never stored verbatim as another host)', async () => {
    for (const uri of [
      'http://127.1/cb',
      'http://2130706433/cb',
      'http://0x7f000001/cb',
      'http://127.0.0.1./cb',
      'http://[0:0:0:0:0:0:0:1]/cb',
      'http://127.0.0.1:0/cb',
      'https://client.example.org:0/cb',
    ]) {
      await refuse({ redirect_uris: [uri] }, 'invalid_redirect_uri', {}, /./)
      await refuse({ redirect_uris: [uri], application_type: 'native' }, 'invalid_redirect_uri')
    }
    // a canonical literal stays acceptable where it was
    const ok = await validate({ redirect_uris: ['http://127.0.0.1:8080/cb', 'http://[::1]/cb'] })
    assert.equal(ok.application_type, 'native')
  })
})

describe('validateClientMetadata: URLs the server may fetch (RFC 7591 §5, RCIMD-6.5-a, ROIDR-5-d)', () => {
  const refused = [
    'http://client.example.org/jwks',
    'https://localhost/jwks',
    'https://LOCALHOST/jwks',
    'https://localhost./jwks',
    'https://app.localhost/jwks',
    'https://%6c%6fcalhost/jwks',
    'https://127.0.0.1/jwks',
    'https://127.1/jwks',
    'https://0x7f000001/jwks',
    'https://2130706433/jwks',
    'https://0.0.0.0/jwks',
    'https://10.0.0.1/jwks',
    'https://172.16.5.4/jwks',
    'https://192.168.1.1/jwks',
    'https://169.254.169.254/latest/meta-data',
    'https://100.64.0.1/jwks',
    'https://[::1]/jwks',
    'https://[::ffff:127.0.0.1]/jwks',
    'https://[fd00::1]/jwks',
    'https://[fe80::1]/jwks',
    'https://[64:ff9b::a00:1]/jwks',
    'ftp://client.example.org/jwks',
    'jwks.json',
  ]
  for (const field of ['jwks_uri', 'sector_identifier_uri', 'request_uris'] as const) {
    for (const url of refused) {
      it(`${field} ${url} is refused without a connection`, async () => {
        const value = field === 'request_uris' ? [url] : url
        await refuse({ ...minimal, [field]: value }, 'invalid_client_metadata')
      })
    }
    it(`${field}: a public https URL is accepted and echoed`, async () => {
      const value =
        field === 'request_uris' ? ['https://client.example.org/r'] : 'https://client.example.org/x'
      assert.deepEqual((await validate({ ...minimal, [field]: value }))[field], value)
    })
  }

  it('fetch.allowedAddresses lets an operator allow an internal range', async () => {
    const file = { fetch: { allowedAddresses: ['10.0.0.0/8'] } }
    assert.equal(
      (await validate({ ...minimal, jwks_uri: 'https://10.1.2.3/jwks' }, file)).jwks_uri,
      'https://10.1.2.3/jwks',
    )
    await refuse(
      { ...minimal, jwks_uri: 'https://192.168.1.1/jwks' },
      'invalid_client_metadata',
      file,
    )
  })

  it('ROIDR-2-u: request_uris may carry a SHA-256 fragment; jwks_uri may not', async () => {
    const out = await validate({ ...minimal, request_uris: ['https://client.example.org/r#abc'] })
    assert.deepEqual(out.request_uris, ['https://client.example.org/r#abc'])
    await refuse(
      { ...minimal, jwks_uri: 'https://client.example.org/jwks#x' },
      'invalid_client_metadata',
    )
  })
})

describe('credentials (RFC 7591 §3.2.1)', () => {
  const B64URL_256 = /^[A-Za-z0-9_-]{43}$/

  it('R7591-3.2.1-b P-4: token_endpoint_auth_method none gets no client_secret and no client_secret_expires_at', async () => {
    const { fetch, store } = makeRegistrar()
    const res = await call(fetch, 'POST', '/register', {
      body: { redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' },
    })
    assert.equal(res.status, 201)
    assert.equal('client_secret' in res.body, false)
    assert.equal('client_secret_expires_at' in res.body, false)
    const stored = await store.findClient(res.body.client_id)
    assert.equal(stored?.clientSecretHash, undefined)
    assert.equal(stored?.clientSecretEncrypted, undefined)
    assert.equal(stored?.client_secret_expires_at, undefined)
  })

  for (const method of ['client_secret_basic', 'client_secret_post']) {
    it(`R7591-3.2.1-d R7592-5-b: ${method} gets a 256-bit secret with client_secret_expires_at 0, stored as a SHA-256 hash`, async () => {
      const { fetch, store } = makeRegistrar()
      const res = await call(fetch, 'POST', '/register', {
        body: { ...minimal, token_endpoint_auth_method: method },
      })
      assert.equal(res.status, 201)
      assert.match(res.body.client_secret, B64URL_256)
      assert.equal(res.body.client_secret_expires_at, 0)
      assert.match(res.body.registration_access_token, B64URL_256)
      const stored = await store.findClient(res.body.client_id)
      assert.equal(stored?.clientSecretHash, sha256(res.body.client_secret))
      assert.equal(stored?.clientSecretEncrypted, undefined)
      assert.equal(stored?.registrationAccessTokenHash, sha256(res.body.registration_access_token))
      assert.ok(
        !JSON.stringify(stored).includes(res.body.client_secret),
        'no plaintext secret stored',
      )
      assert.ok(
        !JSON.stringify(stored).includes(res.body.registration_access_token),
        'no plaintext RAT stored',
      )
    })
  }

  it('RFC 7523 §2.2: client_secret_jwt is not offered without registration.secretEncryptionKey', async () => {
    const { fetch, registrar } = makeRegistrar()
    assert.ok(!registrar.rules.token_endpoint_auth_methods_supported.includes('client_secret_jwt'))
    const res = await call(fetch, 'POST', '/register', {
      body: { ...minimal, token_endpoint_auth_method: 'client_secret_jwt' },
    })
    assert.equal(res.status, 400)
    assert.equal(res.body.error, 'invalid_client_metadata')
    const meta = await call(fetch, 'GET', '/.well-known/oauth-authorization-server')
    assert.ok(!meta.body.token_endpoint_auth_methods_supported.includes('client_secret_jwt'))
  })

  it('RFC 7523 §2.2: a client_secret_jwt secret is stored sealed (AES-256-GCM) and opens to the issued secret', async () => {
    const { fetch, store } = makeRegistrar({ registration: { secretEncryptionKey: KEY } })
    const res = await call(fetch, 'POST', '/register', {
      body: { ...minimal, token_endpoint_auth_method: 'client_secret_jwt' },
    })
    assert.equal(res.status, 201)
    assert.match(res.body.client_secret, B64URL_256)
    assert.equal(res.body.client_secret_expires_at, 0)
    const stored = await store.findClient(res.body.client_id)
    assert.equal(stored?.clientSecretHash, undefined)
    assert.ok(stored?.clientSecretEncrypted)
    assert.ok(!stored.clientSecretEncrypted.includes(res.body.client_secret))
    const key = Buffer.from(KEY, 'base64url')
    assert.equal(
      openSecret(stored.clientSecretEncrypted, key, res.body.client_id),
      res.body.client_secret,
    )
    assert.throws(() => openSecret(stored.clientSecretEncrypted as string, key, 'another-client'))
  })

  it('ROIDR-3.2-e: private_key_jwt gets no secret, unless a symmetric algorithm is registered', async () => {
    const { fetch, store } = makeRegistrar({ registration: { secretEncryptionKey: KEY } })
    const keyed = {
      ...minimal,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: 'https://c.example.org/j',
    }
    const plain = await call(fetch, 'POST', '/register', { body: keyed })
    assert.equal(plain.status, 201)
    assert.equal('client_secret' in plain.body, false)
    const hs = await call(fetch, 'POST', '/register', {
      body: { ...keyed, id_token_signed_response_alg: 'HS256' },
    })
    assert.equal(hs.status, 201)
    assert.match(hs.body.client_secret, B64URL_256)
    assert.equal(hs.body.client_secret_expires_at, 0)
    assert.ok((await store.findClient(hs.body.client_id))?.clientSecretEncrypted)
  })

  it('OIDC Core §10.1: a public client cannot register a symmetric algorithm', async () => {
    await refuse(
      {
        redirect_uris: ['http://127.0.0.1/cb'],
        token_endpoint_auth_method: 'none',
        id_token_signed_response_alg: 'HS256',
      },
      'invalid_client_metadata',
      { registration: { secretEncryptionKey: KEY } },
    )
  })

  it('isSymmetricAlg: HMAC, direct, AES key wrap and PBES2 are keyed with the client secret', () => {
    for (const alg of ['HS256', 'HS512', 'dir', 'A128KW', 'A256GCMKW', 'PBES2-HS256+A128KW']) {
      assert.equal(isSymmetricAlg(alg), true, alg)
    }
    for (const alg of ['RS256', 'ES256', 'EdDSA', 'RSA-OAEP-256', 'ECDH-ES+A128KW', 'none']) {
      assert.equal(isSymmetricAlg(alg), false, alg)
    }
  })

  it('ROIDR-3.2-e: a PBES2 encryption algorithm needs the secret in plaintext (sealed)', async () => {
    const file = {
      registration: { secretEncryptionKey: KEY },
      metadata: {
        id_token_encryption_alg_values_supported: ['PBES2-HS256+A128KW'],
        id_token_encryption_enc_values_supported: ['A128CBC-HS256'],
      },
    }
    const out = await validate(
      { ...minimal, id_token_encrypted_response_alg: 'PBES2-HS256+A128KW' },
      file,
    )
    assert.equal(needsPlaintextSecret(out), true)
    assert.throws(
      () =>
        resolveConfig({
          file: {
            issuer: ISSUER,
            metadata: { id_token_encryption_alg_values_supported: ['PBES2-HS256+A128KW'] },
          },
        }),
      /secretEncryptionKey/,
    )
  })

  it('needsSecret / needsPlaintextSecret follow RFC 7591 §3.2.1 and RFC 7523 §2.2', async () => {
    const m = (extra: Input) =>
      validate({ ...minimal, ...extra }, { registration: { secretEncryptionKey: KEY } })
    assert.equal(
      needsSecret(
        await m({ token_endpoint_auth_method: 'none', redirect_uris: ['http://127.0.0.1/'] }),
      ),
      false,
    )
    assert.equal(needsSecret(await m({})), true)
    assert.equal(needsPlaintextSecret(await m({})), false)
    assert.equal(
      needsPlaintextSecret(await m({ token_endpoint_auth_method: 'client_secret_jwt' })),
      true,
    )
  })

  it('R7591-3.2.1-d: registration.clientSecretExpiresIn sets client_secret_expires_at', async () => {
    const { fetch } = makeRegistrar(
      { registration: { clientSecretExpiresIn: 3600 } },
      { clock: () => 1_800_000_000 },
    )
    const res = await call(fetch, 'POST', '/register', { body: minimal })
    assert.equal(res.body.client_id_issued_at, 1_800_000_000)
    assert.equal(res.body.client_secret_expires_at, 1_800_003_600)
  })

  it('R7591-3.2.1-a R7591-3.2.1-b ROIDR-3.2-d: client_id, secret and RAT are unique per registration', async () => {
    const { fetch } = makeRegistrar()
    const seen = new Set<string>()
    for (let i = 0; i < 20; i++) {
      const res = await call(fetch, 'POST', '/register', { body: minimal })
      for (const k of ['client_id', 'client_secret', 'registration_access_token']) {
        assert.ok(!seen.has(res.body[k]), `${k} repeated`)
        seen.add(res.body[k])
      }
      assert.ok(!res.body.client_id.startsWith('https://'), 'RCIMD-6.9-a')
    }
  })
})
