import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runCli, type ServerProcess, startServer, tempDir } from '../helpers.js'

const ROOT = new URL('../../', import.meta.url).pathname

/** The first fenced block of `language` after the `## heading` line of the README. */
function readmeBlock(heading: string, language: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const start = readme.indexOf(`\n## ${heading}\n`)
  assert.ok(start >= 0, `README has a "## ${heading}" section`)
  const match = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\\n\`\`\``).exec(readme.slice(start))
  assert.ok(match, `README's "${heading}" section has a ${language} block`)
  return match[1] as string
}

describe('README', () => {
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

  it('the "Client library" example runs as written against a local server', async () => {
    const token = await runCli(['token', 'create', '--store', store])
    const iat = token.stdout.trim().split('\n').at(-1) as string
    // inside the package, so that `import … from 'registrar/client'` resolves to this package
    const scratch = join(ROOT, '.tmp')
    mkdirSync(scratch, { recursive: true })
    const file = join(scratch, `readme-client-example-${process.pid}.ts`)
    writeFileSync(file, readmeBlock('Client library', 'ts'))
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
