import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { resolveConfig } from '../../src/config/resolve.js'
import { call, makeRegistrar, runCli, tempDir } from '../helpers.js'
import { CLIENTS, MCP_SDK_EXAMPLE_CLIENT } from '../interop/real-client-payloads.js'
import { fenced, section } from './markdown.js'

/** The JSON blocks of docs/security.md's section "Securing open registration", in order. */
function readmeConfigs(): Record<string, unknown>[] {
  return fenced(section('docs/security.md', 'Securing open registration'), 'json').map(
    (json) => JSON.parse(json) as Record<string, unknown>,
  )
}

describe('docs/security.md "Securing open registration" configs', () => {
  const [mcp, statementOnly] = readmeConfigs()

  it('both ready configs are valid', () => {
    assert.ok(mcp && statementOnly, 'two JSON configs in the section')
    resolveConfig({ file: mcp })
    resolveConfig({ file: statementOnly })
  })

  it('issue 12 item 14: every real MCP client of real-client-payloads.ts and the MCP SDK example client registers under the MCP config', async () => {
    const { fetch } = makeRegistrar(mcp as Record<string, unknown>)
    const payloads = [
      ...CLIENTS.map((c) => [c.name, c.body] as const),
      ['MCP SDK example client', MCP_SDK_EXAMPLE_CLIENT] as const,
    ]
    assert.equal(payloads.length, 8)
    for (const [name, body] of payloads) {
      const res = await call(fetch, 'POST', '/register', { body })
      assert.equal(res.status, 201, `${name}: ${res.text}`)
      // public clients, whatever was asked (authMethods onMismatch substitute, RFC 7591 §3.2.1)
      assert.equal(res.body.token_endpoint_auth_method, 'none', name)
      assert.equal(res.body.client_secret, undefined, name)
      assert.deepEqual(res.body.redirect_uris, body.redirect_uris, name)
    }
    // mcp-remote's client_uri on github.com is dropped, not refused (sameHostReferences drop)
    const remote = CLIENTS.find((c) => c.name === 'mcp-remote')?.body
    const res = await call(fetch, 'POST', '/register', { body: remote })
    assert.equal(res.body.client_uri, undefined)
    assert.equal(res.body.software_id, remote?.software_id)
  })

  it('the MCP config still refuses what no MCP client needs', async () => {
    const { fetch } = makeRegistrar(mcp as Record<string, unknown>)
    const elsewhere = await call(fetch, 'POST', '/register', {
      body: { redirect_uris: ['https://evil.example/cb'], token_endpoint_auth_method: 'none' },
    })
    assert.deepEqual([elsewhere.status, elsewhere.body.error], [400, 'invalid_redirect_uri'])
    const machine = await call(fetch, 'POST', '/register', {
      body: { grant_types: ['client_credentials'], response_types: [] },
    })
    assert.equal(machine.status, 400)
  })

  it('the software-statement-only config refuses a registration without a statement', async () => {
    const { fetch } = makeRegistrar(statementOnly as Record<string, unknown>)
    const res = await call(fetch, 'POST', '/register', {
      body: { redirect_uris: ['https://app.example.com/cb'] },
    })
    assert.deepEqual([res.status, res.body.error], [400, 'invalid_software_statement'])
  })

  it('policy dry-run shows the registration and which rule decided each member', async () => {
    const { dir, cleanup } = tempDir()
    try {
      writeFileSync(join(dir, 'registrar.json'), JSON.stringify(mcp))
      writeFileSync(
        join(dir, 'body.json'),
        '{"redirect_uris":["http://127.0.0.1:8080/cb"],"scope":"mcp:tools admin","token_endpoint_auth_method":"none"}',
      )
      const out = await runCli(
        [
          'policy',
          'dry-run',
          '--config',
          'registrar.json',
          '--metadata',
          'body.json',
          '--store',
          'memory',
        ],
        { cwd: dir },
      )
      assert.equal(out.code, 0, out.stderr)
      const result = JSON.parse(out.stdout)
      assert.equal(result.result, 'accepted')
      assert.equal(result.policy, 'mcp-clients')
      assert.deepEqual(result.policies, ['mcp-clients'])
      assert.equal(result.registered_as.scope, 'mcp:tools')
      assert.match(result.decided_by.scope, /narrowed to metadata.scopes_supported/)
      assert.equal(result.decided_by.application_type, 'server default')

      writeFileSync(
        join(dir, 'bad.json'),
        '{"redirect_uris":["https://evil.example/cb"],"token_endpoint_auth_method":"none"}',
      )
      const refused = await runCli(
        [
          'policy',
          'dry-run',
          '--config',
          'registrar.json',
          '--metadata',
          'bad.json',
          '--store',
          'memory',
        ],
        { cwd: dir },
      )
      assert.equal(refused.code, 1)
      assert.equal(JSON.parse(refused.stdout).error, 'invalid_redirect_uri')
    } finally {
      cleanup()
    }
  })

  it('requireApproval + registrar clients approve --version (issue 12 item 1)', async () => {
    const { dir, cleanup } = tempDir()
    try {
      const store = `sqlite:${join(dir, 'r.db')}`
      const config = {
        issuer: 'https://as.example.com',
        store,
        registration: { mode: 'open' },
        policies: { anonymous: 'review', definitions: { review: { requireApproval: true } } },
      }
      const c = join(dir, 'c.json')
      writeFileSync(c, JSON.stringify(config))
      const { SqliteStore } = await import('../../src/storage/sqlite.js')
      const db = new SqliteStore(join(dir, 'r.db'))
      const { fetch } = makeRegistrar(config, { store: db })
      const res = await call(fetch, 'POST', '/register', {
        body: { redirect_uris: ['https://a.example/cb'] },
      })
      const id = res.body.client_id
      assert.equal((await db.findClient(id))?.status, 'pending')
      const listed = await runCli(['clients', 'list', '--config', c])
      assert.match(listed.stdout, /pending/)
      const shown = JSON.parse((await runCli(['clients', 'show', id, '--config', c])).stdout)
      assert.equal(shown.status, 'pending')
      assert.equal(shown.version, 1)

      // --version is required: an approval is of the registration the operator reviewed
      const bare = await runCli(['clients', 'approve', id, '--config', c])
      assert.equal(bare.code, 2)
      assert.match(bare.stderr, /--version/)

      // the client changes its registration after the operator looked at version 1
      const put = await call(fetch, 'PUT', new URL(res.body.registration_client_uri).pathname, {
        token: res.body.registration_access_token,
        body: { client_id: id, redirect_uris: ['https://a.example/other'] },
      })
      assert.equal(put.status, 200, put.text)
      const stale = await runCli(['clients', 'approve', id, '--version', '1', '--config', c])
      assert.equal(stale.code, 1)
      assert.match(stale.stderr, /changed since version 1 \(now version 2\)/)
      assert.equal((await db.findClient(id))?.status, 'pending')

      const approved = await runCli(['clients', 'approve', id, '--version', '2', '--config', c])
      assert.equal(approved.code, 0, approved.stderr)
      assert.equal((await db.findClient(id))?.status, 'active')
      const again = await runCli(['clients', 'approve', id, '--version', '3', '--config', c])
      assert.match(again.stdout, /already active/)
      const missing = await runCli(['clients', 'approve', 'nope', '--version', '1', '--config', c])
      assert.equal(missing.code, 1)

      // an approved client that changes its metadata waits for a new approval
      const changed = await call(fetch, 'PUT', new URL(res.body.registration_client_uri).pathname, {
        token: res.body.registration_access_token,
        body: { client_id: id, redirect_uris: ['https://a.example/third'] },
      })
      assert.equal(changed.status, 200, changed.text)
      assert.equal((await db.findClient(id))?.status, 'pending')
      await db.close()
    } finally {
      cleanup()
    }
  })
})
