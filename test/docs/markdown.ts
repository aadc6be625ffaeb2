import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

// Reading the documentation in tests: README.md and docs/*.md, their sections and fenced blocks.

export const ROOT = new URL('../../', import.meta.url).pathname

/** A page of the documentation: 'README.md' or 'docs/NAME.md'. */
export function page(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8')
}

/** README.md and every docs/*.md, by path. */
export function pages(): string[] {
  return [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .sort()
      .map((f) => `docs/${f}`),
  ]
}

/**
 * The text under the heading `title` (at any level) of `path`, from the heading line up to the
 * next heading of the same or a higher level.
 */
export function section(path: string, title: string): string {
  const text = page(path)
  const match = new RegExp(`^(#+) ${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm').exec(text)
  assert.ok(match, `${path} has a "${title}" heading`)
  const level = (match[1] as string).length
  const rest = text.slice(match.index + match[0].length)
  // headings only outside fenced blocks (a "# comment" in a sh block is not one)
  let inFence = false
  let offset = 0
  for (const line of rest.split('\n')) {
    if (line.startsWith('```')) inFence = !inFence
    const heading = /^(#+) /.exec(line)
    if (!inFence && heading && (heading[1] as string).length <= level && offset > 0) break
    offset += line.length + 1
  }
  return match[0] + rest.slice(0, offset)
}

/** The bodies of the fenced blocks of `lang` in `text`, in order. */
export function fenced(text: string, lang: string): string[] {
  return [...text.matchAll(new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)\\n\`\`\`$`, 'gm'))].map(
    (m) => m[1] as string,
  )
}

/** The first fenced block of `lang` under the heading `title` of `path`. */
export function block(path: string, title: string, lang: string): string {
  const found = fenced(section(path, title), lang)[0]
  assert.ok(found !== undefined, `"${title}" in ${path} has a ${lang} block`)
  return found
}
