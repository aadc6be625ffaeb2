import { createAdminToken } from '../../src/admin/admin-token.js'
import { composeRegistrar } from '../../src/app.js'
import { resolveConfig } from '../../src/config/resolve.js'
import { MemoryStore } from '../../src/storage/memory.js'
import { ISSUER } from '../helpers.js'

/**
 * A Registrar with the admin surface enabled over a memory store (open registration, no ports),
 * and one read-write and one read-only admin token.
 */
export async function adminApp(file: Record<string, unknown> = {}) {
  const config = resolveConfig({
    file: {
      issuer: ISSUER,
      ...file,
      registration: { mode: 'open', ...(file.registration as object | undefined) },
      admin: { enabled: true, ...(file.admin as object | undefined) },
    },
  })
  const store = new MemoryStore()
  const runtime = composeRegistrar(config, store)
  const rw = await createAdminToken(store, { description: 'alice' })
  const ro = await createAdminToken(store, { readOnly: true, description: 'auditor' })
  return {
    config,
    store,
    runtime,
    registrar: runtime.registrar,
    fetch: runtime.fetch,
    rw: rw.token,
    rwId: rw.record.id,
    ro: ro.token,
    roId: ro.record.id,
  }
}
