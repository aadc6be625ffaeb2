import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { Ajv } from 'ajv'
import {
  configJsonSchema,
  configReference,
  REFERENCE_BEGIN,
  REFERENCE_END,
} from '../../src/config/reference.js'
import { DEFAULTS, resolveSettings, settings } from '../../src/config/resolve.js'
import { page, pages } from './markdown.js'

// Issue 12 item 16: config.schema.json and the reference in docs/configuration.md are derived from
// src/config/schema.ts (`npm run docs:generate`); these tests fail while either is stale.

const ROOT = new URL('../../', import.meta.url)
const STALE = 'stale: run `npm run docs:generate` and commit the result'

describe('config.schema.json (shipped for "$schema" in a config file)', () => {
  const shipped = readFileSync(new URL('config.schema.json', ROOT), 'utf8')

  it('is what the schema generates', () => {
    // compared as JSON: the file is laid out by biome, as every JSON file of the repository
    assert.deepEqual(JSON.parse(shipped), configJsonSchema(), `config.schema.json is ${STALE}`)
  })

  it('is in the package and exported', () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8'))
    assert.ok(pkg.files.includes('config.schema.json'))
    assert.equal(pkg.exports['./config.schema.json'], './config.schema.json')
    assert.equal(pkg.dependencies.zod !== undefined, true, 'zod is a runtime dependency')
  })

  it('refuses unknown keys at every depth, as resolveSettings does', () => {
    // biome-ignore lint/suspicious/noExplicitAny: walking generated JSON
    const schema = configJsonSchema() as any
    assert.equal(schema.additionalProperties, false)
    assert.equal(schema.properties.registration.additionalProperties, false)
    const definitions = schema.properties.policies.properties.definitions
    assert.equal(definitions.additionalProperties.additionalProperties, false)
    const issuers = schema.properties.softwareStatement.properties.trustedIssuers
    assert.equal(issuers.items.additionalProperties, false)
    assert.ok(schema.properties.$schema, '"$schema" itself is allowed at the top')
    assert.ok(schema.properties.fetch.properties.caFile, 'fetch.caFile is a key')
  })

  it('every key documented in the reference is a property of the JSON Schema', () => {
    // biome-ignore lint/suspicious/noExplicitAny: walking generated JSON
    const schema = configJsonSchema() as any
    for (const { key } of settings()) {
      // biome-ignore lint/suspicious/noExplicitAny: walking generated JSON
      let node: any = schema
      for (const part of key.split('.')) {
        if (part === 'NAME') node = node.additionalProperties
        else if (part.endsWith('[]')) node = node.properties[part.slice(0, -2)].items
        else node = node.properties?.[part]
        assert.ok(node, `${key} (at ${part})`)
      }
      assert.equal(typeof node.description, 'string', `${key} has a description`)
    }
  })

  it('an editor checking against it accepts the documented examples and flags a misspelt rule', () => {
    const docs = pages()
      .map((path) => page(path))
      .join('\n')
    const examples = [...docs.matchAll(/```json\n(\{[\s\S]*?\})\n```/g)]
      .map((m) => JSON.parse(m[1] as string) as Record<string, unknown>)
      .filter((o) => '$schema' in o || 'issuer' in o || 'postgres' in o)
    assert.ok(examples.length >= 3, 'the $schema, MCP and software-statement examples')
    const { $schema: _draft, ...schema } = configJsonSchema()
    const validate = new Ajv({ strict: false, allErrors: true }).compile(schema)
    for (const file of examples) {
      resolveSettings({ file })
      assert.ok(validate(file), JSON.stringify(validate.errors))
    }
    const typo = { policies: { definitions: { mcp: { redirectUriScheme: ['http'] } } } }
    assert.equal(validate(typo), false)
    assert.equal(validate.errors?.[0]?.instancePath, '/policies/definitions/mcp')
    assert.deepEqual(validate.errors?.[0]?.params, { additionalProperty: 'redirectUriScheme' })
  })
})

describe('docs/configuration.md reference', () => {
  const readme = page('docs/configuration.md')

  it('is what the schema generates', () => {
    const begin = readme.indexOf(REFERENCE_BEGIN)
    const end = readme.indexOf(REFERENCE_END)
    assert.ok(begin >= 0 && end > begin, 'docs/configuration.md has the reference markers')
    assert.equal(
      readme.slice(begin, end + REFERENCE_END.length),
      configReference(),
      `the configuration reference in docs/configuration.md is ${STALE}`,
    )
  })

  it('documents every key, each with a default and a meaning', () => {
    const section = readme
    const keys = settings()
    assert.ok(keys.length > 40)
    for (const s of keys) {
      assert.match(section, new RegExp(`\\| \`${s.key.replace(/[.[\]]/g, '\\$&')}\` +\\|`), s.key)
      assert.ok(s.doc.length > 10, `${s.key} has a meaning`)
    }
    for (const key of ['fetch.caFile', 'policies.definitions.NAME.redirectUriSchemes']) {
      assert.ok(
        keys.some((s) => s.key === key),
        key,
      )
    }
  })

  it('shows the defaults the code applies', () => {
    assert.match(readme, /\| `port` +\| `3000` +\|/)
    assert.match(readme, new RegExp(`\\| \`store\` +\\| \`${DEFAULTS.store}\` +\\|`))
    assert.match(readme, /\| `cors\.allowedOrigins` +\| `\["\*"\]` +\|/)
  })
})
