import { SERVER_ISSUED_MEMBERS } from './client-information.js'
import { isSymmetricAlg } from './client-metadata.js'
import { parseCidr } from './network-address.js'

/** A trusted software-statement issuer (RFC 7591 §2.3; checklist §7.1). */
export interface TrustedIssuer {
  /** Exact `iss` value of the statements this issuer signs. */
  iss: string
  /** The issuer's public keys, by value... */
  jwks?: { keys: Record<string, unknown>[] }
  /** ...or by reference, fetched through the SSRF-safe fetcher and cached. */
  jwks_uri?: string
  /** JWS algorithms accepted from this issuer. */
  algorithms: string[]
  /** Statement claim → metadata name, for directory profiles (`software_redirect_uris` → `redirect_uris`). */
  claimMapping?: Record<string, string>
  /** Registration policy applied to clients vouched for by this issuer. */
  policy?: string
  /** Maximum age of the statement's `iat`, in seconds (Open Finance Brasil: 300). */
  maxAge?: number
  /** When set, only statements whose `software_id` is listed are approved. */
  softwareIds?: string[]
}

/** A declarative registration policy (see README "Securing open registration"). */
export interface RegistrationPolicy {
  /** Hosts redirect URIs may name (exact, or `*.example.com` for subdomains). */
  redirectUriHosts?: string[]
  /** Schemes redirect URIs may use (`https`, `http` for loopback, private-use schemes). */
  redirectUriSchemes?: string[]
  /** Scope ceiling: requested scopes outside it are dropped (`intersect`) or refused (`reject`). */
  scopes?: string[]
  scopePolicy?: 'intersect' | 'reject'
  grantTypes?: string[]
  authMethods?: string[]
  /** Maximum number of clients registered under this policy. */
  maxClients?: number
  /** New clients are `disabled` until `registrar clients approve ID`. */
  requireApproval?: boolean
  /** `client_name` values (case-insensitive) reserved for vouched-for clients. */
  reservedClientNames?: string[]
  /**
   * RFC 7591 §5 (SHOULD, open registration): `client_uri`, `logo_uri`, `tos_uri` and `policy_uri`
   * (and their language-tagged forms) must be on a host of one of the redirect URIs.
   */
  sameHostReferences?: boolean
}

/**
 * The resolved configuration. `DEFAULTS` documents every key; `resolveConfig` applies
 * flags > `REGISTRAR_*` env > config file > defaults, validates and freezes the result.
 */
