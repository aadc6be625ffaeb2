import { parseTime } from '../admin/time.js'
import { auditEntryView } from '../admin/views.js'
import type { AuditEntry } from '../core/store.js'
import { epochSeconds } from '../shared/epoch.js'
import { cell, safeJson } from './clients.js'
import {
  type Command,
  isoTime,
  loadConfig,
  parse,
  positiveInt,
  STORE_OPTION,
  table,
  UsageError,
  withStore,
} from './common.js'

const HELP = `Usage: registrar audit [--client ID] [--since T] [--limit N] [--json]
       registrar audit purge [--older-than DAYS]

The audit trail, newest first: who registered, read, updated, approved, disabled or deleted which
client, who created or revoked which token, bursts of failed authentications; with the changed
metadata members (before → after in --json). Never a secret, a token or a hash.

Options:
  --client ID        only the entries of this client
  --since T          only entries at or after T: an ISO 8601 date or date-time
                     (2026-05-01, 2026-05-01T12:00:00Z), a duration ago (90m, 24h, 7d),
                     or epoch seconds
  --limit N          at most N entries                                   (default 100)
  --json             a JSON array of the entries, for scripts
  --older-than DAYS  purge: delete entries older than DAYS (default: audit.retentionDays)
  --store URL        memory | sqlite:PATH | postgres://…   (default sqlite:./data/registrar.db)
  --config FILE      JSON configuration file (its "store" and "audit" are used)
  -h, --help         show this help`

export const audit: Command = {
  name: 'audit',
  summary: 'show the audit trail, or purge it past its retention',
  help: HELP,
  async run(args) {
    if (args[0] === 'purge') return purge(args.slice(1))
    if (args[0] === 'help') return help()
    const { values } = parse(args, {
      ...STORE_OPTION,
      client: { type: 'string' },
      since: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
    })
    if (values.help) return help()
    const since = values.since === undefined ? undefined : parseSince(values.since, Date.now())
    const limit = positiveInt('--limit', values.limit) ?? 100
    const entries = await withStore(
      loadConfig(values),
      (store) =>
        store.listAuditEntries({
          limit,
          ...(values.client !== undefined && { clientId: values.client }),
          ...(since !== undefined && { since }),
        }),
      values,
    )
    if (values.json) {
      process.stdout.write(`${safeJson(entries.map(auditEntryView))}\n`)
      return 0
    }
    const rows = entries.map((e) =>
      [isoTime(e.at), e.event, e.client_id ?? '-', actorText(e), summary(e)].map(cell),
    )
    process.stdout.write(`${table(['TIME', 'EVENT', 'CLIENT_ID', 'ACTOR', 'CHANGES'], rows)}\n`)
    return 0
  },
}

async function purge(args: string[]): Promise<number> {
  const { values } = parse(args, { ...STORE_OPTION, 'older-than': { type: 'string' } })
  if (values.help) return help()
  const config = loadConfig(values)
  const days = positiveInt('--older-than', values['older-than']) ?? config.audit.retentionDays
  if (days === 0) {
    process.stderr.write('audit.retentionDays is 0 (keep forever): nothing purged\n')
    return 0
  }
  const before = epochSeconds() - days * 86_400
  const purged = await withStore(config, (store) => store.purgeAuditEntries(before), values)
  process.stdout.write(`purged ${purged} audit entries older than ${isoTime(before)}\n`)
  return 0
}

/** `--since`: see {@link parseTime}; epoch seconds. */
export function parseSince(value: string, nowMs: number): number {
  const t = parseTime(value, nowMs)
  if (t !== undefined) return t
  throw new UsageError(
    `--since must be an ISO 8601 date or date-time, or a duration such as 24h or 7d (got '${value}')`,
  )
}

function actorText(e: AuditEntry): string {
  const { type, id, address } = e.actor
  return `${type}${id !== undefined && id !== e.client_id ? `:${id}` : ''}${address !== undefined ? `@${address}` : ''}`
}

function summary(e: AuditEntry): string {
  const members = Object.keys(e.changes ?? {})
  if (e.event === 'registered' || e.event === 'deleted' || e.event === 'expired') {
    return `${members.length} members`
  }
  if (e.event === 'authentication_failures') return `${e.details?.failures} failures`
  if (e.event === 'authentication_limit_reached') {
    return `${e.details?.failures} failures in ${e.details?.within_seconds} s (per ${e.details?.scope}): refusing`
  }
  const status = e.changes?.status
  if (status) return `status ${status.before} -> ${status.after}`
  const token = e.details?.initial_access_token_id ?? e.details?.admin_token_id
  if (token !== undefined) return `token ${token}`
  return members.join(',') || '-'
}

function help(): number {
  process.stdout.write(`${HELP}\n`)
  return 0
}
