import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { register } from '../../src/client/index.js'
import { runCli, type ServerProcess, startServer, tempDir } from '../helpers.js'
import { lifecycle, refusal } from './lifecycle.js'

const ROTATE = { registration: { rotateRegistrationAccessToken: true } }

describe('client library against Registrar, open registration', () => {
  let server: ServerProcess
  before(async () => {
    server = await startServer(['--registration', 'open', '--store', 'memory'], { config: ROTATE })
  })
  after(() => server.stop())

  it('R7592-2.1-b CL-7592-b CL-7592-c CL-7592-d CL-7592-e: discover, register, read, update with a rotated token kept, delete, then invalid_token', async () => {
    await lifecycle(server.url)
  })

  it('CL-7591-d CL-7591-g CL-7591-h: scope arrays and language-tagged names round-trip', async () => {
    const reg = await register(`${server.url}/register`, {
      redirect_uris: ['https://app.example.com/cb'],
      client_name: 'Example',
      'client_name#ja-Jpan-JP': 'クライアント',
      scope: ['openid', 'email'],
    })
    assert.equal(reg.information?.['client_name#ja-Jpan-JP'], 'クライアント')
    assert.equal(reg.information?.scope, 'openid email')
    const read = await reg.read()
    assert.equal(read['client_name#ja-Jpan-JP'], 'クライアント')
    await reg.delete()
  })

  it('RFC 7591 §3.2.2: invalid_redirect_uri and invalid_client_metadata come back as RegistrationError', async () => {
    const endpoint = `${server.url}/register`
    const redirect = await refusal(endpoint, { redirect_uris: ['http://sketchy.example.com/cb'] })
    assert.equal(redirect.error, 'invalid_redirect_uri')
    assert.equal(redirect.status, 400)
    assert.ok(redirect.error_description)

    const metadata = await refusal(endpoint, {
      redirect_uris: ['https://app.example.com/cb'],
      token_endpoint_auth_method: 'telepathy',
    })
    assert.equal(metadata.error, 'invalid_client_metadata')
    assert.equal(metadata.status, 400)
  })
})

describe('client library against Registrar, token registration', () => {
  let server: ServerProcess
  let dir: { dir: string; cleanup: () => void }
  let store: string
  before(async () => {
    dir = tempDir()
    store = `sqlite:${join(dir.dir, 'registrar.db')}`
    server = await startServer(['--registration', 'token', '--store', store], { config: ROTATE })
  })
  after(async () => {
    await server.stop()
    dir.cleanup()
  })

  async function createIat(...args: string[]): Promise<string> {
    const out = await runCli(['token', 'create', '--store', store, ...args])
    assert.equal(out.code, 0, out.stderr)
    return out.stdout.trim().split('\n').at(-1) as string
  }

  it('R7591-3-c CL-7591-a: the whole lifecycle with an initial access token', async () => {
    await lifecycle(server.url, { initialAccessToken: await createIat() })
  })

  it('CL-7591-c: a missing or used-up initial access token is invalid_token (401)', async () => {
    const endpoint = `${server.url}/register`
    const metadata = { redirect_uris: ['https://app.example.com/cb'] }
    const missing = await refusal(endpoint, metadata)
    assert.equal(missing.error, 'invalid_token')
    assert.equal(missing.status, 401)

    const once = await createIat('--max-uses', '1')
    await register(endpoint, metadata, { initialAccessToken: once })
    const usedUp = await refusal(endpoint, metadata, { initialAccessToken: once })
    assert.equal(usedUp.error, 'invalid_token')
    assert.equal(usedUp.status, 401)
  })
})
