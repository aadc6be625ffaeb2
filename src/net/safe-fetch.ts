import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import type { IncomingMessage } from 'node:http'
import type { LookupFunction } from 'node:net'
import { type OutboundFetch, OutboundFetchError } from '../core/outbound-fetch.js'
import { isIpLiteral, isSpecialUseAddress } from './network-address.js'
import { readStream, StreamTooLargeError } from './read-stream.js'

/** Options of {@link createSafeFetch}; `fetch.*` in the config. */
export interface SafeFetchOptions {
  /** Whole-request deadline (connect, TLS, headers and body). */
  timeoutMs: number
  /** Largest response body accepted. */
  maxBytes: number
  /** Redirects followed, each re-checked like the first URL; 0 = none. */
  maxRedirects: number
  /** CIDRs reachable despite being special-use (e.g. an internal software-statement directory). */
  allowedAddresses: readonly string[]
  /** Extra trusted CA certificates (PEM), for issuers behind a private CA. */
  ca?: string | Buffer
  /** DNS resolution; injectable for tests. Default: `dns.lookup` with all addresses. */
  resolve?: (hostname: string) => Promise<LookupAddress[]>
}

const USER_AGENT = 'registrar (+https://www.rfc-editor.org/rfc/rfc7591)'

/**
 * A fetch-compatible function for URLs supplied by clients or issuers, safe against SSRF by
 * construction (OIDC Registration §5, ROIDR-5-d, RCIMD-6.5-a; RFC 7591 §5):
 * - https only; no user info; `localhost` names refused;
 * - the name is resolved once, every address checked, and the connection made to a checked address
 *   (no second resolution an attacker could rebind); loopback, private, link-local, unique-local,
 *   multicast, IPv4-mapped and other special-use addresses are refused unless allow-listed;
 * - one deadline for the whole exchange, a cap on the body, no connection reuse;
 * - redirects refused, or followed up to `maxRedirects` with every hop checked again.
 */
