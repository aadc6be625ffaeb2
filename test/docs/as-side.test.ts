// docs/as-side.md "Using Registrar's clients in your authorization server": its programs run as written,
// its fragment type-checks against the built package, and the example commands start.
import assert from 'node:assert/strict'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { freePort } from '../adapters/support.js'
import { childEnv, type JsonBody, spawnUntilListening, tempDir, typeCheck } from '../helpers.js'
import { startExample } from '../integrations/support.js'
import { block as docBlock, section } from './markdown.js'

const ROOT = new URL('../../', import.meta.url).pathname
const TSX = import.meta.resolve('tsx')
const PAGE = 'docs/as-side.md'
const SECTION = "Using Registrar's clients in your authorization server"

function block(heading: string, lang: string): string {
  // the subsection of "## Using Registrar's clients in your authorization server" in docs/as-side.md
  assert.ok(
    section(PAGE, SECTION).includes(`\n### ${heading}\n`),
    `"${SECTION}" has "### ${heading}"`,
  )
  return docBlock(PAGE, heading, lang)
}

const cleanups: (() => void)[] = []
after(() => {
  for (const cleanup of cleanups) cleanup()
})

/** Runs a documented program (PORT set, a scratch working directory) until its listening line. */
async function run(heading: string) {
  const scratch = join(ROOT, '.tmp')
  mkdirSync(scratch, { recursive: true })
  const file = join(scratch, `readme-as-${heading.replace(/\W+/g, '-')}-${process.pid}.ts`)
  writeFileSync(file, block(heading, 'ts'))
  const cwd = tempDir('registrar-readme-as-')
  cleanups.push(() => {
    rmSync(file, { force: true })
    cwd.cleanup()
  })
  const port = await freePort()
  const { proc, output, exited } = await spawnUntilListening(['--import', TSX, file], {
    cwd: cwd.dir,
    env: childEnv({ PORT: String(port) }),
    label: heading,
  })
  return {
    url: `http://127.0.0.1:${port}`,
    output,
    stop: () => {
      proc.kill('SIGKILL')
      return exited
    },
  }
}

async function send(url: string, init: RequestInit = {}) {
  const res = await fetch(url, { redirect: 'manual', ...init })
  const text = await res.text()
  let body: JsonBody
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  return { status: res.status, headers: res.headers, text, body }
}

const register = (url: string, metadata: Record<string, unknown>) =>
  send(`${url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(metadata),
  })

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`

describe('docs/as-side.md: the programs run as written', () => {
  it('The API: /authorize checks client and redirect URI first; /token authenticates the client (AS-6749-4.1.2.1-a, AS-6749-5.2-a)', async () => {
    const ex = await run('The API')
    try {
      const created = await register(ex.url, {
        redirect_uris: ['https://app.example.com/cb'],
        client_name: 'README client',
      })
      assert.equal(created.status, 201, created.text)
      const { client_id, client_secret } = created.body
      const authorize = (redirect: string) =>
        send(
          `${ex.url}/authorize?${new URLSearchParams({ client_id, redirect_uri: redirect, response_type: 'code' })}`,
        )
      const ok = await authorize('https://app.example.com/cb')
      assert.equal(ok.status, 200)
      assert.equal(ok.text, 'Sign in to continue to README client')
      const refused = await authorize('https://evil.example/cb')
      assert.equal(refused.status, 400)
      assert.equal(refused.headers.get('location'), null)

      const token = (authorization: string) =>
        send(`${ex.url}/token`, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials',
        })
      const good = await token(basic(client_id, client_secret))
      assert.equal(good.status, 200, good.text)
      assert.deepEqual(good.body, { client_id, method: 'client_secret_basic' })
      const bad = await token(basic(client_id, 'wrong'))
      assert.equal(bad.status, 401)
      assert.equal(bad.body.error, 'invalid_client')
      assert.match(bad.headers.get('www-authenticate') ?? '', /^Basic realm=/)
      assert.equal(bad.headers.get('cache-control'), 'no-store')
    } finally {
      await ex.stop()
    }
  })

  it('oidc-provider: discovery names Registrar’s /register; a registered client authenticates at /token', async () => {
    const ex = await run('oidc-provider')
    try {
      const discovery = await send(`${ex.url}/.well-known/openid-configuration`)
      assert.equal(discovery.status, 200)
      assert.equal(discovery.body.registration_endpoint, `${ex.url}/register`)
      const created = await register(ex.url, {
        redirect_uris: ['https://app.example.com/cb'],
        grant_types: ['authorization_code', 'client_credentials'],
      })
      assert.equal(created.status, 201, created.text)
      const { client_id, client_secret } = created.body
      const token = (secret: string) =>
        send(`${ex.url}/token`, {
          method: 'POST',
          headers: {
            authorization: basic(client_id, secret),
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: 'grant_type=client_credentials',
        })
      const good = await token(client_secret)
      assert.equal(good.status, 200, good.text)
      assert.ok(good.body.access_token)
      const bad = await token('wrong')
      assert.equal(bad.status, 401)
      assert.equal(bad.body.error, 'invalid_client')
    } finally {
      await ex.stop()
    }
  })

  it('The examples: each command starts and serves its discovery', async () => {
    const commands = block('The examples', 'sh')
      .split('\n')
      .filter((line) => line.startsWith('node examples/'))
    assert.equal(commands.length, 2)
    for (const command of commands) {
      const [, script, ...args] = command.split(/\s+/)
      const name = script?.split('/')[1] as 'oidc-provider' | 'mcp-server'
      // --port 0 instead of the page's fixed port; startExample adds it
      const rest = args.filter((a, i) => a !== '--port' && args[i - 1] !== '--port')
      const ex = await startExample(name, rest)
      try {
        if (name === 'oidc-provider') {
          const doc = await send(`${ex.url}/.well-known/openid-configuration`)
          assert.equal(doc.body.registration_endpoint, `${ex.url}/register`)
        } else {
          const doc = await send(`${ex.url}/.well-known/oauth-protected-resource/mcp`)
          assert.deepEqual(doc.body.authorization_servers, [ex.url])
          const as = await send(`${ex.url}/.well-known/oauth-authorization-server`)
          assert.equal(as.body.registration_endpoint, `${ex.url}/register`)
        }
      } finally {
        await ex.stop()
      }
    }
  })
})

it("docs/as-side.md's code type-checks against the built package (tsc, strict)", async () => {
  const dir = join(ROOT, '.tmp', `readme-as-types-${process.pid}`)
  mkdirSync(dir, { recursive: true })
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  // the MCP fragment, given the names it assumes
  const fragment = `import type { OAuthServerProvider } from '@modelcontextprotocol/sdk/server/auth/provider.js'
import type { Express } from 'express'
import type { RegistrarApp } from 'registrar'
declare const app: Express
declare const registrar: RegistrarApp
declare const provider: OAuthServerProvider
declare const issuer: string
${block('The MCP SDK', 'ts')}`
  const files = {
    'api.ts': block('The API', 'ts'),
    'oidc-provider.ts': block('oidc-provider', 'ts'),
    'mcp.ts': fragment,
  }
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(dir, name), `${text}\nexport {}\n`)
  }
  const { code, output } = await typeCheck(dir, Object.keys(files))
  assert.equal(code, 0, output)
})
