import { invalidMetadata, RegistrationError } from '../core/errors.js'

const MAX_DEPTH = 32
const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * Checks the media type of a request that carries client metadata: `application/json`, any
 * parameters allowed, and a charset (if named) of UTF-8 (RFC 7591 §3.1; R7591-3-f: a
 * `text/plain` body is never processed, so HTML forms cannot register clients cross-site).
 */
export function checkJsonMediaType(contentType: string | undefined | null): void {
  if (!contentType) throw invalidMetadata('the request body must be application/json')
  const [type, ...params] = contentType.split(';')
  if (type?.trim().toLowerCase() !== 'application/json') {
    throw invalidMetadata('the request body must be application/json')
  }
  for (const p of params) {
    const [name, value] = p.split('=')
    if (name?.trim().toLowerCase() === 'charset') {
      const charset = value?.trim().replace(/^"|"$/g, '').toLowerCase()
      if (charset !== 'utf-8' && charset !== 'utf8') {
        throw invalidMetadata('the request body must be UTF-8 encoded JSON')
      }
    }
  }
}

/**
 * A request body must come without a content coding (gzip, br, …): Registrar does not decode
 * them, and decoding would bypass the body size limit (a small gzip bomb). 415 with
 * `Accept-Encoding: identity` (RFC 9110 §15.5.16, RFC 7694 §3).
 */
export function checkContentEncoding(contentEncoding: string | undefined | null): void {
  if (contentEncoding === undefined || contentEncoding === null) return
  const codings = contentEncoding
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity')
  if (codings.length === 0) return
  throw new RegistrationError(
    'invalid_request',
    `the request body must not have a content coding (got ${codings.join(', ')})`,
    { status: 415, headers: { 'accept-encoding': 'identity' } },
  )
}

/**
 * Decodes and parses a request body that must be one JSON object (RFC 7591 §3.1): valid UTF-8, no
 * duplicate member names at any depth (their meaning is undefined, RFC 8259 §4), at most 32 levels
 * of nesting. Anything else is 400 `invalid_client_metadata`.
 */
export function parseJsonObject(bytes: Uint8Array): Record<string, unknown> {
  let text: string
  try {
    text = decoder.decode(bytes)
  } catch {
    throw invalidMetadata('the request body is not valid UTF-8')
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw invalidMetadata('the request body is not valid JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidMetadata('the request body must be a JSON object')
  }
  const problem = structureProblem(text)
  if (problem) throw invalidMetadata(problem)
  return value as Record<string, unknown>
}

/**
 * Scans already-valid JSON for duplicate member names and excessive depth, which JSON.parse
 * silently accepts.
 */
function structureProblem(text: string): string | undefined {
  const stack: (Set<string> | null)[] = []
  let expectKey = false
  const n = text.length
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      let j = i + 1
      let escaped = false
      for (; j < n; j++) {
        const d = text.charCodeAt(j)
        if (d === 0x5c) {
          escaped = true
          j++
        } else if (d === 0x22) break
      }
      const top = stack[stack.length - 1]
      if (expectKey && top) {
        const key = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j)
        if (top.has(key)) return 'the request body has a duplicate member name'
        top.add(key)
        expectKey = false
      }
      i = j
    } else if (c === 0x7b || c === 0x5b) {
      stack.push(c === 0x7b ? new Set() : null)
      if (stack.length > MAX_DEPTH)
        return `the request body is nested more than ${MAX_DEPTH} levels deep`
      expectKey = c === 0x7b
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop()
    } else if (c === 0x2c) {
      expectKey = stack[stack.length - 1] instanceof Set
    }
  }
  return undefined
}

/** 400 for a body the client stopped sending (connection reset, aborted stream). */
export function bodyIncomplete(cause?: unknown): RegistrationError {
  return new RegistrationError('invalid_request', 'the request body was not received completely', {
    status: 400,
    cause,
  })
}

/** 408 for a body that stopped arriving (RFC 9110 §15.5.9); the connection is then closed. */
export function bodyTimedOut(idleMs: number): RegistrationError {
  return new RegistrationError(
    'invalid_request',
    `the request body was not received in time (nothing for ${idleMs} ms)`,
    { status: 408 },
  )
}

/** 413 for a body over the limit (limits.maxBodyBytes, 64 KiB by default). */
export function bodyTooLarge(limit: number): RegistrationError {
  return new RegistrationError('invalid_request', `the request body exceeds ${limit} bytes`, {
    status: 413,
  })
}
