import type { ClientMetadata, ClientMetadataRules } from '../metadata/types.js'
import { validateClientMetadata } from '../metadata/validate.js'
import { RegistrationError } from './errors.js'
import { type OutboundFetch, OutboundFetchError } from './outbound-fetch.js'

/**
 * OAuth Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document-03, "CIMD";
 * requirement IDs of `spec/cimd.md`): the checks on the identifier, the fetch and the document.
 * Pure domain code: no HTTP server, no SQL; the fetch goes through the SSRF-safe port.
 */

/** Why a metadata document client was refused: the class of the failure, for logs and events. */
export type MetadataDocumentRefusal =
  /** The `client_id` is no acceptable Client Identifier URL (CIMD-3-*). */
  | 'invalid_client_id_url'
  /** The host is refused by policy (allowedHosts / deniedHosts) or the URL is blocked. */
  | 'denied'
  /** Blocked for good by an operator (`clients block`). */
  | 'blocked'
  /** Awaiting an operator's approval (`requireApproval`, `clients approve`). */
  | 'pending_approval'
  /** The origin answered 404 or 410: the client is gone (CIMD-BP-09). */
  | 'gone'
  /** A redirect, another status, a timeout, a refused address, a TLS or connection failure. */
  | 'fetch_failed'
  /** The body is larger than `clientIdMetadataDocuments.maxBytes` (CIMD-9.7-a). */
  | 'too_large'
  /** Not JSON, not a JSON object, or a refused media type (CIMD-4-a, D-6). */
  | 'not_json'
  /** The document breaks a rule of the draft or of registration (CIMD-4-*, CIMD-6-*). */
  | 'invalid_document'
  /** A policy of the `metadata_document` class refused a member. */
  | 'policy'

/** A metadata document client refused; `detail` is safe to log and to show an operator. */
export class MetadataDocumentError extends Error {
  readonly refusal: MetadataDocumentRefusal
  readonly detail: string
  /**
   * A failure of the origin that may pass (timeout, 5xx, connection, redirect): a cached copy may
   * still be served within the stale-if-error bound (CIMD-BP-09, §11 D-9).
   */
  readonly transient: boolean
  constructor(
    refusal: MetadataDocumentRefusal,
    detail: string,
    options: { transient?: boolean; cause?: unknown } = {},
  ) {
    super(`${refusal}: ${detail}`, { cause: options.cause })
    this.name = 'MetadataDocumentError'
    this.refusal = refusal
    this.detail = detail
    this.transient = options.transient ?? false
  }
}

/** Longest Client Identifier URL considered (CIMD-BP-01: 2 KiB is ample). */
export const MAX_CLIENT_ID_URL = 2048

/** Options of {@link checkClientIdUrl}. */
export interface ClientIdUrlOptions {
  /** Accept a query component (CIMD-3-f SHOULD NOT; §11 D-2 refuses by default). */
  allowQuery: boolean
}

/** A `client_id` string worth handing to {@link checkClientIdUrl}: it claims to be a CIMD URL. */
export function looksLikeClientIdUrl(clientId: string): boolean {
  return clientId.startsWith('https://')
}

/**
 * Checks a Client Identifier URL on the raw string, before a URL parser could "repair" it
 * (CIMD-3-a…h, CIMD-BP-01), and returns the parsed URL plus a warning for a path of `/`
 * (CIMD-3-c, §11 D-1). Throws {@link MetadataDocumentError} `invalid_client_id_url`. The string is
 * the identity: nothing is normalised (CIMD-3-h).
 */
