import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { RegistrationError } from '../core/errors.js'
import type { RequestRouter } from './handler.js'
import { bodyIncomplete, bodyTooLarge } from './json-body.js'
import type { HttpRequest } from './request.js'
import { errorResponse, type HttpResponse } from './respond.js'

/** Options of {@link createNodeListener}. */
export interface NodeListenerOptions {
  maxBodyBytes: number
  /** Finds the client address (e.g. through trusted proxies); default: the socket's peer. */
  clientIp?: (req: IncomingMessage) => string | undefined
}

/**
 * Adapts the router to `node:http`: `(req, res)`, usable with `http.createServer` or as Express /
 * Connect middleware. The request is handed over without building a web `Request`, and the body is
 * read only by endpoints that need it, capped at `maxBodyBytes` (413 past it).
 */
export function createNodeListener(
  router: RequestRouter,
  options: NodeListenerOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const limit = options.maxBodyBytes
  return (req, res) => {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    let path = q === -1 ? url : url.slice(0, q)
    if (!path.startsWith('/')) {
      try {
        path = new URL(path).pathname // absolute-form request target (RFC 9112 §3.2.2)
      } catch {
        path = '/'
      }
    }
    const ip = options.clientIp ? options.clientIp(req) : req.socket.remoteAddress
    let tooLarge = false
    const request: HttpRequest = {
      method: req.method ?? 'GET',
      path,
      header: (name) => {
        const v = req.headers[name]
        return Array.isArray(v) ? v.join(', ') : v
      },
      body: () =>
        readBody(req, limit).catch((err) => {
          if (err instanceof RegistrationError && err.status === 413) tooLarge = true
          throw err
        }),
      ...(ip !== undefined && { ip }),
    }
    router(request).then(
      (response) => send(res, request.method, response, tooLarge),
      (err) => send(res, request.method, errorResponse(err), tooLarge),
    )
  }
}

function send(res: ServerResponse, method: string, response: HttpResponse, close: boolean): void {
  if (close) response.headers.connection = 'close'
  res.writeHead(response.status, response.headers)
  res.end(method === 'HEAD' ? undefined : response.body)
  // stop reading an oversized body: the connection is not reused
  if (close) res.once('finish', () => res.socket?.destroySoon())
}

function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length'])
  if (declared > limit) return Promise.reject(bodyTooLarge(limit))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        cleanup()
        reject(bodyTooLarge(limit))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks))
    }
    // the client went away mid-body (ECONNRESET "aborted"): its fault, not the server's (400)
    const onError = (cause: Error) => {
      cleanup()
      reject(bodyIncomplete(cause))
    }
    const cleanup = () => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
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

/** Listens with the given listener on host:port (port 0 picks a free one). */
export async function listen(
  listener: (req: IncomingMessage, res: ServerResponse) => void,
  options: { port: number; host: string },
): Promise<RunningServer> {
  const server = createServer({ keepAliveTimeout: 5000 }, listener)
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
