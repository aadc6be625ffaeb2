import assert from 'node:assert/strict'
import {
  type ClientMetadataRequest,
  discover,
  type RegistrationCredentials,
  RegistrationError,
  register,
} from '../../src/client/index.js'

/**
 * The whole RFC 7591 / 7592 lifecycle against a real server, asserting each step:
 * discover → register → read → update (token rotated) → old token dead → read with the kept token
 * → delete → read refused with invalid_token.
 */
export async function lifecycle(
  issuer: string,
  options: { initialAccessToken?: string; metadata?: ClientMetadataRequest } = {},
): Promise<void> {
  const serverMetadata = await discover(issuer)
  assert.equal(serverMetadata.issuer, issuer)
  assert.equal(typeof serverMetadata.registration_endpoint, 'string')

  const persisted: RegistrationCredentials[] = []
  const registration = await register(
    serverMetadata,
    {
      redirect_uris: ['https://app.example.com/callback'],
      client_name: 'Lifecycle',
      grant_types: ['authorization_code'],
      ...options.metadata,
    },
    {
      ...(options.initialAccessToken !== undefined && {
        initialAccessToken: options.initialAccessToken,
      }),
      onCredentials: (c) => void persisted.push({ ...c }),
    },
  )
  assert.deepEqual(registration.warnings, [])
  assert.equal(registration.manageable, true)
  const clientId = registration.client_id
  const firstToken = registration.credentials.registration_access_token as string
  assert.equal(typeof registration.credentials.client_secret, 'string')
  assert.equal(registration.information?.client_name, 'Lifecycle')

  const read = await registration.read()
  assert.equal(read.client_id, clientId)
  assert.deepEqual(read.redirect_uris, ['https://app.example.com/callback'])

  const updated = await registration.update((current) => ({
    ...current,
    client_name: 'Lifecycle renamed',
  }))
  assert.equal(updated.client_id, clientId)
  assert.equal(updated.client_name, 'Lifecycle renamed')
  const rotated = registration.credentials.registration_access_token as string
  assert.notEqual(rotated, firstToken, 'the server rotates the token on update')
  assert.equal(persisted.at(-1)?.registration_access_token, rotated)

  // the old token is dead at the server: only the kept, rotated one works now
  const uri = registration.credentials.registration_client_uri as string
  const stale = await fetch(uri, { headers: { authorization: `Bearer ${firstToken}` } })
  assert.equal(stale.status, 401)
  await stale.body?.cancel()

  const reread = await registration.read()
  assert.equal(reread.client_name, 'Lifecycle renamed')
  assert.equal(registration.credentials.registration_access_token, rotated)

  await registration.delete()
  await assert.rejects(registration.read(), (err: unknown) => {
    assert.ok(err instanceof RegistrationError)
    assert.equal(err.error, 'invalid_token')
    assert.equal(err.status, 401)
    assert.match(err.message, /register again/)
    return true
  })
}

/** Registers `metadata` and returns the RegistrationError the server answers with. */
export async function refusal(
  endpoint: string,
  metadata: ClientMetadataRequest,
  options: { initialAccessToken?: string; softwareStatement?: string } = {},
): Promise<RegistrationError> {
  try {
    await register(endpoint, metadata, options)
  } catch (err) {
    assert.ok(err instanceof RegistrationError, `expected a RegistrationError, got ${err}`)
    return err
  }
  assert.fail(`the server accepted ${JSON.stringify(metadata)}`)
}
