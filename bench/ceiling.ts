// The benchmark's ceiling: the least a bare node:http server does to answer the same requests as
// the registrar. POST reads the body, JSON.parse's it and answers 201 with a random 256-bit
// client_id, or for a form body (W5's token requests) parses it and answers 200; GET answers 200
// with a small JSON document. Nothing is stored, validated or logged.
// Run by bench/run.ts as plain JavaScript (transpiled, no loader), pinned like the registrar.
//
//   node ceiling.mjs --port 0 --host 127.0.0.1   → prints "listening on http://HOST:PORT"
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
  },
})

const server = createServer({ keepAliveTimeout: 5000 }, (req, res) => {
  if (req.method === 'POST') {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      let body: string
      if (req.headers['content-type'] === 'application/x-www-form-urlencoded') {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
        res.statusCode = 200
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify({ grant_type: form.get('grant_type') }))
        return
      }
      try {
        JSON.parse(Buffer.concat(chunks).toString('utf8'))
        res.statusCode = 201
        body = JSON.stringify({ client_id: randomBytes(32).toString('base64url') })
      } catch {
        res.statusCode = 400
        body = '{"error":"invalid_request"}'
      }
      res.setHeader('content-type', 'application/json')
      res.end(body)
    })
    return
  }
  const url = req.url ?? '/'
  res.statusCode = 200
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify({ client_id: url.slice(url.lastIndexOf('/') + 1) }))
})

server.listen(Number(values.port), values.host, () => {
  const { port } = server.address() as AddressInfo
  process.stdout.write(`listening on http://${values.host}:${port}\n`)
})

const stop = () => {
  server.close()
  server.closeAllConnections()
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
// started by the harness over IPC: go when it goes
process.on('disconnect', stop)
process.channel?.unref()
