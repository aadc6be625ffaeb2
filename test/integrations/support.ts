import type { ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js'
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js'
import { childEnv, spawnUntilListening, tempDir } from '../helpers.js'

const ROOT = new URL('../../', import.meta.url).pathname

/** A running example (`examples/<name>/server.js`), a real process on a real socket. */
export interface Example {
  /** The issuer, from its "listening on" line. */
  url: string
  proc: ChildProcess
  output: () => string
  stop(): Promise<number | null>
}

/**
 * Starts `node examples/<name>/server.js --port 0 [args]` (the built package must exist: `npm
 * test` builds it) with `config` written to a `--config` file, and resolves on its listening line.
 * The bound is generous (30 s): the machine is shared and the MCP SDK is slow to import.
 */
export async function startExample(
  name: 'oidc-provider' | 'mcp-server',
  args: string[] = [],
  config?: Record<string, unknown>,
): Promise<Example> {
  const scratch = tempDir(`registrar-example-${name}-`)
  const extra: string[] = []
  if (config) {
    const path = join(scratch.dir, 'config.json')
    writeFileSync(path, JSON.stringify(config))
    extra.push('--config', path)
  }
  const { proc, url, output, exited } = await spawnUntilListening(
    [join(ROOT, 'examples', name, 'server.js'), '--port', '0', ...extra, ...args],
    { cwd: scratch.dir, env: childEnv(), label: name },
  )
  return {
    url,
    proc,
    output,
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM')
      const code = await exited
      scratch.cleanup()
      return code
    },
  }
}

/**
 * A user agent that follows redirects by hand, keeping the cookies it is given (oidc-provider's
 * interaction and session cookies), until a redirect leaves for `redirectUri`. Returns that
 * redirect's URL; throws with the page when the server answers anything but a redirect.
 */
export async function followToClient(start: string, redirectUri: string): Promise<string> {
  const jar = new Map<string, string>()
  let url = start
  for (let hop = 0; hop < 12; hop++) {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
    const res = await fetch(url, {
      redirect: 'manual',
      headers: { connection: 'close', ...(cookie && { cookie }) },
    })
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';')
      const eq = pair.indexOf('=')
      jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim())
    }
    const location = res.headers.get('location')
    if (res.status >= 300 && res.status < 400 && location) {
      const next = new URL(location, url).href
      if (next.startsWith(redirectUri)) return next
      url = next
      continue
    }
    throw new Error(`the browser stopped at ${url}: ${res.status} ${await res.text()}`)
  }
  throw new Error('too many redirects')
}

/** What a browser gets at `url` without following redirects. */
export async function visit(
  url: string,
): Promise<{ status: number; location: string | null; body: string }> {
  // a fresh connection each time: a pooled one may be closing at the server's keep-alive timeout
  // when a slow step (a CLI run on a loaded machine) came in between ("other side closed")
  const res = await fetch(url, { redirect: 'manual', headers: { connection: 'close' } })
  return { status: res.status, location: res.headers.get('location'), body: await res.text() }
}

/** An in-memory OAuthClientProvider whose "browser" is {@link followToClient}. */
export class HeadlessProvider implements OAuthClientProvider {
  information: OAuthClientInformationMixed | undefined
  saved: OAuthTokens | undefined
  verifier = ''
  authorizationUrl: URL | undefined
  readonly redirectUrl: string
  readonly clientMetadata: OAuthClientMetadata
  /** Set: the SDK uses this URL as the client_id (a Client ID Metadata Document) instead of registering. */
  readonly clientMetadataUrl?: string
  constructor(
    redirectUrl: string,
    clientMetadata: OAuthClientMetadata,
    clientMetadataUrl?: string,
  ) {
    this.redirectUrl = redirectUrl
    this.clientMetadata = clientMetadata
    if (clientMetadataUrl !== undefined) this.clientMetadataUrl = clientMetadataUrl
  }
  clientInformation() {
    return this.information
  }
  saveClientInformation(information: OAuthClientInformationMixed) {
    this.information = information
  }
  tokens() {
    return this.saved
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier
  }
  codeVerifier() {
    return this.verifier
  }
}