export function checkClientIdUrl(
  raw: string,
  options: ClientIdUrlOptions,
): { url: URL; warning?: string } {
  const refuse = (why: string) => new MetadataDocumentError('invalid_client_id_url', why)
  if (raw.length > MAX_CLIENT_ID_URL) throw refuse(`longer than ${MAX_CLIENT_ID_URL} characters`)
  // CIMD-3-a: the scheme is matched case-sensitively; `https:c.example`, `https:/x` are refused
  if (!raw.startsWith('https://')) throw refuse('must start with https://')
  // CIMD-BP-01: whitespace, controls, backslashes, non-ASCII are what parsers repair
  if (/[^\x21-\x7e]|\\/.test(raw)) {
    throw refuse('must not contain whitespace, control characters, backslashes or non-ASCII')
  }
  if (raw.includes('#')) throw refuse('must not contain a fragment') // CIMD-3-e, a bare # too
  const rest = raw.slice('https://'.length)
  const authorityEnd = rest.search(/[/?]/)
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd)
  if (authority.includes('@')) throw refuse('must not contain user information') // CIMD-3-b
  if (authority === '' || authority.startsWith(':')) throw refuse('must name a host')
  // CIMD-3-c, D-1: a path is required; `https://c.example` and `https://c.example?x` have none
  if (authorityEnd === -1 || rest[authorityEnd] !== '/') throw refuse('must have a path')
  const afterAuthority = rest.slice(authorityEnd)
  const queryAt = afterAuthority.indexOf('?')
  const path = queryAt === -1 ? afterAuthority : afterAuthority.slice(0, queryAt)
  if (queryAt !== -1 && !options.allowQuery) {
    throw refuse('must not have a query component (clientIdMetadataDocuments.allowQuery)')
  }
  // CIMD-3-d: `.` and `..` segments, also as %2e (but %252e is no dot)
  for (const segment of path.split('/')) {
    const decoded = segment.replace(/%2e/gi, '.')
    if (decoded === '.' || decoded === '..') throw refuse('must not contain . or .. path segments')
  }
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw refuse('is not a URL')
  }
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '') {
    throw refuse('is not an https URL without user information')
  }
  return path === '/'
    ? { url, warning: 'a path of / is NOT RECOMMENDED (draft §3): the document sits at the root' }
    : { url }
}

/** Options of {@link fetchMetadataDocument}. */
export interface FetchDocumentOptions {
  /** Accept `text/plain` besides JSON media types (§11 D-6). */
  acceptTextPlain: boolean
  /** The size cap, for the message (the fetcher enforces it while streaming). */
  maxBytes: number
}

/** A fetched document, parsed but not yet validated. */
export interface FetchedDocument {
  document: Record<string, unknown>
  /** Size of the body in bytes. */
  bytes: number
  headers: Headers
}

/**
 * GETs the document (CIMD-5-*): `Accept: application/json` (CIMD-BP-04), no redirect followed
 * (the fetcher is configured with none; CIMD-5-d), `200` only (CIMD-5-c), the body read as a
 * stream under a size cap and one deadline (CIMD-9.7-a, CIMD-BP-03; enforced by the fetcher), a
 * JSON media type (§11 D-6), a JSON object (CIMD-4-a). Throws {@link MetadataDocumentError}.
 */
export async function fetchMetadataDocument(
  fetch: OutboundFetch,
  url: string,
  options: FetchDocumentOptions,
): Promise<FetchedDocument> {
  let response: Response
  try {
    response = await fetch(url, { headers: { accept: 'application/json' } })
  } catch (err) {
    const reason = err instanceof OutboundFetchError ? err.reason : 'the fetch failed'
    if (reason.startsWith('response larger than')) {
      throw new MetadataDocumentError('too_large', `the document is ${reason.slice(9)}`, {
        cause: err,
      })
    }
    throw new MetadataDocumentError('fetch_failed', reason, { transient: true, cause: err })
  }
  const status = response.status
  if (status === 404 || status === 410) {
    throw new MetadataDocumentError('gone', `the origin answered HTTP ${status}`)
  }
  if (status !== 200) {
    throw new MetadataDocumentError(
      'fetch_failed',
      status >= 300 && status < 400
        ? `the origin answered a redirect (HTTP ${status}), which is not followed`
        : `the origin answered HTTP ${status}, expected 200`,
      { transient: status >= 500 || (status >= 300 && status < 400) || status === 429 },
    )
  }
  const body = new Uint8Array(await response.arrayBuffer())
  const type = (response.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase()
  const json =
    type === 'application/json' ||
    /^application\/[a-z0-9.+-]+\+json$/.test(type ?? '') ||
    (options.acceptTextPlain && type === 'text/plain')
  if (!json) {
    throw new MetadataDocumentError(
      'not_json',
      `served as ${type || 'no media type'}, expected application/json`,
    )
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body))
  } catch (cause) {
    throw new MetadataDocumentError('not_json', 'the body is not valid JSON in UTF-8', { cause })
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new MetadataDocumentError('not_json', 'the body is not a JSON object')
  }
  return {
    document: parsed as Record<string, unknown>,
    bytes: body.byteLength,
    headers: response.headers,
  }
}

/** Methods a document may declare (§11 D-14): no shared secret can be published (CIMD-4.1-b). */
export const METADATA_DOCUMENT_AUTH_METHODS = ['none', 'private_key_jwt'] as const

