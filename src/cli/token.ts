import { initialAccessTokenView } from '../admin/views.js'
import { epochSeconds } from '../shared/epoch.js'
import {
  adminRefusal,
  type Command,
  isoTime,
  limitOrZero,
  loadConfig,
  parse,
  STORE_HELP,
  STORE_OPTION,
  subcommandHelp,
  table,
  UsageError,
  withAdmin,
  withStore,
} from './common.js'

/** `token create` without `--max-uses`: one registration. */
const DEFAULT_MAX_USES = 1
/** `token create` without `--expires-in`: 24 hours. */
const DEFAULT_EXPIRES_IN = 24 * 60 * 60

const HELP = `Usage: registrar token <create|list|revoke> [options]

Initial access tokens (RFC 7591 §3) authorize registrations when the server runs with
--registration token. Tokens are stored as SHA-256 hashes: a token is shown once, at creation.
Creations and revocations are recorded in the audit trail (registrar audit), the operating-system
user as the operator.

  registrar token create [--max-uses N] [--expires-in SECONDS] [--policy NAME] [--description TEXT]
      Prints the new token as the last line of stdout. By default a token admits one
      registration and expires in 24 hours: --max-uses 0 for unlimited uses, --expires-in 0
      for no expiry. Refuses --store memory (the token would vanish with the command).
  registrar token list [--json]
      Lists tokens: id, created, expires, uses / max uses, policy, description (never the
      token itself); --json adds whether each is still usable.
  registrar token revoke ID
      Deletes the token with that id; registrations already made stay.

Common options (the store used is named on stderr):
${STORE_HELP}
  -h, --help      show this help`

export const token: Command = {
  name: 'token',
  summary: 'create, list and revoke initial access tokens',
  help: HELP,
  async run(args) {
    const [sub, ...rest] = args
    const helpExit = subcommandHelp(sub, HELP)
    if (helpExit !== undefined) return helpExit
    if (sub === 'create') {
      const { values } = parse(rest, {
        ...STORE_OPTION,
        'max-uses': { type: 'string' },
        'expires-in': { type: 'string' },
        policy: { type: 'string' },
        description: { type: 'string' },
      })
      if (values.help) return help()
      const config = loadConfig(values)
      // safe by default (issue 12 item 19): one registration, within a day; 0 lifts either limit
      const maxUses = limitOrZero('--max-uses', values['max-uses'], DEFAULT_MAX_USES)
      const expiresIn = limitOrZero('--expires-in', values['expires-in'], DEFAULT_EXPIRES_IN)
      if (
        values.policy !== undefined &&
        !Object.hasOwn(config.policies.definitions, values.policy)
      ) {
        throw new UsageError(`--policy ${values.policy} names no policy in the configuration`)
      }
      const { token: value, record } = await withAdmin(
        config,
        (admin, actor) =>
          admin.createInitialAccessToken(actor, {
            maxUses: maxUses === 0 ? null : maxUses,
            expiresIn: expiresIn === 0 ? null : expiresIn,
            ...(values.policy !== undefined && { policy: values.policy }),
            ...(values.description !== undefined && { description: values.description }),
          }),
        values,
        { persistent: 'token create' },
      )
      process.stderr.write(
        `created initial access token ${record.id} (max uses: ${record.maxUses ?? 'unlimited'}, expires: ${record.expiresAt === null ? 'never' : isoTime(record.expiresAt)}); it is shown only once:\n`,
      )
      process.stdout.write(`${value}\n`)
      return 0
    }
    if (sub === 'list') {
      const { values } = parse(rest, { ...STORE_OPTION, json: { type: 'boolean' } })
      if (values.help) return help()
      const tokens = await withStore(
        loadConfig(values),
        (store) => store.listInitialAccessTokens(),
        values,
      )
      if (values.json) {
        const now = epochSeconds()
        const views = tokens.map((t) => initialAccessTokenView(t, now))
        process.stdout.write(`${JSON.stringify(views, null, 2)}\n`)
        return 0
      }
      const rows = tokens.map((t) => [
        t.id,
        isoTime(t.createdAt),
        t.expiresAt === null ? 'never' : isoTime(t.expiresAt),
        `${t.uses} / ${t.maxUses ?? 'unlimited'}`,
        t.policy ?? '-',
        t.description ?? '',
      ])
      process.stdout.write(
        `${table(['ID', 'CREATED', 'EXPIRES', 'USES', 'POLICY', 'DESCRIPTION'], rows)}\n`,
      )
      return 0
    }
    if (sub === 'revoke') {
      const { values, positionals } = parse(rest, { ...STORE_OPTION }, true)
      if (values.help) return help()
      if (positionals.length !== 1)
        throw new UsageError('registrar token revoke takes exactly one token id')
      const id = positionals[0] as string
      try {
        await withAdmin(
          loadConfig(values),
          (admin, actor) => admin.revokeInitialAccessToken(id, actor),
          values,
        )
      } catch (err) {
        const refusal = adminRefusal(err)
        if (!refusal) throw err
        process.stderr.write(`${refusal.error_description ?? refusal.error}\n`)
        return 1
      }
      process.stdout.write(`revoked ${id}\n`)
      return 0
    }
    throw new UsageError(`unknown token command '${sub}'`)
  },
}

function help(): number {
  process.stdout.write(`${HELP}\n`)
  return 0
}
