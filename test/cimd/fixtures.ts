import { generateKeyPairSync } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { selfSignedCertificate, startTlsServer, type TlsServer } from '../tls-helpers.js'

/** What the document server answers for one path. */
export type Route = (req: IncomingMessage, res: ServerResponse) => void

/**
 * An https server on 127.0.0.2 with a throwaway CA, serving Client ID Metadata Documents per path
 * and counting the requests each path saw (`Fetches(url)` of spec/cimd.md §0).
 */
export interface DocumentServer extends TlsServer {
  caFile: string
  url(path: string): string
  route(path: string, route: Route): void
  /** Serve `document` as JSON (its client_id set to the URL unless given), with extra headers. */
  json(path: string, document: Record<string, unknown>, headers?: Record<string, string>): string
  hits(path: string): number
  requests: { path: string; headers: IncomingMessage['headers'] }[]
  stop(): Promise<void>
}

export async function startDocumentServer(): Promise<DocumentServer> {
  const tls = selfSignedCertificate()
  const routes = new Map<string, Route>()
  const counts = new Map<string, number>()
  const requests: DocumentServer['requests'] = []
  const server = await startTlsServer(tls, (req, res) => {
    const path = req.url ?? '/'
    counts.set(path, (counts.get(path) ?? 0) + 1)
    requests.push({ path, headers: req.headers })
    const route = routes.get(path)
    if (!route) {
      res.writeHead(404).end()
      return
    }
    route(req, res)
  })
  const url = (path: string) => `${server.origin}${path}`
  return {
    ...server,
    caFile: tls.caFile,
    url,
    route: (path, route) => routes.set(path, route),
    json(path, document, headers = {}) {
      const body = JSON.stringify({ client_id: url(path), ...document })
      routes.set(path, (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(body)
      })
      return url(path)
    },
    hits: (path) => counts.get(path) ?? 0,
    requests,
    async stop() {
      await server.close()
      tls.cleanup()
    },
  }
}

const LANGUAGES = [
  'de',
  'fr',
  'es',
  'it',
  'pt-BR',
  'ja',
  'ko',
  'zh-CN',
  'zh-TW',
  'ru',
  'pl',
  'tr',
  'cs',
  'nl',
  'sv',
  'da',
  'fi',
  'nb',
  'uk',
  'he',
  'ar',
  'hi',
  'th',
  'id',
  'vi',
  'hu',
  'ro',
  'el',
]

/** Public RSA keys as published in a jwks (no private members). */
function publicRsaKeys(count: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    return { ...publicKey.export({ format: 'jwk' }), kid: `key-${i + 1}`, use: 'sig', alg: 'RS256' }
  })
}

/**
 * A document shaped like VS Code's (design.md §5: claimed https plus port-less and fixed-port
 * loopback redirects, `none`), with the localised names and vendor members that take it past 5 KiB.
 */
export function vscodeShapedDocument(): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    client_name: 'Visual Studio Code',
    client_uri: 'https://code.visualstudio.com/',
    logo_uri: 'https://code.visualstudio.com/assets/images/code-stable.png',
    tos_uri: 'https://code.visualstudio.com/license',
    policy_uri: 'https://privacy.microsoft.com/privacystatement',
    software_id: 'aebc6443-996d-45c2-90f0-388ff96faa56',
    software_version: '1.107.0',
    redirect_uris: ['https://vscode.dev/redirect', 'http://127.0.0.1:33418/', 'http://127.0.0.1/'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    application_type: 'native',
    contacts: ['vscode-mcp@microsoft.example'],
    x_vscode_release_notes: `https://code.visualstudio.com/updates/v1_107 ${'·'.repeat(40)}`,
  }
  for (const lang of LANGUAGES) {
    doc[`client_name#${lang}`] = `Visual Studio Code (${lang})`
    doc[`x_description#${lang}`] =
      `Visual Studio Code connects to MCP servers on your behalf to use their tools and resources (${lang}).`
  }
  return doc
}

/**
 * A document shaped like claude.ai's connector document, which exceeded 5,120 bytes
 * (cloudflare/mcp #45/#46): a claimed https callback, Claude Code's port-less loopback callbacks,
 * `none` preferred over `private_key_jwt`, and its published keys.
 */
export function claudeShapedDocument(): Record<string, unknown> {
  return {
    client_name: 'Claude',
    client_uri: 'https://claude.ai',
    logo_uri: 'https://claude.ai/images/claude_app_icon.png',
    tos_uri: 'https://www.anthropic.com/legal/consumer-terms',
    policy_uri: 'https://www.anthropic.com/legal/privacy',
    redirect_uris: [
      'https://claude.ai/api/mcp/auth_callback',
      'https://claude.com/api/mcp/auth_callback',
      'http://localhost/callback',
      'http://127.0.0.1/callback',
    ],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
    jwks: { keys: publicRsaKeys(3) },
    scope: 'openid profile email offline_access',
    software_id: 'claude-ai-mcp-connector',
    software_version: '2026.11',
    contacts: ['security@anthropic.example'],
    ...Object.fromEntries(LANGUAGES.map((lang) => [`client_name#${lang}`, `Claude (${lang})`])),
    ...Object.fromEntries(
      LANGUAGES.map((lang) => [
        `x_connector_description#${lang}`,
        `Claude connects to your MCP server to use its tools on your behalf (${lang}).`,
      ]),
    ),
  }
}
