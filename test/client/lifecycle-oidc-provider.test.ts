// oidc-provider (panva) is an independent RFC 7591 / 7592 implementation: passing the same
// lifecycle against it shows the client works with servers other than our own.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { decodeJwt, generateKeyPair, jwtVerify, SignJWT } from 'jose'
import { errors } from 'oidc-provider'
import { discover, register } from '../../src/client/index.js'
import { MANAGEMENT, startOpenProvider, startProvider } from '../interop/support/oidc-provider.js'
import { lifecycle, refusal } from './lifecycle.js'

const DIRECTORY = 'https://directory.example.com'
type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>

describe('client library against oidc-provider, open registration', () => {
  let op: Awaited<ReturnType<typeof startProvider>>
  before(async () => {
    op = await startOpenProvider()
  })
  after(() => op.close())

  it('R7592-2.1-b CL-7592-b CL-7592-c CL-7592-d CL-7592-e: discover, register, read, update with a rotated token kept, delete, then invalid_token', async () => {
    await lifecycle(op.issuer)
  })

  it('RFC 7591 §3.2.2: invalid_redirect_uri and invalid_client_metadata come back as RegistrationError', async () => {
    const { registration_endpoint: endpoint } = await discover(op.issuer)
    const redirect = await refusal(endpoint as string, {
      redirect_uris: ['https://app.example.com/cb#fragment'],
    })
    assert.equal(redirect.error, 'invalid_redirect_uri')
    assert.equal(redirect.status, 400)

    const metadata = await refusal(endpoint as string, {
      redirect_uris: ['https://app.example.com/cb'],
      jwks: { keys: [] },
      jwks_uri: 'https://app.example.com/jwks.json',
    })
    assert.equal(metadata.error, 'invalid_client_metadata')
    assert.match(metadata.error_description ?? '', /jwks/)
  })
})

describe('client library against oidc-provider, initial access tokens and software statements', () => {
  let op: Awaited<ReturnType<typeof startProvider>>
  let trusted: KeyPair
  let stranger: KeyPair
  const received: unknown[] = []

  before(async () => {
    trusted = await generateKeyPair('ES256')
    stranger = await generateKeyPair('ES256')
    op = await startProvider({
      features: {
        registration: {
          enabled: true,
          initialAccessToken: true,
          // oidc-provider has no statement verification of its own; a registration policy,
          // bound to the initial access token, does it and throws its RFC 7591 errors
          policies: {
            'software-statement': async (_ctx, properties) => {
              const statement = (properties as Record<string, unknown>).software_statement
              received.push(statement)
              if (statement === undefined) return
              let iss: unknown
              try {
                iss = decodeJwt(String(statement)).iss
              } catch {
                throw new errors.InvalidSoftwareStatement('the software statement is not a JWT')
              }
              if (iss !== DIRECTORY) {
                throw new errors.UnapprovedSoftwareStatement(
                  `statements from ${iss} are not trusted`,
                )
              }
              try {
                const { payload } = await jwtVerify(String(statement), trusted.publicKey, {
                  issuer: DIRECTORY,
                })
                // RFC 7591 §2.3: the statement's claims take precedence
                if (typeof payload.client_name === 'string')
                  properties.client_name = payload.client_name
              } catch (err) {
                throw new errors.InvalidSoftwareStatement(
                  `the software statement does not verify: ${(err as Error).message}`,
                )
              }
            },
          },
        },
        registrationManagement: MANAGEMENT,
        devInteractions: { enabled: false },
      },
    })
  })
  after(() => op.close())

  const iat = () => new op.provider.InitialAccessToken({ policies: ['software-statement'] }).save()
  const statement = (key: KeyPair['privateKey'], iss: string) =>
    new SignJWT({ software_id: 'app-1', client_name: 'Vouched App' })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(iss)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key)

  it('R7591-3-c: the whole lifecycle with an initial access token', async () => {
    await lifecycle(op.issuer, { initialAccessToken: await iat() })
  })

  it('CL-7591-c: no initial access token is invalid_token (401)', async () => {
    const err = await refusal(`${op.issuer}/reg`, { redirect_uris: ['https://app.example.com/cb'] })
    assert.equal(err.error, 'invalid_token')
    assert.equal(err.status, 401)
  })

  it('CL-7591-i: a valid software statement arrives verbatim and its claims win', async () => {
    const jws = await statement(trusted.privateKey, DIRECTORY)
    received.length = 0
    const reg = await register(
      `${op.issuer}/reg`,
      { redirect_uris: ['https://app.example.com/cb'], client_name: 'Self-asserted' },
      { initialAccessToken: await iat(), softwareStatement: jws },
    )
    assert.deepEqual(received, [jws])
    assert.equal(reg.information?.client_name, 'Vouched App')
    await reg.delete()
  })

  it('RFC 7591 §3.2.2: invalid_software_statement and unapproved_software_statement come back as RegistrationError', async () => {
    const endpoint = `${op.issuer}/reg`
    const metadata = { redirect_uris: ['https://app.example.com/cb'] }

    const garbage = await refusal(endpoint, metadata, {
      initialAccessToken: await iat(),
      softwareStatement: 'not-a-jwt',
    })
    assert.equal(garbage.error, 'invalid_software_statement')
    assert.equal(garbage.status, 400)

    const forged = await refusal(endpoint, metadata, {
      initialAccessToken: await iat(),
      softwareStatement: await statement(stranger.privateKey, DIRECTORY),
    })
    assert.equal(forged.error, 'invalid_software_statement')
    assert.match(forged.error_description ?? '', /does not verify/)

    const untrusted = await refusal(endpoint, metadata, {
      initialAccessToken: await iat(),
      softwareStatement: await statement(stranger.privateKey, 'https://unknown.example'),
    })
    assert.equal(untrusted.error, 'unapproved_software_statement')
    assert.equal(untrusted.status, 400)
  })
})
