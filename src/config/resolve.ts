import type { z } from 'zod'
import { isPrototypeName } from '../shared/prototype-names.js'
import {
  configSchema,
  issuerSchema,
  parseListenAddress,
  type RegistrarConfig,
  type RegistrarSettings,
  type SettingDoc,
  STRING_ARRAY,
  settingDocs,
} from './schema.js'

/** A configuration refused at start, naming the key at fault. */
export class ConfigError extends Error {
  readonly key: string
  constructor(key: string, message: string) {
    super(`invalid configuration: ${key}: ${message}`)
    this.name = 'ConfigError'
    this.key = key
  }
}

/** One documented key of the schema, found by walking it. */
export interface Setting extends SettingDoc {
  /** Dotted key; `[]` stands for any array entry, `NAME` for any key of an open map. */
  key: string
  /** The key's own schema, wrappers (optional, default) included. */
  schema: z.ZodType
  /** True when the key has no default and is not optional (inside an array entry or a map). */
  required: boolean
}

// biome-ignore lint/suspicious/noExplicitAny: zod's internal definitions differ per schema type
type Def = any

function def(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def
}

/** Strips optional / default / prefault / pipe wrappers, to the schema that checks the value. */
export function innerSchema(schema: z.ZodType): z.ZodType {
  let s = schema
  for (;;) {
    const d = def(s)
    if (['optional', 'default', 'prefault', 'nullable', 'readonly'].includes(d.type)) {
      s = d.innerType
    } else if (d.type === 'pipe') s = d.in
    else return s
  }
}

function docOf(schema: z.ZodType): SettingDoc | undefined {
  let s = schema
  for (;;) {
    const doc = settingDocs.get(s)
    if (doc) return doc
    const d = def(s)
    if (['optional', 'default', 'prefault', 'nullable', 'readonly'].includes(d.type)) {
      s = d.innerType
    } else if (d.type === 'pipe') s = d.in
    else return undefined
  }
}

/**
 * Every documented key, in schema order: sections are walked into, and so are the entries of
 * arrays of objects (`softwareStatement.trustedIssuers[].iss`) and of maps of objects
 * (`policies.definitions.NAME.scopes`). Throws when a key has no documentation, so that no key
 * can be added without it.
 */
export function settings(schema: z.ZodType = configSchema, prefix = ''): Setting[] {
  const out: Setting[] = []
  const shape = def(innerSchema(schema)).shape as Record<string, z.ZodType>
  for (const [name, field] of Object.entries(shape)) {
    const key = `${prefix}${name}`
    const inner = innerSchema(field)
    const d = def(inner)
    const doc = docOf(field)
    if (d.type === 'object' && d.catchall?._zod?.def.type === 'never') {
      // a section: its keys are the settings
      if (doc) throw new Error(`configuration section ${key} is documented by its keys`)
      out.push(...settings(inner, `${key}.`))
      continue
    }
    if (!doc) throw new Error(`configuration key ${key} has no setting() documentation`)
    const type = def(field).type
    out.push({ ...doc, key, schema: field, required: type !== 'optional' && type !== 'default' })
    const entry =
      d.type === 'array'
        ? { schema: d.element as z.ZodType, prefix: `${key}[].` }
        : d.type === 'record'
          ? { schema: d.valueType as z.ZodType, prefix: `${key}.NAME.` }
          : undefined
    if (entry && def(innerSchema(entry.schema)).type === 'object') {
      out.push(...settings(entry.schema, entry.prefix))
    }
  }
  return out
}

/** The keys that an environment variable or a `serve` flag sets. */
export const SOURCES: readonly Setting[] = settings().filter((s) => s.env || s.flag)

/** `registrar serve` flags, by name without the dashes (`port`, `rate-limit-store`). */
export type ConfigFlags = Record<string, string | number | undefined>

/** Where a configuration comes from: flags > `REGISTRAR_*` env > file > defaults. */
export interface ConfigSources {
  flags?: ConfigFlags
  /** The environment; passed in (nothing under `src/config` reads `process.env`). */
  env?: Record<string, string | undefined>
  /** The parsed JSON of `--config`, or `createRegistrar({ config })`. */
  file?: unknown
}

/**
 * Resolves a configuration that may still lack its issuer (admin commands need none; `serve`
 * derives one once it has a port): flags > `REGISTRAR_*` env > file > defaults, validated and
 * deep-frozen. Throws a {@link ConfigError} naming the first bad key.
 */