export function createSafeFetch(options: SafeFetchOptions): OutboundFetch {
  const resolve =
    options.resolve ??
    ((hostname: string) =>
      new Promise<LookupAddress[]>((ok, fail) =>
        dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) =>
          err ? fail(err) : ok(addresses),
        ),
      ))

  const checkedLookup: LookupFunction = (hostname, lookupOptions, callback) => {
    resolve(hostname).then(
      (addresses) => {
        if (addresses.length === 0) {
          callback(new OutboundFetchError(`${hostname} does not resolve`), '', 4)
          return
        }
        const refused = addresses.find((a) =>
          isSpecialUseAddress(a.address, options.allowedAddresses),
        )
        if (refused) {
          callback(
            new OutboundFetchError(
              `${hostname} resolves to a loopback, private or special-use address`,
            ),
            '',
            4,
          )
          return
        }
        if (lookupOptions.all) callback(null, addresses as never)
        else callback(null, addresses[0]!.address, addresses[0]!.family)
      },
      (cause) => callback(new OutboundFetchError(`${hostname} does not resolve`, { cause }), '', 4),
    )
  }

  function checkUrl(raw: string): URL {
    let url: URL
    try {
      url = new URL(raw)
    } catch {
      throw new OutboundFetchError('is not an absolute URL')
    }
    if (url.protocol !== 'https:') throw new OutboundFetchError('must use https')
    if (url.username || url.password)
      throw new OutboundFetchError('must not contain user information')
    const host = url.hostname.toLowerCase()
    if (host === 'localhost' || host.endsWith('.localhost')) {
      throw new OutboundFetchError('must not name localhost')
    }
    if (isIpLiteral(host) && isSpecialUseAddress(host, options.allowedAddresses)) {
      throw new OutboundFetchError('names a loopback, private or special-use address')
    }
    return url
  }

  async function once(
    url: URL,
    headers: Record<string, string>,
    signal: AbortSignal,
    body: string | undefined,
  ): Promise<IncomingMessage> {
    // loaded on the first fetch, not at module load: importing `registrar` loads no HTTP module
    const { request: httpsRequest } = await import('node:https')
    return new Promise((resolveResponse, reject) => {
      const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
      const req = httpsRequest(
        {
          protocol: 'https:',
          hostname,
          port: url.port || 443,
          path: `${url.pathname}${url.search}`,
          method: body === undefined ? 'GET' : 'POST',
          headers: {
            'user-agent': USER_AGENT,
            ...headers,
            host: url.host,
            ...(body !== undefined && { 'content-length': String(Buffer.byteLength(body)) }),
          },
          agent: false,
          lookup: checkedLookup,
          ...(isIpLiteral(hostname) ? {} : { servername: hostname }),
          ...(options.ca !== undefined && { ca: options.ca }),
          signal,
        },
        resolveResponse,
      )
      req.on('error', (err: Error) =>
        reject(
          err instanceof OutboundFetchError
            ? err
            : new OutboundFetchError(describe(err), { cause: err }),
        ),
      )
      req.end(body)
    })
  }

  function readBody(res: IncomingMessage): Promise<Buffer> {
    const declared = Number(res.headers['content-length'])
    if (declared > options.maxBytes) {
      res.destroy()
      return Promise.reject(
        new OutboundFetchError(`response larger than ${options.maxBytes} bytes`),
      )
    }
    return readStream(res, options.maxBytes).catch((err: unknown) => {
      if (err instanceof StreamTooLargeError) {
        res.destroy()
        throw new OutboundFetchError(`response larger than ${options.maxBytes} bytes`)
      }
      throw err instanceof OutboundFetchError
        ? err
        : new OutboundFetchError(describe(err), { cause: err })
    })
  }

  return async (input, init = {}) => {
    const deadline = AbortSignal.timeout(options.timeoutMs)
    const signal = init.signal ? AbortSignal.any([deadline, init.signal]) : deadline
    const headers: Record<string, string> = {}
    new Headers(init.headers).forEach((v, k) => {
      headers[k] = v
    })
    const post = init.method === 'POST'
    const requestBody = post ? (init.body ?? '') : undefined
    let url = checkUrl(input)
    try {
      for (let hop = 0; ; hop++) {
        const res = await once(url, headers, signal, requestBody)
        const status = res.statusCode ?? 0
        if (status >= 300 && status < 400 && res.headers.location !== undefined) {
          res.destroy()
          // a POST is never replayed to another URL
          if (post || hop >= options.maxRedirects)
            throw new OutboundFetchError('redirects are not followed')
          url = checkUrl(new URL(res.headers.location, url).href)
          continue
        }
        const body = await readBody(res)
        const responseHeaders = new Headers()
        for (const [k, v] of Object.entries(res.headers)) {
          if (typeof v === 'string') responseHeaders.set(k, v)
        }
        return new Response(status === 204 || status === 304 ? null : body, {
          status,
          headers: responseHeaders,
        })
      }
    } catch (err) {
      if (
        signal.aborted &&
        !(err instanceof OutboundFetchError && err.reason.startsWith('response'))
      ) {
        throw new OutboundFetchError(
          deadline.aborted
            ? `did not answer within ${options.timeoutMs} ms`
            : 'the fetch was aborted',
          { cause: err },
        )
      }
      throw err instanceof OutboundFetchError
        ? err
        : new OutboundFetchError(describe(err), { cause: err })
    }
  }
}

function describe(err: unknown): string {
  const code = (err as { code?: string })?.code
  if (code === 'ECONNREFUSED') return 'connection refused'
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'does not resolve'
  if (code === 'ECONNRESET') return 'connection reset'
  if (
    typeof code === 'string' &&
    (code.startsWith('ERR_TLS') || code.includes('CERT') || code.startsWith('UNABLE_TO'))
  ) {
    return 'TLS certificate verification failed'
  }
  if ((err as Error)?.name === 'AbortError') return 'the fetch was aborted'
  return 'the fetch failed'
}