export interface RegistrarConfig {
  /** Issuer identifier (RFC 8414 §2); endpoints live under it. https, or http on loopback. */
  issuer: string
  port: number
  host: string
  /** `memory`, `sqlite:PATH` or `postgres://…`. */
  store: string
  registration: {
    /** `open`: anonymous registration; `token`: an initial access token is required. */
    mode: 'open' | 'token'
    /** Dot-less private-use redirect URI schemes allowed for native clients (RFC 8252 §8.4). */
    allowedPrivateUseSchemes: string[]
    /** Issue a new registration access token on every RFC 7592 PUT. */
    rotateRegistrationAccessToken: boolean
    /** Lifetime of issued client secrets in seconds; 0 = never expire. */
    clientSecretExpiresIn: number
    /**
     * 32-byte key (base64url or hex) sealing secrets the AS needs in plaintext (client_secret_jwt,
     * HS* algorithms). Without it those are not offered.
     */
    secretEncryptionKey?: string
    /** Extra metadata members kept verbatim. */
    extensionFields: string[]
    /** What to do with requested scopes outside `metadata.scopes_supported`. */
    scopePolicy: 'intersect' | 'reject'
    /** Fetch a client's jwks_uri at registration and refuse it if unusable. */
    verifyJwksUri: boolean
  }
  softwareStatement: {
    /** Refuse registrations that present no software statement. */
    required: boolean
    trustedIssuers: TrustedIssuer[]
    /** Allowed clock skew in seconds for exp / nbf / iat. */
    clockSkew: number
    /**
     * Seconds after fetching an issuer's jwks_uri before a statement with an unknown `kid` may
     * trigger another fetch (protects the issuer and us from kid-spraying).
     */
    keyRefreshCooldown: number
  }
  /** Named registration policies and which registrant class uses which. */
  policies: {
    /** Policy for anonymous registrations (open mode). */
    anonymous?: string
    /** Policy for registrations with an initial access token that names none. */
    initialAccessToken?: string
    definitions: Record<string, RegistrationPolicy>
  }
  /** The AS side: client lookup and client authentication at the AS's endpoints (issue 10). */
  clientAuthentication: {
    /**
     * Enforce `client_secret_basic` and `client_secret_post` exactly as registered; by default
     * either is accepted for the other (both prove the same secret; as-side AS-BP-09).
     */
    strictMethod: boolean
    /**
     * A client assertion's `aud` must be the issuer as its only value (RFC 10070 §3); by default
     * the token endpoint or the URL of the endpoint called is accepted too.
     */
    strictAudience: boolean
    /** Longest a client assertion may still be valid (`exp` − now), in seconds. */
    maxAssertionLifetime: number
    /** Seconds of tolerance on a client assertion's `exp`, `nbf` and `iat`. */
    clockSkew: number
    /**
     * PEM file of the CA certificates `tls_client_auth` client certificates must be issued by
     * (RFC 8705 §2.1). Required when `tls_client_auth` is offered.
     */
    tlsClientAuthCaFile?: string
    /**
     * How long, in milliseconds, a client looked up by the AS stays cached in process; 0 = no cache.
     * Changes through this process are seen at once, and on PostgreSQL those of other instances
     * too; otherwise this is how stale a lookup may be.
     */
    clientCacheTtlMs: number
  }
  rateLimit: {
    /** Requests per window per client IP on anonymous POST /register; 0 disables. */
    anonymousRegistrations: number
    /** Window in seconds. */
    windowSeconds: number
    /** `memory` or `redis://…` (shared between instances). */
    store: string
    /** Trust X-Forwarded-For from these proxy addresses (CIDRs) to find the client IP. */
    trustedProxies: string[]
  }
  fetch: {
    timeoutMs: number
    maxBytes: number
    maxRedirects: number
    /** CIDRs that fetches may reach despite being special-use (e.g. an internal directory). */
    allowedAddresses: string[]
    /** PEM file of extra CA certificates to trust (issuers behind a private CA). */
    caFile?: string
  }
  /** Merged into both discovery documents; its `*_supported` lists also bound registration. */
  metadata: Record<string, unknown>
  cors: {
    /** Origins allowed to call /register from a browser; `*` for any. */
    allowedOrigins: string[]
  }
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' }
  limits: { maxBodyBytes: number }
  postgres: {
    poolSize: number
    connectTimeoutMs: number
    statementTimeoutMs: number
  }
}

/** Every key's default. */
export const DEFAULTS: RegistrarConfig = {
  issuer: '', // derived from host and port when empty
  port: 3000,
  host: '127.0.0.1',
  store: 'sqlite:./data/registrar.db',
  registration: {
    mode: 'token',
    allowedPrivateUseSchemes: [],
    rotateRegistrationAccessToken: false,
    clientSecretExpiresIn: 0,
    extensionFields: [],
    scopePolicy: 'intersect',
    verifyJwksUri: false,
  },
  softwareStatement: { required: false, trustedIssuers: [], clockSkew: 60, keyRefreshCooldown: 30 },
  policies: { definitions: {} },
  clientAuthentication: {
    strictMethod: false,
    strictAudience: false,
    maxAssertionLifetime: 600,
    clockSkew: 15,
    clientCacheTtlMs: 5000,
  },
  rateLimit: {
    anonymousRegistrations: 0,
    windowSeconds: 60,
    store: 'memory',
    trustedProxies: [],
  },
  fetch: { timeoutMs: 3000, maxBytes: 256 * 1024, maxRedirects: 0, allowedAddresses: [] },
  metadata: {},
  cors: { allowedOrigins: ['*'] },
  log: { level: 'info' },
  limits: { maxBodyBytes: 64 * 1024 },
  postgres: { poolSize: 10, connectTimeoutMs: 5000, statementTimeoutMs: 5000 },
}

/** A configuration refused at start, naming the key at fault. */
export class ConfigError extends Error {
  readonly key: string
  constructor(key: string, message: string) {
    super(`invalid configuration: ${key}: ${message}`)
    this.name = 'ConfigError'
    this.key = key
  }
}

/** The top-level flags of `registrar serve`. */
export interface ConfigFlags {
  port?: string | number
  host?: string
  issuer?: string
  store?: string
  registration?: string
  /** `--rate-limit-store`: `memory` or `redis://…`. */
  rateLimitStore?: string
}

/**
 * Resolves the configuration: flags > `REGISTRAR_*` env > config file > DEFAULTS. `env` is passed
 * in (core never reads process.env); `file` is the parsed JSON of `--config`.
 */
