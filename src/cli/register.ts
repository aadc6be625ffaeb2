import { randomBytes } from 'node:crypto'
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fchmodSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import {
  type AuthorizationServerMetadata,
  assertSecureUrl,
  type ClientInformationResponse,
  type ClientMetadataRequest,
  type ClientRegistration,
  discover,
  type RegistrationCredentials,
  RegistrationError,
  register as registerClient,
} from '../client/index.js'
import { type Command, parse, positiveInt, UsageError } from './common.js'

/**
 * Flags that set client metadata; `register` and `registration update` share them.
 *
 * @see [RFC 7591 §2](https://www.rfc-editor.org/rfc/rfc7591.html#section-2)
 */
export const METADATA_OPTIONS = {
  'redirect-uri': { type: 'string', multiple: true },
  name: { type: 'string' },
  'grant-type': { type: 'string', multiple: true },
  'auth-method': { type: 'string' },
  scope: { type: 'string', multiple: true },
  metadata: { type: 'string' },
  timeout: { type: 'string' },
} as const

const METADATA_FLAGS: [string, string][] = [
  ['--redirect-uri URI', 'a redirect URI; repeat for several (redirect_uris)'],
  ['--name NAME', 'client_name'],
  ['--grant-type TYPE', 'a grant type; repeat for several (grant_types)'],
  ['--auth-method METHOD', 'token_endpoint_auth_method: client_secret_basic, none, …'],
  ['--scope SCOPE', 'a scope; repeat or space-separate for several (scope)'],
  ['--metadata FILE', 'a JSON object of client metadata; the flags above override it'],
]

/**
 * Help lines of {@link METADATA_OPTIONS}, the flag column `width` wide after `indent`.
 *
 * @see [RFC 7591 §2](https://www.rfc-editor.org/rfc/rfc7591.html#section-2)
 */
export function metadataHelp(indent: number, width: number): string {
  return METADATA_FLAGS.map(
    ([flag, text]) => `${' '.repeat(indent)}${flag.padEnd(width)} ${text}`,
  ).join('\n')
}

const HELP = `Usage: registrar register --issuer URL --redirect-uri URI… --out FILE [options]

Registers a client at an OAuth 2.0 authorization server (RFC 7591) and writes its credentials,
including those that manage the registration (RFC 7592), to a file readable only by you (0600).
Works with any RFC 7591 server, not only Registrar.

  --issuer URL                 the server's issuer; the registration endpoint is discovered
                               (RFC 8414, then OpenID Connect Discovery)
  --registration-endpoint URL  register here instead of discovering the endpoint
${metadataHelp(2, 28)}
  --timeout SECONDS            give up on the server after this long (default 30)
  --iat TOKEN                  initial access token, if the server requires one (RFC 7591 §3);
                               or set REGISTRAR_IAT
  --software-statement FILE    a software statement (a signed JWT) to send verbatim
  --out FILE                   where to write the credentials (JSON, mode 0600)
  --force                      overwrite FILE if it exists
  --json                       print the client information (without secrets) as JSON
  -h, --help                   show this help

URLs must be https; http is accepted only for localhost, 127.0.0.1 and [::1].

Example, against "npm start" on this machine:
  IAT=$(registrar token create --max-uses 1 2>/dev/null | tail -1)
  registrar register --issuer http://127.0.0.1:3000 --iat "$IAT" \\
    --redirect-uri https://app.example.com/callback --name "Example App" --out creds.json

Then: registrar registration show|update|delete --creds creds.json
Exit codes: 0 registered, 1 the server refused or could not be reached, 2 usage error.`

/**
 * The credentials file: what `registrar registration` needs to manage the client, and the last
 * client information response without its secrets (they are kept once, at the top level).
 *
 * @see [RFC 7592 §3](https://www.rfc-editor.org/rfc/rfc7592.html#section-3)
 */
export interface CredentialsFile {
  issuer?: string
  registration_endpoint: string
  client_id: string
  client_secret?: string
  client_secret_expires_at?: number
  registration_client_uri?: string
  registration_access_token?: string
  client_information: Record<string, unknown>
}

/**
 * `registrar register`: RFC 7591 registration at any server, credentials saved with mode 0600.
 *
 * @see [RFC 7591 §3](https://www.rfc-editor.org/rfc/rfc7591.html#section-3)
 */
