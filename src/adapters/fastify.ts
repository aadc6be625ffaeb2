import { Readable } from 'node:stream'
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { RegistrarApp } from '../app.js'
import { clientIpOf } from '../http/client-ip.js'
import { nodeHttpRequest, requestPath } from './node.js'

/** Options of {@link registrarPlugin}. */
export interface RegistrarPluginOptions {
  /**
   * The client address that keys the per-IP limit on anonymous registration. Default: when
   * `rateLimit.trustedProxies` is configured, the socket peer resolved through it (as in the
   * standalone server); otherwise Fastify's `request.ip` (which follows its `trustProxy` option).
   */
  clientIp?: (request: FastifyRequest) => string | undefined
}

/**
 * Registrar as a Fastify 5 plugin: `fastify.register(registrarPlugin(app))`.
 *
 * It declares Registrar's routes, absolute from the root and derived from the issuer's path: `POST
 * {path}/register`, `GET | PUT | DELETE {path}/register/*`, the discovery documents and `/healthz`
 * (every method on each, so that others get Registrar's 405 with `Allow`). Other paths stay the
 * application's, and reach its own routes and not-found handler. Registered with a `prefix`, only
 * the routes under that prefix are declared (the prefix must lead to the issuer's path); the RFC
 * 8414 document at `/.well-known/oauth-authorization-server{path}` then needs a registration
 * without prefix.
 *
 * The plugin is encapsulated: inside it, Fastify's body parsers are replaced by one that hands the
 * raw stream on, so that Registrar reads the bytes itself (media type, UTF-8, duplicate member
 * names, its `limits.maxBodyBytes`, and no body read at all before a token is checked). The
 * application's parsers elsewhere are untouched.
 *
 * @see [RFC 7591 §3](https://www.rfc-editor.org/rfc/rfc7591.html#section-3)
 * @see [RFC 7592 §2](https://www.rfc-editor.org/rfc/rfc7592.html#section-2)
 * @see [RFC 8414 §3.1](https://www.rfc-editor.org/rfc/rfc8414.html#section-3.1)
 */
export function registrarPlugin(
  app: Pick<RegistrarApp, 'registrar' | 'router'>,
  options: RegistrarPluginOptions = {},
): FastifyPluginAsync {
  const { router } = app
  const { issuer, config } = app.registrar
  const maxBodyBytes = config.limits.maxBodyBytes
  const trustedProxies = config.rateLimit.trustedProxies
  const ipOf =
    options.clientIp ??
    ((request: FastifyRequest) => clientIpOf(request.raw, trustedProxies, request.ip))

  async function serve(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const path = requestPath(request.url)
    // ignoreTrailingSlash, caseSensitive: false or a rewriteUrl can route here what is not ours
    if (!router.matches(path)) {
      reply.callNotFound()
      return reply
    }
    const ip = ipOf(request)
    const { request: httpRequest, tooLarge } = nodeHttpRequest(request.raw, {
      path,
      maxBodyBytes,
      bodyIdleTimeoutMs: config.limits.bodyIdleTimeoutMs,
      ...(ip !== undefined && { ip }),
      // the payload as preParsing hooks left it; absent when the request has no body
      ...(request.body instanceof Readable && { body: request.body }),
    })
    const response = await router(httpRequest)
    if (tooLarge()) {
      // stop reading an oversized body: the connection is not reused
      response.headers.connection = 'close'
      reply.raw.once('finish', () => reply.raw.socket?.destroySoon())
    }
    return reply.code(response.status).headers(response.headers).send(response.body)
  }

  return async function registrar(fastify) {
    const prefix = fastify.prefix
    const paths = router.paths.filter(
      (p) => prefix === '' || p === prefix || p.startsWith(`${prefix}/`),
    )
    if (paths.length === 0) {
      throw new Error(
        `registrarPlugin: prefix ${prefix} leads to none of Registrar's paths, which the issuer ` +
          `${issuer} decides; register the plugin without a prefix`,
      )
    }
    fastify.removeAllContentTypeParsers()
    fastify.addContentTypeParser('*', (_request, payload, done) => done(null, payload))
    fastify.setErrorHandler((error: FastifyError, request, reply) => {
      // a Content-Type Fastify cannot even parse: Registrar's own check answers it (400
      // invalid_client_metadata, or 401 first when a PUT's token is bad), body still unread
      if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return serve(request, reply)
      throw error
    })
    for (const path of paths) fastify.all(path.slice(prefix.length) || '/', serve)
  }
}
