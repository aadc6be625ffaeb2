import { AuditTrail } from '../admin/audit.js'
import type { StatusAction } from '../admin/service.js'
import { clientView, metadataDocumentStatus, metadataDocumentView } from '../admin/views.js'
import type { RegistrarSettings } from '../config/schema.js'
import { looksLikeClientIdUrl } from '../core/client-id-metadata-document.js'
import { ClientLifecycle } from '../core/client-lifecycle.js'
import type { AuditEvent, ClientRecord, MetadataDocumentRecord, Store } from '../core/store.js'
import { epochSeconds } from '../shared/epoch.js'
import {
  adminRefusal,
  type Command,
  isoTime,
  loadConfig,
  operator,
  parse,
  positiveInt,
  STORE_HELP,
  STORE_OPTION,
  subcommandHelp,
  table,
  UsageError,
  withAdmin,
  withStore,
} from './common.js'

const HELP = `Usage: registrar clients <list|show|approve|disable|enable|delete|block|sweep> [options]

Administration of registered clients, straight on the store (no server needed). Changes go through
the same checks as the admin API and are recorded in the audit trail (registrar audit) with the
operating-system user as the operator.

  registrar clients list [--json]     client_id, name, created, auth method, redirect hosts, status,
                                      last used (recorded by the AS, at most once a minute)
  registrar clients list --idle 30d [--json]
                                      only the active clients neither used nor registered, updated
                                      or approved for that long (90m, 24h, 30d): candidates of idle
                                      expiry, whatever their policy
  registrar clients show ID           the client's registration as JSON, with its version and last
                                      use (credentials never shown)
  registrar clients approve ID --version N
                                      activates a pending client (a requireApproval policy), if its
                                      registration is still version N, the one clients show printed
  registrar clients disable ID        refuses the client (active or pending) until enabled: its
                                      credentials stop working at once, its registration stays
  registrar clients enable ID         makes a disabled client active again
  registrar clients delete ID         deletes the client, its secret and its registration access token
  registrar clients sweep [--dry-run] [--json]
                                      idle expiry now, as registrar serve runs it every
                                      lifecycle.sweepInterval: deletes the active clients unused for
                                      their policy's expireUnusedAfter (else
                                      lifecycle.expireUnusedAfter), each recorded in the audit trail
                                      as expired; --dry-run lists them and deletes nothing.
                                      --json: {"ran": true, "dry_run": false, "clients": [...]}, or
                                      {"ran": false, "reason": "locked" | "off", "clients": []}.
                                      Exit codes: 0 swept (or idle expiry is off), 1 error,
                                      2 usage or configuration error, 3 another sweep holds the
                                      lock (PostgreSQL): this one did not run

Client ID Metadata Document clients (clientIdMetadataDocuments.enabled; ID is the https URL):
list and show include them (source metadata_document, last fetch, cache expiry, last use).
  registrar clients delete URL        forgets the cached document: it is fetched again on next use
  registrar clients block URL         refuses the URL for good, fetched or not (enable URL lifts it)
  registrar clients approve URL       admits a URL held by a requireApproval policy (no --version:
                                      the document, not a stored registration, is what is approved)

Common options (the store used is named on stderr):
${STORE_HELP}
  -h, --help      show this help`

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
  summary:
    'list, show, approve, disable, enable, delete and sweep (idle expiry) registered clients; block metadata document URLs',
  help: HELP,
  async run(args) {
    const [sub, ...rest] = args
    const helpExit = subcommandHelp(sub, HELP)
    if (helpExit !== undefined) return helpExit
    if (sub === 'sweep') {
      const { values } = parse(rest, {
        ...STORE_OPTION,
        'dry-run': { type: 'boolean' },
        json: { type: 'boolean' },
      })
      if (values.help) return help()
      return sweep(loadConfig(values), values['dry-run'] === true, values.json === true, values)
    }
    if (sub === 'list') {
      const { values } = parse(rest, {
        ...STORE_OPTION,
        json: { type: 'boolean' },
        idle: { type: 'string' },
      })
      if (values.help) return help()
      const idleFor = values.idle === undefined ? undefined : parseDuration('--idle', values.idle)
      const config = loadConfig(values)
      // metadata document clients are listed beside registered ones; idle expiry is for the latter
      const [all, documents] = await withStore(
        config,
        (store) =>
          Promise.all([
            idleFor === undefined ? store.listClients() : idleClients(store, idleFor),
            idleFor === undefined ? store.listMetadataDocuments() : Promise.resolve([]),
          ]),
        values,
      )
      const now = epochSeconds()
      const approval = requiresApproval(config)
      if (values.json) {
        const views = [
          ...all.map(clientView),
          ...documents.map((d) => metadataDocumentView(d, approval, now)),
        ]
        process.stdout.write(`${safeJson(views)}\n`)
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
      if (documents.length > 0) {
        const documentRows = documents.map((d) =>
          [
            d.client_id,
            truncate(d.metadata?.client_name ?? '-', 32),
            metadataDocumentStatus(d, approval, now),
            isoTime(d.fetchedAt),
            isoTime(d.expiresAt),
            isoTime(d.lastUsedAt),
          ].map(cell),
        )
        const documentHeader = [
          'METADATA DOCUMENT (client_id)',
          'NAME',
          'STATUS',
          'LAST FETCH',
          'CACHE EXPIRES',
          'LAST USED',
        ]
        process.stdout.write(`\n${table(documentHeader, documentRows)}\n`)
      }
      return 0
    }
    if (sub === 'block' || ((sub === 'approve' || sub === 'enable') && isUrlArgument(rest))) {
      const { values, positionals } = parse(rest, { ...STORE_OPTION }, true)
      if (values.help) return help()
      const url = positionals[0]
      if (positionals.length !== 1 || url === undefined || !looksLikeClientIdUrl(url)) {
        throw new UsageError(`registrar clients ${sub} URL takes exactly one https client_id URL`)
      }
      return decide(sub, url, loadConfig(values), values)
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
      return approve(positionals[0] as string, version, loadConfig(values), values)
    }
    if (sub === 'disable' || sub === 'enable') {
      const { values, positionals } = parse(rest, { ...STORE_OPTION }, true)
      if (values.help) return help()
      if (positionals.length !== 1)
        throw new UsageError(`registrar clients ${sub} takes exactly one client_id`)
      const id = positionals[0] as string
      const action: StatusAction = sub
      try {
        const changed = await withAdmin(
          loadConfig(values),
          (admin, actor) => admin.changeStatus(action, id, actor),
          values,
        )
        process.stdout.write(`${sub}d ${id} (now version ${changed.version})\n`)
        return 0
      } catch (err) {
        return refused(err, id)
      }
    }
    if (sub === 'show' || sub === 'delete') {
      const { values, positionals } = parse(rest, { ...STORE_OPTION }, true)
      if (values.help) return help()
      if (positionals.length !== 1)
        throw new UsageError(`registrar clients ${sub} takes exactly one client_id`)
      const id = positionals[0] as string
      const config = loadConfig(values)
      if (sub === 'show') {
        const [client, document] = await withStore(
          config,
          (store) => Promise.all([store.findClient(id), findDocument(store, id)]),
          values,
        )
        if (client) {
          process.stdout.write(`${safeJson(clientView(client))}\n`)
          return 0
        }
        if (!document) return notFound(id)
        const view = metadataDocumentView(document, requiresApproval(config), epochSeconds())
        process.stdout.write(`${safeJson(view)}\n`)
        return 0
      }
      if (looksLikeClientIdUrl(id)) {
        // a stored client with an https id is deleted as any other; otherwise the cached document
        const forgotten = await withStore(
          config,
          async (store) => {
            if (await store.findClient(id)) return undefined
            const known = await store.forgetMetadataDocument(id)
            if (known) await audit(store, config, 'deleted', id)
            return known
          },
          values,
        )
        if (forgotten === false) return notFound(id)
        if (forgotten === true) {
          process.stdout.write(`forgot the cached metadata document of ${id}\n`)
          return 0
        }
      }
      try {
        await withAdmin(config, (admin, actor) => admin.deleteClient(id, actor), values)
      } catch (err) {
        return refused(err, id)
      }
      process.stdout.write(`deleted ${id}\n`)
      return 0
    }
    throw new UsageError(`unknown clients command '${sub}'`)
  },
}

