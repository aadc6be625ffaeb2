// Issue 11 "Administration": policy dry-run --client-id, and clients list/show/delete/block/approve
// of metadata document clients, run as the real CLI on a SQLite store a Registrar also uses.
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { composeRegistrar } from '../../src/app.js'
import { resolveConfig } from '../../src/config/resolve.js'
import type { Store } from '../../src/core/store.js'
import { openStore } from '../../src/storage/open-store.js'
import { type JsonBody, runCli, tempDir } from '../helpers.js'
import { type DocumentServer, startDocumentServer } from './fixtures.js'

let docs: DocumentServer
const scratch = tempDir('registrar-cimd-cli-')
before(async () => {
  docs = await startDocumentServer()
})
after(async () => {
  await docs?.stop()
  scratch.cleanup()
})

function configFile(name: string, extra: Record<string, unknown> = {}) {
  const file = {
    issuer: 'https://as.example.com',
    store: `sqlite:${join(scratch.dir, `${name}.db`)}`,
    clientIdMetadataDocuments: { enabled: true },
    fetch: { allowedAddresses: ['127.0.0.2'], caFile: docs.caFile },
    policies: {
      metadataDocument: 'cimd',
      definitions: { cimd: { scopes: ['read', 'write'] } },
    },
    ...extra,
  }
  const path = join(scratch.dir, `${name}.json`)
  writeFileSync(path, JSON.stringify(file))
  return { path, file }
}

/** A Registrar on the same store as the CLI: the AS that resolves the clients. */
async function as(
  file: Record<string, unknown>,
): Promise<{ app: ReturnType<typeof composeRegistrar>; store: Store }> {
  const config = resolveConfig({ file })
  const store = await openStore(config.store)
  return { app: composeRegistrar(config, store), store }
}

describe('registrar policy dry-run --client-id URL', () => {
  it('fetches the document and shows what would be accepted and which rule decided each member', async () => {
    const url = docs.json('/dry-run.json', {
      client_name: 'Dry run client',
      redirect_uris: ['https://app.example/cb'],
      scope: 'read write admin',
      x_vendor: 1,
    })
    const { path } = configFile('dry-run')
    const { code, stdout, stderr } = await runCli([
      'policy',
      'dry-run',
      '--client-id',
      url,
      '--config',
      path,
      '--store',
      'memory',
    ])
    assert.equal(code, 0, stderr)
    const out = JSON.parse(stdout) as JsonBody
    assert.equal(out.result, 'accepted')
    assert.equal(out.accepted_as.scope, 'read write')
    assert.match(out.decided_by.scope, /policy rule cimd\.scopes: dropped admin/)
    assert.equal(out.decided_by.client_name, 'document')
    assert.equal(
      out.decided_by.token_endpoint_auth_method,
      'draft -03 §6 default for a document (none)',
    )
    assert.equal(out.decided_by.grant_types, 'server default')
    assert.deepEqual(out.dropped, ['x_vendor'])
    assert.equal(docs.hits('/dry-run.json'), 1)
  })

  it('a refused document: exit 1 with the reason', async () => {
    const url = docs.json('/dry-run-bad.json', {
      redirect_uris: ['https://app.example/cb'],
      token_endpoint_auth_method: 'client_secret_basic',
    })
    const { path } = configFile('dry-run-bad')
    const { code, stdout } = await runCli([
      'policy',
      'dry-run',
      '--client-id',
      url,
      '--config',
      path,
      '--store',
      'memory',
    ])
    assert.equal(code, 1)
    const out = JSON.parse(stdout) as JsonBody
    assert.equal(out.result, 'refused')
    assert.equal(out.refusal, 'invalid_document')
    assert.match(out.detail, /shared secret/)
  })
})

