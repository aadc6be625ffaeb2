import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SERVER_ISSUED_MEMBERS } from '../../src/core/client-information.js'
import type { Registrar, RegistrationEvents } from '../../src/core/registration.js'
import { ISSUER, makeRegistrar, startServer } from '../helpers.js'

// The issue's "Events": the library emits typed events so an application can audit or react, and
// `registrar serve` logs them. Payloads name the client and the error code, never a credential.

type Recorded = {
  [K in keyof RegistrationEvents]: [K, RegistrationEvents[K][0]]
}[keyof RegistrationEvents]

function record(registrar: Registrar): Recorded[] {
  const seen: Recorded[] = []
  registrar.on('registration.created', (e) => seen.push(['registration.created', e]))
  registrar.on('registration.read', (e) => seen.push(['registration.read', e]))
  registrar.on('registration.updated', (e) => seen.push(['registration.updated', e]))
  registrar.on('registration.deleted', (e) => seen.push(['registration.deleted', e]))
  registrar.on('registration.error', (e) => seen.push(['registration.error', e]))
  return seen
}

const minimal = { redirect_uris: ['https://client.example.org/cb'] }

describe('registration events', () => {
  it('register, read, update and delete each emit one event with its payload', async () => {
    const { registrar } = makeRegistrar()
    const seen = record(registrar)
    const reg = await registrar.register({ metadata: minimal })
    const id = reg.client_id
    const rat = reg.registration_access_token
    await registrar.readClient(id, rat)
    await registrar.updateClient(id, rat, { ...minimal, client_id: id, client_name: 'New' })
    await registrar.deleteClient(id, rat)
    const registered = reg as unknown as Record<string, unknown>
    const asRegistered = Object.fromEntries(
      Object.entries(registered).filter(([k]) => !SERVER_ISSUED_MEMBERS.includes(k)),
    )
    const afterUpdate = { ...asRegistered, client_name: 'New' }
    assert.deepEqual(seen, [
      [
        'registration.created',
        { client_id: id, status: 'active', registrant: 'anonymous', metadata: asRegistered },
      ],
      ['registration.read', { client_id: id }],
      [
        'registration.updated',
        { client_id: id, rotated: false, before: asRegistered, metadata: afterUpdate },
      ],
      ['registration.deleted', { client_id: id, metadata: afterUpdate }],
    ])
    // an application auditing these never sees a credential
    const text = JSON.stringify(seen)
    for (const secret of [rat, reg.client_secret as string]) assert.ok(!text.includes(secret))
  })

  it('C-7: an update that rotates the registration access token says so', async () => {
    const { registrar } = makeRegistrar({
      registration: { mode: 'open', rotateRegistrationAccessToken: true },
    })
    const seen = record(registrar)
    const reg = await registrar.register({ metadata: minimal })
    const updated = await registrar.updateClient(reg.client_id, reg.registration_access_token, {
      ...minimal,
      client_id: reg.client_id,
    })
    const [name, payload] = seen.at(-1) ?? []
    assert.equal(name, 'registration.updated')
    assert.equal((payload as { rotated?: boolean }).rotated, true)
    assert.ok(!JSON.stringify(seen).includes(updated.registration_access_token))
  })

  it('refusals emit registration.error with the operation, the error code and the status', async () => {
    const { registrar } = makeRegistrar()
    const seen = record(registrar)
    const reg = await registrar.register({ metadata: minimal })
    const id = reg.client_id
    await assert.rejects(
      registrar.register({ metadata: { redirect_uris: ['http://x.example/cb'] } }),
    )
    await assert.rejects(registrar.readClient(id, 'wrong'))
    await assert.rejects(registrar.readClient(id, undefined))
    await assert.rejects(
      registrar.updateClient(id, reg.registration_access_token, { ...minimal, client_id: 'other' }),
    )
    await assert.rejects(registrar.deleteClient('no-such-client', 'wrong'))
    assert.deepEqual(
      seen.filter(([name]) => name === 'registration.error'),
      [
        [
          'registration.error',
          { operation: 'register', error: 'invalid_redirect_uri', status: 400 },
        ],
        [
          'registration.error',
          { operation: 'read', error: 'invalid_token', status: 401, client_id: id },
        ],
        [
          'registration.error',
          { operation: 'read', error: 'invalid_token', status: 401, client_id: id },
        ],
        [
          'registration.error',
          { operation: 'update', error: 'invalid_client_metadata', status: 400, client_id: id },
        ],
        [
          'registration.error',
          { operation: 'delete', error: 'invalid_token', status: 401, client_id: 'no-such-client' },
        ],
      ],
    )
    // nothing succeeded after the registration, so nothing else was emitted
    assert.equal(seen.filter(([name]) => name !== 'registration.error').length, 1)
  })

  it('an unexpected failure of the store is registration.error server_error 500', async () => {
    const { registrar, store } = makeRegistrar()
    const seen = record(registrar)
    const reg = await registrar.register({ metadata: minimal })
    await store.close()
    await assert.rejects(
      registrar.readClient(reg.client_id, reg.registration_access_token),
      /closed/,
    )
    assert.deepEqual(seen.at(-1), [
      'registration.error',
      { operation: 'read', error: 'server_error', status: 500, client_id: reg.client_id },
    ])
  })
})

