/**
 * HTML built from templates in which every interpolated value is escaped unless it is itself
 * {@link Html} built the same way. Client metadata is chosen by whoever registers, so nothing a
 * registrant sent can become markup: `<img src=x onerror=alert(1)>` renders as that text.
 */
export class Html {
  readonly #value: string
  constructor(value: string) {
    this.#value = value
  }
  toString(): string {
    return this.#value
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/** Text safe in element content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string)
}

/**
 * The tagged template: `html\`<p>${name}</p>\``. Strings and numbers are escaped; {@link Html} is
 * kept; arrays are concatenated (each element by the same rules); null, undefined and false render
 * nothing. Attribute values must be quoted in the template.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] as string
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] as string)
  })
  return new Html(out)
}

function render(value: unknown): string {
  if (value === null || value === undefined || value === false) return ''
  if (value instanceof Html) return value.toString()
  if (Array.isArray(value)) return value.map(render).join('')
  return escapeHtml(String(value))
}

/**
 * Untrusted text (client names, URIs, metadata): escaped, with its writing direction isolated so
 * that bidirectional overrides in it cannot reorder the text around it, and control characters
 * shown as U+FFFD.
 */
export function untrusted(text: string): Html {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced
  const visible = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '\ufffd')
  return html`<bdi>${visible}</bdi>`
}