export function resolveSettings(sources: ConfigSources = {}): Readonly<RegistrarSettings> {
  const file = sources.file ?? {}
  if (!isObject(file)) throw new ConfigError('(file)', 'the config file must hold a JSON object')
  refuseUnsafeKeys(file, '')
  // `$schema` points an editor at config.schema.json; it is not a setting
  const { $schema: _editorHint, ...input } = file
  const flags = sources.flags ?? {}
  const env = sources.env ?? {}
  const known = new Set(SOURCES.flatMap((s) => (s.flag ? [s.flag.name] : [])))
  for (const name of Object.keys(flags)) {
    if (!known.has(name)) throw new Error(`resolveSettings: --${name} sets no configuration key`)
  }
  // an empty value (`REGISTRAR_HOST=` in a compose file) means "not set" on every layer
  const layer = (value: string | number | undefined) =>
    value === undefined || value === '' ? undefined : value
  for (const source of SOURCES) {
    const value =
      layer(source.flag ? flags[source.flag.name] : undefined) ??
      layer(source.env ? env[source.env] : undefined)
    if (value !== undefined) setAt(input, source.key.split('.'), fromText(value, source.schema))
  }
  const result = configSchema.safeParse(input, { error: describeIssue })
  if (!result.success) throw configError(result.error.issues[0] as z.core.$ZodIssue)
  return deepFreeze(result.data)
}

/** {@link resolveSettings}, and the issuer is required: a configuration to run a Registrar on. */
export function resolveConfig(sources: ConfigSources = {}): Readonly<RegistrarConfig> {
  const resolved = resolveSettings(sources)
  if (resolved.issuer === undefined) {
    throw new ConfigError('issuer', 'is required (the URL clients reach this server at)')
  }
  return resolved as Readonly<RegistrarConfig>
}

/** Completes resolved settings with an issuer (checked like any other): `serve`'s derived one. */
export function withIssuer(
  resolved: Readonly<RegistrarSettings>,
  issuer: string,
): Readonly<RegistrarConfig> {
  const result = issuerSchema.safeParse(issuer)
  if (!result.success) throw configError({ ...result.error.issues[0], path: ['issuer'] } as never)
  return Object.freeze({ ...resolved, issuer: result.data })
}

/** A listen address (`admin.listen`, `metrics.listen`) as host and port, or a ConfigError. */
export function listenAddress(key: string, value: unknown): { host: string; port: number } {
  const address = parseListenAddress(value)
  if (!address) {
    throw new ConfigError(key, "must be 'HOST:PORT' (e.g. '127.0.0.1:9464' or '[::1]:9464')")
  }
  return address
}

/** Every key's default (the issuer has none). */
export const DEFAULTS: Readonly<RegistrarSettings> = resolveSettings()

/** A flag or environment value is text; numbers and booleans are read as such. */
function fromText(value: string | number, schema: z.ZodType): unknown {
  if (typeof value !== 'string') return value
  const type = def(innerSchema(schema)).type
  if (type === 'number' && /^\d+$/.test(value)) return Number(value)
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true'
  return value // left as text, the schema refuses it with the key's own message
}

/** Sets `path` in `target`, copying the objects on the way so the caller's input stays as it was. */
function setAt(target: Record<string, unknown>, path: string[], value: unknown): void {
  const [head, ...rest] = path as [string, ...string[]]
  if (rest.length === 0) {
    target[head] = value
    return
  }
  const current = target[head]
  if (current !== undefined && !isObject(current)) throw new ConfigError(head, 'must be an object')
  const copy = { ...(current ?? {}) }
  target[head] = copy
  try {
    setAt(copy, rest, value)
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${head}.${err.key}`, 'must be an object')
    throw err
  }
}

/**
 * Names that would reach an object's prototype are refused outright (zod drops them silently,
 * and a silent drop is what the schema exists to prevent).
 */
function refuseUnsafeKeys(value: unknown, path: string): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      refuseUnsafeKeys(v, `${path}[${i}]`)
    })
    return
  }
  if (!isObject(value)) return
  for (const [k, v] of Object.entries(value)) {
    const key = path ? `${path}.${k}` : k
    if (isPrototypeName(k)) {
      throw new ConfigError(key, 'is not allowed')
    }
    refuseUnsafeKeys(v, key)
  }
}

/** Wording for the issues that no key's own message covers. */
function describeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === 'invalid_type') {
    switch (issue.expected) {
      case 'object':
        return 'must be an object'
      case 'array':
        return 'must be an array'
      case 'boolean':
        return 'must be true or false'
      case 'number':
      case 'int':
        return 'must be a number'
      default:
        return `must be a ${issue.expected}`
    }
  }
  return undefined
}

/** The issue as a ConfigError: `a.b[0].c`, and for an unknown key, that key. */
function configError(issue: z.core.$ZodIssue): ConfigError {
  const path = [...issue.path]
  let message = issue.message
  if (issue.code === 'unrecognized_keys') {
    path.push(issue.keys[0] as string)
    message = 'is not a known configuration key'
  } else if (message === STRING_ARRAY && typeof path.at(-1) === 'number') {
    path.pop() // a list of strings is named as a whole
  }
  const key = path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('')
  return new ConfigError(key || '(file)', message)
}

// biome-ignore lint/suspicious/noExplicitAny: config objects are checked key by key
function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    for (const v of Object.values(o)) deepFreeze(v)
    Object.freeze(o)
  }
  return o
}
