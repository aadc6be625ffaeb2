import { approveClient } from '../core/client-approval.js'
import type { ClientRecord } from '../core/store.js'
import { epochSeconds } from '../shared/epoch.js'
import {
  type Command,
  isoTime,
  loadConfig,
  parse,
  positiveInt,
  STORE_HELP,
  STORE_OPTION,
  subcommandHelp,
  table,
  UsageError,
  withStore,
} from './common.js'

const HELP = `Usage: registrar clients <list|show|approve|delete> [options]

Administration of registered clients, straight on the store (no server needed).

  registrar clients list [--json]     client_id, name, created, auth method, redirect hosts, status,
                                      last used (recorded by the AS, at most once a minute)
  registrar clients show ID           the client's registration as JSON, with its version and last
                                      use (credentials never shown)
  registrar clients delete ID         deletes the client, its secret and its registration access token
  registrar clients approve ID --version N
                                      activates a pending client (a requireApproval policy), if its
                                      registration is still version N, the one clients show printed

Common options (the store used is named on stderr):
${STORE_HELP}
  -h, --help      show this help`

/** What an operator may see of a client: everything but credential hashes. */
export function clientView(c: ClientRecord): Record<string, unknown> {
  return {
    client_id: c.client_id,
    client_id_issued_at: c.client_id_issued_at,
    ...(c.client_secret_expires_at !== undefined && {
      client_secret_expires_at: c.client_secret_expires_at,
    }),
    status: c.status,
    ...(c.policy !== undefined && { policy: c.policy }),
    ...(c.initialAccessTokenId !== undefined && {
      initial_access_token_id: c.initialAccessTokenId,
    }),
    updated_at: c.updatedAt,
    version: c.version,
    ...(c.lastUsedAt !== undefined && { last_used_at: c.lastUsedAt }),
    metadata: c.metadata,
    ...(c.software_statement !== undefined && { software_statement: c.software_statement }),
  }
}

// Registrants choose client names and redirect URIs: control characters and bidirectional
// overrides in them must not rewrite what an operator sees in a terminal.
const UNSAFE_IN_CELL = /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu
// JSON.stringify escapes C0 controls inside strings, and outside strings there is only ASCII
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

/** A table cell: unsafe characters shown as `?`. */
export function cell(s: string): string {
  return s.replace(UNSAFE_IN_CELL, '?')
}

/** Pretty JSON with unsafe characters \u-escaped: the same value, harmless on a terminal. */
export function safeJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    UNSAFE_IN_JSON,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

function redirectHosts(c: ClientRecord): string {
  const hosts = new Set<string>()
  for (const uri of c.metadata.redirect_uris ?? []) {
    try {
      const u = new URL(uri)
      hosts.add(u.host || `${u.protocol}`)
    } catch {
      hosts.add(uri)
    }
  }
  return [...hosts].join(',') || '-'
}

export const clients: Command = {
  name: 'clients',
  summary: 'list, show, approve and delete registered clients',
  help: HELP,
  async run(args) {
    const [sub, ...rest] = args
    const helpExit = subcommandHelp(sub, HELP)
    if (helpExit !== undefined) return helpExit
    if (sub === 'list') {
      const { values } = parse(rest, { ...STORE_OPTION, json: { type: 'boolean' } })
      if (values.help) return help()
      const all = await withStore(loadConfig(values), (store) => store.listClients(), values)
      if (values.json) {
        process.stdout.write(`${safeJson(all.map(clientView))}\n`)
        return 0
      }
      const rows = all.map((c) =>
        [
          c.client_id,
          truncate(c.metadata.client_name ?? '-', 32),
          isoTime(c.client_id_issued_at),
          c.metadata.token_endpoint_auth_method,
          truncate(redirectHosts(c), 48),
          c.status,
          isoTime(c.lastUsedAt),
        ].map(cell),
      )
      const header = ['CLIENT_ID', 'NAME', 'CREATED', 'AUTH METHOD', 'REDIRECT HOSTS', 'STATUS']
      process.stdout.write(`${table([...header, 'LAST USED'], rows)}\n`)
      return 0
    }
    if (sub === 'approve') {
      const { values, positionals } = parse(
        rest,
        { ...STORE_OPTION, version: { type: 'string' } },
        true,
      )
      if (values.help) return help()
      if (positionals.length !== 1)
        throw new UsageError('registrar clients approve takes exactly one client_id')
      // required: an approval is of the registration the operator reviewed, not whatever is
      // stored when the command runs (issue 12 item 1)
      const version = positiveInt('--version', values.version)
      if (version === undefined) {
        throw new UsageError(
          'registrar clients approve needs --version N: the version printed by registrar clients show',
        )
      }
      const id = positionals[0] as string
      const outcome = await withStore(
        loadConfig(values),
        (store) => approveClient(store, id, { version, now: epochSeconds() }),
        values,
      )
      switch (outcome.result) {
        case 'not_found':
          return notFound(id)
        case 'approved':
          process.stdout.write(`approved ${id} (version ${version})\n`)
          return 0
        case 'not_pending':
          if (outcome.status === 'active') {
            process.stdout.write(`${id} is already active\n`)
            return 0
          }
          process.stderr.write(`${id} is ${outcome.status}, not awaiting approval\n`)
          return 1
        case 'version_changed':
          process.stderr.write(
            `${id} changed since version ${version} (now version ${outcome.version}); review it with registrar clients show ${id} and approve that version\n`,
          )
          return 1
      }
      return 1
    }
    if (sub === 'show' || sub === 'delete') {
      const { values, positionals } = parse(rest, { ...STORE_OPTION }, true)
      if (values.help) return help()
      if (positionals.length !== 1)
        throw new UsageError(`registrar clients ${sub} takes exactly one client_id`)
      const id = positionals[0] as string
      const config = loadConfig(values)
      if (sub === 'show') {
        const client = await withStore(config, (store) => store.findClient(id), values)
        if (!client) return notFound(id)
        process.stdout.write(`${safeJson(clientView(client))}\n`)
        return 0
      }
      const deleted = await withStore(config, (store) => store.deleteClient(id), values)
      if (!deleted) return notFound(id)
      process.stdout.write(`deleted ${id}\n`)
      return 0
    }
    throw new UsageError(`unknown clients command '${sub}'`)
  },
}

function notFound(id: string): number {
  process.stderr.write(`no client with client_id ${id}\n`)
  return 1
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s
}

function help(): number {
  process.stdout.write(`${HELP}\n`)
  return 0
}