export function resolveConfig(
  sources: { flags?: ConfigFlags; env?: Record<string, string | undefined>; file?: unknown } = {},
): Readonly<RegistrarConfig> {
  const file = sources.file ?? {}
  if (!isObject(file)) throw new ConfigError('(file)', 'the config file must hold a JSON object')
  const env = sources.env ?? {}
  const flags = sources.flags ?? {}
  const merged = deepMerge(structuredClone(DEFAULTS), file, '') as RegistrarConfig & {
    registration: { mode: string }
  }
  const layer = (value: string | number | undefined) =>
    value === undefined || value === '' ? undefined : value
  // an empty value (`REGISTRAR_HOST=` in a compose file) means "not set" on every layer
  const port = layer(flags.port) ?? layer(env.REGISTRAR_PORT)
  if (port !== undefined) merged.port = toPort(port)
  merged.host = String(layer(flags.host) ?? layer(env.REGISTRAR_HOST) ?? merged.host)
  merged.issuer = String(layer(flags.issuer) ?? layer(env.REGISTRAR_ISSUER) ?? merged.issuer)
  merged.store = String(layer(flags.store) ?? layer(env.REGISTRAR_STORE) ?? merged.store)
  const mode = layer(flags.registration) ?? layer(env.REGISTRAR_REGISTRATION)
  if (mode !== undefined) merged.registration.mode = mode as 'open' | 'token'
  if (env.REGISTRAR_SECRET_ENCRYPTION_KEY) {
    merged.registration.secretEncryptionKey = env.REGISTRAR_SECRET_ENCRYPTION_KEY
  }
  if (env.REGISTRAR_LOG_LEVEL) merged.log.level = env.REGISTRAR_LOG_LEVEL as 'info'
  const rateLimitStore = flags.rateLimitStore ?? env.REGISTRAR_RATE_LIMIT_STORE
  if (rateLimitStore) merged.rateLimit.store = rateLimitStore
  validateConfig(merged)
  return deepFreeze(merged)
}

