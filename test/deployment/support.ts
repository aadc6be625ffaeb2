import assert from 'node:assert/strict'
import type { RegistrarConfig } from '../../src/config/schema.js'
import type { ClientRecord, Store } from '../../src/core/store.js'
import { clientMetadataRules } from '../../src/metadata/rules.js'
import { validateClientMetadata } from '../../src/metadata/validate.js'

export interface Answer {
  status: number
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
  body: any
  ms: number
}

/** One HTTP exchange with a running server (real socket), JSON in and out. */
export async function request(
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; timeoutMs?: number } = {},
): Promise<Answer> {
  const started = performance.now()
  const res = await fetch(new URL(path, base), {
    method,
    headers: {
      ...(options.body !== undefined && { 'content-type': 'application/json' }),
      ...(options.token !== undefined && { authorization: `Bearer ${options.token}` }),
    },
    ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  })
  const text = await res.text()
  return {
    status: res.status,
    body: text ? JSON.parse(text) : undefined,
    ms: performance.now() - started,
  }
}

/** A registration request whose values can be checked after the fact. */
export function registrationRequest(n: number): Record<string, unknown> {
  return {
    redirect_uris: [`https://app-${n}.example.org/callback`],
    client_name: `load client ${n} — ✓`,
    'client_name#ja-Jpan-JP': `クライアント ${n}`,
    contacts: [`ops+${n}@example.org`],
  }
}

/**
 * Asserts that every stored client is a complete, valid record: required members present and
 * well-typed, credentials consistent, and metadata that passes validation again unchanged (a
 * half-written or truncated record would not).
 */
export async function assertStoreConsistent(
  store: Store,
  config: Readonly<RegistrarConfig>,
): Promise<ClientRecord[]> {
  const rules = clientMetadataRules(config)
  const all = await store.listClients()
  for (const c of all) {
    const where = `client ${c.client_id}`
    assert.match(c.client_id, /^[A-Za-z0-9_-]{16,}$/, where)
    assert.ok(Number.isSafeInteger(c.client_id_issued_at) && c.client_id_issued_at > 0, where)
    assert.ok(Number.isSafeInteger(c.updatedAt) && c.updatedAt >= c.client_id_issued_at, where)
    assert.ok(Number.isSafeInteger(c.version) && c.version >= 1, where)
    assert.ok(['active', 'pending', 'disabled'].includes(c.status), where)
    assert.match(c.registrationAccessTokenHash, /^[A-Za-z0-9_-]{32,}$/, where)
    // a secret, when there is one, comes with its expiry, and the other way round
    const hasSecret = c.clientSecretHash !== undefined || c.clientSecretEncrypted !== undefined
    assert.equal(hasSecret, c.client_secret_expires_at !== undefined, where)
    const revalidated = await validateClientMetadata(c.metadata as Record<string, unknown>, rules)
    assert.deepEqual(revalidated, c.metadata, where)
  }
  return all
}
