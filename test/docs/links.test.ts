import assert from 'node:assert/strict'
import { existsSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { page, pages, ROOT } from './markdown.js'

// Every relative link of README.md and docs/*.md resolves: the file exists and, with a #fragment
// into a Markdown page, that page has the heading (GitHub's anchor for it).

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replaceAll(' ', '-')
}

function anchors(path: string): Set<string> {
  const found = new Set<string>()
  let inFence = false
  for (const line of page(path).split('\n')) {
    if (line.startsWith('```')) inFence = !inFence
    const heading = /^#+ (.*)$/.exec(line)
    if (!inFence && heading) found.add(anchor(heading[1] as string))
  }
  return found
}

/** The relative link targets of a page: `[text](target)` and `src="target"`, outside code. */
function links(path: string): string[] {
  const text = page(path)
    .replace(/^```[\s\S]*?^```$/gm, '')
    .replace(/`[^`\n]*`/g, '')
  const targets = [
    ...[...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] as string),
    ...[...text.matchAll(/src="([^"]+)"/g)].map((m) => m[1] as string),
  ]
  return targets.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t))
}

describe('documentation links', () => {
  it('README.md links to every docs/ page', () => {
    const readme = page('README.md')
    for (const path of pages().filter((p) => p.startsWith('docs/'))) {
      assert.ok(readme.includes(`](${path})`), `README.md links to ${path}`)
    }
  })

  for (const path of pages()) {
    it(`every relative link of ${path} resolves`, () => {
      const found = links(path)
      if (path === 'README.md') assert.ok(found.length >= 10)
      for (const link of found) {
        const [file, fragment] = link.split('#') as [string, string | undefined]
        const target = file === '' ? path : join(dirname(path), file)
        assert.ok(existsSync(join(ROOT, target)), `${path}: ${link} (no ${target})`)
        if (
          fragment !== undefined &&
          target.endsWith('.md') &&
          statSync(join(ROOT, target)).isFile()
        ) {
          assert.ok(
            anchors(target).has(fragment),
            `${path}: ${link} (no heading #${fragment} in ${target})`,
          )
        }
      }
    })
  }

  it('README.md stays a front door (at most 250 lines)', () => {
    assert.ok(page('README.md').split('\n').length <= 250)
  })
})