/** Members with a shared secret or meaningful only for a server-side registration (CIMD-BP-17). */
const REFUSED_MEMBERS = [
  'client_secret',
  'client_secret_expires_at',
  'registration_access_token',
  'registration_client_uri',
  'client_id_issued_at',
  'backchannel_logout_uri',
  'sector_identifier_uri',
  'request_uris',
] as const

/** Members of a key that only a private or symmetric key has (CIMD-4.1-c). */
const PRIVATE_KEY_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv']

/** URL-valued members shown to users or fetched: https only, no userinfo (CIMD-BP-15, D-17). */
const HTTPS_MEMBERS = ['client_uri', 'logo_uri', 'tos_uri', 'policy_uri', 'jwks_uri']

/**
 * Validates a fetched document against its Client Identifier URL (CIMD-4-*, CIMD-4.1-*, CIMD-6-*)
 * and then exactly as a registration request (`validateClientMetadata`: same redirect-URI rules,
 * unknown members dropped, unsupported grant types dropped; CIMD-BP-12/13/16). Returns the metadata
 * a client of this document has. Throws {@link MetadataDocumentError} `invalid_document`.
 */
export async function validateMetadataDocument(
  document: Record<string, unknown>,
  clientId: string,
  rules: ClientMetadataRules,
): Promise<ClientMetadata> {
  const invalid = (why: string) => new MetadataDocumentError('invalid_document', why)
  // CIMD-4-b, CIMD-3-h: simple string comparison, nothing normalised
  if (document.client_id !== clientId) {
    throw invalid(
      typeof document.client_id === 'string'
        ? `client_id ${JSON.stringify(document.client_id.slice(0, 256))} does not equal the URL it was fetched from`
        : 'client_id is missing',
    )
  }
  for (const member of REFUSED_MEMBERS) {
    if (Object.hasOwn(document, member)) {
      throw invalid(`${member} must not appear in a client ID metadata document`)
    }
  }
  const input: Record<string, unknown> = { ...document }
  delete input.client_id
  // CIMD-4.3-a: a statement inside a document is never trusted; it is ignored, like an unknown member
  delete input.software_statement
  input.token_endpoint_auth_method = declaredAuthMethod(document)
  delete input.token_endpoint_auth_methods_supported
  if (input.token_endpoint_auth_method === 'private_key_jwt') {
    if (input.jwks === undefined && input.jwks_uri === undefined) {
      throw invalid('private_key_jwt needs jwks or jwks_uri') // CIMD-BP-18
    }
  }
  const keys = (input.jwks as { keys?: unknown } | undefined)?.keys
  if (Array.isArray(keys)) {
    for (const key of keys) {
      const found = PRIVATE_KEY_MEMBERS.find(
        (m) => typeof key === 'object' && key !== null && Object.hasOwn(key, m),
      )
      if (found !== undefined)
        throw invalid(`jwks holds private or symmetric key material (${found})`)
    }
  }
  for (const member of HTTPS_MEMBERS) {
    const value = input[member]
    if (typeof value !== 'string') continue
    if (!value.startsWith('https://') || /^https:\/\/[^/?#]*@/.test(value)) {
      throw invalid(`${member} must be an https URL without user information`)
    }
  }
  try {
    return await validateClientMetadata(input, rules)
  } catch (err) {
    if (err instanceof RegistrationError) {
      throw new MetadataDocumentError('invalid_document', err.error_description ?? err.error, {
        cause: err,
      })
    }
    throw err
  }
}

/**
 * The client authentication method a document declares (draft -03 §6; §11 D-13/D-14): `none` when
 * it declares neither member (CIMD-6-a: not RFC 7591's `client_secret_basic`); the single method,
 * which must be listed when both are present (CIMD-6-c); otherwise the first method of the list
 * Registrar accepts, unsupported entries skipped (CIMD-6-b/d). Any shared-secret method in either
 * member refuses the document (CIMD-4.1-b).
 */
function declaredAuthMethod(document: Record<string, unknown>): string {
  const invalid = (why: string) => new MetadataDocumentError('invalid_document', why)
  const method = document.token_endpoint_auth_method
  const supported = document.token_endpoint_auth_methods_supported
  if (method !== undefined && typeof method !== 'string') {
    throw invalid('token_endpoint_auth_method must be a string')
  }
  if (
    supported !== undefined &&
    (!Array.isArray(supported) || supported.some((m) => typeof m !== 'string'))
  ) {
    throw invalid('token_endpoint_auth_methods_supported must be an array of strings')
  }
  const listed = (supported ?? []) as string[]
  const shared = [method, ...listed].find(
    (m) => typeof m === 'string' && m.startsWith('client_secret'),
  )
  if (shared !== undefined) {
    throw invalid(`${shared} needs a shared secret, which a public document cannot carry`)
  }
  const accepted = (m: string) => (METADATA_DOCUMENT_AUTH_METHODS as readonly string[]).includes(m)
  if (method !== undefined) {
    if (supported !== undefined && !listed.includes(method)) {
      throw invalid(
        'token_endpoint_auth_method is not one of token_endpoint_auth_methods_supported',
      )
    }
    if (!accepted(method)) {
      throw invalid(
        `token_endpoint_auth_method ${method} is not accepted; accepted: none private_key_jwt`,
      )
    }
    return method
  }
  if (supported === undefined) return 'none'
  const pick = listed.find(accepted)
  if (pick === undefined) {
    throw invalid(
      `none of token_endpoint_auth_methods_supported is accepted; accepted: none private_key_jwt`,
    )
  }
  return pick
}

/** The bounds of {@link cacheLifetime} (`clientIdMetadataDocuments.cache*Seconds`). */
export interface CacheBounds {
  minSeconds: number
  maxSeconds: number
  defaultSeconds: number
}

/**
 * How long a fetched document may be used (CIMD-5.2-b, §11 D-8): `Cache-Control: max-age` (or
 * `Expires` against `Date`), clamped to the bounds; `no-store`, `no-cache`, `private` and
 * `max-age=0` give the minimum (the document is kept that long all the same: the bound on fetches
 * an unauthenticated request can cause, CIMD-BP-05); no header, the default.
 */
export function cacheLifetime(headers: Headers, bounds: CacheBounds): number {
  const clamp = (s: number) => Math.min(bounds.maxSeconds, Math.max(bounds.minSeconds, s))
  const cc = (headers.get('cache-control') ?? '').toLowerCase()
  const directives = new Map<string, string | undefined>()
  for (const part of cc.split(',')) {
    const [name, value] = part.trim().split('=', 2) as [string, string | undefined]
    if (name) directives.set(name, value?.replace(/^"|"$/g, ''))
  }
  if (directives.has('no-store') || directives.has('no-cache') || directives.has('private')) {
    return clamp(0)
  }
  const maxAge = directives.get('max-age')
  if (maxAge !== undefined && /^\d+$/.test(maxAge)) return clamp(Number(maxAge))
  const expires = headers.get('expires')
  if (expires !== null) {
    const at = Date.parse(expires)
    const date = Date.parse(headers.get('date') ?? '')
    // an invalid Expires means "already expired" (RFC 9111 §5.3)
    if (Number.isNaN(at)) return clamp(0)
    const base = Number.isNaN(date) ? Date.now() : date
    return clamp(Math.floor((at - base) / 1000))
  }
  return clamp(bounds.defaultSeconds)
}

/** What changed between two accepted versions of a document (CIMD-BP-22), for the log and event. */
export type DocumentChange = 'redirect_uris' | 'authentication' | 'keys' | 'display' | 'other'

/** The classes of change from `before` to `after`; empty when nothing changed. */
export function documentChanges(before: ClientMetadata, after: ClientMetadata): DocumentChange[] {
  const same = (keys: string[]) =>
    keys.every(
      (k) =>
        JSON.stringify((before as unknown as Record<string, unknown>)[k]) ===
        JSON.stringify((after as unknown as Record<string, unknown>)[k]),
    )
  const out: DocumentChange[] = []
  if (!same(['redirect_uris'])) out.push('redirect_uris')
  if (!same(['token_endpoint_auth_method', 'token_endpoint_auth_signing_alg'])) {
    out.push('authentication')
  }
  if (!same(['jwks', 'jwks_uri'])) out.push('keys')
  const display = Object.keys({ ...before, ...after }).filter((k) =>
    /^(client_name|logo_uri|client_uri|tos_uri|policy_uri)(#|$)/.test(k),
  )
  if (!same(display)) out.push('display')
  const known = new Set([
    'redirect_uris',
    'token_endpoint_auth_method',
    'token_endpoint_auth_signing_alg',
    'jwks',
    'jwks_uri',
    ...display,
  ])
  const rest = Object.keys({ ...before, ...after }).filter((k) => !known.has(k))
  if (!same(rest)) out.push('other')
  return out
}
