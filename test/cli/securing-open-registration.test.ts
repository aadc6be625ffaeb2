import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { resolveConfig } from '../../src/config/resolve.js'
import { call, makeRegistrar, runCli, tempDir } from '../helpers.js'

/** The JSON blocks of the README section "Securing open registration", in order. */
function readmeConfigs(): Record<string, unknown>[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const section = readme.split('## Securing open registration')[1]?.split(/\n## /)[0] ?? ''
  return [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1] as string))
}

// design.md §5: what real MCP clients send
const LOCAL_CLIENTS: Record<string, Record<string, unknown>> = {
  'Claude Code': {
    client_name: 'Claude Code',
    redirect_uris: ['http://localhost:54212/callback'],
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  },
  'VS Code': {
    client_name: 'Visual Studio Code',
    redirect_uris: ['https://vscode.dev/redirect', 'http://127.0.0.1:33418/', 'http://127.0.0.1/'],
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
  },
  Cursor: {
    client_name: 'Cursor',
    redirect_uris: ['cursor://anysphere.cursor-mcp/oauth/user-server/callback'],
    token_endpoint_auth_method: 'none',
  },
  'MCP Inspector': {
    client_name: 'MCP Inspector',
    redirect_uris: ['http://localhost:6274/oauth/callback'],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    scope: '',
  },
}

describe('README "Securing open registration" configs', () => {
  const [mcp, statementOnly] = readmeConfigs()

  it('both ready configs are valid', () => {
    assert.ok(mcp && statementOnly, 'two JSON configs in the section')
    resolveConfig({ file: mcp })
    resolveConfig({ file: statementOnly })
  })

  it('the MCP config admits local MCP clients and refuses hosted https callbacks anonymously', async () => {
    const { fetch } = makeRegistrar(mcp as Record<string, unknown>)
    for (const [name, body] of Object.entries(LOCAL_CLIENTS)) {
      const res = await call(fetch, 'POST', '/register', { body })
      assert.equal(res.status, 201, `${name}: ${res.text}`)
      assert.equal(res.body.token_endpoint_auth_method, 'none')
    }
    const hosted = await call(fetch, 'POST', '/register', {
      body: {
        client_name: 'claude.ai',
        redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    })
    assert.equal(hosted.status, 400)
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
      assert.equal(result.policy, 'local-mcp-clients')
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

  it('requireApproval + registrar clients approve', async () => {
    const { dir, cleanup } = tempDir()
    try {
      const store = `sqlite:${join(dir, 'r.db')}`
      const config = {
        issuer: 'https://as.example.com',
        store,
        registration: { mode: 'open' },
        policies: { anonymous: 'review', definitions: { review: { requireApproval: true } } },
      }
      writeFileSync(join(dir, 'c.json'), JSON.stringify(config))
      const { SqliteStore } = await import('../../src/storage/sqlite.js')
      const db = new SqliteStore(join(dir, 'r.db'))
      const { fetch } = makeRegistrar(config, { store: db })
      const res = await call(fetch, 'POST', '/register', {
        body: { redirect_uris: ['https://a.example/cb'] },
      })
      assert.equal((await db.findClient(res.body.client_id))?.status, 'disabled')
      const listed = await runCli(['clients', 'list', '--config', join(dir, 'c.json')])
      assert.match(listed.stdout, /disabled/)
      const approved = await runCli([
        'clients',
        'approve',
        res.body.client_id,
        '--config',
        join(dir, 'c.json'),
      ])
      assert.equal(approved.code, 0, approved.stderr)
      assert.equal((await db.findClient(res.body.client_id))?.status, 'active')
      const again = await runCli([
        'clients',
        'approve',
        res.body.client_id,
        '--config',
        join(dir, 'c.json'),
      ])
      assert.match(again.stdout, /already active/)
      const missing = await runCli(['clients', 'approve', 'nope', '--config', join(dir, 'c.json')])
      assert.equal(missing.code, 1)
      await db.close()
    } finally {
      cleanup()
    }
  })
})
