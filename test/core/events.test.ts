import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Registrar, RegistrationEvents } from '../../src/core/registration.js'
import { makeRegistrar, startServer } from '../helpers.js'

// The "Events": the library emits typed events so an application can audit or react, and
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
    assert.deepEqual(seen, [
      ['registration.created', { client_id: id, status: 'active' }],
      ['registration.read', { client_id: id }],
      ['registration.updated', { client_id: id, rotated: false }],
      ['registration.deleted', { client_id: id }],
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
    assert.deepEqual(seen.at(-1), [
      'registration.updated',
      { client_id: reg.client_id, rotated: true },
    ])
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
