// Writes what is derived from src/config/schema.ts: config.schema.json (shipped in the package, for
// `"$schema"` in a config file) and the README's configuration reference (between its markers).
// `npm run config:generate`; test/core/config-reference.test.ts fails while either is stale.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { configJsonSchemaText, withConfigReference } from '../src/config/reference.js'

const root = new URL('../', import.meta.url)
writeFileSync(new URL('config.schema.json', root), configJsonSchemaText())
const readme = new URL('README.md', root)
writeFileSync(readme, withConfigReference(readFileSync(readme, 'utf8')))
// the same layout `npm run lint` (biome) expects of a JSON file
execFileSync('node_modules/.bin/biome', ['format', '--write', 'config.schema.json'], {
  cwd: new URL('.', root).pathname,
  stdio: 'inherit',
})
console.log('wrote config.schema.json and the README configuration reference')
