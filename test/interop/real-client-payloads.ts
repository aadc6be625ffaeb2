/**
 * What real MCP clients send when they register. Each gets 201 from `registrar serve`
 * (open mode) with its values echoed; the dot-less schemes pass through the config's
 * `registration.allowedPrivateUseSchemes`.
 */

export interface RealClient {
  name: string
  body: Record<string, unknown>
  /** application_type registered: sent, or inferred (docs/design-decisions.md). */
  applicationType: 'web' | 'native'
  /** Whether a client_secret is issued (RFC 7591 §3.2.1: only for the secret-based methods). */
  secret: boolean
  /** Members sent but legitimately not echoed as sent, with what is registered instead. */
  registered?: Record<string, unknown>
  origin?: string
}

export const CLIENTS: RealClient[] = [
  {
    name: 'Claude Code',
    body: {
      client_name: 'Claude Code (my-mcp-server)',
      redirect_uris: ['http://localhost:54212/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
    },
    applicationType: 'native',
    secret: false,
  },
  {
    name: 'claude.ai connector',
    body: {
      client_name: 'Claude',
      redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    },
    applicationType: 'web',
    secret: true,
  },
  {
    name: 'VS Code',
    body: {
      client_name: 'Visual Studio Code',
      redirect_uris: [
        'https://vscode.dev/redirect',
        'http://127.0.0.1:33418/',
        'http://127.0.0.1/',
      ],
      grant_types: [
        'authorization_code',
        'refresh_token',
        'urn:ietf:params:oauth:grant-type:device_code',
      ],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
    },
    applicationType: 'native',
    secret: false,
    // RFC 7591 §3.2.1: a grant the server does not offer is dropped and the result echoed (P-5)
    registered: { grant_types: ['authorization_code', 'refresh_token'] },
  },
  {
    name: 'Cursor',
    body: {
      client_name: 'Cursor',
      redirect_uris: ['cursor://anysphere.cursor-mcp/oauth/user-my-server/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    },
    applicationType: 'native',
    // token_endpoint_auth_method omitted: client_secret_basic (RFC 7591 §2)
    secret: true,
  },
  {
    name: 'mcp-remote',
    body: {
      redirect_uris: ['http://localhost:3334/oauth/callback'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      client_name: 'MCP CLI Proxy',
      client_uri: 'https://github.com/modelcontextprotocol/mcp-cli',
      software_id: '2e6dc280-f3c3-4e01-99a7-8181dbd1d23d',
      software_version: '0.1.29',
    },
    applicationType: 'native',
    secret: false,
  },
  {
    name: 'MCP Inspector',
    body: {
      redirect_uris: ['http://localhost:6274/oauth/callback'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      client_name: 'MCP Inspector',
      client_uri: 'https://github.com/modelcontextprotocol/inspector',
      scope: '',
    },
    applicationType: 'native',
    secret: false,
    // RFC 7591 §2 (scope): an empty scope is treated as omitted
    registered: { scope: undefined },
    origin: 'http://localhost:6274',
  },
  {
    name: 'Codex',
    body: {
      client_name: 'Codex',
      redirect_uris: ['http://127.0.0.1:1455/callback/my-server'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
    },
    applicationType: 'native',
    secret: false,
  },
]

/**
 * The MCP TypeScript SDK's own example OAuth client (`examples/client/simpleOAuthClient`): a
 * confidential client on a loopback callback.
 */
export const MCP_SDK_EXAMPLE_CLIENT: Record<string, unknown> = {
  client_name: 'Simple OAuth MCP Client',
  redirect_uris: ['http://localhost:8090/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_post',
}
