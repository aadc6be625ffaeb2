// The examples' command-line contract and their pages without --auto-login.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { childEnv, type JsonBody, tempDir } from '../helpers.js'
import { type Example, startExample, visit } from './support.js'

const ROOT = new URL('../../', import.meta.url).pathname

/** Runs an example to its exit; resolves with the code and what it printed. */
function runToExit(name: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [join(ROOT, 'examples', name, 'server.js'), ...args], {
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    proc.stdout.on('data', (d) => {
      out += d
    })
    proc.stderr.on('data', (d) => {
      out += d
    })
    // a generous bound: a refusal comes before any request is served
    const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000)
    proc.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, out })
    })
  })
}

describe('the examples refuse what their command line forbids', () => {
  const scratch = tempDir('registrar-examples-')
  after(() => scratch.cleanup())

  for (const name of ['oidc-provider', 'mcp-server']) {
    it(`${name}: --auto-login is refused unless the issuer is on loopback`, async () => {
      const config = join(scratch.dir, 'everywhere.json')
      writeFileSync(config, JSON.stringify({ host: '0.0.0.0' }))
      const { code, out } = await runToExit(name, [
        '--port',
        '0',
        '--config',
        config,
        '--auto-login',
      ])
      assert.equal(code, 2, out)
      assert.match(
        out,
        /--auto-login is refused: the issuer http:\/\/0\.0\.0\.0:\d+ is not on loopback/,
      )
    })

    it(`${name}: an unknown option is a usage error`, async () => {
      const { code, out } = await runToExit(name, ['--bogus'])
      assert.equal(code, 2)
      assert.match(out, /Usage: node examples\//)
    })
  }
})

describe('the MCP example without --auto-login: a consent page', () => {
  let mcp: Example
  before(async () => {
    mcp = await startExample('mcp-server', ['--store', 'memory'], { log: { level: 'warn' } })
  })
  after(() => mcp?.stop())

  async function pending(redirectUri: string) {
    const registration = await fetch(`${mcp.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [redirectUri], token_endpoint_auth_method: 'none' }),
    })
    assert.equal(registration.status, 201)
    const client = (await registration.json()) as JsonBody
    const page = await visit(
      `${mcp.url}/authorize?${new URLSearchParams({
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: redirectUri,
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
        state: 'xyz',
      })}`,
    )
    assert.equal(page.status, 200)
    const id = /name="id" value="([\w-]+)"/.exec(page.body)?.[1]
    assert.ok(id, page.body)
    return { client, id }
  }

  const decide = (id: string, decision: string) =>
    fetch(`${mcp.url}/consent`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ id, decision }),
    })

  it('AS-9207-2-a: allow sends a code, the state and iss back; deny sends access_denied with iss', async () => {
    const redirectUri = 'https://client.example/cb'
    const allowed = await decide((await pending(redirectUri)).id, 'allow')
    assert.equal(allowed.status, 302)
    const back = new URL(allowed.headers.get('location') as string)
    assert.equal(back.origin + back.pathname, redirectUri)
    assert.ok(back.searchParams.get('code'))
    assert.equal(back.searchParams.get('state'), 'xyz')
    assert.equal(back.searchParams.get('iss'), mcp.url)

    const denied = await decide((await pending(redirectUri)).id, 'deny')
    const refused = new URL(denied.headers.get('location') as string)
    assert.equal(refused.searchParams.get('error'), 'access_denied')
    assert.equal(refused.searchParams.get('iss'), mcp.url)
  })

  it('AS-BP-02: consent re-checks the client: deleted meanwhile, the form gets an error page and no redirect', async () => {
    const { client, id } = await pending('https://client.example/cb')
    const deleted = await fetch(client.registration_client_uri, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${client.registration_access_token}` },
    })
    assert.equal(deleted.status, 204)
    const answer = await decide(id, 'allow')
    assert.equal(answer.status, 400)
    assert.equal(answer.headers.get('location'), null)
  })
})

describe('the oidc-provider example without --auto-login: sign-in and consent pages', () => {
  let op: Example
  before(async () => {
    op = await startExample('oidc-provider', ['--store', 'memory'], { log: { level: 'warn' } })
  })
  after(() => op?.stop())

  it('the browser is shown a sign-in page, not signed in', async () => {
    const registration = await fetch(`${op.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['https://client.example/cb'] }),
    })
    const client = (await registration.json()) as JsonBody
    const start = await fetch(
      `${op.url}/authorize?${new URLSearchParams({
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: 'https://client.example/cb',
        scope: 'openid',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      })}`,
      { redirect: 'manual' },
    )
    assert.ok(start.status >= 300 && start.status < 400, String(start.status))
    const interaction = new URL(start.headers.get('location') as string, op.url)
    assert.match(interaction.pathname, /^\/interaction\//)
    const cookie = start.headers
      .getSetCookie()
      .map((line) => line.split(';')[0])
      .join('; ')
    const page = await fetch(interaction, { headers: { cookie }, redirect: 'manual' })
    assert.equal(page.status, 200)
    assert.match(await page.text(), /Sign in as the demo user/)
  })
})