describe('events for the audit trail and the metrics (issue 13)', () => {
  it('every event names the client address the transport passed, and the registrant', async () => {
    const { registrar, store } = makeRegistrar({ registration: { mode: 'open' } })
    const seen = record(registrar)
    const origin = { address: '203.0.113.7' }
    const reg = await registrar.register({ metadata: minimal }, origin)
    const id = reg.client_id
    const rat = reg.registration_access_token
    await registrar.readClient(id, rat, origin)
    await registrar.updateClient(id, rat, { ...minimal, client_id: id }, origin)
    await assert.rejects(registrar.readClient(id, 'wrong', origin))
    await registrar.deleteClient(id, rat, origin)
    assert.deepEqual(
      seen.map(([name, e]) => [name, (e as { address?: string }).address]),
      [
        ['registration.created', '203.0.113.7'],
        ['registration.read', '203.0.113.7'],
        ['registration.updated', '203.0.113.7'],
        ['registration.error', '203.0.113.7'],
        ['registration.deleted', '203.0.113.7'],
      ],
    )
    const { token, record: iat } = await (
      await import('../../src/core/initial-access-token.js')
    ).createInitialAccessToken(store)
    await registrar.register({ metadata: minimal, initialAccessToken: token })
    const created = seen.filter(([name]) => name === 'registration.created').at(-1)?.[1]
    assert.equal((created as { registrant?: string }).registrant, 'initial_access_token')
    assert.equal((created as { initial_access_token_id?: string }).initial_access_token_id, iat.id)
    assert.ok(!JSON.stringify(seen).includes(token))
  })

  it('registration.policy: accepted, pending, adjusted (with the rule), refused (with the rule)', async () => {
    const { registrar } = makeRegistrar({
      registration: { mode: 'open' },
      policies: {
        anonymous: 'public',
        definitions: {
          public: {
            redirectUriHosts: ['client.example.org'],
            scopes: ['openid'],
            maxClients: 3,
            requireApproval: true,
          },
        },
      },
    })
    const decisions: unknown[] = []
    registrar.on('registration.policy', (d) => decisions.push(d))
    await registrar.register({ metadata: { ...minimal, scope: 'openid email' } })
    await assert.rejects(
      registrar.register({ metadata: { redirect_uris: ['https://evil.example/cb'] } }),
    )
    // a dry run decides nothing
    await registrar.evaluate({ metadata: minimal })
    await registrar.register({ metadata: minimal })
    await registrar.register({ metadata: minimal })
    await assert.rejects(registrar.register({ metadata: minimal }), /maxClients/)
    assert.deepEqual(decisions, [
      { policy: 'public', rule: 'scopes', decision: 'adjusted' },
      { policy: 'public', decision: 'pending' },
      { policy: 'public', rule: 'redirectUriHosts', decision: 'refused' },
      { policy: 'public', decision: 'pending' },
      { policy: 'public', decision: 'pending' },
      { policy: 'public', rule: 'maxClients', decision: 'refused' },
    ])
  })

  it('the HTTP endpoints pass the client address on', async () => {
    const { registrar } = makeRegistrar()
    const seen = record(registrar)
    const { createRequestRouter } = await import('../../src/http/router.js')
    const { createWebAdapter } = await import('../../src/adapters/web.js')
    const handle = createWebAdapter(createRequestRouter(registrar), { maxBodyBytes: 65536 })
    const res = await handle(
      new Request(new URL('/register', ISSUER), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(minimal),
      }),
      { ip: '198.51.100.9' },
    )
    const reg = (await res.json()) as { client_id: string; registration_access_token: string }
    await handle(
      new Request(new URL(`/register/${reg.client_id}`, ISSUER), {
        headers: { authorization: `Bearer ${reg.registration_access_token}` },
      }),
      { ip: '198.51.100.9' },
    )
    assert.deepEqual(
      seen.map(([name, e]) => [name, (e as { address?: string }).address]),
      [
        ['registration.created', '198.51.100.9'],
        ['registration.read', '198.51.100.9'],
      ],
    )
  })
})

describe('registrar serve logs the events', () => {
  it('each event is a JSON line on stderr at info, without tokens or secrets', async () => {
    const server = await startServer(['--store', 'memory', '--registration', 'open'], {
      env: { REGISTRAR_LOG_LEVEL: 'info' },
    })
    let stderr: string
    let credentials: string[]
    let clientId: string
    try {
      const send = (method: string, path: string, token?: string, body?: unknown) =>
        fetch(new URL(path, server.url), {
          method,
          headers: {
            ...(token && { authorization: `Bearer ${token}` }),
            ...(body !== undefined && { 'content-type': 'application/json' }),
          },
          ...(body !== undefined && { body: JSON.stringify(body) }),
        })
      const reg = (await (await send('POST', '/register', undefined, minimal)).json()) as Record<
        string,
        string
      >
      clientId = reg.client_id as string
      const path = `/register/${clientId}`
      const rat = reg.registration_access_token as string
      credentials = [rat, reg.client_secret as string]
      assert.equal((await send('GET', path, rat)).status, 200)
      assert.equal((await send('GET', path, 'not-the-token')).status, 401)
      const put = await send('PUT', path, rat, { ...minimal, client_id: clientId })
      assert.equal(put.status, 200)
      await put.text()
      assert.equal((await send('DELETE', path, rat)).status, 204)
    } finally {
      await server.stop()
      stderr = server.stderr()
    }
    const lines = stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    const events = lines.filter((l) => typeof l.event === 'string')
    assert.deepEqual(
      events.map((l) => [l.event, l.client_id, l.level]),
      [
        ['registration.created', clientId, 30],
        ['registration.read', clientId, 30],
        ['registration.error', clientId, 30],
        ['registration.updated', clientId, 30],
        ['registration.deleted', clientId, 30],
      ],
    )
    assert.equal(events[2]?.error, 'invalid_token')
    assert.equal(events[2]?.operation, 'read')
    for (const secret of [...credentials, 'not-the-token']) {
      assert.ok(!stderr.includes(secret), 'no token or secret is ever logged')
    }
  })
})
