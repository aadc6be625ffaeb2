import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { AdminService } from '../../src/admin/service.js'
import { createInitialAccessToken } from '../../src/core/initial-access-token.js'
import { call, makeRegistrar } from '../helpers.js'

const web = { redirect_uris: ['https://app.example.com/cb'] }
const loopback = { redirect_uris: ['http://127.0.0.1:4000/cb'], token_endpoint_auth_method: 'none' }

function withPolicy(policy: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return makeRegistrar({
    registration: { mode: 'open', allowedPrivateUseSchemes: ['vscode'] },
    policies: { anonymous: 'p', definitions: { p: policy } },
    ...extra,
  })
}

const post = (fetch: (r: Request) => Promise<Response>, body: unknown, token?: string) =>
  call(fetch, 'POST', '/register', { body, ...(token !== undefined && { token }) })

describe('registration policies (R7591-5-f, R7591-5-i; RFC 7591 §5)', () => {
  it('redirectUriHosts: an https host outside the list is refused, naming the rule', async () => {
    const { fetch } = withPolicy({ redirectUriHosts: ['localhost', '127.0.0.1', '[::1]'] })
    const res = await post(fetch, web)
    assert.deepEqual([res.status, res.body.error], [400, 'invalid_redirect_uri'])
    assert.match(res.body.error_description, /policy 'p' \(rule redirectUriHosts\)/)
    assert.equal((await post(fetch, loopback)).status, 201)
  })

  it('redirectUriHosts: *.example.com matches subdomains, not the apex', async () => {
    const { fetch } = withPolicy({ redirectUriHosts: ['*.example.com'] })
    assert.equal((await post(fetch, web)).status, 201)
    const apex = await post(fetch, { redirect_uris: ['https://example.com/cb'] })
    assert.equal(apex.status, 400)
  })

  it('redirectUriSchemes: loopback and listed private-use schemes only (the MCP anonymous profile)', async () => {
    const { fetch } = withPolicy({
      redirectUriSchemes: ['http', 'vscode'],
      redirectUriHosts: ['localhost', '127.0.0.1', '[::1]'],
    })
    assert.equal((await post(fetch, loopback)).status, 201)
    const vscode = await post(fetch, {
      redirect_uris: ['vscode://vscode.github-authentication/did-authenticate'],
      token_endpoint_auth_method: 'none',
    })
    assert.equal(vscode.status, 201, vscode.text)
    const https = await post(fetch, web)
    assert.deepEqual([https.status, https.body.error], [400, 'invalid_redirect_uri'])
    assert.match(https.body.error_description, /rule redirectUriSchemes/)
  })

  it('scopes (intersect): scopes over the ceiling are dropped and the result echoed', async () => {
    const { fetch } = withPolicy({ scopes: ['read', 'write'] })
    const res = await post(fetch, { ...web, scope: 'read admin write' })
    assert.equal(res.status, 201)
    assert.equal(res.body.scope, 'read write')
    const none = await post(fetch, { ...web, scope: 'admin' })
    assert.equal(none.status, 201)
    assert.equal(none.body.scope, undefined)
  })

  it('scopes (reject): scopes over the ceiling are refused', async () => {
    const { fetch } = withPolicy({ scopes: ['read'], scopePolicy: 'reject' })
    const res = await post(fetch, { ...web, scope: 'read admin' })
    assert.deepEqual([res.status, res.body.error], [400, 'invalid_client_metadata'])
    assert.match(res.body.error_description, /admin exceeds policy 'p' \(rule scopes\)/)
  })

  it('grantTypes: a grant outside the list is refused', async () => {
    const { fetch } = withPolicy({ grantTypes: ['authorization_code', 'refresh_token'] })
    assert.equal(
      (await post(fetch, { ...web, grant_types: ['authorization_code', 'refresh_token'] })).status,
      201,
    )
    const res = await post(fetch, { grant_types: ['client_credentials'], response_types: [] })
    assert.deepEqual([res.status, res.body.error], [400, 'invalid_client_metadata'])
    assert.match(res.body.error_description, /rule grantTypes/)
  })

  it('authMethods: public clients only', async () => {
    const { fetch } = withPolicy({ authMethods: ['none'] })
    assert.equal((await post(fetch, loopback)).status, 201)
    const res = await post(fetch, web) // default client_secret_basic
    assert.deepEqual([res.status, res.body.error], [400, 'invalid_client_metadata'])
    assert.match(res.body.error_description, /rule authMethods/)
  })

  it('maxClients: the ceiling is enforced per policy with 403 access_denied', async () => {
    const { fetch } = withPolicy({ maxClients: 2 })
    assert.equal((await post(fetch, web)).status, 201)
    assert.equal((await post(fetch, web)).status, 201)
    const res = await post(fetch, web)
    assert.deepEqual([res.status, res.body.error], [403, 'access_denied'])
    assert.match(res.body.error_description, /rule maxClients/)
  })

  it('maxClients: 30 concurrent registrations under a ceiling of 5 give exactly five 201s', async () => {
    const { fetch, store } = withPolicy({ maxClients: 5 })
    const statuses = await Promise.all(
      Array.from({ length: 30 }, () => post(fetch, web).then((r) => r.status)),
    )
    assert.equal(statuses.filter((s) => s === 201).length, 5)
    assert.equal(statuses.filter((s) => s === 403).length, 25)
    assert.equal(await store.countClients({ policy: 'p' }), 5)
  })

  it('R7591-5-g sameHostReferences: pages and logos must be on a redirect URI host', async () => {
    const { fetch } = withPolicy({ sameHostReferences: true })
    const ok = await post(fetch, {
      ...web,
      client_uri: 'https://app.example.com/',
      logo_uri: 'https://app.example.com/logo.png',
      'tos_uri#fr': 'https://app.example.com/cgu',
    })
    assert.equal(ok.status, 201, ok.text)
    for (const member of ['policy_uri', 'logo_uri', 'client_uri#de']) {
      const res = await post(fetch, { ...web, [member]: 'https://b.example/page' })
      assert.deepEqual([res.status, res.body.error], [400, 'invalid_client_metadata'], member)
      assert.match(res.body.error_description, /rule sameHostReferences/)
    }
  })

  it('requireApproval: clients are created pending (awaiting approval)', async () => {
    const { fetch, store } = withPolicy({ requireApproval: true })
    const res = await post(fetch, web)
    assert.equal(res.status, 201)
    const stored = await store.findClient(res.body.client_id)
    assert.equal(stored?.status, 'pending')
    assert.equal(stored?.policy, 'p')
  })

  it('reservedClientNames: refused for anonymous clients, look-alikes included', async () => {
    const { fetch } = withPolicy({ reservedClientNames: ['Acme Bank'] })
    for (const name of ['Acme Bank', 'ACME-bank', 'Ａｃｍｅ Bank']) {
      const res = await post(fetch, { ...web, client_name: name })
      assert.deepEqual([res.status, res.body.error], [400, 'invalid_client_metadata'], name)
      assert.match(res.body.error_description, /rule reservedClientNames/)
    }
    // an invisible character no longer hides a reserved name: it is refused in any name (item 6)
    const hidden = await post(fetch, { ...web, client_name: 'acme\u200bbank' })
    assert.deepEqual([hidden.status, hidden.body.error], [400, 'invalid_client_metadata'])
    assert.match(hidden.body.error_description, /client_name must not contain invisible/)
    const tagged = await post(fetch, { ...web, client_name: 'x', 'client_name#fr': 'Acme Bank' })
    assert.equal(tagged.status, 400)
    assert.equal((await post(fetch, { ...web, client_name: 'Acme Bakery' })).status, 201)
  })

  it('issue 12 item 6: reservedClientNames compares UTS #39 confusable skeletons (other scripts, rn for m)', async () => {
    const { fetch } = withPolicy({ reservedClientNames: ['Acme Bank'] })
    for (const name of [
      'Acme B\u0430nk', // Cyrillic а
      '\u0391cme Bank', // Greek Alpha
      'Acme \u0412\u0430nk', // Cyrillic В and а
      'Acrne Bank', // rn for m
      '\u{1d400}\u{1d41c}\u{1d426}\u{1d41e} \u{1d401}\u{1d41a}\u{1d427}\u{1d424}', // mathematical bold
      'ACME BANK',
    ]) {
      const res = await post(fetch, { ...web, client_name: name })
      assert.deepEqual([res.status, res.body.error], [400, 'invalid_client_metadata'], name)
      assert.match(res.body.error_description, /rule reservedClientNames/, name)
      const tagged = await post(fetch, { ...web, 'client_name#de': name })
      assert.equal(tagged.status, 400, `client_name#de ${name}`)
    }
    for (const name of ['Acme Banking', 'Acne Bank', 'Аптека']) {
      assert.equal((await post(fetch, { ...web, client_name: name })).status, 201, name)
    }
  })

  it('reservedClientNames: allowed for a client vouched for by a software statement', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1' }
    const { fetch } = withPolicy(
      { reservedClientNames: ['Acme Bank'] },
      {
        policies: {
          anonymous: 'p',
          definitions: {
            p: { reservedClientNames: ['Acme Bank'] },
            vouched: { reservedClientNames: ['Acme Bank'] },
          },
        },
        softwareStatement: {
          trustedIssuers: [
            {
              iss: 'https://dir.example',
              jwks: { keys: [jwk] },
              algorithms: ['ES256'],
              policy: 'vouched',
            },
          ],
        },
      },
    )
    const ssa = await new SignJWT({
      iss: 'https://dir.example',
      software_id: 'acme-app',
      client_name: 'Acme Bank',
    })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setExpirationTime('10m')
      .sign(privateKey)
    const res = await post(fetch, { ...web, software_statement: ssa })
    assert.equal(res.status, 201, res.text)
    assert.equal(res.body.client_name, 'Acme Bank')
  })

  it('R7591-5-i: an initial access token can name its policy; the anonymous policy does not apply to it', async () => {
    const { fetch, store } = makeRegistrar({
      registration: { mode: 'open' },
      policies: {
        anonymous: 'loopback-only',
        definitions: {
          'loopback-only': { redirectUriHosts: ['127.0.0.1'] },
          partners: { redirectUriHosts: ['*.example.com'], maxClients: 5 },
        },
      },
    })
    const { token } = await createInitialAccessToken(store, { policy: 'partners' })
    const anonymous = await post(fetch, web)
    assert.equal(anonymous.status, 400)
    const partner = await post(fetch, web, token)
    assert.equal(partner.status, 201, partner.text)
    assert.equal((await store.findClient(partner.body.client_id))?.policy, 'partners')
  })

  it('R7592-2.2-j: the policy applies again on PUT', async () => {
    const { fetch } = withPolicy({ redirectUriHosts: ['app.example.com'] })
    const reg = await post(fetch, web)
    const put = await call(fetch, 'PUT', new URL(reg.body.registration_client_uri).pathname, {
      token: reg.body.registration_access_token,
      body: { client_id: reg.body.client_id, redirect_uris: ['https://elsewhere.example/cb'] },
    })
    assert.deepEqual([put.status, put.body.error], [400, 'invalid_redirect_uri'])
  })

  it('evaluate() is a dry run: nothing is stored and each member says where it came from', async () => {
    const { registrar, store } = withPolicy({ scopes: ['read'] })
    const result = await registrar.evaluate({
      metadata: { ...web, scope: 'read admin', client_name: 'x' },
    })
    assert.equal(result.policy, 'p')
    assert.equal(result.metadata.scope, 'read')
    assert.match(result.decisions.scope as string, /policy rule p.scopes: dropped admin/)
    assert.equal(result.decisions.client_name, 'request')
    assert.equal(result.decisions.grant_types, 'server default')
    assert.equal(await store.countClients(), 0)
  })
})

