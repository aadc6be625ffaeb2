import type { ClientRecord } from '../core/store.js'
import {
  type Command,
  isoTime,
  loadConfig,
  parse,
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
  registrar clients show ID           the client's registration as JSON (credentials never shown)
  registrar clients delete ID         deletes the client, its secret and its registration access token
  registrar clients approve ID        activates a client that a policy created disabled (requireApproval)

Common options:
  --store URL     memory | sqlite:PATH | postgres://…   (default sqlite:./data/registrar.db)
  --config FILE   JSON configuration file (its "store" is used)
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
function cell(s: string): string {
  return s.replace(UNSAFE_IN_CELL, '?')
}

/** Pretty JSON with unsafe characters \u-escaped: the same value, harmless on a terminal. */
function safeJson(value: unknown): string {
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
      const all = await withStore(loadConfig(values), (store) => store.listClients())
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
      const { values, positionals } = parse(rest, { ...STORE_OPTION }, true)
      if (values.help) return help()
      if (positionals.length !== 1)
        throw new UsageError('registrar clients approve takes exactly one client_id')
      const id = positionals[0] as string
      const outcome = await withStore(loadConfig(values), async (store) => {
        for (;;) {
          const client = await store.findClient(id)
          if (!client) return 'missing'
          if (client.status === 'active') return 'already'
          const approved = {
            ...client,
            status: 'active' as const,
            updatedAt: Math.floor(Date.now() / 1000),
            version: client.version + 1,
          }
          if (await store.replaceClient(approved, client.version)) return 'approved'
        }
      })
      if (outcome === 'missing') return notFound(id)
      process.stdout.write(
        outcome === 'approved' ? `approved ${id}\n` : `${id} is already active\n`,
      )
      return 0
    }
    if (sub === 'show' || sub === 'delete') {
      const { values, positionals } = parse(rest, { ...STORE_OPTION }, true)
      if (values.help) return help()
      if (positionals.length !== 1)
        throw new UsageError(`registrar clients ${sub} takes exactly one client_id`)
      const id = positionals[0] as string
      const config = loadConfig(values)
      if (sub === 'show') {
        const client = await withStore(config, (store) => store.findClient(id))
        if (!client) return notFound(id)
        process.stdout.write(`${safeJson(clientView(client))}\n`)
        return 0
      }
      const deleted = await withStore(config, (store) => store.deleteClient(id))
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