describe('registrar clients with metadata document clients', () => {
  it('list and show include them (source, last fetch, cache expiry, last use); delete forgets the copy; block refuses it; enable lifts the block', async () => {
    const url = docs.json('/admin.json', {
      client_name: 'Admin CIMD',
      redirect_uris: ['https://app.example/cb'],
    })
    const { path, file } = configFile('admin')
    const { app, store } = await as(file)
    try {
      assert.ok(await app.getClient(url))
      await app.recordUse(url)

      const list = await runCli(['clients', 'list', '--config', path])
      assert.equal(list.code, 0, list.stderr)
      assert.match(
        list.stdout,
        /METADATA DOCUMENT \(client_id\)\s+NAME\s+STATUS\s+LAST FETCH\s+CACHE EXPIRES\s+LAST USED/,
      )
      assert.match(
        list.stdout,
        new RegExp(`${url.replace(/[.:/]/g, '\\$&')}\\s+Admin CIMD\\s+active\\s+\\d{4}-`),
      )
      const json = JSON.parse(
        (await runCli(['clients', 'list', '--json', '--config', path])).stdout,
      ) as JsonBody[]
      const listed = json.find((c) => c.client_id === url)
      assert.equal(listed?.source, 'metadata_document')

      const show = await runCli(['clients', 'show', url, '--config', path])
      assert.equal(show.code, 0, show.stderr)
      const view = JSON.parse(show.stdout) as JsonBody
      assert.equal(view.source, 'metadata_document')
      assert.equal(view.status, 'active')
      assert.equal(typeof view.last_fetch, 'number')
      assert.equal(typeof view.cache_expires_at, 'number')
      assert.equal(typeof view.last_used_at, 'number')
      assert.equal(view.metadata.client_name, 'Admin CIMD')

      const deleted = await runCli(['clients', 'delete', url, '--config', path])
      assert.equal(deleted.code, 0, deleted.stderr)
      assert.match(deleted.stdout, /forgot the cached metadata document/)
      assert.equal(await store.findMetadataDocument(url), undefined)

      const blocked = await runCli(['clients', 'block', url, '--config', path])
      assert.equal(blocked.code, 0, blocked.stderr)
      const hits = docs.hits('/admin.json')
      const fresh = await as(file)
      assert.equal(await fresh.app.getClient(url), undefined)
      assert.equal(docs.hits('/admin.json'), hits)
      const shownBlocked = JSON.parse(
        (await runCli(['clients', 'show', url, '--config', path])).stdout,
      )
      assert.equal(shownBlocked.status, 'blocked')

      assert.equal((await runCli(['clients', 'enable', url, '--config', path])).code, 0)
      fresh.app.clientRegistry.metadataDocuments?.invalidate()
      assert.ok(await fresh.app.getClient(url))
      await fresh.app.close()
      await fresh.store.close()

      const missing = await runCli([
        'clients',
        'delete',
        'https://nobody.example/c',
        '--config',
        path,
      ])
      assert.equal(missing.code, 1)
    } finally {
      await app.close()
      await store.close()
    }
  })

  it('requireApproval: pending until clients approve URL', async () => {
    const url = docs.json('/approve.json', { redirect_uris: ['https://app.example/cb'] })
    const { path, file } = configFile('approve', {
      policies: { metadataDocument: 'held', definitions: { held: { requireApproval: true } } },
    })
    const { app, store } = await as(file)
    try {
      assert.equal(await app.getClient(url), undefined)
      const shown = JSON.parse((await runCli(['clients', 'show', url, '--config', path])).stdout)
      assert.equal(shown.status, 'pending')
      const approved = await runCli(['clients', 'approve', url, '--config', path])
      assert.equal(approved.code, 0, approved.stderr)
      assert.match(approved.stdout, /approved/)
      app.clientRegistry.metadataDocuments?.invalidate()
      assert.equal((await app.getClient(url))?.client_id, url)
    } finally {
      await app.close()
      await store.close()
    }
  })
})

describe('admin API: GET /admin/api/metadata-documents', () => {
  it('lists the metadata document clients with source, last fetch, cache expiry and status (read-only token)', async () => {
    const { adminApp } = await import('../admin/support.js')
    const { call } = await import('../helpers.js')
    const { runtime, store, fetch, ro } = await adminApp({
      clientIdMetadataDocuments: { enabled: true },
      fetch: { allowedAddresses: ['127.0.0.2'], caFile: docs.caFile },
    })
    const url = docs.json('/admin-api.json', { redirect_uris: ['https://app.example/cb'] })
    assert.ok(await runtime.getClient(url))
    await store.decideMetadataDocument('https://blocked.example/c', 'blocked')
    const res = await call(fetch, 'GET', '/admin/api/metadata-documents', { token: ro })
    assert.equal(res.status, 200)
    const listed = res.body.metadata_documents as JsonBody[]
    const active = listed.find((d) => d.client_id === url)
    assert.equal(active?.source, 'metadata_document')
    assert.equal(active?.status, 'active')
    assert.equal(typeof active?.last_fetch, 'number')
    assert.equal(typeof active?.cache_expires_at, 'number')
    assert.equal(listed.find((d) => d.client_id === 'https://blocked.example/c')?.status, 'blocked')
    await runtime.close()
  })
})