describe('issue 12: policy bypasses closed', async () => {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1' }
  const statement = (claims: Record<string, unknown> = {}) =>
    new SignJWT({ iss: 'https://dir.example', software_id: 'app-1', ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setExpirationTime('10m')
      .sign(privateKey)
  const issuer = (policy?: string) => ({
    iss: 'https://dir.example',
    jwks: { keys: [jwk] },
    algorithms: ['ES256'],
    ...(policy !== undefined && { policy }),
  })
  const put = (
    fetch: (r: Request) => Promise<Response>,
    reg: { body: Record<string, string> },
    body: Record<string, unknown>,
  ) =>
    call(fetch, 'PUT', new URL(reg.body.registration_client_uri as string).pathname, {
      token: reg.body.registration_access_token as string,
      body: { client_id: reg.body.client_id, ...body },
    })

  it('item 2: a software statement does not shed the initial access token policy; both apply', async () => {
    const { fetch, store } = makeRegistrar({
      registration: { mode: 'token' },
      softwareStatement: { trustedIssuers: [issuer('directory')] },
      policies: {
        definitions: {
          partners: { redirectUriHosts: ['*.partner.example'], scopes: ['read'] },
          directory: { scopes: ['read', 'write'], authMethods: ['client_secret_basic', 'none'] },
        },
      },
    })
    const { token } = await createInitialAccessToken(store, { policy: 'partners' })
    const ssa = await statement()
    const elsewhere = await post(fetch, { ...web, software_statement: ssa }, token)
    assert.deepEqual([elsewhere.status, elsewhere.body.error], [400, 'invalid_redirect_uri'])
    assert.match(elsewhere.body.error_description, /policy 'partners'/)
    const ok = await post(
      fetch,
      {
        redirect_uris: ['https://app.partner.example/cb'],
        scope: 'read write admin',
        software_statement: ssa,
      },
      token,
    )
    assert.equal(ok.status, 201, ok.text)
    // the stricter result of each rule: two scope ceilings intersect
    assert.equal(ok.body.scope, 'read')
    const stored = await store.findClient(ok.body.client_id)
    assert.equal(stored?.policy, 'partners')
    // the issuer's rule holds too
    const secretJwt = await post(
      fetch,
      {
        redirect_uris: ['https://app.partner.example/cb'],
        token_endpoint_auth_method: 'client_secret_post',
        software_statement: ssa,
      },
      (await createInitialAccessToken(store, { policy: 'partners' })).token,
    )
    assert.match(secretJwt.body.error_description, /policy 'directory' \(rule authMethods\)/)
    // and both again on update (RFC 7592 §2.2)
    const moved = await put(fetch, ok, { redirect_uris: ['https://evil.example/cb'] })
    assert.deepEqual([moved.status, moved.body.error], [400, 'invalid_redirect_uri'])
  })

  it('item 2: a statement whose issuer names no policy falls back to the policy it would have without it', async () => {
    const { fetch } = makeRegistrar({
      registration: { mode: 'open' },
      softwareStatement: { trustedIssuers: [issuer()] },
      policies: { anonymous: 'local', definitions: { local: { redirectUriHosts: ['127.0.0.1'] } } },
    })
    const res = await post(fetch, { ...web, software_statement: await statement() })
    assert.deepEqual([res.status, res.body.error], [400, 'invalid_redirect_uri'])
    assert.match(res.body.error_description, /policy 'local'/)
  })

  it('item 2: the ceilings of every policy that applies are checked', async () => {
    const { fetch, store } = makeRegistrar({
      registration: { mode: 'token' },
      softwareStatement: { trustedIssuers: [issuer('directory')] },
      policies: { definitions: { partners: {}, directory: { maxClients: 1 } } },
    })
    const ssa = await statement()
    const first = await post(
      fetch,
      { ...web, software_statement: ssa },
      (await createInitialAccessToken(store)).token,
    )
    assert.equal(first.status, 201, first.text) // no token policy: the issuer's alone, recorded
    const { token } = await createInitialAccessToken(store, { policy: 'partners' })
    const second = await post(fetch, { ...web, software_statement: ssa }, token)
    assert.deepEqual([second.status, second.body.error], [403, 'access_denied'])
    assert.match(second.body.error_description, /policy 'directory' \(rule maxClients\)/)
  })

  it('item 4: a token whose policy is no longer defined is refused (fails closed)', async () => {
    const { fetch, store } = makeRegistrar({ registration: { mode: 'token' } })
    const { token } = await createInitialAccessToken(store, { policy: 'removed-since' })
    const res = await post(fetch, web, token)
    assert.deepEqual([res.status, res.body.error], [403, 'access_denied'])
    assert.match(
      res.body.error_description,
      /policy 'removed-since' of the initial access token is not defined/,
    )
    assert.equal(await store.countClients(), 0)
  })

  it('item 4: an update of a client whose policy is no longer defined is refused (fails closed)', async () => {
    const { fetch, store } = makeRegistrar()
    const reg = await post(fetch, web)
    const stored = await store.findClient(reg.body.client_id)
    assert.ok(stored)
    assert.ok(await store.replaceClient({ ...stored, policy: 'removed-since', version: 2 }, 1))
    const res = await put(fetch, reg, web)
    assert.deepEqual([res.status, res.body.error], [403, 'access_denied'])
    assert.match(res.body.error_description, /policy 'removed-since' of this client/)
    // reading and deleting need no policy
    const read = await call(fetch, 'GET', new URL(reg.body.registration_client_uri).pathname, {
      token: reg.body.registration_access_token,
    })
    assert.equal(read.status, 200)
  })

  it('item 4: a configuration naming an undefined policy is refused at start', () => {
    for (const file of [
      { policies: { anonymous: 'nope', definitions: {} } },
      { policies: { initialAccessToken: 'nope', definitions: {} } },
      { softwareStatement: { trustedIssuers: [issuer('nope')] } },
    ]) {
      assert.throws(() => makeRegistrar(file), /names no policy/)
    }
  })

  it('item 1: an update that changes an approved client puts it back to pending; approval names the version', async () => {
    const { fetch, store, registrar } = withPolicy({ requireApproval: true })
    const admin = new AdminService({ store, config: registrar.config, cursorKey: Buffer.alloc(32) })
    const operator = { type: 'operator', id: 'test' } as const
    const approve = (id: string, expectedVersion: number) =>
      admin.changeStatus('approve', id, operator, { expectedVersion })
    const reg = await post(fetch, { ...web, client_name: 'Reviewed' })
    const pending = await store.findClient(reg.body.client_id)
    assert.equal(pending?.status, 'pending')
    const seen = pending?.version as number
    const approved = await approve(reg.body.client_id, seen)
    assert.equal(approved.status, 'active')
    assert.equal((await store.findClient(reg.body.client_id))?.status, 'active')

    // the same registration sent again (key order aside) keeps the approval
    const same = await put(fetch, reg, { client_name: 'Reviewed', ...web })
    assert.equal(same.status, 200, same.text)
    assert.equal((await store.findClient(reg.body.client_id))?.status, 'active')

    // a change waits for a new approval
    const changed = await put(fetch, reg, { ...web, client_name: 'Something else' })
    assert.equal(changed.status, 200, changed.text)
    const after = await store.findClient(reg.body.client_id)
    assert.equal(after?.status, 'pending')

    // an approval of a version the operator did not see is refused (RFC 9110 §15.5.13 412)
    await assert.rejects(approve(reg.body.client_id, seen), {
      status: 412,
      message: new RegExp(`changed since version ${seen} \\(it is at version ${after?.version}\\)`),
    })
    assert.equal((await store.findClient(reg.body.client_id))?.status, 'pending')
    const fresh = await approve(reg.body.client_id, after?.version as number)
    assert.equal(fresh.status, 'active')
    await assert.rejects(approve('nope', 1), { status: 404 })
    await assert.rejects(approve(reg.body.client_id, fresh.version), {
      status: 409,
      message: /the client is active/,
    })
  })

  it('item 14: authMethods with onMismatch substitute registers the first allowed method (RFC 7591 §3.2.1)', async () => {
    const { fetch, registrar } = withPolicy({
      authMethods: { allowed: ['none'], onMismatch: 'substitute' },
    })
    const res = await post(fetch, { ...loopback, token_endpoint_auth_method: 'client_secret_post' })
    assert.equal(res.status, 201, res.text)
    assert.equal(res.body.token_endpoint_auth_method, 'none')
    assert.equal(res.body.client_secret, undefined)
    const dry = await registrar.evaluate({
      metadata: { ...loopback, token_endpoint_auth_method: 'client_secret_basic' },
    })
    assert.match(
      dry.decisions.token_endpoint_auth_method as string,
      /p.authMethods: substituted none for client_secret_basic/,
    )
  })

  it('item 14: a substitute the client cannot use is not picked; with none left the request is refused', async () => {
    const { fetch } = withPolicy({
      authMethods: { allowed: ['private_key_jwt'], onMismatch: 'substitute' },
    })
    const res = await post(fetch, loopback)
    assert.deepEqual([res.status, res.body.error], [400, 'invalid_client_metadata'])
    assert.match(res.body.error_description, /rule authMethods/)
  })

  it('item 14: sameHostReferences with onMismatch drop registers without the offending member', async () => {
    const { fetch } = withPolicy({ sameHostReferences: { onMismatch: 'drop' } })
    const res = await post(fetch, {
      ...loopback,
      client_uri: 'https://github.com/geelen/mcp-remote',
      client_name: 'mcp-remote',
    })
    assert.equal(res.status, 201, res.text)
    assert.equal(res.body.client_uri, undefined)
    assert.equal(res.body.client_name, 'mcp-remote')
    const strict = withPolicy({ sameHostReferences: { onMismatch: 'refuse' } })
    const refused = await post(strict.fetch, { ...loopback, client_uri: 'https://github.com/x' })
    assert.equal(refused.status, 400)
  })
})
