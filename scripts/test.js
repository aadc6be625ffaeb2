#!/usr/bin/env node
// Runs every test/**/*.test.ts with node:test through tsx. Node 20 neither expands globs nor
// finds .ts files by itself, so the list is built here. Extra arguments are passed through
// (e.g. `npm test -- test/core`) and narrow the run to files under those paths.
// Suites that need a service this machine lacks (PostgreSQL, Redis) are skipped with a reason,
// unless REQUIRE_POSTGRES=1 / REQUIRE_REDIS=1 (CI), where they fail; scripts/skip-summary.js ends
// the output with what was skipped and why.
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? walk(path) : path.endsWith('.test.ts') ? [path] : []
  })
}

const filters = process.argv.slice(2)
const files = walk('test')
  .map((f) => relative('.', f))
  .filter((f) => filters.length === 0 || filters.some((p) => f.startsWith(p.replace(/^\.\//, ''))))
  .sort()
if (files.length === 0) {
  console.error('no test files matched')
  process.exit(1)
}
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${new URL('./skip-summary.js', import.meta.url).href}`,
    '--test-reporter-destination=stdout',
    ...files,
  ],
  { stdio: 'inherit' },
)
process.exit(result.status ?? 1)
