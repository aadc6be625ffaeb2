import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runCli, type ServerProcess, startServer, tempDir } from '../helpers.js'
import { block } from './markdown.js'

const ROOT = new URL('../../', import.meta.url).pathname

describe('docs/library-and-adapters.md', () => {
  let server: ServerProcess
  let dir: { dir: string; cleanup: () => void }
  let store: string
  before(async () => {
    dir = tempDir()
    store = `sqlite:${join(dir.dir, 'registrar.db')}`
    server = await startServer(['--registration', 'token', '--store', store])
  })
  after(async () => {
    await server.stop()
    dir.cleanup()
  })

  it('docs/library-and-adapters.md: the "Client library" example runs as written against a local server', async () => {
    const token = await runCli(['token', 'create', '--store', store])
    const iat = token.stdout.trim().split('\n').at(-1) as string
    // inside the package, so that `import … from 'registrar/client'` resolves to this package
    const scratch = join(ROOT, '.tmp')
    mkdirSync(scratch, { recursive: true })
    const file = join(scratch, `readme-client-example-${process.pid}.ts`)
    writeFileSync(file, block('docs/library-and-adapters.md', 'Client library', 'ts'))
    try {
      const proc = spawn(process.execPath, ['--import', 'tsx', file], {
        cwd: ROOT,
        env: { ...process.env, ISSUER: server.url, IAT: iat },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let out = ''
      let err = ''
      proc.stdout.on('data', (d) => {
        out += d
      })
      proc.stderr.on('data', (d) => {
        err += d
      })
      const code = await new Promise((resolve) => proc.once('exit', resolve))
      assert.equal(code, 0, err)
      assert.match(out, /^registered \S+$/m)
      assert.match(out, /^name: Example App \/ Application exemple$/m)
      assert.match(out, /^renamed: Example App 2$/m)
      assert.match(out, /^after delete: invalid_token 401$/m)
    } finally {
      rmSync(file, { force: true })
    }
  })
})
