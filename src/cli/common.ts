import { existsSync, readFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import { type ParseArgsConfig, parseArgs } from 'node:util'
import { AuditTrail } from '../admin/audit.js'
import { adminKeys } from '../admin/keys.js'
import { AdminService } from '../admin/service.js'
import {
  ConfigError,
  type ConfigFlags,
  DEFAULTS,
  resolveSettings,
  SOURCES,
} from '../config/resolve.js'
import type { RegistrarSettings } from '../config/schema.js'
import { RegistrationError } from '../core/errors.js'
import type { AuditActor, Store } from '../core/store.js'
import { openStore, redactStoreUrl } from '../storage/open-store.js'

/** A CLI command: parses its own arguments, returns the exit code. */
export interface Command {
  name: string
  summary: string
  help: string
  run(args: string[]): Promise<number>
}

/** Thrown for bad usage; main prints the message and the command's help, exit code 2. */
export class UsageError extends Error {}

/** The options of every admin command (`token *`, `clients *`, `policy dry-run`). */
export const STORE_OPTION = {
  store: { type: 'string' },
  config: { type: 'string' },
  create: { type: 'boolean' },
} as const

/** The help lines of {@link STORE_OPTION}. */
export const STORE_HELP = `  --store URL     memory | sqlite:PATH | postgres://…   (default sqlite:./data/registrar.db)
  --create        create the SQLite database if the file does not exist (without it, a missing
                  file is refused: a typo in the path must not create an empty database)
  --config FILE   JSON configuration file (its "store" is used)`

/** util.parseArgs with strict options; unknown flags become a UsageError. */
export function parse<T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: T,
  allowPositionals = false,
  // biome-ignore lint/suspicious/noExplicitAny: values are typed by each command's options
): { values: Record<string, any>; positionals: string[] } {
  try {
    return parseArgs({
      args,
      options: { help: { type: 'boolean', short: 'h' }, ...options },
      allowPositionals,
      strict: true,
    })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

/**
 * Reads the `--config` (or REGISTRAR_CONFIG) JSON file and resolves the configuration (its issuer
 * may still be missing). Options that set no configuration key (`--help`, `--json`, …) are ignored.
 */
export function loadConfig(
  flags: ConfigFlags & { config?: string | undefined },
  env: Record<string, string | undefined> = process.env,
): Readonly<RegistrarSettings> {
  const path = flags.config ?? env.REGISTRAR_CONFIG
  let file: unknown = {}
  if (path) {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (err) {
      throw new ConfigError('config', `cannot read ${path}: ${(err as Error).message}`)
    }
    try {
      file = JSON.parse(text)
    } catch (err) {
      throw new ConfigError('config', `${path} is not valid JSON: ${(err as Error).message}`)
    }
  }
  const names = new Set(SOURCES.flatMap((s) => (s.flag ? [s.flag.name] : [])))
  const clean = Object.fromEntries(
    Object.entries(flags).filter(([k, v]) => names.has(k) && v !== undefined),
  ) as ConfigFlags
  return resolveSettings({ flags: clean, env, file })
}

/** Where the store URL came from, for the line that names it. */
function storeOrigin(url: string, values: { store?: string; config?: string }): string {
  const env = process.env
  if (values.store) return '--store'
  if (env.REGISTRAR_STORE) return 'REGISTRAR_STORE'
  if (url === DEFAULTS.store) return 'the default'
  return values.config ?? env.REGISTRAR_CONFIG ?? 'the configuration'
}

/**
 * Opens the configured store for an admin command, runs `fn`, and always closes it. Names the
 * store on stderr (an operator must see which database a listing or a deletion is about); refuses
 * a SQLite path that does not exist unless `--create`, and the memory store when `persistent`
 * says why the command's result must outlive it.
 */
export async function withStore<T>(
  config: Readonly<RegistrarSettings>,
  fn: (store: Store) => Promise<T>,
  values: { store?: string; config?: string; create?: boolean } = {},
  options: { persistent?: string } = {},
): Promise<T> {
  const url = config.store
  process.stderr.write(`using store ${redactStore(url)} (${storeOrigin(url, values)})\n`)
  if (url === 'memory' && options.persistent) {
    throw new ConfigError(
      'store',
      `${options.persistent}: the memory store is gone when this command exits; use the server's sqlite: or postgres:// store`,
    )
  }
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length)
    if (path !== ':memory:' && !existsSync(path) && !values.create) {
      throw new ConfigError(
        'store',
        `no SQLite database at ${path}; check the path, or pass --create to create one`,
      )
    }
  }
  const store = await openStore(url, { postgres: config.postgres })
  try {
    return await fn(store)
  } finally {
    await store.close()
  }
}

/** The operator on the store's machine, as the audit trail names them (`operator`: the OS user). */
export function operator(): AuditActor {
  let name: string
  try {
    name = userInfo().username
  } catch {
    // no passwd entry for the uid (a container): still an operator, just unnamed
    name = process.env.USER || process.env.LOGNAME || 'unknown'
  }
  return { type: 'operator', id: name }
}

/**
 * {@link withStore} for the mutating admin commands: `fn` acts through the {@link AdminService},
 * the one path the admin API and the console take too, so each change is checked the same way
 * (compare-and-swap, status transitions) and recorded in the audit trail (`audit.enabled`) with
 * the {@link operator} as its actor. Entries are written before the store closes.
 */
export async function withAdmin<T>(
  config: Readonly<RegistrarSettings>,
  fn: (admin: AdminService, actor: AuditActor) => Promise<T>,
  values: { store?: string; config?: string; create?: boolean } = {},
  options: { persistent?: string } = {},
): Promise<T> {
  return withStore(
    config,
    async (store) => {
      const admin = new AdminService({
        store,
        config,
        // nothing here pages, but the service seals its cursors with a key all the same
        cursorKey: adminKeys(config.admin.secretKey).cursor,
      })
      const trail = config.audit.enabled
        ? new AuditTrail({
            store,
            onError: (err) =>
              process.stderr.write(
                `warning: the change is made, but its audit entry was not written: ${(err as Error)?.message ?? err}\n`,
              ),
          })
        : undefined
      trail?.observeAdmin(admin)
      try {
        return await fn(admin, operator())
      } finally {
        await trail?.flush()
      }
    },
    values,
    options,
  )
}

/** A refusal of the {@link AdminService} (an unknown id, a status an action does not apply to). */
export function adminRefusal(err: unknown): RegistrationError | undefined {
  return err instanceof RegistrationError && err.status < 500 ? err : undefined
}

/** Formats epoch seconds as an ISO date-time (UTC, seconds precision). */
export function isoTime(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '-'
  if (seconds === 0) return 'never'
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z')
}

/** A plain-text table with a header row, columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

/** Store URLs may carry a database password (in the user-info or the query). */
export const redactStore = redactStoreUrl

export function positiveInt(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`${flag} must be a positive integer`)
  }
  return Number(value)
}

/** A count or a duration where `0` means "no limit"; `fallback` when the flag is absent. */
export function limitOrZero(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`${flag} must be a non-negative integer (0 for no limit)`)
  }
  return Number(value)
}

/**
 * For commands with subcommands: prints the help and returns the exit code when no subcommand or
 * a help flag was given (2 for a missing subcommand, 0 for help), or undefined to go on.
 */
export function subcommandHelp(sub: string | undefined, help: string): number | undefined {
  if (sub !== undefined && sub !== '--help' && sub !== '-h' && sub !== 'help') return undefined
  process.stdout.write(`${help}\n`)
  return sub === undefined ? 2 : 0
}
