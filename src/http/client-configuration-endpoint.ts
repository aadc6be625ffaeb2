import type { Registrar } from '../core/registration.js'
import { bearer } from './bearer.js'
import { checkContentEncoding, checkJsonMediaType, parseJsonObject } from './json-body.js'
import type { HttpRequest } from './request.js'
import { type HttpResponse, json, NO_STORE } from './respond.js'

/**
 * `GET | PUT | DELETE /register/{client_id}`: the RFC 7592 client configuration endpoint, with the
 * registration access token as a Bearer token. 200 / 200 / 204.
 *
 * @see [RFC 7592 §2](https://www.rfc-editor.org/rfc/rfc7592.html#section-2)
 */
export async function clientConfigurationEndpoint(
  request: HttpRequest,
  registrar: Registrar,
  clientId: string,
): Promise<HttpResponse> {
  const token = bearer(request.header('authorization'))
  // who sent it, for the audit trail
  const origin = request.ip === undefined ? {} : { address: request.ip }
  switch (request.method) {
    case 'GET': {
      const info = await registrar.readClient(clientId, token, origin)
      return { ...json(200, info, { ...NO_STORE }), clientId }
    }
    case 'PUT': {
      // the body is read only once the token is verified: a bad token is 401 whatever the body
      const info = await registrar.updateClient(
        clientId,
        token,
        async () => {
          checkContentEncoding(request.header('content-encoding'))
          checkJsonMediaType(request.header('content-type'))
          return parseJsonObject(await request.body())
        },
        origin,
      )
      return { ...json(200, info, { ...NO_STORE }), clientId }
    }
    default: {
      await registrar.deleteClient(clientId, token, origin)
      return { status: 204, headers: { ...NO_STORE }, clientId }
    }
  }
}
