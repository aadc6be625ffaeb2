import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { freePort, send, WEB_CLIENT } from '../adapters/support.js'
import { spawnUntilListening, tempDir, typeCheck } from '../helpers.js'
import { block } from './markdown.js'

const ROOT = new URL('../../', import.meta.url).pathname
// resolved here: the examples run in a scratch directory, where `--import tsx` would not resolve
const TSX = import.meta.resolve('tsx')

const EXAMPLES = [
  'A complete server with node:http',
  'Express and Connect',
  'Fastify',
  'Hono and other fetch-based frameworks',
  'The AS side: looking clients up and authenticating them',
]

/** The first ts block under `heading` in docs/library-and-adapters.md (the AS side: docs/as-side.md). */
function libraryExample(heading: string): string {
  const path = heading.startsWith('The AS side')
    ? 'docs/as-side.md'
    : 'docs/library-and-adapters.md'
  return block(path, heading, 'ts')
}

interface Example {
  proc: ChildProcess
  url: string
  output: () => string
  stop: () => Promise<number | null>
}

const cleanups: (() => void)[] = []
after(() => {
  for (const cleanup of cleanups) cleanup()
})

/**
 * Runs a documented example as written (`PORT` set, a scratch working directory for its SQLite file),
 * until it prints its "listening on" line.
 */
async function run(heading: string): Promise<Example> {
  // inside the package, so that `import … from 'registrar/…'` resolves to this package
  const scratch = join(ROOT, '.tmp')
  mkdirSync(scratch, { recursive: true })
  const file = join(scratch, `readme-library-${heading.replace(/\W+/g, '-')}-${process.pid}.ts`)
  writeFileSync(file, libraryExample(heading))
  const cwd = tempDir('registrar-readme-')
  cleanups.push(() => {
    rmSync(file, { force: true })
    cwd.cleanup()
  })
  const port = await freePort()
  const { proc, output, exited } = await spawnUntilListening(['--import', TSX, file], {
    cwd: cwd.dir,
    env: { ...process.env, PORT: String(port) },
    label: heading,
    timeoutMs: 15_000,
  })
  return {
    proc,
    url: `http://127.0.0.1:${port}`,
    output,
    stop: async () => {
      proc.kill('SIGTERM')
      return exited
    },
  }
}

describe('docs/library-and-adapters.md: the examples run as written', () => {
  it('node:http: the printed initial access token registers one client; events are printed', async () => {
    const ex = await run('A complete server with node:http')
    try {
      const token = /^initial access token: (\S+)$/m.exec(ex.output())?.[1]
      assert.ok(token, ex.output())
      const created = await send(`${ex.url}/register`, { json: WEB_CLIENT, token })
      assert.equal(created.status, 201, created.text)
      const again = await send(`${ex.url}/register`, { json: WEB_CLIENT, token })
      assert.equal(again.status, 401)
      assert.equal(await ex.stop(), 0, ex.output())
      assert.match(ex.output(), new RegExp(`^created ${created.body.client_id} active$`, 'm'))
      assert.match(ex.output(), /^refused register invalid_token 401$/m)
    } finally {
      ex.proc.kill('SIGKILL')
    }
  })

  for (const heading of EXAMPLES.slice(1, 4)) {
    it(`${heading}: Registrar under /oauth, the RFC 8414 document, the app's own route`, async () => {
      const ex = await run(heading)
      try {
        const issuer = `${ex.url}/oauth`
        const metadata = await send(`${ex.url}/.well-known/oauth-authorization-server/oauth`)
        assert.equal(metadata.status, 200, metadata.text)
        assert.equal(metadata.body.issuer, issuer)
        assert.equal(metadata.body.registration_endpoint, `${issuer}/register`)
        // token mode by default: Registrar itself answers, before reading any metadata
        const register = await send(`${issuer}/register`, { json: WEB_CLIENT })
        assert.equal(register.status, 401, register.text)
        assert.equal(register.body.error, 'invalid_token')
        const own = await send(`${issuer}/authorize`)
        assert.equal(own.status, 200)
        assert.equal(own.text, 'your authorization endpoint')
        assert.equal(await ex.stop(), 0, ex.output())
      } finally {
        ex.proc.kill('SIGKILL')
      }
    })
  }
})

it('docs/as-side.md example: /authorize looks the client up, /token authenticates it', async () => {
  const ex = await run('The AS side: looking clients up and authenticating them')
  try {
    const created = await send(`${ex.url}/register`, { json: WEB_CLIENT })
    assert.equal(created.status, 201, created.text)
    const { client_id, client_secret } = created.body
    const redirect = encodeURIComponent(WEB_CLIENT.redirect_uris[0] as string)
    const ok = await send(`${ex.url}/authorize?client_id=${client_id}&redirect_uri=${redirect}`)
    assert.equal(ok.status, 200, ok.text)
    const evil = encodeURIComponent('https://evil.example/cb')
    const bad = await send(`${ex.url}/authorize?client_id=${client_id}&redirect_uri=${evil}`)
    assert.equal(bad.status, 400)
    const token = (authorization: string) =>
      fetch(`${ex.url}/token`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      })
    const basic = (secret: string) =>
      `Basic ${Buffer.from(`${client_id}:${secret}`).toString('base64')}`
    const accepted = await token(basic(client_secret))
    assert.equal(accepted.status, 200)
    assert.deepEqual(await accepted.json(), { authenticated: client_id })
    const refused = await token(basic('wrong'))
    assert.equal(refused.status, 401)
    assert.equal(refused.headers.get('www-authenticate'), `Basic realm="${ex.url}"`)
    assert.equal(((await refused.json()) as { error: string }).error, 'invalid_client')
    assert.equal(await ex.stop(), 0, ex.output())
    assert.match(ex.output(), /^refused invalid_secret$/m)
  } finally {
    ex.proc.kill('SIGKILL')
  }
})

it("the library pages' examples type-check against the built package (tsc, strict)", async () => {
  // tsx strips types without checking them; this catches an example that drifted from the API
  const dir = join(ROOT, '.tmp', `readme-library-types-${process.pid}`)
  mkdirSync(dir, { recursive: true })
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const files = EXAMPLES.map((heading, i) => {
    // `export {}`: each file is a module of its own, with its own top-level names
    writeFileSync(join(dir, `example-${i}.ts`), `${libraryExample(heading)}\nexport {}\n`)
    return `example-${i}.ts`
  })
  const { code, output } = await typeCheck(dir, files)
  assert.equal(code, 0, output)
})
