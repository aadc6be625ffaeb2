import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { DEFAULTS } from '../../src/core/config.js'

/** Leaf keys of the defaults, plus the optional keys that have no default. */
function keys(o: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    k !== 'metadata' &&
    k !== 'definitions'
      ? keys(v as Record<string, unknown>, `${prefix}${k}.`)
      : [`${prefix}${k}`],
  )
}

describe('README "Configuration" documents every key', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const section = readme.split('## Configuration')[1]?.split(/\n## /)[0] ?? ''
  const all = [
    ...keys(DEFAULTS as unknown as Record<string, unknown>),
    'registration.secretEncryptionKey',
    'clientAuthentication.tlsClientAuthCaFile',
    'policies.anonymous',
    'policies.initialAccessToken',
    'fetch.caFile',
  ]
  for (const key of all) {
    it(key, () => assert.match(section, new RegExp(`\\| \`${key.replaceAll('.', '\\.')}\` +\\|`)))
  }
})