export const register: Command = {
  name: 'register',
  summary: 'register a client at any RFC 7591 server and save its credentials',
  help: HELP,
  async run(args) {
    const { values } = parse(args, {
      ...METADATA_OPTIONS,
      issuer: { type: 'string' },
      'registration-endpoint': { type: 'string' },
      iat: { type: 'string' },
      'software-statement': { type: 'string' },
      out: { type: 'string' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
    })
    if (values.help) {
      process.stdout.write(`${HELP}\n`)
      return 0
    }
    const issuer: string | undefined = values.issuer
    const endpointFlag: string | undefined = values['registration-endpoint']
    if (issuer === undefined && endpointFlag === undefined) {
      throw new UsageError('--issuer or --registration-endpoint is required')
    }
    if (values.out === undefined) throw new UsageError('--out FILE is required')
    const out: string = values.out
    if (existsSync(out) && !values.force) {
      throw new UsageError(
        `${out} exists; it may hold the only credentials of another registration. Use --force to overwrite it`,
      )
    }
    checkWritableDirectory(out)
    if (issuer !== undefined) secureUrlFlag(issuer, '--issuer')
    if (endpointFlag !== undefined) secureUrlFlag(endpointFlag, '--registration-endpoint')
    const metadata = metadataFromFlags(values, {})
    if (!metadata.redirect_uris && !metadata.grant_types) {
      throw new UsageError(
        '--redirect-uri is required (or --grant-type for a client without redirects, such as client_credentials)',
      )
    }
    const softwareStatement =
      values['software-statement'] === undefined
        ? undefined
        : readText(values['software-statement'], '--software-statement').trim()
    const initialAccessToken: string | undefined = values.iat ?? process.env.REGISTRAR_IAT
    const timeoutMs = timeoutFlag(values.timeout)

    let endpoint = endpointFlag
    let registration: ClientRegistration
    try {
      if (endpoint === undefined) {
        const serverMetadata: AuthorizationServerMetadata = await discover(issuer as string, {
          timeoutMs,
        })
        endpoint = serverMetadata.registration_endpoint
        if (endpoint === undefined) {
          process.stderr.write(
            `registrar register: ${issuer} advertises no registration_endpoint: it does not offer dynamic client registration.\nhint: if you know the endpoint, pass it with --registration-endpoint\n`,
          )
          return 1
        }
      }
      registration = await registerClient(endpoint, metadata, {
        timeoutMs,
        ...(initialAccessToken !== undefined && { initialAccessToken }),
        ...(softwareStatement !== undefined && { softwareStatement }),
      })
    } catch (err) {
      return reportFailure('register', err, 'register')
    }
    printWarnings('register', registration.warnings)
    const information = registration.information as ClientInformationResponse
    const file: CredentialsFile = {
      ...(issuer !== undefined && { issuer }),
      registration_endpoint: endpoint,
      ...registration.credentials,
      client_information: withoutSecrets(information),
    }
    if (!saveCredentials(out, file, 'register')) return 1
    if (values.json) {
      process.stdout.write(`${JSON.stringify(withoutSecrets(information), null, 2)}\n`)
    } else {
      process.stdout.write(
        `registered client ${registration.client_id}\ncredentials written to ${out} (mode 0600)\n`,
      )
    }
    if (!registration.manageable) {
      process.stderr.write(
        'registrar register: note: the server issued no registration_client_uri and registration_access_token, so "registrar registration" cannot manage this client (RFC 7592 is optional)\n',
      )
    }
    return 0
  },
}

/**
 * Builds client metadata: `base`, then the --metadata file's members, then the flags.
 *
 * @see [RFC 7591 §2](https://www.rfc-editor.org/rfc/rfc7591.html#section-2)
 */
export function metadataFromFlags(
  // biome-ignore lint/suspicious/noExplicitAny: parseArgs values, typed by METADATA_OPTIONS
  values: Record<string, any>,
  base: ClientMetadataRequest,
): ClientMetadataRequest {
  const metadata: Record<string, unknown> = { ...base }
  if (values.metadata !== undefined) {
    const text = readText(values.metadata, '--metadata')
    let file: unknown
    try {
      file = JSON.parse(text)
    } catch (err) {
      throw new UsageError(
        `--metadata ${values.metadata} is not valid JSON: ${(err as Error).message}`,
      )
    }
    if (file === null || typeof file !== 'object' || Array.isArray(file)) {
      throw new UsageError(`--metadata ${values.metadata} must hold a JSON object`)
    }
    Object.assign(metadata, file)
  }
  if (values['redirect-uri'] !== undefined) metadata.redirect_uris = values['redirect-uri']
  if (values.name !== undefined) metadata.client_name = values.name
  if (values['grant-type'] !== undefined) metadata.grant_types = values['grant-type']
  if (values['auth-method'] !== undefined)
    metadata.token_endpoint_auth_method = values['auth-method']
  if (values.scope !== undefined) metadata.scope = (values.scope as string[]).join(' ')
  return metadata as ClientMetadataRequest
}

/**
 * `--timeout SECONDS` in milliseconds; 30 s when absent.
 *
 * @see [RFC 7591 §3](https://www.rfc-editor.org/rfc/rfc7591.html#section-3)
 */
export function timeoutFlag(value: string | undefined): number {
  const seconds = positiveInt('--timeout', value)
  return seconds === undefined ? 30_000 : seconds * 1000
}

function secureUrlFlag(value: string, flag: string): void {
  try {
    assertSecureUrl(value, flag)
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

function readText(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new UsageError(`${flag}: cannot read ${path}: ${(err as Error).message}`)
  }
}

/**
 * The client information with the client secret and the registration access token left out.
 *
 * @see [RFC 7592 §5](https://www.rfc-editor.org/rfc/rfc7592.html#section-5)
 */
export function withoutSecrets(information: ClientInformationResponse): Record<string, unknown> {
  const { client_secret: _secret, registration_access_token: _token, ...rest } = information
  return rest
}

/**
 * Writes the credentials file atomically: a temporary file in the same directory, created with
 * mode 0600 and synced, then renamed over the target. A crash leaves the old file or the new one,
 * never half of one, and the secrets are never readable by others, even for a moment.
 */
function writeCredentialsFile(path: string, data: CredentialsFile): void {
  const target = resolve(path)
  const temp = join(
    dirname(target),
    `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  )
  const fd = openSync(temp, 'wx', 0o600)
  try {
    try {
      fchmodSync(fd, 0o600) // the umask may have taken bits away; make it exactly 0600
      writeSync(fd, `${JSON.stringify(data, null, 2)}\n`)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(temp, target)
  } catch (err) {
    rmSync(temp, { force: true })
    throw err
  }
}

/**
 * Writes the credentials file; if that fails, the credentials, which exist nowhere else now, go
 * to stderr so the registration is not lost with them. Returns whether the file was written.
 *
 * @see [RFC 7592 §2.1](https://www.rfc-editor.org/rfc/rfc7592.html#section-2.1)
 */
export function saveCredentials(path: string, file: CredentialsFile, command: string): boolean {
  try {
    writeCredentialsFile(path, file)
    return true
  } catch (err) {
    process.stderr.write(
      `registrar ${command}: cannot write ${path}: ${(err as Error).message}\nThese credentials are stored nowhere else; keep them safe:\n${JSON.stringify(file, null, 2)}\n`,
    )
    return false
  }
}

/** Fails before registering when the credentials could not be written afterwards. */
function checkWritableDirectory(path: string): void {
  const dir = dirname(resolve(path))
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory')
    accessSync(dir, constants.W_OK)
  } catch (err) {
    throw new UsageError(`--out ${path}: cannot write in ${dir}: ${(err as Error).message}`)
  }
}

/**
 * Reads and checks a credentials file written by `registrar register`; warns when others can
 * read it (RFC 7592 §5: the token is a secret).
 *
 * @see [RFC 7592 §5](https://www.rfc-editor.org/rfc/rfc7592.html#section-5)
 */
export function readCredentialsFile(path: string): CredentialsFile {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new UsageError(`--creds: cannot read ${path}: ${(err as Error).message}`)
  }
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`--creds ${path} is not valid JSON: ${(err as Error).message}`)
  }
  const file = data as Partial<CredentialsFile> | null
  if (
    file === null ||
    typeof file !== 'object' ||
    typeof file.client_id !== 'string' ||
    typeof file.registration_endpoint !== 'string'
  ) {
    throw new UsageError(
      `--creds ${path} is not a credentials file written by "registrar register" (client_id and registration_endpoint are missing)`,
    )
  }
  if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) {
    process.stderr.write(
      `registrar: warning: ${path} is readable by other users; it holds secrets: chmod 600 ${path}\n`,
    )
  }
  return { client_information: {}, ...file } as CredentialsFile
}

/**
 * The credentials part of a credentials file.
 *
 * @see [RFC 7592 §3](https://www.rfc-editor.org/rfc/rfc7592.html#section-3)
 */
export function credentialsOf(file: CredentialsFile): RegistrationCredentials {
  return {
    client_id: file.client_id,
    ...(file.client_secret !== undefined && { client_secret: file.client_secret }),
    ...(file.client_secret_expires_at !== undefined && {
      client_secret_expires_at: file.client_secret_expires_at,
    }),
    ...(file.registration_client_uri !== undefined && {
      registration_client_uri: file.registration_client_uri,
    }),
    ...(file.registration_access_token !== undefined && {
      registration_access_token: file.registration_access_token,
    }),
  }
}

/**
 * Prints the deviations from the RFCs the client library tolerated.
 *
 * @see [RFC 7591 §3.2.1](https://www.rfc-editor.org/rfc/rfc7591.html#section-3.2.1)
 */
export function printWarnings(command: string, warnings: readonly string[]): void {
  for (const w of warnings) process.stderr.write(`registrar ${command}: warning: ${w}\n`)
}

const HINTS: Record<string, string> = {
  invalid_redirect_uri:
    'check --redirect-uri: absolute https URIs without a fragment; http only on localhost, 127.0.0.1 or [::1] (native apps); or a private-use scheme the server allows',
  invalid_client_metadata:
    "check the metadata flags and the --metadata file against the server's discovery document (its *_supported lists)",
  invalid_software_statement:
    'the software statement is malformed, expired or its signature cannot be verified: get a fresh one from its issuer',
  unapproved_software_statement:
    "the server does not trust the statement's issuer or does not allow this software: ask the server's operator",
  too_many_requests: 'the server limits registrations: try again later',
  temporarily_unavailable: 'the server is busy or its store is down: try again later',
  server_error:
    "the server failed: try again later, or ask its operator to look at the server's logs",
  invalid_response:
    'the server does not follow RFC 7591 / RFC 7592 here; report it to its operator',
  metadata_not_found:
    'check --issuer (it must be the exact issuer identifier), or pass --registration-endpoint',
}

/**
 * Prints why a call failed and what to do, and returns exit code 1. `operation` tells an expired
 * initial access token (registering) from a dead registration (managing).
 *
 * @see [RFC 7591 §3.2.2](https://www.rfc-editor.org/rfc/rfc7591.html#section-3.2.2)
 */
export function reportFailure(
  command: string,
  err: unknown,
  operation: 'register' | 'manage',
): number {
  const prefix = `registrar ${command}`
  if (err instanceof RegistrationError) {
    const refused = `${err.error}${err.error_description ? `: ${err.error_description}` : ''}`
    process.stderr.write(`${prefix}: the server refused (HTTP ${err.status}): ${refused}\n`)
    let hint = HINTS[err.error]
    if (err.status === 401 || err.error === 'invalid_token') {
      hint =
        operation === 'register'
          ? 'the initial access token is missing, used up or expired: create one with `registrar token create` (on a Registrar server) and pass it with --iat'
          : 'the registration was deleted or its token is no longer valid; register again with `registrar register`'
    } else if (err.status === 403) {
      hint = 'the server does not allow this client to manage its registration'
    }
    if (hint) process.stderr.write(`hint: ${hint}\n`)
    return 1
  }
  const e = err as Error & { cause?: { code?: string; message?: string } }
  if (e?.name === 'TimeoutError') {
    process.stderr.write(`${prefix}: the server did not answer in time\nhint: raise --timeout\n`)
    return 1
  }
  if (e instanceof TypeError && e.cause) {
    const why = e.cause.code ?? e.cause.message ?? String(e.cause)
    process.stderr.write(
      `${prefix}: cannot reach the server: ${why}\nhint: check the URL and that the server is running\n`,
    )
    return 1
  }
  process.stderr.write(`${prefix}: ${e?.message ?? String(err)}\n`)
  return 1
}
