import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFileSync, symlinkSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { DEFAULTS } from '../../src/config/resolve.js'
import { childEnv, type ServerProcess, startServer, tempDir } from '../helpers.js'
import { startExample } from '../integrations/support.js'
import { fenced, page, ROOT, section } from './markdown.js'

/**
 * README "A one-minute session with curl" must work verbatim: its fenced sh blocks run in order
 * against a server started as `npm start` does, on port 3000 when that port is free (otherwise on
 * a free port, substituted into the commands). They run in a scratch directory holding a `bin`
 * link to this checkout, so the default `./data/registrar.db` is a fresh file there.
 */

const README = page('README.md')

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}

function bash(
  script: string,
  cwd: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd, env: childEnv() })
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', (d) => {
      stdout += d
    })
    p.stderr.on('data', (d) => {
      stderr += d
    })
    p.once('close', (code) => resolve({ code, stdout, stderr }))
  })
}

describe('README', () => {
  it('the set-up commands describe the defaults (npm start serves 127.0.0.1:3000 on ./data/registrar.db)', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
    // npm install builds in a checkout (the examples import dist/); the published tarball is built
    // by prepack, and prepare does nothing without the sources and the compiler
    assert.equal(pkg.scripts.prepare, 'node scripts/prepare.js')
    assert.equal(pkg.scripts.prepack, 'npm run build')
    assert.ok(!pkg.files.includes('scripts'))
    assert.equal(pkg.scripts.start, 'npm run build --silent && node bin/registrar.js serve')
    const setup = fenced(README, 'sh')[0]!
    assert.match(setup, /^npm install +#/m)
    assert.match(
      setup,
      new RegExp(`npm start +# builds, then serves on http://${DEFAULTS.host}:${DEFAULTS.port}`),
    )
    assert.ok(setup.includes(DEFAULTS.store.replace('sqlite:', '').replace(/^\.\//, './')))
    // the example session printed below the commands is what serve prints
    const printed = fenced(README, 'text')[0]!
    assert.match(
      printed,
      new RegExp(
        `^listening on http://${DEFAULTS.host}:${DEFAULTS.port} \\(issuer http://${DEFAULTS.host}:${DEFAULTS.port}\\)$`,
        'm',
      ),
    )
    const started = JSON.parse(printed.split('\n').find((l) => l.includes('"started"'))!)
    assert.deepEqual(
      [started.store, started.registration],
      [DEFAULTS.store, DEFAULTS.registration.mode],
    )
    assert.equal(DEFAULTS.registration.mode, 'token', 'the session below relies on token mode')
  })

  it('"A one-minute session with curl" works verbatim against a running server', async (t) => {
    const session = section('README.md', 'A one-minute session with curl')
    const blocks = fenced(session, 'sh')
    assert.ok(blocks.length >= 2, 'at least the registration and the discovery blocks')
    const example = JSON.parse(fenced(session, 'json')[0]!) as Record<string, unknown>

    const scratch = tempDir('registrar-readme-')
    symlinkSync(join(ROOT, 'bin'), join(scratch.dir, 'bin'))
    let server: ServerProcess | undefined
    try {
      let port = 3000
      if (await portIsFree(3000)) {
        try {
          server = await startServer([], { defaultFlags: false, cwd: scratch.dir })
        } catch {
          server = undefined // taken meanwhile: fall back to a free port below
        }
      }
      if (!server) {
        server = await startServer([], {
          defaultFlags: false,
          cwd: scratch.dir,
          env: { REGISTRAR_PORT: '0' },
        })
        port = server.port
        t.diagnostic(`port 3000 is busy; the commands run against port ${port}`)
      }
      assert.equal(server.port, port)
      const marker = '----README-BLOCK----'
      const script = blocks
        .map((b) => b.replaceAll('127.0.0.1:3000', `127.0.0.1:${port}`))
        .join(`\necho\necho '${marker}'\n`)
      const run = await bash(script, scratch.dir)
      assert.equal(run.code, 0, run.stderr)
      const outputs = run.stdout.split(marker).map((o) => o.trim())

      const registered = JSON.parse(outputs[0]!) as Record<string, unknown>
      assert.equal(typeof registered.client_id, 'string', outputs[0])
      assert.deepEqual(
        Object.keys(registered).sort(),
        Object.keys(example).sort(),
        'the README shows every member',
      )
      for (const k of [
        'redirect_uris',
        'client_name',
        'token_endpoint_auth_method',
        'application_type',
        'grant_types',
      ]) {
        assert.deepEqual(registered[k], example[k], k)
      }
      assert.equal(
        registered.registration_client_uri,
        `http://127.0.0.1:${port}/register/${registered.client_id}`,
      )

      const discovery = JSON.parse(outputs[1]!) as Record<string, unknown>
      assert.equal(discovery.issuer, `http://127.0.0.1:${port}`)
      assert.equal(discovery.registration_endpoint, `http://127.0.0.1:${port}/register`)
    } finally {
      await server?.stop()
      scratch.cleanup()
    }
  })
})

describe('README "MCP quick start"', () => {
  it('the example starts as shown, and the curl session finds the AS and registers a public client', async () => {
    const quick = section('README.md', 'MCP quick start')
    const [start, session] = fenced(quick, 'sh')
    assert.ok(start && session)
    const command = start.split('\n').find((l) => l.startsWith('node examples/'))!
    assert.equal(command, 'node examples/mcp-server/server.js --port 3001 --auto-login')
    // the same command on a free port (startExample adds --port 0 after the script)
    const example = await startExample('mcp-server', ['--auto-login'])
    try {
      const port = new URL(example.url).port
      const scratch = tempDir('registrar-readme-mcp-')
      try {
        const marker = '----README-BLOCK----'
        const script = session
          .replaceAll('127.0.0.1:3001', `127.0.0.1:${port}`)
          .replace('\ncurl -s -X POST', `\necho '${marker}'\ncurl -s -X POST`)
        const run = await bash(script, scratch.dir)
        assert.equal(run.code, 0, run.stderr)
        const [resource, registered] = run.stdout.split(marker).map((o) => JSON.parse(o))
        assert.deepEqual(resource.authorization_servers, [example.url])
        assert.equal(resource.resource, `${example.url}/mcp`)
        assert.equal(typeof registered.client_id, 'string', JSON.stringify(registered))
        assert.equal(registered.token_endpoint_auth_method, 'none')
        assert.equal(registered.client_secret, undefined)
        assert.equal(registered.client_name, 'My MCP client')
      } finally {
        scratch.cleanup()
      }
    } finally {
      await example.stop()
    }
  })
})
