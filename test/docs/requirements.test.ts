import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { it } from 'node:test'
import { page, ROOT } from './markdown.js'

// Every requirement ID cited in test/ and src/ belongs to a family docs/requirements.md explains,
// so that a reader can find the specification section an ID names without outside documents.

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : []
  })
}

it('every requirement ID cited in the code and tests is of a family docs/requirements.md explains', () => {
  const documented = new Set(
    [...page('docs/requirements.md').matchAll(/^\| `([A-Z0-9-]+)` /gm)].map((m) => m[1] as string),
  )
  assert.ok(documented.has('R7591') && documented.has('AS-BP'), [...documented].join(' '))
  const ids = new Set<string>()
  for (const file of [...files(join(ROOT, 'src')), ...files(join(ROOT, 'test'))]) {
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(
      /\b([A-Z][A-Z0-9]{1,6})-([A-Za-z0-9.]{1,8})-[a-z][a-z0-9]{0,2}\b/g,
    )) {
      if (m[1] === 'TEST' && m[2] === 'NET') continue
      ids.add(m[0])
    }
    for (const m of text.matchAll(/\bAS-BP-\d{2}\b/g)) ids.add(m[0])
  }
  assert.ok(ids.size > 100, `found ${ids.size} IDs`)
  for (const id of ids) {
    const family = id.startsWith('AS-BP-') ? 'AS-BP' : (id.split('-')[0] as string)
    assert.ok(documented.has(family), `${id}: family ${family} is not in docs/requirements.md`)
  }
})
