import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { createRegistrar, type RegistrarApp, type RegistrarConfigInput } from '../../src/index.js'

/**
 * A port that was free a moment ago. Each test server needs its port before it starts, because
 * the issuer (and so every URL Registrar hands out) names it.
 */
export async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as { port: number }
  await new Promise((resolve) => probe.close(resolve))
  return port
}

/** A Registrar on the memory store whose log lines are kept in `lines`. */
export async function registrarFor(
  issuer: string,
  config: RegistrarConfigInput = {},
): Promise<{ app: RegistrarApp; lines: string[] }> {
  const lines: string[] = []
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk))
      done()
    },
  })
  const app = await createRegistrar({
    config: { issuer, registration: { mode: 'open' }, ...config },
    store: 'memory',
    logger: pino({ level: 'info' }, sink),
  })
  return { app, lines }
}

/** One request over the socket; the body is parsed when it is JSON. */
export async function send(
  url: string,
  options: {
    method?: string
    json?: unknown
    raw?: string
    /** Send `raw` chunked, without Content-Length, so that only counting the bytes finds its size. */
    chunked?: boolean
    headers?: Record<string, string>
    token?: string
  } = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests read members of arbitrary JSON bodies
): Promise<{ status: number; headers: Headers; body: any; text: string }> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.json !== undefined) headers['content-type'] ??= 'application/json'
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  const text = options.json !== undefined ? JSON.stringify(options.json) : options.raw
  const body =
    options.chunked && text !== undefined
      ? new Blob([text]).stream() // a stream has no length to declare
      : text
  const res = await fetch(url, {
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    ...(body !== undefined && { body, duplex: 'half' }),
    signal: AbortSignal.timeout(5000),
  })
  const received = await res.text()
  let parsed: unknown
  try {
    parsed = received ? JSON.parse(received) : undefined
  } catch {
    parsed = undefined
  }
  return { status: res.status, headers: res.headers, body: parsed, text: received }
}

/** A web client's metadata, as in RFC 7591 §3.1's example. */
export const WEB_CLIENT = {
  redirect_uris: ['https://client.example.org/callback'],
  client_name: 'Example',
  token_endpoint_auth_method: 'client_secret_basic',
}

/** 64 KiB and one byte of JSON: one past Registrar's default `limits.maxBodyBytes`. */
export const OVERSIZED = JSON.stringify({ ...WEB_CLIENT, pad: 'x'.repeat(64 * 1024) })

/**
 * RFC 7591 registration at `{issuer}/register`, then RFC 7592 read, update and delete through the
 * `registration_client_uri` the server returned, used as given.
 */
export async function registrationLifecycle(issuer: string): Promise<void> {
  const created = await send(`${issuer}/register`, { json: WEB_CLIENT })
  assert.equal(created.status, 201, created.text)
  assert.equal(created.headers.get('cache-control'), 'no-store')
  const { client_id, registration_client_uri: uri, registration_access_token: token } = created.body
  assert.equal(uri, `${issuer}/register/${client_id}`)

  const read = await send(uri, { token })
  assert.equal(read.status, 200, read.text)
  assert.equal(read.body.client_name, 'Example')

  const updated = await send(uri, {
    method: 'PUT',
    token,
    json: { ...WEB_CLIENT, client_id, client_name: 'Renamed' },
  })
  assert.equal(updated.status, 200, updated.text)
  assert.equal(updated.body.client_name, 'Renamed')

  const deleted = await send(uri, { method: 'DELETE', token })
  assert.equal(deleted.status, 204)
  assert.equal(deleted.text, '')
  const gone = await send(uri, { token })
  assert.equal(gone.status, 401)
  assert.equal(gone.body.error, 'invalid_token')
}

/** The registration endpoint a discovery document at `url` advertises. */
export async function advertisedRegistrationEndpoint(url: string): Promise<string> {
  const res = await send(url)
  assert.equal(res.status, 200, `${url}: ${res.status} ${res.text}`)
  return res.body.registration_endpoint
}

/**
 * With `rateLimit.anonymousRegistrations: 1` and no `trustedProxies`: two registrations from one
 * X-Forwarded-For address get 201 then 429, another address 201 again — only the framework's own
 * notion of the client IP can have told them apart.
 */
export async function assertLimitedPerFrameworkIp(issuer: string): Promise<void> {
  const from = (ip: string) =>
    send(`${issuer}/register`, { json: WEB_CLIENT, headers: { 'x-forwarded-for': ip } })
  assert.equal((await from('203.0.113.7')).status, 201)
  const limited = await from('203.0.113.7')
  assert.equal(limited.status, 429)
  assert.ok(limited.headers.get('retry-after'))
  assert.equal((await from('203.0.113.8')).status, 201)
}
