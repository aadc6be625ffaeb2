import { bodyIncomplete, bodyTooLarge } from '../http/json-body.js'
import type { HttpRequest, RegistrantContext } from '../http/request.js'
import type { HttpResponse } from '../http/respond.js'
import { readLimited } from '../shared/read-limited.js'

/**
 * Adapts a router to fetch: `(Request, { ip }?) => Promise<Response>`. The client address, when
 * the platform knows it (a socket, `getConnInfo()` in Hono, `server.requestIP()` in Bun), keys the
 * anonymous-registration rate limit.
 *
 * @see [RFC 7591 §3](https://www.rfc-editor.org/rfc/rfc7591.html#section-3)
 */
export function createWebAdapter(
  router: (request: HttpRequest) => Promise<HttpResponse>,
  options: { maxBodyBytes: number },
): (request: Request, context?: RegistrantContext) => Promise<Response> {
  const limit = options.maxBodyBytes
  return async (request, context) => {
    const ip = context?.ip
    const url = new URL(request.url)
    const response = await router({
      method: request.method,
      path: url.pathname,
      ...(url.search !== '' && { query: url.search.slice(1) }),
      header: (name) => request.headers.get(name) ?? undefined,
      body: () => readBody(request, limit),
      ...(ip !== undefined && { ip }),
    })
    return new Response(request.method === 'HEAD' ? null : (response.body ?? null), {
      status: response.status,
      headers: response.headers,
    })
  }
}

/** The request body, at most `limit` bytes (413 past it; 400 when the stream fails mid-way). */
function readBody(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN)
  if (declared > limit) return Promise.reject(bodyTooLarge(limit))
  return readLimited(request.body, limit, {
    tooLarge: () => bodyTooLarge(limit),
    failed: bodyIncomplete,
  })
}
