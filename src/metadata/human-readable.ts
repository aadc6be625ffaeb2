import { createRequire } from 'node:module'

/**
 * Characters that change how the text around them is shown without being seen themselves: the
 * bidirectional controls (U+061C, U+200E/F, U+202A–202E embeddings and overrides, U+2066–2069
 * isolates; "Trojan Source", CVE-2021-42574), zero-width and joining characters (U+200B–200D,
 * U+2060–2064, U+FEFF), the soft hyphen, fillers, tags (U+E0000–E007F) — Unicode's
 * Default_Ignorable_Code_Point — and the line and paragraph separators. In a name shown on a
 * consent screen they make one client look like another, or hide what follows. The emoji
 * presentation selectors U+FE0E and U+FE0F only choose how the preceding character is drawn, and
 * are allowed.
 */
const INVISIBLE = /(?![\ufe0e\ufe0f])[\p{Default_Ignorable_Code_Point}\u2028\u2029]/u

/** Whether a string holds a character of {@link INVISIBLE}. */
export function hasInvisibleCharacters(value: string): boolean {
  return INVISIBLE.test(value)
}

/**
 * The UTS #39 §4 skeleton: NFD, each character replaced by its prototype from the Unicode
 * confusables table (`unhomoglyph` ships confusables.txt 13.0 as data), NFD again. Two strings
 * with the same skeleton look alike (`Acme Bаnk` with a Cyrillic а, `Acrne`). Not for display.
 *
 * @see [UTS #39 §4](https://www.unicode.org/reports/tr39/#Confusable_Detection)
 */
export function confusableSkeleton(value: string): string {
  return prototypes()(value.normalize('NFD')).normalize('NFD')
}

// loaded on first use: building its table takes ~50 ms, paid only where reservedClientNames is set
let mapToPrototypes: ((s: string) => string) | undefined
function prototypes(): (s: string) => string {
  mapToPrototypes ??= createRequire(import.meta.url)('unhomoglyph') as (s: string) => string
  return mapToPrototypes
}

/**
 * What `reservedClientNames` compares (RFC 7591 §5: names that impersonate): compatibility-folded
 * (`Ａｃｍｅ`, mathematical letters), the confusable skeleton taken before and after case folding
 * (so that `I` and `l`, `ACME` and `acme`, `rn` and `m` meet), then spaces, punctuation, symbols
 * and format characters dropped (`ACME-bank`).
 */
export function reservedNameKey(name: string): string {
  const skeleton = confusableSkeleton(name.normalize('NFKC'))
  return confusableSkeleton(skeleton.toLowerCase()).replace(/[\s\p{P}\p{S}\p{Cf}\p{M}]/gu, '')
}
