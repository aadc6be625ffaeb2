import { z } from 'zod'
import { DEFAULTS, type Setting, SOURCES, settings } from './resolve.js'
import { configSchema } from './schema.js'

// Documents derived from the schema: `config.schema.json`, the configuration reference in
// docs/configuration.md and the option list of `registrar serve --help`. `npm run docs:generate`
// (scripts/docs.ts) writes the first two; tests fail while the files differ from what these return.

/** The markers around the generated reference in docs/configuration.md. */
export const REFERENCE_BEGIN =
  '<!-- configuration reference: generated from src/config/schema.ts by `npm run docs:generate`; edit there -->'
export const REFERENCE_END = '<!-- end of the configuration reference -->'

/** The JSON Schema of a config file (draft-07, the draft editors complete best). */
export function configJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(configSchema, {
    target: 'draft-07',
    io: 'input', // what a file may contain: every key with a default is optional
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      // zod leaves out the default of a list whose entries are transformed (input ≠ output)
      const def = zodSchema._zod.def as { type: string; defaultValue?: unknown }
      if (def.type === 'default' && jsonSchema.default === undefined) {
        jsonSchema.default = def.defaultValue
      }
    },
  }) as Record<string, unknown> & { properties: Record<string, unknown> }
  const { $schema, ...rest } = generated
  return {
    $schema,
    title: 'Registrar configuration',
    description:
      'The --config file of registrar (flags and REGISTRAR_* environment variables override it). See docs/configuration.md.',
    ...rest,
    properties: {
      $schema: { type: 'string', description: 'This schema, for editor completion.' },
      ...rest.properties,
    },
  }
}

/** `config.schema.json` as written to disk. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`
}

function code(s: string): string {
  return `\`${s}\``
}

/** The default shown for a key: its `defaultDoc`, its default value, `unset` or `required`. */
function defaultOf(s: Setting): string {
  if (s.defaultDoc) return s.defaultDoc
  if (!s.key.includes('[]') && !s.key.includes('.NAME.')) {
    // biome-ignore lint/suspicious/noExplicitAny: walking the resolved defaults by key
    const value = s.key.split('.').reduce<any>((o, k) => o?.[k], DEFAULTS)
    if (value === undefined) return 'unset'
    return code(typeof value === 'string' ? value : JSON.stringify(value))
  }
  return s.required ? 'required' : 'unset'
}

/** A Markdown table, padded as `biome format` pads one (the docs are formatted by biome). */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)))
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`
  const rule = `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`
  return [line(header), rule, ...rows.map(line)].join('\n')
}

/** The configuration reference of docs/configuration.md (between {@link REFERENCE_BEGIN} and {@link REFERENCE_END}). */
export function configReference(): string {
  const sources = table(
    ['flag', 'environment', 'config key'],
    [
      ...SOURCES.map((s) => [
        s.flag ? code(`--${s.flag.name}`) : '—',
        s.env ? code(s.env) : '—',
        code(s.key),
      ]),
      [code('--config'), code('REGISTRAR_CONFIG'), '— (the file itself)'],
    ],
  )
  const keys = table(
    ['key', 'default', 'meaning'],
    settings().map((s) => [code(s.key), defaultOf(s), s.doc.replaceAll('|', '\\|')]),
  )
  return [
    REFERENCE_BEGIN,
    '',
    sources,
    '',
    'Every key, with its default (`[]` stands for each entry of a list, `NAME` for each policy):',
    '',
    keys,
    '',
    REFERENCE_END,
  ].join('\n')
}

/** Replaces the reference between the markers in `page`; throws when a marker is missing. */
export function withConfigReference(page: string): string {
  const begin = page.indexOf(REFERENCE_BEGIN)
  const end = page.indexOf(REFERENCE_END)
  if (begin < 0 || end < begin)
    throw new Error('docs/configuration.md lacks the configuration reference markers')
  return page.slice(0, begin) + configReference() + page.slice(end + REFERENCE_END.length)
}

/** Word-wraps `text` at 100 columns after `head`, continuing lines at `indent` spaces. */
function wrap(head: string, text: string, indent: number): string[] {
  const lines = [head]
  for (const word of text.split(' ')) {
    const last = lines.length - 1
    const current = lines[last] as string
    if (current.length + 1 + word.length > 100 && current.trim() !== '') {
      lines.push(' '.repeat(indent) + word)
    } else
      lines[last] = current.endsWith(' ') || current === '' ? current + word : `${current} ${word}`
  }
  return lines
}

/** The option lines of `registrar serve --help` for the keys a flag sets. */
export function serveFlagsHelp(): string {
  return SOURCES.flatMap((s) => {
    if (!s.flag) return []
    const text = `${s.flag.help} (default ${defaultOf(s).replaceAll('`', '')})`
    return wrap(`  --${s.flag.name} ${s.flag.arg}`.padEnd(25), text, 25)
  }).join('\n')
}

/** `serve --help`'s precedence paragraph, naming every environment variable of the schema. */
export function precedenceHelp(): string {
  const env = SOURCES.flatMap((s) => (s.env ? [s.env] : []))
  const text = `flags > REGISTRAR_* environment (${[...env, 'REGISTRAR_CONFIG'].join(', ')}) > config file > defaults.`
  return wrap('Precedence:', text, 0).join('\n')
}
