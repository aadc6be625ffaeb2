import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { importOptional, requireOptional } from '../../src/config/optional-dependency.js'
import { ConfigError } from '../../src/config/resolve.js'

// The drivers are optional peer dependencies; test/scripts (check-package.sh) proves the message
// end to end in a project that lacks better-sqlite3. Here: the translation itself.
const ABSENT = 'registrar-no-such-package-7f3a'

function namesInstall(key: string) {
  return (e: unknown) => {
    assert.ok(e instanceof ConfigError, String(e))
    assert.equal(e.key, key)
    assert.match(e.message, new RegExp(`needs ${ABSENT} — npm install ${ABSENT}$`))
    return true
  }
}

describe('optional dependencies', () => {
  it('a missing package imported on demand is a ConfigError naming the setting and the install command', async () => {
    await assert.rejects(importOptional(ABSENT, 'store', 'a sqlite: store'), namesInstall('store'))
  })

  it('a missing CommonJS package required on demand is the same ConfigError', () => {
    assert.throws(
      () => requireOptional(ABSENT, 'metrics.enabled', 'metrics'),
      namesInstall('metrics.enabled'),
    )
  })

  it('an installed package loads, by import and by require', async () => {
    const pg = await importOptional<typeof import('pg')>('pg', 'store', 'a postgres:// store')
    assert.equal(typeof pg.default.Pool, 'function')
    const prom = requireOptional<typeof import('prom-client')>(
      'prom-client',
      'metrics.enabled',
      'metrics',
    )
    assert.equal(typeof prom.Registry, 'function')
  })

  it('an error other than the package itself missing is passed through unchanged', async () => {
    // a relative specifier that does not exist: not an optional package, so not a ConfigError
    await assert.rejects(
      importOptional('./no-such-module.js', 'store', 'x'),
      (e: unknown) => !(e instanceof ConfigError),
    )
  })
})
