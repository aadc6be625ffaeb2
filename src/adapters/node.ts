import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Readable } from 'node:stream'
import { RegistrationError } from '../core/errors.js'
import { bodyIncomplete, bodyTimedOut, bodyTooLarge } from '../http/json-body.js'
import type { HttpRequest } from '../http/request.js'
import { errorResponse, type HttpResponse } from '../http/respond.js'
import { readStream, StreamIdleError, StreamTooLargeError } from '../net/read-stream.js'

/** Options of {@link createNodeListener}. */
export interface NodeListenerOptions {
  maxBodyBytes: number
  /**
   * A request body that sends nothing for this long is answered 408 and its connection closed
   * (issue 12 item 9); 0 = no limit. `limits.bodyIdleTimeoutMs` in the config.
   */
  bodyIdleTimeoutMs?: number
  /** Finds the client address (e.g. through trusted proxies); default: the socket's peer. */
  clientIp?: (req: IncomingMessage) => string | undefined
}

/**
 * Adapts the router to `node:http`: `(req, res)`, usable with `http.createServer` or as Express /
 * Connect middleware. The request is handed over without building a web `Request`, and the body is
 * read only by endpoints that need it, capped at `maxBodyBytes` (413 past it).
 */
export function createNodeListener(
  router: (request: HttpRequest) => Promise<HttpResponse>,
  options: NodeListenerOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const limit = options.maxBodyBytes
  return (req, res) => {
    const ip = options.clientIp ? options.clientIp(req) : req.socket.remoteAddress
    const { request, tooLarge } = nodeHttpRequest(req, {
      path: requestPath(req.url ?? '/'),
      maxBodyBytes: limit,
      ...(options.bodyIdleTimeoutMs !== undefined && {
        bodyIdleTimeoutMs: options.bodyIdleTimeoutMs,
      }),
      ...(ip !== undefined && { ip }),
    })
    router(request).then(
      (response) => sendNodeResponse(res, request.method, response, tooLarge()),
      (err) => sendNodeResponse(res, request.method, errorResponse(err), tooLarge()),
    )
  }
}

/**
 * The path of a request target, without the query; absolute-form targets too.
 *
 * @see [RFC 9112 §3.2](https://www.rfc-editor.org/rfc/rfc9112.html#section-3.2)
 */
export function requestPath(url: string): string {
  const q = url.indexOf('?')
  const path = q === -1 ? url : url.slice(0, q)
  if (path.startsWith('/')) return path
  try {
    return new URL(path).pathname
  } catch {
    return '/'
  }
}

/**
 * An {@link HttpRequest} over a `node:http` request, for this listener and the framework adapters.
 * `body` is where the bytes come from when a framework hands over its own stream (Fastify's
 * payload); `tooLarge()` tells, once answered, whether the body was cut off (at the size limit, or
 * idle past `bodyIdleTimeoutMs`), so that the connection is closed rather than reused.
 */
export function nodeHttpRequest(
  req: IncomingMessage,
  options: {
    path: string
    ip?: string
    maxBodyBytes: number
    body?: Readable
    bodyIdleTimeoutMs?: number
  },
): { request: HttpRequest; tooLarge: () => boolean } {
  let tooLarge = false
  const url = req.url ?? ''
  const q = url.indexOf('?')
  const request: HttpRequest = {
    method: req.method ?? 'GET',
    path: options.path,
    ...(q !== -1 && { query: url.slice(q + 1) }),
    header: (name) => {
      const v = req.headers[name]
      return Array.isArray(v) ? v.join(', ') : v
    },
    body: () =>
      readBody(
        options.body ?? req,
        req.headers['content-length'],
        options.maxBodyBytes,
        options.bodyIdleTimeoutMs ?? 0,
      ).catch((err) => {
        if (err instanceof RegistrationError && (err.status === 413 || err.status === 408)) {
          tooLarge = true
        }
        throw err
      }),
    ...(options.ip !== undefined && { ip: options.ip }),
  }
  return { request, tooLarge: () => tooLarge }
}

/**
 * Writes a router response; `close` (after a 413) ends the connection instead of reading on.
 *
 * @see [RFC 9110 §15.5.14](https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.14)
 */
