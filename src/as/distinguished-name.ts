/**
 * Distinguished names compared as names, not strings (RFC 8705 §2.1.2: `tls_client_auth_subject_dn`
 * is "compared as a DN"; RFC 4514 for the string form): attribute types by OID whatever their
 * spelling, multi-valued RDNs as sets, values after escapes are resolved, with insignificant
 * whitespace removed and case folded (RFC 4518's caseIgnoreMatch preparation, approximated by
 * Unicode NFKC + lower case, which covers every attribute a client certificate subject uses).
 */

/** One RDN: its attribute-value assertions as `oid=normalised value` strings. */
type Rdn = string[]

const OIDS: Readonly<Record<string, string>> = {
  cn: '2.5.4.3',
  commonname: '2.5.4.3',
  sn: '2.5.4.4',
  surname: '2.5.4.4',
  serialnumber: '2.5.4.5',
  c: '2.5.4.6',
  countryname: '2.5.4.6',
  l: '2.5.4.7',
  localityname: '2.5.4.7',
  st: '2.5.4.8',
  s: '2.5.4.8',
  stateorprovincename: '2.5.4.8',
  street: '2.5.4.9',
  streetaddress: '2.5.4.9',
  o: '2.5.4.10',
  organizationname: '2.5.4.10',
  ou: '2.5.4.11',
  organizationalunitname: '2.5.4.11',
  title: '2.5.4.12',
  businesscategory: '2.5.4.15',
  postalcode: '2.5.4.17',
  name: '2.5.4.41',
  gn: '2.5.4.42',
  givenname: '2.5.4.42',
  initials: '2.5.4.43',
  generationqualifier: '2.5.4.44',
  dnqualifier: '2.5.4.46',
  pseudonym: '2.5.4.65',
  organizationidentifier: '2.5.4.97',
  uid: '0.9.2342.19200300.100.1.1',
  userid: '0.9.2342.19200300.100.1.1',
  dc: '0.9.2342.19200300.100.1.25',
  domaincomponent: '0.9.2342.19200300.100.1.25',
  e: '1.2.840.113549.1.9.1',
  email: '1.2.840.113549.1.9.1',
  emailaddress: '1.2.840.113549.1.9.1',
}

const OID = /^\d+(\.\d+)+$/

/** The OID an attribute type names, or undefined for a name we do not know. */
function attributeOid(type: string): string | undefined {
  const t = type
    .trim()
    .toLowerCase()
    .replace(/^oid\./, '')
  return OID.test(t) ? t : OIDS[t]
}

function normaliseValue(value: string): string {
  return value.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase()
}

/**
 * Splits `text` at every unescaped occurrence of one of `separators`; escapes are kept for
 * {@link unescapeValue}. Returns undefined for a dangling backslash.
 */
function splitUnescaped(text: string, separators: string): string[] | undefined {
  const parts: string[] = []
  let current = ''
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string
    if (ch === '\\') {
      if (i + 1 >= text.length) return undefined
      current += ch + text[i + 1]
      i++
    } else if (separators.includes(ch)) {
      parts.push(current)
      current = ''
    } else current += ch
  }
  parts.push(current)
  return parts
}

/**
 * Resolves RFC 4514 §2.4 escapes: `\` followed by a special character stands for it, `\HH` pairs
 * are UTF-8 octets. A value in `#hex` (BER) form is not supported: undefined, so the name matches
 * nothing (fail closed).
 */
function unescapeValue(value: string): string | undefined {
  // spaces around the value are insignificant (normaliseValue trims them after unescaping)
  if (value.trimStart().startsWith('#')) return undefined
  const bytes: number[] = []
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string
    if (ch !== '\\') {
      bytes.push(...Buffer.from(ch, 'utf8'))
      continue
    }
    const pair = value.slice(i + 1, i + 3)
    if (/^[0-9a-fA-F]{2}$/.test(pair)) {
      bytes.push(Number.parseInt(pair, 16))
      i += 2
    } else if (i + 1 < value.length) {
      bytes.push(...Buffer.from(value[i + 1] as string, 'utf8'))
      i += 1
    } else return undefined
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes))
  } catch {
    return undefined
  }
}

function parseRdn(text: string): Rdn | undefined {
  const avas = splitUnescaped(text, '+')
  if (!avas) return undefined
  const out: string[] = []
  for (const ava of avas) {
    const eq = ava.indexOf('=')
    if (eq <= 0) return undefined
    const oid = attributeOid(ava.slice(0, eq))
    const value = unescapeValue(ava.slice(eq + 1))
    if (oid === undefined || value === undefined) return undefined
    out.push(`${oid}=${normaliseValue(value)}`)
  }
  return out.sort()
}

/**
 * An RFC 4514 string (`CN=client,O=Example\, Inc,C=US`; `;` accepted as a separator as RFC 2253
 * parsers do), as RDNs in certificate order (RFC 4514 writes the last RDN first). Undefined when it
 * cannot be parsed.
 */
export function parseDistinguishedName(dn: string): Rdn[] | undefined {
  if (dn.trim() === '') return []
  const rdns = splitUnescaped(dn, ',;')
  if (!rdns) return undefined
  const parsed = rdns.map(parseRdn)
  if (parsed.some((r) => r === undefined)) return undefined
  return (parsed as Rdn[]).reverse()
}

/**
 * The subject of a `node:crypto` `X509Certificate`, whose `subject` is one RDN per line in
 * certificate order, multi-valued RDNs joined by ` + `, values escaped as in RFC 2253 (OpenSSL's
 * `XN_FLAG_SEP_MULTILINE` with `ASN1_STRFLGS_ESC_2253`, so a newline inside a value is escaped).
 */
export function certificateSubject(subject: string): Rdn[] | undefined {
  if (subject === '') return []
  const out: Rdn[] = []
  for (const line of subject.split('\n')) {
    const rdn = parseRdn(line.split(' + ').join('+'))
    if (!rdn) return undefined
    out.push(rdn)
  }
  return out
}

/** True when both names have the same RDNs in the same order, each the same set of values. */
export function sameDistinguishedName(a: Rdn[] | undefined, b: Rdn[] | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false
  return a.every((rdn, i) => {
    const other = b[i] as Rdn
    return rdn.length === other.length && rdn.every((ava, j) => ava === other[j])
  })
}
