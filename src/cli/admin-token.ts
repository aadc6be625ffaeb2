import { createAdminToken } from '../admin/admin-token.js'
import { adminTokenView } from '../admin/views.js'
import type { Store } from '../core/store.js'
import { epochSeconds } from '../shared/epoch.js'
import { cell } from './clients.js'
import {
  type Command,
  isoTime,
  loadConfig,
  operator,
  parse,
  positiveInt,
  STORE_OPTION,
  subcommandHelp,
  table,
  UsageError,
  withStore,
} from './common.js'

const HELP = `Usage: registrar admin-token <create|list|revoke> [options]

Admin tokens authenticate the admin API (/admin/api) and sign in to the web console (/admin), when
the server runs with admin.enabled. They are stored as SHA-256 hashes: a token is shown once, at
creation. A read-only token can look at everything and change nothing.

  registrar admin-token create [--read-only] [--expires-in SECONDS] [--description TEXT]
      Prints the new token as the last line of stdout.
  registrar admin-token list [--json]
      Lists tokens: id, created, expires, access, description (never the token itself).
  registrar admin-token revoke ID
      Deletes the token with that id; console sessions signed in with it end at once.

Common options:
  --store URL     memory | sqlite:PATH | postgres://…   (default sqlite:./data/registrar.db)
  --config FILE   JSON configuration file (its "store" is used)
  -h, --help      show this help`

export const adminToken: Command = {
  name: 'admin-token',
  summary: 'create, list and revoke admin tokens of the admin API and console',
  help: HELP,
  async run(args) {
    const [sub, ...rest] = args
    const helpExit = subcommandHelp(sub, HELP)
    if (helpExit !== undefined) return helpExit
    if (sub === 'create') {
      const { values } = parse(rest, {
        ...STORE_OPTION,
        'read-only': { type: 'boolean' },
        'expires-in': { type: 'string' },
        description: { type: 'string' },
      })
      if (values.help) return help()
      const expiresIn = positiveInt('--expires-in', values['expires-in'])
      const config = loadConfig(values)
      const { token, record } = await withStore(
        config,
        async (store) => {
          const created = await createAdminToken(store, {
            readOnly: values['read-only'] === true,
            ...(expiresIn !== undefined && { expiresIn }),
            ...(values.description !== undefined && { description: values.description }),
          })
          await audit(store, config.audit.enabled, 'admin_token_created', {
            admin_token_id: created.record.id,
            read_only: created.record.readOnly,
          })
          return created
        },
        values,
        { persistent: 'registrar admin-token create' },
      )
      process.stderr.write(
        `created ${record.readOnly ? 'read-only' : 'read-write'} admin token ${record.id} (expires: ${record.expiresAt === null ? 'never' : isoTime(record.expiresAt)}); it is shown only once:\n`,
      )
      process.stdout.write(`${token}\n`)
      return 0
    }
    if (sub === 'list') {
      const { values } = parse(rest, { ...STORE_OPTION, json: { type: 'boolean' } })
      if (values.help) return help()
      const tokens = await withStore(loadConfig(values), (store) => store.listAdminTokens(), values)
      if (values.json) {
        process.stdout.write(`${JSON.stringify(tokens.map(adminTokenView), null, 2)}\n`)
        return 0
      }
      const rows = tokens.map((t) =>
        [
          t.id,
          isoTime(t.createdAt),
          t.expiresAt === null ? 'never' : isoTime(t.expiresAt),
          t.readOnly ? 'read-only' : 'read-write',
          t.description ?? '',
        ].map(cell),
      )
      process.stdout.write(
        `${table(['ID', 'CREATED', 'EXPIRES', 'ACCESS', 'DESCRIPTION'], rows)}\n`,
      )
      return 0
    }
    if (sub === 'revoke') {
      const { values, positionals } = parse(rest, { ...STORE_OPTION }, true)
      if (values.help) return help()
      if (positionals.length !== 1) {
        throw new UsageError('registrar admin-token revoke takes exactly one token id')
      }
      const id = positionals[0] as string
      const config = loadConfig(values)
      const revoked = await withStore(
        config,
        async (store) => {
          const done = await store.revokeAdminToken(id)
          if (done)
            await audit(store, config.audit.enabled, 'admin_token_revoked', { admin_token_id: id })
          return done
        },
        values,
      )
      if (!revoked) {
        process.stderr.write(`no admin token with id ${id}\n`)
        return 1
      }
      process.stdout.write(`revoked ${id}\n`)
      return 0
    }
    throw new UsageError(`unknown admin-token command '${sub}'`)
  },
}

async function audit(
  store: Store,
  enabled: boolean,
  event: 'admin_token_created' | 'admin_token_revoked',
  details: Record<string, unknown>,
): Promise<void> {
  if (!enabled) return
  await store.appendAuditEntry({
    at: epochSeconds(),
    event,
    actor: operator(),
    details,
  })
}

function help(): number {
  process.stdout.write(`${HELP}\n`)
  return 0
}
