import { rmSync } from 'node:fs'
import type { ParseArgsConfig } from 'node:util'
import {
  type ClientInformationResponse,
  ClientRegistration,
  type RegistrationCredentials,
  registeredMetadata,
} from '../client/index.js'
import { type Command, isoTime, parse, subcommandHelp, UsageError } from './common.js'
import {
  type CredentialsFile,
  credentialsOf,
  METADATA_OPTIONS,
  metadataFromFlags,
  metadataHelp,
  printWarnings,
  readCredentialsFile,
  reportFailure,
  saveCredentials,
  timeoutFlag,
  withoutSecrets,
} from './register.js'

const HELP = `Usage: registrar registration <show|update|delete> --creds FILE [options]

Manages a registration made with "registrar register", at any RFC 7592 server, through the
registration_client_uri and registration access token kept in FILE. When the server rotates the
token or the client secret, FILE is rewritten (atomically, mode 0600) before anything else is sent.

  registrar registration show [--json]
      Reads the registration from the server (RFC 7592 §2.1) and prints it; --json prints the
      client information as JSON, without the client secret and the registration access token.
  registrar registration update [metadata flags] [--json]
      Replaces the registration (RFC 7592 §2.2) with the stored metadata, changed by the flags:
${metadataHelp(6, 22)}
  registrar registration delete [--keep-creds]
      Deletes the registration (RFC 7592 §2.3), then FILE, whose credentials no longer work.

Common options:
  --creds FILE         the credentials file written by "registrar register"
  --timeout SECONDS    give up on the server after this long (default 30)
  -h, --help           show this help

Exit codes: 0 done, 1 the server refused or could not be reached, 2 usage error.`

const CREDS = { type: 'string' } as const
const BOOLEAN = { type: 'boolean' } as const

/**
 * `registrar registration show|update|delete`: RFC 7592 management from a credentials file.
 *
 * @see [RFC 7592 §2](https://www.rfc-editor.org/rfc/rfc7592.html#section-2)
 */
export const registration: Command = {
  name: 'registration',
  summary: 'show, update or delete a registration made with "register" (RFC 7592)',
  help: HELP,
  async run(args) {
    const [sub, ...rest] = args
    const helpExit = subcommandHelp(sub, HELP)
    if (helpExit !== undefined) return helpExit
    if (sub !== 'show' && sub !== 'update' && sub !== 'delete') {
      throw new UsageError(`unknown registration command '${sub}'`)
    }
    const options: NonNullable<ParseArgsConfig['options']> =
      sub === 'show'
        ? { creds: CREDS, json: BOOLEAN, timeout: METADATA_OPTIONS.timeout }
        : sub === 'update'
          ? { creds: CREDS, json: BOOLEAN, ...METADATA_OPTIONS }
          : { creds: CREDS, 'keep-creds': BOOLEAN, timeout: METADATA_OPTIONS.timeout }
    const { values } = parse(rest, options)
    if (values.help) {
      process.stdout.write(`${HELP}\n`)
      return 0
    }
    if (values.creds === undefined) throw new UsageError('--creds FILE is required')
    const path: string = values.creds
    let file = readCredentialsFile(path)
    const command = `registration ${sub}`
    const timeoutMs = timeoutFlag(values.timeout)
    // built before any request: a bad flag or metadata file must not cost a rotated token
    const metadata =
      sub === 'update'
        ? metadataFromFlags(
            values,
            registeredMetadata(file.client_information as ClientInformationResponse),
          )
        : undefined
    const handle = new ClientRegistration(credentialsOf(file), {
      timeoutMs,
      information: { ...file.client_information, client_id: file.client_id },
      // RFC 7592 §2.1: a rotated token or secret replaces the stored one before anything else
      onCredentials: (credentials) => {
        file = withCredentials(file, credentials)
        if (!saveCredentials(path, file, command)) {
          throw new Error(`the rotated credentials could not be saved to ${path}`)
        }
      },
    })
    if (!handle.manageable) {
      process.stderr.write(
        `registrar ${command}: ${path} has no registration_client_uri and registration_access_token: the server that registered this client does not offer RFC 7592 management\n`,
      )
      return 1
    }

    if (sub === 'delete') {
      try {
        await handle.delete()
      } catch (err) {
        return reportFailure(command, err, 'manage')
      }
      printWarnings(command, handle.warnings)
      if (values['keep-creds']) {
        process.stdout.write(`deleted client ${file.client_id}\n`)
      } else {
        rmSync(path, { force: true })
        process.stdout.write(`deleted client ${file.client_id}; removed ${path}\n`)
      }
      return 0
    }

    let information: ClientInformationResponse
    try {
      information =
        sub === 'show'
          ? await handle.read()
          : await handle.update(metadata as NonNullable<typeof metadata>)
    } catch (err) {
      return reportFailure(command, err, 'manage')
    }
    printWarnings(command, handle.warnings)
    file = {
      ...withCredentials(file, handle.credentials),
      client_information: withoutSecrets(information),
    }
    if (!saveCredentials(path, file, command)) return 1
    if (values.json) {
      process.stdout.write(`${JSON.stringify(withoutSecrets(information), null, 2)}\n`)
    } else {
      if (sub === 'update') process.stdout.write(`updated client ${file.client_id}\n`)
      process.stdout.write(`${describe(information)}\n`)
    }
    return 0
  },
}

function withCredentials(
  file: CredentialsFile,
  credentials: Readonly<RegistrationCredentials>,
): CredentialsFile {
  return { ...file, ...credentials }
}

/** `member  value` lines for people; secrets never printed. */
function describe(information: ClientInformationResponse): string {
  const shown = withoutSecrets(information)
  const width = Math.max(...Object.keys(shown).map((k) => k.length))
  return Object.entries(shown)
    .map(([key, value]) => {
      let text: string
      if (key === 'client_id_issued_at' || key === 'client_secret_expires_at') {
        text = typeof value === 'number' ? isoTime(value) : String(value)
      } else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
        text = value.join(' ')
      } else {
        text = typeof value === 'string' ? value : JSON.stringify(value)
      }
      return `${key.padEnd(width)}  ${text}`
    })
    .join('\n')
}
