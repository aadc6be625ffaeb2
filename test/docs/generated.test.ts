import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { cliReference, commandNames, generatedFiles, ROOT } from '../../scripts/docs.js'
import { section } from './markdown.js'

// docs/cli.md is the commands' own --help (of the built CLI: `npm test` builds first) and the
// reference in docs/configuration.md is the schema's; both fail here while stale.
const STALE = 'stale: run `npm run docs:generate` and commit the result'

describe('generated documentation', () => {
  it("docs/cli.md is every command's --help, as the built CLI prints it", () => {
    const names = commandNames()
    assert.ok(names.includes('serve') && names.includes('token'), names.join(' '))
    const written = readFileSync(new URL('docs/cli.md', ROOT), 'utf8')
    assert.equal(written, cliReference(), `docs/cli.md is ${STALE}`)
    for (const name of names) {
      assert.match(
        section('docs/cli.md', `registrar ${name}`),
        new RegExp(`Usage: registrar ${name}`),
      )
    }
  })

  it('every generated file is current (config.schema.json compared as JSON: biome lays it out)', () => {
    for (const { path, contents } of generatedFiles()) {
      const written = readFileSync(new URL(path, ROOT), 'utf8')
      if (path.endsWith('.json'))
        assert.deepEqual(JSON.parse(written), JSON.parse(contents), `${path} is ${STALE}`)
      else assert.equal(written, contents, `${path} is ${STALE}`)
    }
  })
})