/** Every active client idle for `idleFor` seconds, a page at a time (by client_id). */
async function idleClients(store: Store, idleFor: number): Promise<ClientRecord[]> {
  const idleSince = epochSeconds() - idleFor
  const out: ClientRecord[] = []
  for (;;) {
    const after = out.at(-1)?.client_id
    const page = await store.listIdleClients({
      idleSince,
      limit: PAGE,
      ...(after !== undefined && { after }),
    })
    out.push(...page)
    if (page.length < PAGE) return out
  }
}

const PAGE = 500

/** Exit code of `clients sweep` when another sweep holds the lock: it did not run. */
export const SWEEP_LOCKED = 3

/** `90m`, `24h`, `30d`, `3600s`: a positive duration in seconds. */
export function parseDuration(flag: string, value: string): number {
  const m = /^(\d{1,6})([smhd])$/.exec(value)
  const seconds = m ? Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as 's'] : 0
  if (seconds <= 0) {
    throw new UsageError(`${flag} must be a duration such as 90m, 24h or 30d (got '${value}')`)
  }
  return seconds
}

/**
 * One idle-expiry sweep (or its dry run) on the store, with the audit entries a server's sweep
 * writes. Another sweep running on the same PostgreSQL database turns this one away: exit
 * {@link SWEEP_LOCKED}, and `--json` says it did not run (a script must not read it as "nothing
 * was idle").
 */