/** Checks a merged configuration; throws {@link ConfigError} naming the first bad key. */
export function validateConfig(c: RegistrarConfig): void {
  c.port = toPort(c.port) // a number from the file is range-checked too
  if (typeof c.host !== 'string' || c.host === '')
    throw new ConfigError('host', 'must be a host name or address')
  if (c.issuer !== '') c.issuer = checkIssuer(c.issuer)
  if (!/^(memory|sqlite:.+|postgres(ql)?:\/\/.+)$/.test(c.store)) {
    throw new ConfigError('store', "must be 'memory', 'sqlite:PATH' or 'postgres://…'")
  }
  const r = c.registration
  oneOf('registration.mode', r.mode, ['open', 'token'])
  stringArray('registration.allowedPrivateUseSchemes', r.allowedPrivateUseSchemes)
  r.allowedPrivateUseSchemes = r.allowedPrivateUseSchemes.map((s, i) => {
    const scheme = s.toLowerCase().replace(/:$/, '')
    if (!/^[a-z][a-z0-9+.-]*$/.test(scheme) || scheme === 'http' || scheme === 'https') {
      throw new ConfigError(
        `registration.allowedPrivateUseSchemes[${i}]`,
        `'${s}' is not a private-use URI scheme`,
      )
    }
    return scheme
  })
  bool('registration.rotateRegistrationAccessToken', r.rotateRegistrationAccessToken)
  bool('registration.verifyJwksUri', r.verifyJwksUri)
  nonNegativeInt('registration.clientSecretExpiresIn', r.clientSecretExpiresIn)
  stringArray('registration.extensionFields', r.extensionFields)
  r.extensionFields.forEach((f, i) => {
    // members the server issues must come from the server (RFC 7591 §3.1, §3.2.1; RFC 7592 §3)
    if (
      SERVER_ISSUED_MEMBERS.includes(f) ||
      f === 'software_statement' ||
      f === '__proto__' ||
      f === ''
    ) {
      throw new ConfigError(
        `registration.extensionFields[${i}]`,
        `'${f}' is issued by the server, not an extension field`,
      )
    }
  })
  oneOf('registration.scopePolicy', r.scopePolicy, ['intersect', 'reject'])
  if (r.secretEncryptionKey !== undefined) {
    if (secretKeyBytes(r.secretEncryptionKey) === undefined) {
      throw new ConfigError(
        'registration.secretEncryptionKey',
        'must be 32 bytes, base64url (43 characters) or hex (64 characters)',
      )
    }
  }

  const s = c.softwareStatement
  bool('softwareStatement.required', s.required)
  nonNegativeInt('softwareStatement.clockSkew', s.clockSkew)
  nonNegativeInt('softwareStatement.keyRefreshCooldown', s.keyRefreshCooldown)
  if (!Array.isArray(s.trustedIssuers))
    throw new ConfigError('softwareStatement.trustedIssuers', 'must be an array')
  s.trustedIssuers.forEach((t, i) => {
    const key = `softwareStatement.trustedIssuers[${i}]`
    if (!isObject(t)) throw new ConfigError(key, 'must be an object')
    if (typeof t.iss !== 'string' || t.iss === '')
      throw new ConfigError(`${key}.iss`, 'must be a non-empty string')
    if ((t.jwks === undefined) === (t.jwks_uri === undefined)) {
      throw new ConfigError(key, 'must have exactly one of jwks and jwks_uri')
    }
    if (t.jwks !== undefined && (!isObject(t.jwks) || !Array.isArray(t.jwks.keys))) {
      throw new ConfigError(`${key}.jwks`, 'must be a JWK Set ({"keys": [...]})')
    }
    if (t.jwks_uri !== undefined) checkHttpsUrl(`${key}.jwks_uri`, t.jwks_uri)
    stringArray(`${key}.algorithms`, t.algorithms)
    if (t.algorithms.length === 0)
      throw new ConfigError(`${key}.algorithms`, 'must list at least one algorithm')
    if (t.algorithms.includes('none'))
      throw new ConfigError(`${key}.algorithms`, "must not include 'none'")
    if (t.claimMapping !== undefined && !isObject(t.claimMapping)) {
      throw new ConfigError(`${key}.claimMapping`, 'must be an object of claim → metadata name')
    }
    if (t.maxAge !== undefined) nonNegativeInt(`${key}.maxAge`, t.maxAge)
    if (t.softwareIds !== undefined) stringArray(`${key}.softwareIds`, t.softwareIds)
    if (t.policy !== undefined && !c.policies.definitions?.[t.policy]) {
      throw new ConfigError(`${key}.policy`, `names no policy in policies.definitions`)
    }
  })

  const p = c.policies
  if (!isObject(p.definitions)) throw new ConfigError('policies.definitions', 'must be an object')
  for (const name of ['anonymous', 'initialAccessToken'] as const) {
    const v = p[name]
    if (v !== undefined && !p.definitions[v]) {
      throw new ConfigError(`policies.${name}`, `names no policy in policies.definitions`)
    }
  }
  for (const [name, def] of Object.entries(p.definitions)) {
    const key = `policies.definitions.${name}`
    if (!isObject(def)) throw new ConfigError(key, 'must be an object')
    for (const list of [
      'redirectUriHosts',
      'redirectUriSchemes',
      'scopes',
      'grantTypes',
      'authMethods',
      'reservedClientNames',
    ] as const) {
      if (def[list] !== undefined) stringArray(`${key}.${list}`, def[list])
    }
    if (def.scopePolicy !== undefined)
      oneOf(`${key}.scopePolicy`, def.scopePolicy, ['intersect', 'reject'])
    if (def.maxClients !== undefined) nonNegativeInt(`${key}.maxClients`, def.maxClients)
    if (def.requireApproval !== undefined) bool(`${key}.requireApproval`, def.requireApproval)
    if (def.sameHostReferences !== undefined) {
      bool(`${key}.sameHostReferences`, def.sameHostReferences)
    }
  }

  const ca = c.clientAuthentication
  bool('clientAuthentication.strictMethod', ca.strictMethod)
  bool('clientAuthentication.strictAudience', ca.strictAudience)
  nonNegativeInt('clientAuthentication.maxAssertionLifetime', ca.maxAssertionLifetime)
  if (ca.maxAssertionLifetime === 0) {
    throw new ConfigError('clientAuthentication.maxAssertionLifetime', 'must be at least 1')
  }
  nonNegativeInt('clientAuthentication.clockSkew', ca.clockSkew)
  nonNegativeInt('clientAuthentication.clientCacheTtlMs', ca.clientCacheTtlMs)
  if (
    ca.tlsClientAuthCaFile !== undefined &&
    (typeof ca.tlsClientAuthCaFile !== 'string' || ca.tlsClientAuthCaFile === '')
  ) {
    throw new ConfigError('clientAuthentication.tlsClientAuthCaFile', 'must be a file path')
  }

  const rl = c.rateLimit
  nonNegativeInt('rateLimit.anonymousRegistrations', rl.anonymousRegistrations)
  nonNegativeInt('rateLimit.windowSeconds', rl.windowSeconds)
  if (rl.windowSeconds === 0) throw new ConfigError('rateLimit.windowSeconds', 'must be at least 1')
  if (rl.store !== 'memory' && !/^rediss?:\/\/.+/.test(rl.store)) {
    throw new ConfigError('rateLimit.store', "must be 'memory' or 'redis://…'")
  }
  cidrs('rateLimit.trustedProxies', rl.trustedProxies)

  nonNegativeInt('fetch.timeoutMs', c.fetch.timeoutMs)
  nonNegativeInt('fetch.maxBytes', c.fetch.maxBytes)
  nonNegativeInt('fetch.maxRedirects', c.fetch.maxRedirects)
  cidrs('fetch.allowedAddresses', c.fetch.allowedAddresses)
  if (
    c.fetch.caFile !== undefined &&
    (typeof c.fetch.caFile !== 'string' || c.fetch.caFile === '')
  ) {
    throw new ConfigError('fetch.caFile', 'must be a file path')
  }

  if (!isObject(c.metadata)) throw new ConfigError('metadata', 'must be an object')
  checkMetadata(c)
  stringArray('cors.allowedOrigins', c.cors.allowedOrigins)
  oneOf('log.level', c.log.level, ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  nonNegativeInt('limits.maxBodyBytes', c.limits.maxBodyBytes)
  nonNegativeInt('postgres.poolSize', c.postgres.poolSize)
  nonNegativeInt('postgres.connectTimeoutMs', c.postgres.connectTimeoutMs)
  nonNegativeInt('postgres.statementTimeoutMs', c.postgres.statementTimeoutMs)
}

/** Decodes `registration.secretEncryptionKey` (32 bytes, base64url or hex). */
export function secretKeyBytes(key: string): Buffer | undefined {
  const bytes = /^[0-9a-fA-F]{64}$/.test(key)
    ? Buffer.from(key, 'hex')
    : /^[A-Za-z0-9_-]{43}=?$/.test(key)
      ? Buffer.from(key, 'base64url')
      : undefined
  return bytes?.length === 32 ? bytes : undefined
}

const SUPPORTED_LISTS = [
  'grant_types_supported',
  'response_types_supported',
  'token_endpoint_auth_methods_supported',
  'token_endpoint_auth_signing_alg_values_supported',
  'subject_types_supported',
  'id_token_signing_alg_values_supported',
  'id_token_encryption_alg_values_supported',
  'id_token_encryption_enc_values_supported',
  'userinfo_signing_alg_values_supported',
  'userinfo_encryption_alg_values_supported',
  'userinfo_encryption_enc_values_supported',
  'request_object_signing_alg_values_supported',
  'request_object_encryption_alg_values_supported',
  'request_object_encryption_enc_values_supported',
  'acr_values_supported',
  'scopes_supported',
  'code_challenge_methods_supported',
] as const

function checkMetadata(c: RegistrarConfig): void {
  const m = c.metadata
  for (const key of SUPPORTED_LISTS) {
    if (m[key] !== undefined) stringArray(`metadata.${key}`, m[key])
  }
  if (m.issuer !== undefined)
    throw new ConfigError('metadata.issuer', 'set the top-level issuer instead')
  if (m.registration_endpoint !== undefined) {
    throw new ConfigError('metadata.registration_endpoint', 'is derived from the issuer')
  }
  // RDISC-X-a: never advertise a grant that registration must refuse for want of its response type
  const grants = m.grant_types_supported as string[] | undefined
  const responses = (m.response_types_supported as string[] | undefined) ?? ['code']
  const parts = new Set(responses.flatMap((r) => r.split(' ')))
  if (grants?.includes('authorization_code') && !parts.has('code')) {
    throw new ConfigError(
      'metadata.grant_types_supported',
      "authorization_code needs a response type with 'code' in metadata.response_types_supported",
    )
  }
  if (grants?.includes('implicit') && !parts.has('token') && !parts.has('id_token')) {
    throw new ConfigError(
      'metadata.grant_types_supported',
      "implicit needs a response type with 'token' or 'id_token' in metadata.response_types_supported",
    )
  }
  const hasKey = c.registration.secretEncryptionKey !== undefined
  const methods = m.token_endpoint_auth_methods_supported as string[] | undefined
  if (methods?.includes('client_secret_jwt') && !hasKey) {
    throw new ConfigError(
      'metadata.token_endpoint_auth_methods_supported',
      'client_secret_jwt needs registration.secretEncryptionKey (the secret must be kept in plaintext, sealed)',
    )
  }
  const signing = m.token_endpoint_auth_signing_alg_values_supported as string[] | undefined
  if (signing?.includes('none')) {
    throw new ConfigError(
      'metadata.token_endpoint_auth_signing_alg_values_supported',
      "must not include 'none' (RFC 8414 §2)",
    )
  }
  for (const key of SUPPORTED_LISTS) {
    const list = m[key] as string[] | undefined
    if (!hasKey && list?.some((a) => isSymmetricAlg(a))) {
      throw new ConfigError(
        `metadata.${key}`,
        'symmetric algorithms need registration.secretEncryptionKey',
      )
    }
  }
}

function checkIssuer(issuer: string): string {
  let url: URL
  try {
    url = new URL(issuer)
  } catch {
    throw new ConfigError('issuer', 'must be an absolute URL')
  }
  if (url.search || url.hash || issuer.includes('#') || issuer.includes('?')) {
    throw new ConfigError('issuer', 'must not have a query or fragment (RFC 8414 §2)')
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ConfigError('issuer', 'must use https (http only on localhost, for development)')
  }
  return issuer.replace(/\/+$/, '')
}

function checkHttpsUrl(key: string, value: unknown): void {
  if (typeof value !== 'string') throw new ConfigError(key, 'must be a URL string')
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new ConfigError(key, 'must be an absolute URL')
  }
  if (url.protocol !== 'https:') throw new ConfigError(key, 'must use https')
}