export function sendNodeResponse(
  res: ServerResponse,
  method: string,
  response: HttpResponse,
  close: boolean,
): void {
  if (close) response.headers.connection = 'close'
  // a known length: one write for head and body, no chunked framing
  if (response.body !== undefined) {
    response.headers['content-length'] = String(Buffer.byteLength(response.body))
  }
  res.writeHead(response.status, response.headers)
  res.end(method === 'HEAD' ? undefined : response.body)
  // stop reading an oversized body: the connection is not reused
  if (close) res.once('finish', () => res.socket?.destroySoon())
}

/**
 * Thrown (and answered 500) when the request body was read before Registrar could read it: a body
 * parser such as `express.json()` ran first. Registrar needs the raw bytes (media type, UTF-8,
 * duplicate member names, its own size limit), and waiting for a stream that already ended would
 * hang the request.
 *
 * @see [RFC 7591 §3.1](https://www.rfc-editor.org/rfc/rfc7591.html#section-3.1)
 */
export class BodyAlreadyReadError extends Error {
  constructor() {
    super(
      'the request body was already read by another middleware (a body parser such as ' +
        'express.json() ran before Registrar); mount Registrar before any body parser, or ' +
        'scope the body parser to your own routes',
    )
    this.name = 'BodyAlreadyReadError'
  }
}

function readBody(
  stream: Readable,
  contentLength: string | undefined,
  limit: number,
  idleMs: number,
): Promise<Uint8Array> {
  const declared = Number(contentLength)
  if (declared > limit) return Promise.reject(bodyTooLarge(limit))
  // body-parser 1.x marks the request with _body; 2.x (and any other reader) leaves it ended
  if (stream.readableEnded || (stream as { _body?: unknown })._body === true) {
    return Promise.reject(new BodyAlreadyReadError())
  }
  // a client that stops sending mid-body is cut after idleMs, not at requestTimeout (issue 12 item 9)
  return readStream(stream, limit, { idleMs }).catch((err: unknown) => {
    // past the limit: 413; idle: 408; the client went away mid-body (ECONNRESET "aborted"): 400
    if (err instanceof StreamTooLargeError) throw bodyTooLarge(limit)
    if (err instanceof StreamIdleError) throw bodyTimedOut(idleMs)
    throw bodyIncomplete(err)
  })
}

/** A listening server and how to stop it gracefully. */
export interface RunningServer {
  server: Server
  port: number
  host: string
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then resolves. */
  close(graceMs?: number): Promise<void>
}

/** Connection limits of {@link listen} (`limits.*` in the config; issue 12 item 9). */
export interface ConnectionLimits {
  /** Whole request (headers and body) must arrive within this; 0 = no limit. Node's default: 300 s. */
  requestTimeoutMs?: number
  /** Request headers must arrive within this. Node's default: 60 s. */
  headersTimeoutMs?: number
  /** Simultaneous connections; past it new ones are dropped. 0 = no limit. */
  maxConnections?: number
}

/** The configured {@link ConnectionLimits} (`limits.*`). */
export function connectionLimits(config: {
  limits: { requestTimeoutMs: number; headersTimeoutMs: number; maxConnections: number }
}): ConnectionLimits {
  return {
    requestTimeoutMs: config.limits.requestTimeoutMs,
    headersTimeoutMs: config.limits.headersTimeoutMs,
    maxConnections: config.limits.maxConnections,
  }
}

/** Listens with the given listener on host:port (port 0 picks a free one). */
export async function listen(
  listener: (req: IncomingMessage, res: ServerResponse) => void,
  options: { port: number; host: string } & ConnectionLimits,
): Promise<RunningServer> {
  // loaded here, not at module load: importing `registrar` stays free of node:http
  const { createServer } = await import('node:http')
  const requestTimeout = options.requestTimeoutMs ?? 30_000
  const server = createServer(
    {
      keepAliveTimeout: 5000,
      requestTimeout,
      headersTimeout: options.headersTimeoutMs ?? Math.min(10_000, requestTimeout || 10_000),
      // Node checks the two timeouts above on this interval (default 30 s): check each second,
      // so that a slow request is cut within a second of its deadline
      connectionsCheckingInterval: 1000,
    },
    listener,
  )
  if (options.maxConnections) server.maxConnections = options.maxConnections
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  return {
    server,
    port: address.port,
    host: options.host,
    close: (graceMs = 10_000) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), graceMs)
        force.unref()
        server.close(() => {
          clearTimeout(force)
          resolve()
        })
        server.closeIdleConnections()
      }),
  }
}
