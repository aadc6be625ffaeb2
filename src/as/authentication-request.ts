import { readLimited } from '../shared/read-limited.js'
import { invalidAuthenticationRequest } from './errors.js'
import type { ClientAuthenticationRequest } from './types.js'

/** What client authentication reads from a request, whatever shape it came in. */
export interface AuthenticationInput {
  /** The `Authorization` header value, if any. */
  authorization: string | undefined
  /** The four body parameters client authentication uses (RFC 6749 §2.3.1, RFC 7521 §4.2). */
  clientId: string | undefined
  clientSecret: string | undefined
  clientAssertion: string | undefined
  clientAssertionType: string | undefined
  /** The absolute URL of the endpoint called (no query), when known. */
  endpoint: string | undefined
}

const PARAMETERS = ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type']
// RFC 6749 §2.3.1: credentials MUST NOT be in the request URI (client_id alone is no credential)
const CREDENTIALS_IN_QUERY = ['client_secret', 'client_assertion', 'client_assertion_type']
const FORM = 'application/x-www-form-urlencoded'

/**
 * Reads a web `Request` (its body from a clone, so the host can still read it) or a request the
 * host framework already parsed. The four parameters must each appear at most once (RFC 6749 §3.2)
 * as strings; an empty value counts as absent (RFC 6749 §3.1). Anything malformed is
 * `invalid_request`.
 */
export async function readAuthenticationInput(
  request: Request | ClientAuthenticationRequest,
  maxBodyBytes: number,
): Promise<AuthenticationInput> {
  if (request instanceof Request) {
    const url = new URL(request.url)
    refuseQueryCredentials((name) => url.searchParams.getAll(name).length > 0)
    const body = await formBody(request, maxBodyBytes)
    return {
      authorization: request.headers.get('authorization') ?? undefined,
      ...parameters((name) => body?.getAll(name) ?? []),
      endpoint: `${url.origin}${url.pathname}`,
    }
  }
  if (typeof request !== 'object' || request === null) {
    throw invalidAuthenticationRequest('the request could not be read', 'malformed_request')
  }
  const query = request.query
  if (query !== undefined && query !== null) {
    refuseQueryCredentials((name) => values(query, name).length > 0)
  }
  const body = request.body ?? {}
  return {
    authorization: header(request.headers, 'authorization'),
    ...parameters((name) => values(body, name)),
    endpoint: undefined,
  }
}

function refuseQueryCredentials(present: (name: string) => boolean): void {
  if (CREDENTIALS_IN_QUERY.some(present)) {
    throw invalidAuthenticationRequest(
      'client credentials must not be sent in the query string',
      'credentials_in_query',
    )
  }
}

function parameters(
  get: (name: string) => unknown[],
): Omit<AuthenticationInput, 'authorization' | 'endpoint'> {
  const [clientId, clientSecret, clientAssertion, clientAssertionType] = PARAMETERS.map((name) => {
    const all = get(name)
    if (all.length > 1) {
      throw invalidAuthenticationRequest(`${name} must not be repeated`, 'malformed_request')
    }
    const value = all[0]
    if (value === undefined || value === '') return undefined
    if (typeof value !== 'string') {
      throw invalidAuthenticationRequest(`${name} must be a string`, 'malformed_request')
    }
    return value
  })
  return { clientId, clientSecret, clientAssertion, clientAssertionType }
}

/** The values of a parameter in URLSearchParams or a parsed body (`qs` makes arrays of repeats). */
function values(
  source: URLSearchParams | Readonly<Record<string, unknown>>,
  name: string,
): unknown[] {
  if (source instanceof URLSearchParams) return source.getAll(name)
  if (typeof source !== 'object' || !Object.hasOwn(source, name)) return []
  const value = source[name]
  if (value === undefined || value === null) return []
  return Array.isArray(value) ? value : [value]
}

function header(
  headers: ClientAuthenticationRequest['headers'] | undefined,
  name: string,
): string | undefined {
  if (headers === undefined || headers === null) return undefined
  if (headers instanceof Headers) return headers.get(name) ?? undefined
  let found: string | readonly string[] | undefined
  let seen = 0
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name || value === undefined) continue
    found = value
    seen++
  }
  if (seen > 1 || (Array.isArray(found) && found.length > 1)) {
    throw invalidAuthenticationRequest(`${name} must not be repeated`, 'malformed_request')
  }
  const value = Array.isArray(found) ? found[0] : found
  if (value !== undefined && typeof value !== 'string') {
    throw invalidAuthenticationRequest(`${name} must be a string`, 'malformed_request')
  }
  return value
}

/**
 * The form body of a web request, read from a clone and capped; undefined for another media type
 * (such a request can only authenticate with its `Authorization` header).
 */
async function formBody(request: Request, maxBytes: number): Promise<URLSearchParams | undefined> {
  const type = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase()
  if (type !== FORM || request.body === null) return undefined
  if (request.bodyUsed) {
    throw invalidAuthenticationRequest(
      'the request body was already read; pass { headers, body } instead',
      'malformed_request',
    )
  }
  const bytes = await readLimited(request.clone().body, maxBytes, {
    tooLarge: () =>
      invalidAuthenticationRequest('the request body is too large', 'malformed_request'),
    failed: () =>
      invalidAuthenticationRequest('the request body could not be read', 'malformed_request'),
    detachCancel: true,
  })
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw invalidAuthenticationRequest('the request body is not valid UTF-8', 'malformed_request')
  }
  return new URLSearchParams(text)
}
