import { RegistrationError } from '../core/errors.js'
import type { Registrar } from '../core/registration.js'
import { bearer } from './bearer.js'
import { checkContentEncoding, checkJsonMediaType, parseJsonObject } from './json-body.js'
import {
  countFailedTokenAttempt,
  limitAnonymousRegistration,
  limitTokenAttempt,
  type RateLimiter,
} from './rate-limit.js'
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
  const ip = request.ip ?? 'unknown'
  let initialAccessToken: string | undefined
  try {
    initialAccessToken = bearer(request.header('authorization'))
  } catch (err) {
    // a malformed Bearer header is a failed token attempt too
    if (rateLimiter) await limitTokenAttempt(rateLimiter, ip)
    if (rateLimiter) await countFailedTokenAttempt(rateLimiter, ip)
    throw err
  }
  // RFC 7591 §3: open registration MAY be rate-limited. A request with a token is not counted
  // unless the token fails, but it is refused once the address has used up its budget
  // (issue 12 item 8: a Bearer header must not bypass the limit)
  let limitHeaders: Record<string, string> = {}
  if (rateLimiter && initialAccessToken === undefined) {
    limitHeaders = await limitAnonymousRegistration(rateLimiter, ip)
  } else if (rateLimiter) {
    await limitTokenAttempt(rateLimiter, ip)
  }
  checkContentEncoding(request.header('content-encoding'))
  checkJsonMediaType(request.header('content-type'))
  const metadata = parseJsonObject(await request.body())
  let info: Awaited<ReturnType<Registrar['register']>>
  try {
    info = await registrar.register(
      { metadata, ...(initialAccessToken !== undefined && { initialAccessToken }) },
      request.ip === undefined ? {} : { address: request.ip },
    )
  } catch (err) {
    if (
      rateLimiter &&
      initialAccessToken !== undefined &&
      err instanceof RegistrationError &&
      err.error === 'invalid_token'
    ) {
      await countFailedTokenAttempt(rateLimiter, ip)
    }
    throw err
  }
  return { ...json(201, info, { ...NO_STORE, ...limitHeaders }), clientId: info.client_id }
}