function toPort(v: unknown): number {
  const n = typeof v === 'number' ? v : /^\d+$/.test(String(v)) ? Number(v) : Number.NaN
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new ConfigError('port', 'must be an integer 0-65535')
  return n
}

function oneOf(key: string, v: unknown, allowed: string[]): void {
  if (typeof v !== 'string' || !allowed.includes(v)) {
    throw new ConfigError(key, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}`)
  }
}
function bool(key: string, v: unknown): void {
  if (typeof v !== 'boolean') throw new ConfigError(key, 'must be true or false')
}
function nonNegativeInt(key: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new ConfigError(key, 'must be a non-negative integer')
  }
}
function stringArray(key: string, v: unknown): asserts v is string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw new ConfigError(key, 'must be an array of strings')
  }
}
function cidrs(key: string, v: unknown): void {
  stringArray(key, v)
  v.forEach((c, i) => {
    if (!parseCidr(c)) throw new ConfigError(`${key}[${i}]`, `'${c}' is not an IP address or CIDR`)
  })
}

// biome-ignore lint/suspicious/noExplicitAny: config objects are checked key by key
function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Merges `src` into `dst`; unknown keys are refused so a typo never passes silently. */
function deepMerge(
  // biome-ignore lint/suspicious/noExplicitAny: config objects are checked key by key
  dst: Record<string, any>,
  src: Record<string, unknown>,
  path: string,
): unknown {
  for (const [k, v] of Object.entries(src)) {
    const key = path ? `${path}.${k}` : k
    if (k === '__proto__' || k === 'constructor' || k === 'prototype')
      throw new ConfigError(key, 'is not allowed')
    if (k === '$schema' && path === '') continue
    // metadata and policy definitions are open maps
    const open = key === 'metadata' || key === 'policies.definitions'
    if (!Object.hasOwn(dst, k) && !open && !isOptionalKey(key)) {
      throw new ConfigError(key, 'is not a known configuration key')
    }
    if (isObject(dst[k]) && !isObject(v)) {
      // replacing a section by a scalar would surface later as a TypeError, not a named key
      throw new ConfigError(key, 'must be an object')
    }
    if (isObject(v) && isObject(dst[k]) && !open) deepMerge(dst[k], v, key)
    else dst[k] = v
  }
  return dst
}

function isOptionalKey(key: string): boolean {
  return [
    'registration.secretEncryptionKey',
    'clientAuthentication.tlsClientAuthCaFile',
    'fetch.caFile',
    'policies.anonymous',
    'policies.initialAccessToken',
  ].includes(key)
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v)
    Object.freeze(o)
  }
  return o
}
