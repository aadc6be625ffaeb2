import { readFileSync } from 'node:fs'
import { type ParseArgsConfig, parseArgs } from 'node:util'
import {
  ConfigError,
  type ConfigFlags,
  type RegistrarConfig,
  resolveConfig,
} from '../core/config.js'
import type { Store } from '../core/store.js'
import { openStore } from '../storage/open-store.js'

/** A CLI command: parses its own arguments, returns the exit code. */
export interface Command {
  name: string
  summary: string
  help: string
  run(args: string[]): Promise<number>
}

/** Thrown for bad usage; main prints the message and the command's help, exit code 2. */
export class UsageError extends Error {}

export const STORE_OPTION = { store: { type: 'string' }, config: { type: 'string' } } as const

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

/** Reads the `--config` (or REGISTRAR_CONFIG) JSON file and resolves the configuration. */
export function loadConfig(
  flags: ConfigFlags & { config?: string | undefined },
  env: Record<string, string | undefined> = process.env,
): Readonly<RegistrarConfig> {
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
  const { config: _ignored, ...rest } = flags
  const clean = Object.fromEntries(
    Object.entries(rest).filter(([, v]) => v !== undefined),
  ) as ConfigFlags
  return resolveConfig({ flags: clean, env, file })
}

/** Opens the configured store, runs `fn`, and always closes it. */
export async function withStore<T>(
  config: Readonly<RegistrarConfig>,
  fn: (store: Store) => Promise<T>,
): Promise<T> {
  const store = await openStore(config.store, { postgres: config.postgres })
  try {
    return await fn(store)
  } finally {
    await store.close()
  }
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

export function positiveInt(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`${flag} must be a positive integer`)
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
