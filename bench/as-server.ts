// W5/W6's "registrar": an authorization server's endpoints on the built package, as an embedding AS
// would write them on node:http. Registrar's own endpoints seed the clients (open registration).
//   POST /token     (W5) the form parsed as Express would, authenticateClient, then 200
//   GET /authorize  (W6) getClient + matchRedirectUri, then 200 (400 when either fails)
//                   (W7) the same for Client ID Metadata Document clients: with --cimd N, N
//                   documents https://cimd.bench.example/clients/{i}.json are seeded into the
//                   store's document cache as a fetch would leave them (no origin is contacted)
// Run by bench/run.ts as plain JavaScript (transpiled, no loader), pinned like the others.
//
//   node as-server.mjs --dist /abs/dist/index.js --store URL --port 0 --host 127.0.0.1
//   → prints "listening on http://HOST:PORT"
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    dist: { type: 'string' },
    store: { type: 'string', default: 'memory' },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    cimd: { type: 'string', default: '0' },
  },
})
if (!values.dist) throw new Error('usage: as-server.mjs --dist /abs/dist/index.js --store URL')
const registrar: typeof import('../src/index.js') = await import(pathToFileURL(values.dist).href)
const issuer = 'http://127.0.0.1'
const documents = Number(values.cimd)
const app = await registrar.createRegistrar({
  config: {
    issuer,
    registration: { mode: 'open' },
    log: { level: 'silent' },
    ...(documents > 0 && { clientIdMetadataDocuments: { enabled: true } }),
  },
  store: values.store as string,
  logger: false,
})
await app.clientRegistry.ready()
if (documents > 0) {
  const now = Math.floor(Date.now() / 1000)
  for (let i = 0; i < documents; i++) {
    await app.store.saveMetadataDocument({
      client_id: `https://cimd.bench.example/clients/${i}.json`,
      metadata: {
        client_name: `CIMD bench client ${i}`,
        redirect_uris: ['https://app.example.com/callback'],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        application_type: 'web',
      },
      fetchedAt: now,
      expiresAt: now + 86_400,
      staleUntil: now + 90_000,
      bytes: 512,
    })
  }
}

const json = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
  res.end(JSON.stringify(body))
}

const server = createServer({ keepAliveTimeout: 5000 }, (req, res) => {
  const url = req.url ?? '/'
  if (req.method === 'POST' && url === '/token') {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
      app.authenticateClient({ headers: req.headers, body }).then(
        ({ client }) => json(res, 200, { client_id: client.client_id }),
        (err) => {
          const response = registrar.clientAuthenticationErrorResponse(err)
          res.writeHead(response.status, Object.fromEntries(response.headers))
          response.text().then((text) => res.end(text))
        },
      )
    })
    return
  }
  if (req.method === 'GET' && url.startsWith('/authorize?')) {
    const params = new URLSearchParams(url.slice(url.indexOf('?') + 1))
    app.getClient(params.get('client_id') ?? '').then(
      (client) => {
        const redirectUri =
          client && app.matchRedirectUri(client, params.get('redirect_uri') ?? undefined)
        if (redirectUri) json(res, 200, { client_id: client?.client_id, redirect_uri: redirectUri })
        else json(res, 400, { error: 'invalid_request' })
      },
      () => json(res, 503, { error: 'temporarily_unavailable' }),
    )
    return
  }
  app.nodeListener(req, res)
})

server.listen(Number(values.port), values.host, () => {
  const { port } = server.address() as AddressInfo
  process.stdout.write(`listening on http://${values.host}:${port}\n`)
})

const stop = () => {
  server.close()
  server.closeAllConnections()
  app.close().finally(() => process.exit(0))
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
// started by the harness over IPC: go when it goes
process.on('disconnect', stop)
process.channel?.unref()
