/**
 * The port through which the domain fetches URLs that clients or software-statement issuers
 * supply (sector_identifier_uri, jwks_uri, issuer JWKS). The implementation
 * (`src/net/safe-fetch.ts`) is SSRF-safe by construction; the domain only sees this signature,
 * which is fetch-compatible so jose's `createRemoteJWKSet` can use it too.
 */
export type OutboundFetch = (
  url: string,
  init?: {
    headers?: Headers | Record<string, string>
    signal?: AbortSignal
    /** POST (with `body`) only for notifications, e.g. OIDC Back-Channel Logout §2.5; never redirected. */
    method?: 'GET' | 'POST'
    body?: string
  },
) => Promise<Response>

/** A fetch refused or failed; `reason` is safe to show to the client that supplied the URL. */
export class OutboundFetchError extends Error {
  readonly reason: string
  constructor(reason: string, options?: { cause?: unknown }) {
    super(reason, options)
    this.name = 'OutboundFetchError'
    this.reason = reason
  }
}

/** GETs a URL through `fetch` and parses its JSON body; any failure is an OutboundFetchError. */
export async function fetchJson(fetch: OutboundFetch, url: string): Promise<unknown> {
  const response = await fetch(url, { headers: { accept: 'application/json' } })
  if (response.status !== 200) {
    throw new OutboundFetchError(`answered HTTP ${response.status}, expected 200`)
  }
  const text = await response.text()
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw new OutboundFetchError('did not return JSON', { cause })
  }
}
