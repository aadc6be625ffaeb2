import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createServer, type Socket } from 'node:net'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { composeRegistrar, createRegistrar } from '../src/app.js'
import { resolveConfig } from '../src/config/resolve.js'
import { MemoryStore } from '../src/storage/memory.js'
import { call, ISSUER, runCli, tempDir } from './helpers.js'

// Issue 10 "Architecture first": one composition root (src/app.ts), and `src/index.ts` a pure
// barrel whose import loads neither pino nor node:http.

const ROOT = new URL('../', import.meta.url).pathname

describe('the composition root', () => {
  it('importing `registrar` (src/index.ts) loads neither pino nor an HTTP module', async () => {
    const probe = `
      import { createRequire } from 'node:module'
      await import(${JSON.stringify(join(ROOT, 'src/index.ts'))})
      const require = createRequire(import.meta.url)
      console.log(JSON.stringify({
        builtins: process.moduleLoadList.filter((m) => /^NativeModule (_?https?\\b|_http_)/.test(m)),
        pino: Object.keys(require.cache).filter((k) => /[\\\\/]pino[\\\\/]/.test(k)),
      }))`
    const out = await new Promise<string>((resolve, reject) => {
      const proc = spawn(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', probe],
        {
          cwd: ROOT,
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      )
      let text = ''
      proc.stdout.on('data', (d) => {
        text += d
      })
      proc.once('error', reject)
      proc.once('close', () => resolve(text))
    })
    assert.deepEqual(JSON.parse(out), { builtins: [], pino: [] })
  })

  it('the root exports only what docs/library-and-adapters.md and docs/as-side.md document', async () => {
    const root = await import('../src/index.js')
    assert.deepEqual(Object.keys(root).sort(), [
      // docs/as-side.md "The AS side"
      'ClientRegistryService',
      'ConfigError',
      'DEFAULTS',
      'Registrar',
      'RegistrationError',
      'clientAuthenticationErrorHeaders',
      'clientAuthenticationErrorResponse',
      'createClientRegistry',
      'createRegistrar',
      'matchRedirectUri',
    ])
  })

  it('composeRegistrar wires a working app synchronously over a store it leaves open', async () => {
    const config = resolveConfig({ file: { issuer: ISSUER, registration: { mode: 'open' } } })
    const store = new MemoryStore()
    const app = composeRegistrar(config, store)
    assert.ok(!(app instanceof Promise))
    const res = await call(app.fetch, 'POST', '/register', {
      body: { redirect_uris: ['https://client.example.org/cb'] },
    })
    assert.equal(res.status, 201)
    await app.close()
    assert.equal(await store.countClients(), 1, 'the store stays the caller’s, still open')
  })

  it('composeRegistrar refuses a Redis rate limit it would have to open asynchronously', () => {
    const config = resolveConfig({
      file: {
        issuer: ISSUER,
        rateLimit: { anonymousRegistrations: 1, store: 'redis://127.0.0.1:1' },
      },
    })
    assert.throws(() => composeRegistrar(config, new MemoryStore()), /openRateLimiter/)
  })

  it('createRegistrar without an issuer throws a ConfigError naming the key', async () => {
    await assert.rejects(createRegistrar({ config: {}, store: 'memory', logger: false }), {
      name: 'ConfigError',
      message: /issuer/,
    })
  })

  it('policy dry-run builds a bare Registrar: no connection to the rate-limit Redis', async () => {
    // a fake Redis that counts connections; the old runtime-based dry run connected to it
    const sockets: Socket[] = []
    const redis = createServer((socket) => {
      sockets.push(socket)
      socket.on('error', () => {})
    })
    await new Promise<void>((resolve) => redis.listen(0, '127.0.0.1', resolve))
    const port = (redis.address() as { port: number }).port
    const { dir, cleanup } = tempDir()
    try {
      writeFileSync(
        join(dir, 'registrar.json'),
        JSON.stringify({
          registration: { mode: 'open' },
          rateLimit: { anonymousRegistrations: 5, store: `redis://127.0.0.1:${port}` },
        }),
      )
      writeFileSync(join(dir, 'body.json'), '{"redirect_uris":["https://app.example.com/cb"]}')
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
      assert.equal(JSON.parse(out.stdout).result, 'accepted')
      assert.equal(sockets.length, 0, 'the dry run opened no connection to Redis')
    } finally {
      for (const s of sockets) s.destroy()
      await new Promise((resolve) => redis.close(resolve))
      cleanup()
    }
  })
})
