import assert from 'node:assert/strict'
import type { Store } from '../../src/core/store.js'
import { createRegistrar, type RegistrarApp, type RegistrarConfigInput } from '../../src/index.js'
import { call, ISSUER, type JsonBody } from '../helpers.js'

export { ISSUER }
export const TOKEN_ENDPOINT = `${ISSUER}/token`
/** A 32-byte key, so that client_secret_jwt and sealed secrets are available. */
export const SECRET_KEY = 'a'.repeat(64)

/** An app over a memory store (or `store`): open registration, secretEncryptionKey set. */
export async function makeApp(
  config: RegistrarConfigInput = {},
  options: { store?: Store | string; clock?: () => number } = {},
): Promise<RegistrarApp> {
  return createRegistrar({
    config: {
      issuer: ISSUER,
      ...config,
      registration: {
        mode: 'open',
        secretEncryptionKey: SECRET_KEY,
        ...config.registration,
      },
      metadata: { token_endpoint: TOKEN_ENDPOINT, ...config.metadata },
    },
    store: options.store ?? 'memory',
    logger: false,
    ...(options.clock && { clock: options.clock }),
  })
}

/** Registers a client through RFC 7591 and returns its client information response. */
export async function register(
  app: RegistrarApp,
  metadata: Record<string, unknown> = {},
): Promise<JsonBody> {
  const res = await call(app.fetch, 'POST', '/register', {
    body: { redirect_uris: ['https://client.example.org/cb'], ...metadata },
  })
  assert.equal(res.status, 201, JSON.stringify(res.body))
  return res.body
}

/** RFC 6749 App. B: each half form-encoded, then joined and base64-encoded. */
export function basic(clientId: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replaceAll('%20', '+')
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(secret)}`).toString('base64')}`
}

/** A token request as a web Request: form body, optional Authorization header. */
export function tokenRequest(
  params: Record<string, string> = {},
  options: { authorization?: string; url?: string; headers?: Record<string, string> } = {},
): Request {
  return new Request(options.url ?? TOKEN_ENDPOINT, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(options.authorization !== undefined && { authorization: options.authorization }),
      ...options.headers,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...params }),
  })
}

/** Asserts a RegistrationError with this error code and status. */
export async function rejectsWith(
  promise: Promise<unknown>,
  error: 'invalid_client' | 'invalid_request',
  message?: string,
): Promise<void> {
  await assert.rejects(
    promise,
    (err: unknown) => {
      const e = err as { name?: string; error?: string; status?: number }
      assert.equal(e.name, 'RegistrationError', `${message ?? ''}: ${String(err)}`)
      assert.equal(e.error, error, message)
      assert.equal(e.status, error === 'invalid_client' ? 401 : 400, message)
      return true
    },
    message,
  )
}