async function sweep(
  config: Readonly<RegistrarSettings>,
  dryRun: boolean,
  json: boolean,
  values: { store?: string; config?: string; create?: boolean },
): Promise<number> {
  const result = await withStore(
    config,
    async (store) => {
      const lifecycle = new ClientLifecycle({ config, store })
      if (!lifecycle.enabled) return undefined
      const trail = config.audit.enabled
        ? new AuditTrail({
            store,
            onError: (err) =>
              process.stderr.write(
                `warning: a client expired, but its audit entry was not written: ${(err as Error)?.message ?? err}\n`,
              ),
          })
        : undefined
      trail?.observeLifecycle(lifecycle)
      try {
        return await lifecycle.sweep({ dryRun })
      } finally {
        await trail?.flush()
      }
    },
    values,
    dryRun ? {} : { persistent: 'registrar clients sweep' },
  )
  if (result === undefined) {
    process.stderr.write(
      "idle expiry is off: lifecycle.expireUnusedAfter and every policy's expireUnusedAfter are 0 or unset\n",
    )
    if (json) process.stdout.write(`${safeJson({ ran: false, reason: 'off', clients: [] })}\n`)
    return 0
  }
  if (!result.ran) {
    process.stderr.write(
      `another sweep holds the lock on this store; this one did not run (exit ${SWEEP_LOCKED})\n`,
    )
    if (json) process.stdout.write(`${safeJson({ ran: false, reason: 'locked', clients: [] })}\n`)
    return SWEEP_LOCKED
  }
  if (json) {
    process.stdout.write(
      `${safeJson({ ran: true, dry_run: result.dryRun, clients: result.clients })}\n`,
    )
    return 0
  }
  const verb = dryRun ? 'would expire' : 'expired'
  for (const c of result.clients) {
    process.stdout.write(
      `${cell(`${verb} ${c.client_id} (${c.client_name ?? '-'}; policy ${c.policy ?? '-'}; last used ${isoTime(c.last_used_at)})`)}\n`,
    )
  }
  const n = result.clients.length
  process.stdout.write(
    `${n} client${n === 1 ? '' : 's'} ${dryRun ? 'would expire (dry run: nothing deleted)' : 'expired'}\n`,
  )
  return 0
}

