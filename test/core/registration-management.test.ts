import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { secretKeyBytes } from '../../src/config/schema.js'
import { openSecret, sha256 } from '../../src/core/crypto.js'
import { RegistrationError } from '../../src/core/errors.js'
import type { ClientRecord } from '../../src/core/store.js'
import { MemoryStore } from '../../src/storage/memory.js'
import { makeRegistrar } from '../helpers.js'

// The library face of RFC 7592: Registrar.readClient / updateClient / deleteClient, and what they
// leave in the store.

const minimal = { redirect_uris: ['https://client.example.org/cb'] }

describe('Registrar RFC 7592 management', () => {
  it('R7592-5-b: registration access tokens are 256-bit random and stored only as SHA-256', async () => {
    const { registrar, store } = makeRegistrar()
    const tokens = new Set<string>()
    for (let i = 0; i < 20; i++) {
      const reg = await registrar.register({ metadata: minimal })
      const rat = reg.registration_access_token
      // 43 base64url characters = 256 bits (RFC 6749 §10.10 asks for at least 128)
      assert.match(rat, /^[A-Za-z0-9_-]{43}$/)
      tokens.add(rat)
      const record = await store.findClient(reg.client_id)
      assert.equal(record?.registrationAccessTokenHash, sha256(rat))
      const stored = JSON.stringify(record)
      assert.ok(!stored.includes(rat), 'the token itself is not stored')
      assert.ok(!stored.includes(reg.client_secret as string), 'nor the client secret')
    }
    assert.equal(tokens.size, 20)
  })

  it('R7592-2.1-a R7592-2.1-b: readClient returns the registration with the same client_id and token', async () => {
    const { registrar } = makeRegistrar()
    const reg = await registrar.register({ metadata: { ...minimal, client_name: 'Lib' } })
    const read = await registrar.readClient(reg.client_id, reg.registration_access_token)
    const { client_secret: _s, client_secret_expires_at: _e, ...expected } = reg
    assert.deepEqual(read, expected)
  })

  it('R7592-2.1-d R7592-2.1-e: refusals are RegistrationError invalid_token 401; a missing token is flagged for a bare challenge', async () => {
    const { registrar } = makeRegistrar()
    const reg = await registrar.register({ metadata: minimal })
    await assert.rejects(registrar.readClient(reg.client_id, undefined), (err) => {
      assert.ok(err instanceof RegistrationError)
      assert.equal(err.error, 'invalid_token')
      assert.equal(err.status, 401)
      assert.equal(err.tokenMissing, true)
      return true
    })
    for (const [id, token] of [
      [reg.client_id, 'wrong'],
      ['unknown', reg.registration_access_token],
      ['', reg.registration_access_token],
      ['\u0000', reg.registration_access_token],
      ['x'.repeat(256), reg.registration_access_token],
    ] as const) {
      await assert.rejects(registrar.readClient(id, token), (err) => {
        assert.ok(err instanceof RegistrationError)
        assert.deepEqual([err.error, err.status, err.tokenMissing], ['invalid_token', 401, false])
        assert.ok(!err.message.includes(reg.client_id))
        return true
      })
    }
  })

  it('R7592-2.2-i: updateClient reads the body only once the token is verified', async () => {
    const { registrar } = makeRegistrar()
    const reg = await registrar.register({ metadata: minimal })
    let read = 0
    const body = async () => {
      read++
      return { ...minimal, client_id: reg.client_id }
    }
    await assert.rejects(registrar.updateClient(reg.client_id, 'wrong', body), {
      error: 'invalid_token',
    })
    assert.equal(read, 0)
    await registrar.updateClient(reg.client_id, reg.registration_access_token, body)
    assert.equal(read, 1)
  })

  it('R7592-2.2-f R7592-2.2-h: an update replaces the metadata and keeps what the server owns', async () => {
    let now = 1_800_000_000
    const { registrar, store } = makeRegistrar(
      { policies: { definitions: { partners: {} } } },
      { clock: () => now },
    )
    const reg = await registrar.register({ metadata: { ...minimal, client_name: 'Before' } })
    // what registration policies and software statements will set: an update must keep it
    const before = (await store.findClient(reg.client_id)) as ClientRecord
    const owned: ClientRecord = {
      ...before,
      software_statement: 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln',
      status: 'disabled',
      policy: 'partners',
      initialAccessTokenId: 'iat-7',
      version: 2,
    }
    assert.ok(await store.replaceClient(owned, 1))
    now += 60
    const updated = await registrar.updateClient(reg.client_id, reg.registration_access_token, {
      client_id: reg.client_id,
      redirect_uris: ['https://client.example.org/other'],
    })
    assert.equal(updated.client_name, undefined)
    assert.equal(updated.client_id_issued_at, reg.client_id_issued_at)
    assert.equal(updated.software_statement, owned.software_statement)
    const after = (await store.findClient(reg.client_id)) as ClientRecord
    assert.deepEqual(after.metadata.redirect_uris, ['https://client.example.org/other'])
    assert.equal(after.metadata.client_name, undefined)
    assert.equal(after.client_id_issued_at, before.client_id_issued_at)
    assert.equal(after.clientSecretHash, before.clientSecretHash)
    assert.equal(after.registrationAccessTokenHash, before.registrationAccessTokenHash)
    assert.equal(after.software_statement, owned.software_statement)
    assert.equal(after.status, 'disabled')
    assert.equal(after.policy, 'partners')
    assert.equal(after.initialAccessTokenId, 'iat-7')
    assert.equal(after.version, 3)
    assert.equal(after.updatedAt, now)
  })

  it('R7592-2.2-h: a client_secret_jwt secret is sealed with the configured key, bound to its client', async () => {
    const key = Buffer.alloc(32, 3).toString('base64url')
    const { registrar, store } = makeRegistrar({
      registration: { mode: 'open', secretEncryptionKey: key },
    })
    const reg = await registrar.register({ metadata: minimal })
    const updated = await registrar.updateClient(reg.client_id, reg.registration_access_token, {
      ...minimal,
      client_id: reg.client_id,
      token_endpoint_auth_method: 'client_secret_jwt',
    })
    const secret = updated.client_secret as string
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/)
    assert.equal(updated.client_secret_expires_at, 0)
    const record = (await store.findClient(reg.client_id)) as ClientRecord
    const sealed = record.clientSecretEncrypted as string
    const bytes = secretKeyBytes(key) as Buffer
    assert.equal(openSecret(sealed, bytes, reg.client_id), secret)
    assert.throws(() => openSecret(sealed, bytes, 'another-client'))
    // and the client proves it holds that secret on the next update
    await registrar.updateClient(reg.client_id, reg.registration_access_token, {
      ...minimal,
      client_id: reg.client_id,
      client_secret: secret,
      token_endpoint_auth_method: 'client_secret_jwt',
    })
  })

  it('a compare-and-swap that keeps losing ends in 503 temporarily_unavailable, not a loop', async () => {
    let attempts = 0
    class AlwaysChanged extends MemoryStore {
      override async replaceClient() {
        attempts++
        return false
      }
      override async deleteClient(_id: string, expectedVersion?: number) {
        if (expectedVersion !== undefined) attempts++
        return false
      }
    }
    const { registrar } = makeRegistrar({}, { store: new AlwaysChanged() })
    const reg = await registrar.register({ metadata: minimal })
    const update = registrar.updateClient(reg.client_id, reg.registration_access_token, {
      ...minimal,
      client_id: reg.client_id,
    })
    await assert.rejects(update, { error: 'temporarily_unavailable', status: 503 })
    assert.equal(attempts, 9)
    attempts = 0
    await assert.rejects(registrar.deleteClient(reg.client_id, reg.registration_access_token), {
      error: 'temporarily_unavailable',
    })
    assert.equal(attempts, 9)
  })

  it('R7592-2.3-b: deleteClient removes the record, and with it the secret and the token', async () => {
    const { registrar, store } = makeRegistrar()
    const reg = await registrar.register({ metadata: minimal })
    await registrar.deleteClient(reg.client_id, reg.registration_access_token)
    assert.equal(await store.findClient(reg.client_id), undefined)
    assert.equal(await store.countClients(), 0)
    await assert.rejects(registrar.deleteClient(reg.client_id, reg.registration_access_token), {
      error: 'invalid_token',
      status: 401,
    })
  })
})
