import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { describe, it } from 'node:test'

// Issue 12 item 20: `npm test` (scripts/test.js) without PostgreSQL or Redis says which suites it
// skipped and why, and its summary counts them as skipped; REQUIRE_POSTGRES=1 / REQUIRE_REDIS=1
// (CI) turn the same suites into failures. Each case runs scripts/test.js on one real test file.

const ROOT = new URL('../../', import.meta.url).pathname

function runTests(
  files: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; out: string }> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) =>
        // NODE_TEST_CONTEXT would make the inner runner talk to this one instead of printing
        k !== 'NODE_TEST_CONTEXT' && !k.startsWith('REGISTRAR_') && !k.startsWith('REQUIRE_'),
    ),
  )
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['scripts/test.js', ...files], {
      cwd: ROOT,
      env: { ...inherited, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
    })
    child.stderr.on('data', (d) => {
      out += d
    })
    child.once('close', (code) => resolve({ code, out }))
  })
}

describe('issue 12 item 20: suites whose service is missing are skipped, counted and explained', () => {
  it('without PostgreSQL: counted in "skipped", and the reason closes the output', async () => {
    const run = await runTests(['test/storage/postgres.test.ts'], {})
    assert.equal(run.code, 0, run.out)
    assert.match(run.out, /^ℹ skipped 1$/m)
    assert.match(run.out, /^ℹ fail 0$/m)
    const summary = run.out.slice(run.out.indexOf('Not run here'))
    assert.match(summary, /^Not run here \(1 skipped, counted in "skipped" above\):$/m)
    assert.match(summary, /^﹣ PostgreSQL tests: REGISTRAR_TEST_POSTGRES_URL is not set; set /m)
    assert.match(
      summary,
      /^ {4}PostgreSQL store: every test \(needs a service that is not here\)$/m,
    )
  })

  it('REQUIRE_POSTGRES=1 without PostgreSQL: the suite fails', async () => {
    const run = await runTests(['test/storage/postgres.test.ts'], { REQUIRE_POSTGRES: '1' })
    assert.equal(run.code, 1, run.out)
    assert.match(run.out, /REQUIRE_POSTGRES=1 but PostgreSQL tests: REGISTRAR_TEST_POSTGRES_URL/)
    assert.match(run.out, /^ℹ skipped 0$/m)
  })

  it('without Redis: skipped with the reason; REQUIRE_REDIS=1 fails', async () => {
    // nothing listens on port 1
    const env = { REGISTRAR_TEST_REDIS_URL: 'redis://127.0.0.1:1' }
    const skipped = await runTests(['test/http/rate-limit.test.ts'], env)
    assert.equal(skipped.code, 0, skipped.out)
    assert.match(skipped.out, /^ℹ skipped 1$/m)
    assert.match(
      skipped.out,
      /^﹣ no Redis at redis:\/\/127\.0\.0\.1:1; set REGISTRAR_TEST_REDIS_URL/m,
    )
    const required = await runTests(['test/http/rate-limit.test.ts'], {
      ...env,
      REQUIRE_REDIS: '1',
    })
    assert.equal(required.code, 1, required.out)
    assert.match(required.out, /Redis is required \(REQUIRE_REDIS=1\) but not reachable/)
  })
})