/**
 * Approves the version of the registration the operator reviewed (issue 12 item 1). An approval
 * of a client already active is no error (a script may run twice); one that is disabled, or that
 * changed since that version, is refused and nothing is approved.
 */
async function approve(
  id: string,
  version: number,
  config: Readonly<RegistrarSettings>,
  values: { store?: string; config?: string; create?: boolean },
): Promise<number> {
  const outcome = await withAdmin(
    config,
    async (admin, actor) => {
      const client = await admin.store.findClient(id)
      if (!client) return { result: 'not_found' } as const
      if (client.status !== 'pending') return { result: 'not_pending', client } as const
      try {
        await admin.changeStatus('approve', id, actor, { expectedVersion: version })
        return { result: 'approved' } as const
      } catch (err) {
        if (!adminRefusal(err)) throw err
        // moved on meanwhile, or in the version the operator saw: read what it is now
        const now = await admin.store.findClient(id)
        if (!now) return { result: 'not_found' } as const
        return {
          result: now.status === 'pending' ? 'version_changed' : 'not_pending',
          client: now,
        } as const
      }
    },
    values,
  )
  switch (outcome.result) {
    case 'not_found':
      return notFound(id)
    case 'approved':
      process.stdout.write(`approved ${id} (version ${version})\n`)
      return 0
    case 'not_pending':
      if (outcome.client.status === 'active') {
        process.stdout.write(`${id} is already active\n`)
        return 0
      }
      process.stderr.write(`${id} is ${outcome.client.status}, not awaiting approval\n`)
      return 1
    case 'version_changed':
      process.stderr.write(
        `${id} changed since version ${version} (now version ${outcome.client.version}); review it with registrar clients show ${id} and approve that version\n`,
      )
      return 1
  }
}

/** Whether the `metadata_document` policy holds new URLs for approval. */
function requiresApproval(config: Readonly<RegistrarSettings>): boolean {
  const name = config.policies.metadataDocument
  return name !== undefined && config.policies.definitions[name]?.requireApproval === true
}

function isUrlArgument(rest: string[]): boolean {
  return rest.some((a) => looksLikeClientIdUrl(a))
}

function findDocument(store: Store, id: string): Promise<MetadataDocumentRecord | undefined> {
  return looksLikeClientIdUrl(id) ? store.findMetadataDocument(id) : Promise.resolve(undefined)
}

/** Records an operator's action on a metadata document URL in the audit trail, when it is on. */
async function audit(
  store: Store,
  config: Readonly<RegistrarSettings>,
  event: AuditEvent,
  url: string,
): Promise<void> {
  if (!config.audit.enabled) return
  await store.appendAuditEntry({
    at: epochSeconds(),
    event,
    client_id: url,
    actor: operator(),
    details: { source: 'metadata_document' },
  })
}

/** `block`, `approve` or `enable` (lifting a block) of a metadata document URL. */
async function decide(
  sub: 'block' | 'approve' | 'enable',
  url: string,
  config: Readonly<RegistrarSettings>,
  values: { store?: string; config?: string; create?: boolean },
): Promise<number> {
  await withStore(
    config,
    async (store) => {
      await store.decideMetadataDocument(
        url,
        sub === 'block' ? 'blocked' : sub === 'approve' ? 'approved' : undefined,
      )
      await audit(
        store,
        config,
        sub === 'block' ? 'disabled' : sub === 'approve' ? 'approved' : 'enabled',
        url,
      )
    },
    values,
    { persistent: `registrar clients ${sub}` },
  )
  const done = { block: 'blocked', approve: 'approved', enable: 'enabled' }[sub]
  process.stdout.write(`${done} ${url}\n`)
  return 0
}

/** An {@link AdminService} refusal: one line on stderr, exit code 1; anything else is thrown on. */
function refused(err: unknown, id: string): number {
  const refusal = adminRefusal(err)
  if (!refusal) throw err
  if (refusal.status === 404) return notFound(id)
  process.stderr.write(`${id}: ${refusal.error_description ?? refusal.error}\n`)
  return 1
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
