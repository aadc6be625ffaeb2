import type { Registrar } from '../core/registration.js'
import { bearer } from './bearer.js'
import { checkJsonMediaType, parseJsonObject } from './json-body.js'
import { limitAnonymousRegistration, type RateLimiter } from './rate-limit.js'
import type { HttpRequest } from './request.js'
import { type HttpResponse, json, NO_STORE } from './respond.js'

/**
 * `POST /register`: RFC 7591 §3.1 request → §3.2.1 response (201, no-store).
 *
 * @see [RFC 7591 §3](https://www.rfc-editor.org/rfc/rfc7591.html#section-3)
 */
export async function registrationEndpoint(
  request: HttpRequest,
  registrar: Registrar,
  rateLimiter?: RateLimiter,
): Promise<HttpResponse> {
  const initialAccessToken = bearer(request.header('authorization'))
  // RFC 7591 §3: open registration MAY be rate-limited; requests with a token are not anonymous
  const limitHeaders =
    rateLimiter && initialAccessToken === undefined
      ? await limitAnonymousRegistration(rateLimiter, request.ip ?? 'unknown')
      : {}
  checkJsonMediaType(request.header('content-type'))
  const metadata = parseJsonObject(await request.body())
  const info = await registrar.register(
    { metadata, ...(initialAccessToken !== undefined && { initialAccessToken }) },
    request.ip === undefined ? {} : { address: request.ip },
  )
  return { ...json(201, info, { ...NO_STORE, ...limitHeaders }), clientId: info.client_id }
}
