import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type JsonBody, type ServerProcess, startServer } from '../helpers.js'
import { CLIENTS } from './real-client-payloads.js'

describe('interop: the seven real client payloads (real-client-payloads.ts)', () => {
  let server: ServerProcess
  before(async () => {
    server = await startServer(['--registration', 'open', '--store', 'memory'], {
      config: { registration: { allowedPrivateUseSchemes: ['vscode', 'cursor'] } },
    })
  })
  after(async () => {
    assert.equal(await server.stop(), 0)
  })

  for (const c of CLIENTS) {
    it(`${c.name}: 201, values echoed, application_type ${c.applicationType}, ${c.secret ? 'a' : 'no'} secret`, async () => {
      if (c.origin) {
        // a browser client preflights first (ROIDR-3-d, P-11)
        const pre = await fetch(`${server.url}/register`, {
          method: 'OPTIONS',
          headers: {
            origin: c.origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type',
          },
        })
        assert.equal(pre.status, 204)
        assert.ok(pre.headers.get('access-control-allow-origin'))
      }
      const res = await fetch(`${server.url}/register`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(c.origin && { origin: c.origin }),
        },
        body: JSON.stringify(c.body),
      })
      const body = (await res.json()) as JsonBody
      assert.equal(res.status, 201, JSON.stringify(body))
      const expected = { ...c.body, ...c.registered }
      for (const [k, v] of Object.entries(expected)) {
        assert.deepEqual(body[k], v, k)
      }
      assert.equal(body.application_type, c.applicationType)
      assert.equal(typeof body.client_id, 'string')
      if (c.secret) {
        assert.equal(typeof body.client_secret, 'string')
        assert.equal(body.client_secret_expires_at, 0, 'P-2: always with client_secret_expires_at')
      } else {
        assert.equal(body.client_secret, undefined)
        assert.equal(body.client_secret_expires_at, undefined)
      }
      assert.equal(
        body.token_endpoint_auth_method,
        c.body.token_endpoint_auth_method ?? 'client_secret_basic',
      )
      if (c.origin) assert.ok(res.headers.get('access-control-allow-origin'))
    })
  }

  it('C-13: without the allow-list the dot-less schemes are refused', async () => {
    const other = await startServer(['--registration', 'open', '--store', 'memory'])
    try {
      for (const c of CLIENTS.filter((x) => x.name === 'Cursor')) {
        const res = await fetch(`${other.url}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(c.body),
        })
        assert.equal(res.status, 400)
        assert.equal(((await res.json()) as JsonBody).error, 'invalid_redirect_uri')
      }
    } finally {
      await other.stop()
    }
  })
})

/**
 * Clients outside real-client-payloads.ts that could not register (issue 12, "Real clients"). Each payload is what
 * the client's source sends by default, read from its repository (commits named below).
 */
describe('interop: real clients that were refused before (issue 12 items 11, 13)', () => {
  let server: ServerProcess
  before(async () => {
    server = await startServer(['--registration', 'open', '--store', 'memory'])
  })
  after(async () => {
    assert.equal(await server.stop(), 0)
  })

  async function register(body: Record<string, unknown>): Promise<JsonBody> {
    const res = await fetch(`${server.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    const json = (await res.json()) as JsonBody
    assert.equal(res.status, 201, JSON.stringify(json))
    return json
  }

  it('issue 12 item 11 RFC 7591 §3.2.1: oidc-agent (application_type web, localhost and private-use redirect URIs) is registered as native', async () => {
    // indigo-dc/oidc-agent db7a5c9, src/oidc-agent/oidc/flows/registration.c
    // getRegistrationPostData(): application_type "web" first; redirect URIs from
    // generateRedirectUris() (ports 4242, a random one in 1024-49151, 8080, and the agent's
    // private-use scheme); grant and response types intersected with what discovery lists
    // (default flows code + device); scope is settings.h DEFAULT_SCOPE; client_name
    // "oidc-agent:<shortname>-<hostname>". Its fallback to "native" only reacts to another
    // server's non-standard error text, so a refusal here was final.
    const body = {
      application_type: 'web',
      client_name: 'oidc-agent:kit-laptop',
      response_types: ['code'],
      grant_types: ['refresh_token', 'authorization_code'],
      scope: 'openid profile offline_access',
      redirect_uris: [
        'http://localhost:4242',
        'http://localhost:27934',
        'http://localhost:8080',
        'edu.kit.data.oidc-agent:/redirect',
      ],
    }
    const info = await register(body)
    assert.equal(info.application_type, 'native', 'RFC 7591 §3.2.1: the replaced value is echoed')
    assert.deepEqual(info.redirect_uris, body.redirect_uris)
    assert.deepEqual(info.grant_types, body.grant_types)
    assert.deepEqual(info.response_types, body.response_types)
    assert.equal(info.scope, body.scope)
    assert.equal(info.client_name, body.client_name)
    // token_endpoint_auth_method omitted: client_secret_basic, so oidc-agent gets its secret
    assert.equal(typeof info.client_secret, 'string')
  })

  it('issue 12 item 11 RFC 7591 §3.2.1: VS Code without application_type (claimed https beside loopback) is native', async () => {
    const vscode = CLIENTS.find((c) => c.name === 'VS Code')!
    const { application_type: _, ...body } = vscode.body
    const info = await register(body)
    assert.equal(info.application_type, 'native')
    assert.deepEqual(info.redirect_uris, body.redirect_uris)
  })

  it('issue 12 item 13 R7591-3.2.1-f: stock mod_auth_openidc (all six response types, implicit) registers the supported subset', async () => {
    // OpenIDC/mod_auth_openidc 1deff3d, src/metadata/client.c oidc_metadata_client_register() with
    // no OIDCProvider* overrides: response_types from oidc_proto_supported_flows(), the implicit
    // grant, and the module's redirect URI as initiate_login_uri and logout endpoints.
    const redirect = 'https://www.example.com/protected/redirect_uri'
    const body = {
      client_name: 'OpenID Connect Apache Module (mod_auth_openidc)',
      redirect_uris: [redirect],
      response_types: [
        'code',
        'id_token',
        'id_token token',
        'code id_token',
        'code token',
        'code id_token token',
      ],
      grant_types: ['authorization_code', 'implicit', 'refresh_token'],
      initiate_login_uri: redirect,
      frontchannel_logout_uri: `${redirect}?logout=get`,
      backchannel_logout_uri: `${redirect}?logout=backchannel`,
    }
    const info = await register(body)
    // this server supports only `code`: that is registered, with the grants it needs, and echoed;
    // the module then uses the first registered response type that matches its configured `code`
    assert.deepEqual(info.response_types, ['code'])
    assert.deepEqual(info.grant_types, ['authorization_code', 'refresh_token'])
    assert.deepEqual(info.redirect_uris, [redirect])
    assert.equal(info.application_type, 'web')
    assert.equal(info.initiate_login_uri, body.initiate_login_uri)
    assert.equal(info.frontchannel_logout_uri, body.frontchannel_logout_uri)
    assert.equal(info.backchannel_logout_uri, body.backchannel_logout_uri)
    assert.equal(typeof info.client_secret, 'string')
    assert.equal(info.client_secret_expires_at, 0)
  })
})
