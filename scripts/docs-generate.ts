// `npm run docs:generate` (after a build: docs/cli.md runs the built CLI): writes
// config.schema.json, the reference in docs/configuration.md and docs/cli.md, formatted as
// `npm run lint` (biome) expects them.
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { generatedFiles, ROOT } from './docs.js'

const files = generatedFiles()
for (const { path, contents } of files) writeFileSync(new URL(path, ROOT), contents)
execFileSync('node_modules/.bin/biome', ['format', '--write', ...files.map((f) => f.path)], {
  cwd: ROOT.pathname,
  stdio: 'inherit',
})
console.log(`wrote ${files.map((f) => f.path).join(', ')}`)
