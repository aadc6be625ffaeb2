import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer as createHttpsServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { createServer as createTcpServer } from 'node:net'
import { join } from 'node:path'
import { tempDir } from './helpers.js'

/** A throwaway self-signed certificate for 127.0.0.2, 127.0.0.1 and issuer.test (openssl is on the machine). */
export function selfSignedCertificate(): {
  key: string
  cert: string
  caFile: string
  cleanup: () => void
} {
  const { dir, cleanup } = tempDir('registrar-tls-')
  const key = join(dir, 'key.pem')
  const cert = join(dir, 'cert.pem')
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.2',
      '-addext',
      'subjectAltName=IP:127.0.0.2,IP:127.0.0.1,DNS:issuer.test,DNS:evil.test',
    ],
    { stdio: 'ignore' },
  )
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8'), caFile: cert, cleanup }
}

export interface TlsServer {
  server: Server
  port: number
  origin: string
  close(): Promise<void>
}

/** An https server on 127.0.0.2 (allow-listed in tests as if it were a public host). */
export async function startTlsServer(
  tls: { key: string; cert: string },
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  host = '127.0.0.2',
): Promise<TlsServer> {
  const server = createHttpsServer({ key: tls.key, cert: tls.cert }, handler)
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  const port = (server.address() as AddressInfo).port
  return {
    server,
    port,
    origin: `https://${host}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A TCP listener that only counts connections: proof that a refused fetch never connected. */
export async function startConnectionCounter(host = '127.0.0.1'): Promise<{
  port: number
  connections: () => number
  close: () => Promise<void>
}> {
  let count = 0
  const server = createTcpServer((socket) => {
    count++
    socket.destroy()
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => count,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
