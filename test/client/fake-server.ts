import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A request as the fake server saw it: the raw request target, headers and body. */
export interface Seen {
  method: string
  /** The request target exactly as sent (path and query). */
  url: string
  headers: IncomingHttpHeaders
  body: string
  json: Record<string, unknown> | undefined
}

export interface Reply {
  status: number
  headers?: Record<string, string>
  /** An object is sent as JSON; a string as is. */
  body?: unknown
  /** Wait this long before answering. */
  delayMs?: number
}

/**
 * A tiny scripted server on 127.0.0.1:0: every request is recorded, and `handler` decides the
 * answer. Stands in for "any RFC 7591 / 7592 server", misbehaving ones included.
 */
export async function fakeServer(
  handler: (request: Seen, index: number) => Reply | Promise<Reply>,
) {
  const seen: Seen[] = []
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks).toString('utf8')
    let json: Record<string, unknown> | undefined
    try {
      json = body ? JSON.parse(body) : undefined
    } catch {
      json = undefined
    }
    const request: Seen = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body,
      json,
    }
    seen.push(request)
    const reply = await handler(request, seen.length - 1)
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs))
    if (res.destroyed) return
    const headers: Record<string, string> = { ...reply.headers }
    let payload: string | undefined
    if (typeof reply.body === 'string') payload = reply.body
    else if (reply.body !== undefined) {
      payload = JSON.stringify(reply.body)
      headers['content-type'] ??= 'application/json'
    }
    res.writeHead(reply.status, headers)
    res.end(payload)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
