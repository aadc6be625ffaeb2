/**
 * The configuration of Registrar, declared once.
 *
 * Everything about a configuration key lives in its entry below, and everything else is derived
 * from it: the TypeScript types (`RegistrarConfigInput`, `RegistrarSettings`, `RegistrarConfig`),
 * the defaults (`DEFAULTS`), the validation (unknown keys are refused at every depth, because
 * every object is a `z.strictObject`), the `REGISTRAR_*` environment variables and `serve` flags,
 * the JSON Schema shipped as `config.schema.json`, and the configuration reference in docs/configuration.md.
 *
 * To add a key:
 * 1. Add it to its section below (or to `trustedIssuerSchema` / `registrationPolicySchema` for a
 *    member of a trusted issuer or a policy), wrapped in `setting(schema, { doc, … })`: a key
 *    without one makes `settings()` throw. Give it a `.default()` or make it `.optional()`; a new
 *    section is `section({ … })`. Use the checks at the top of this file (`nonNegativeInt`,
 *    `stringArray`, `oneOf`, …) so that errors read alike. A rule that spans keys goes in the
 *    `superRefine` at the bottom, with the `path` of the key it blames.
 * 2. To let an environment variable or a `registrar serve` flag set it, add `env` / `flag` to its
 *    `setting` (nothing else reads them: `resolveSettings` and `serve --help` walk this schema;
 *    the env/flag test in `test/core/config.test.ts` asks for a sample value).
 * 3. Run `npm run docs:generate` to refresh `config.schema.json` and docs/configuration.md
 *    (the tests in `test/core/config-reference.test.ts` fail while either is stale).
 */
import { z } from 'zod'
import { SERVER_ISSUED_MEMBERS } from '../core/client-information.js'
import { isSymmetricAlg } from '../metadata/algorithms.js'
import { parseCidr } from '../net/network-address.js'
import { isLoopbackHost } from '../shared/loopback.js'
import { isPrototypeName } from '../shared/prototype-names.js'

/** What the reference, the environment and the CLI know of one configuration key. */
export interface SettingDoc {
  /** What the key does: the "meaning" column of docs/configuration.md and the JSON Schema's `description`. */
  doc: string
  /** The default column of docs/configuration.md, when the default value alone would not say it. */
  defaultDoc?: string
  /** The `REGISTRAR_*` environment variable that sets this key (above the file, below flags). */
  env?: `REGISTRAR_${string}`
  /** The `registrar serve` flag that sets this key: `--NAME ARG`, with a one-line help. */
  flag?: { name: string; arg: string; help: string }
}

/** Every documented key's schema → its {@link SettingDoc}. */
export const settingDocs = z.registry<SettingDoc>()

/** Registers `schema` as a documented configuration key. */
function setting<T extends z.ZodType>(schema: T, doc: SettingDoc): T {
  const described = schema.describe(doc.doc) as T
  settingDocs.add(described, doc as never) // `never`: the registry's per-schema typing needs a concrete T
  return described
}

// ---------------------------------------------------------------------------------------------
// Checks, each with the message a ConfigError carries.

/** The message of a string array's element errors; `resolve.ts` names the array, not the index. */
export const STRING_ARRAY = 'must be an array of strings'

const nonNegativeInt = () =>
  z.int({ error: 'must be a non-negative integer' }).min(0, 'must be a non-negative integer')
const bool = () => z.boolean({ error: 'must be true or false' })
const stringArray = () => z.array(z.string({ error: STRING_ARRAY }), { error: STRING_ARRAY })
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of ${values.map((v) => `'${v}'`).join(', ')}` })

/** CIDRs or bare addresses (a single host). */
const cidrList = () =>
  z.array(
    z.string({ error: STRING_ARRAY }).refine((c) => parseCidr(c) !== undefined, {
      error: (iss) => `'${iss.input}' is not an IP address or CIDR`,
    }),
    { error: STRING_ARRAY },
  )

const httpsUrl = () =>
  z.string({ error: 'must be a URL string' }).superRefine((value, ctx) => {
    let url: URL
    try {
      url = new URL(value)
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be an absolute URL' })
      return
    }
    if (url.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: 'must use https' })
  })

/** RFC 8414 §2: an https URL without query or fragment; http only on loopback, for development. */
export const issuerSchema = z
  .string({ error: 'must be an absolute URL' })
  .superRefine((issuer, ctx) => {
    let url: URL
    try {
      url = new URL(issuer)
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be an absolute URL' })
      return
    }
    if (url.search || url.hash || issuer.includes('#') || issuer.includes('?')) {
      ctx.addIssue({ code: 'custom', message: 'must not have a query or fragment (RFC 8414 §2)' })
      return
    }
    const loopback = isLoopbackHost(url.hostname)
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
      ctx.addIssue({
        code: 'custom',
        message: 'must use https (http only on localhost, for development)',
      })
    }
  })
  .transform((issuer) => issuer.replace(/\/+$/, ''))

/** Decodes `registration.secretEncryptionKey` (32 bytes, base64url or hex). */
export function secretKeyBytes(key: string): Buffer | undefined {
  const bytes = /^[0-9a-fA-F]{64}$/.test(key)
    ? Buffer.from(key, 'hex')
    : /^[A-Za-z0-9_-]{43}=?$/.test(key)
      ? Buffer.from(key, 'base64url')
      : undefined
  return bytes?.length === 32 ? bytes : undefined
}

/**
 * `HOST:PORT` of an extra listener (`admin.listen`, `metrics.listen`): `127.0.0.1:9464`,
 * `[::1]:9464`, `0.0.0.0:9464`; undefined when the text is not one.
 */
export function parseListenAddress(value: unknown): { host: string; port: number } | undefined {
  const m =
    typeof value === 'string' ? /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value) : null
  const port = Number(m?.[3])
  const host = m?.[1] ?? m?.[2]
  if (!m || host === undefined || port > 65535) return undefined
  return { host, port }
}

const LISTEN_ADDRESS = "must be 'HOST:PORT' (e.g. '127.0.0.1:9464' or '[::1]:9464')"
const listenAddress = () =>
  z
    .string({ error: LISTEN_ADDRESS })
    .refine((v) => parseListenAddress(v) !== undefined, LISTEN_ADDRESS)

const SECRET_KEY = 'must be 32 bytes, base64url (43 characters) or hex (64 characters)'

/** RFC 8252 §8.4: a dot-less private-use scheme, lower-cased, without its colon. */
const privateUseScheme = z.string({ error: STRING_ARRAY }).transform((s, ctx) => {
  const scheme = s.toLowerCase().replace(/:$/, '')
  if (!/^[a-z][a-z0-9+.-]*$/.test(scheme) || scheme === 'http' || scheme === 'https') {
    ctx.addIssue({ code: 'custom', message: `'${s}' is not a private-use URI scheme` })
    return z.NEVER
  }
  return scheme
})

/** Members the server issues come from the server (RFC 7591 §3.1, §3.2.1; RFC 7592 §3). */
const extensionField = z
  .string({ error: STRING_ARRAY })
  .refine(
    (f) =>
      !SERVER_ISSUED_MEMBERS.includes(f) &&
      f !== 'software_statement' &&
      !isPrototypeName(f) &&
      f !== '',
    { error: (iss) => `'${iss.input}' is issued by the server, not an extension field` },
  )

// ---------------------------------------------------------------------------------------------
// Nested entries: a trusted issuer, a policy.

const trustedIssuerSchema = z
  .strictObject(
    {
      iss: setting(z.string({ error: 'must be a non-empty string' }).min(1), {
        doc: 'Exact `iss` value of the statements this issuer signs.',
      }),
      jwks: setting(
        z
          .looseObject(
            { keys: z.array(z.record(z.string(), z.unknown())) },
            { error: 'must be a JWK Set ({"keys": [...]})' },
          )
          .optional(),
        {
          doc: "The issuer's public keys, by value (a JWK Set). Exactly one of `jwks` and `jwks_uri`.",
        },
      ),
      jwks_uri: setting(httpsUrl().optional(), {
        doc: "The issuer's public keys, by reference (https), fetched through the SSRF-safe fetcher and cached.",
      }),
      algorithms: setting(
        stringArray()
          .min(1, 'must list at least one algorithm')
          .refine((a) => !a.includes('none'), "must not include 'none'"),
        { doc: 'JWS algorithms accepted from this issuer (never `none`).' },
      ),
      claimMapping: setting(
        z
          .record(z.string(), z.string(), { error: 'must be an object of claim → metadata name' })
          .optional(),
        {
          doc: 'Statement claim → metadata name, for directory profiles (`software_redirect_uris` → `redirect_uris`).',
        },
      ),
      policy: setting(z.string({ error: 'must be a policy name' }).optional(), {
        doc: 'Registration policy (a name in `policies.definitions`) applied to clients this issuer vouches for.',
      }),
      maxAge: setting(nonNegativeInt().optional(), {
        doc: "Maximum age of the statement's `iat`, in seconds (Open Finance Brasil: 300).",
      }),
      softwareIds: setting(stringArray().optional(), {
        doc: 'When set, only statements whose `software_id` is listed are approved.',
      }),
      typ: setting(
        z
          .string({ error: 'must be a media type such as software-statement+jwt' })
          .min(1, 'must be a media type such as software-statement+jwt')
          .optional(),
        {
          doc: "When set, the statement's `typ` header must be this (`application/` prefix optional), so that no other JWT of the issuer passes as a statement (RFC 8725 §3.11).",
        },
      ),
      audience: setting(stringArray().optional(), {
        doc: "When set, the statement's `aud` must name one of these. Unset: an `aud`, if present, must name this server (its issuer or registration endpoint).",
      }),
      requireSoftwareId: setting(bool().optional(), {
        doc: 'A statement must carry a `software_id` (RFC 7591 §2.3).',
        defaultDoc: '`true`',
      }),
    },
    { error: 'must be an object' },
  )
  .superRefine((t, ctx) => {
    if ((t.jwks === undefined) === (t.jwks_uri === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'must have exactly one of jwks and jwks_uri' })
    }
  })

const registrationPolicySchema = z.strictObject(
  {
    redirectUriHosts: setting(stringArray().optional(), {
      doc: 'Hosts redirect URIs may name (exact, or `*.example.com` for subdomains).',
    }),
    redirectUriSchemes: setting(stringArray().optional(), {
      doc: 'Schemes redirect URIs may use (`https`, `http` for loopback, private-use schemes).',
    }),
    scopes: setting(stringArray().optional(), {
      doc: 'Scope ceiling: requested scopes outside it are dropped (`intersect`) or refused (`reject`).',
    }),
    scopePolicy: setting(oneOf(['intersect', 'reject']).optional(), {
      doc: 'What to do with requested scopes outside `scopes`.',
      defaultDoc: '`intersect`',
    }),
    grantTypes: setting(stringArray().optional(), { doc: 'Grant types clients may register.' }),
    authMethods: setting(
      z
        .union(
          [
            stringArray(),
            z.strictObject(
              {
                allowed: stringArray(),
                onMismatch: oneOf(['refuse', 'substitute']).optional(),
              },
              { error: 'must be a list, or { allowed, onMismatch }' },
            ),
          ],
          { error: 'must be a list, or { allowed, onMismatch }' },
        )
        .optional(),
      {
        doc: 'Token endpoint auth methods clients may register: a list (any other is refused), or `{ "allowed": [...], "onMismatch": "substitute" }` to register the first allowed method instead (RFC 7591 §3.2.1).',
      },
    ),
    maxClients: setting(nonNegativeInt().optional(), {
      doc: 'Maximum number of clients registered under this policy (403 `access_denied` beyond it).',
    }),
    requireApproval: setting(bool().optional(), {
      doc: "New clients are `pending` until `registrar clients approve ID --version N`; an RFC 7592 update that changes an approved client's registration makes it `pending` again.",
    }),
    reservedClientNames: setting(stringArray().optional(), {
      doc: '`client_name` values (case-insensitive, look-alikes too) reserved for clients vouched for by a software statement.',
    }),
    allowedHosts: setting(stringArray().optional(), {
      doc: 'Client ID Metadata Documents only: hosts a `client_id` URL may name (exact, or `*.example.com` for subdomains); any other is refused before a fetch.',
    }),
    deniedHosts: setting(stringArray().optional(), {
      doc: 'Client ID Metadata Documents only: hosts a `client_id` URL must not name (same patterns); refused before a fetch, even when `allowedHosts` matches.',
    }),
    sameHostReferences: setting(
      z
        .union(
          [
            bool(),
            z.strictObject(
              { onMismatch: oneOf(['refuse', 'drop']) },
              { error: 'must be true, false or { onMismatch }' },
            ),
          ],
          { error: 'must be true, false or { onMismatch }' },
        )
        .optional(),
      {
        doc: '`client_uri`, `logo_uri`, `tos_uri` and `policy_uri` (and their language-tagged forms) must be on a host of one of the redirect URIs (RFC 7591 §5): `true` refuses the request otherwise; `{ "onMismatch": "drop" }` registers it without the offending members.',
      },
    ),
    expireUnusedAfter: setting(nonNegativeInt().optional(), {
      doc: 'Seconds a client of this policy may stay unused (no recorded use, registration, update or approval) before the idle-expiry sweep deletes it (RFC 7591 §5); `0` = never. Unset: `lifecycle.expireUnusedAfter`.',
    }),
    clientSecretExpiresIn: setting(nonNegativeInt().optional(), {
      doc: "Lifetime in seconds of the secrets issued to this policy's clients (`client_secret_expires_at`, RFC 7591 §3.2.1); `0` = never. Unset: `registration.clientSecretExpiresIn`. Renewal: an RFC 7592 update carrying the current `client_secret` (see `lifecycle.secretRotationGracePeriod`).",
    }),
  },
  { error: 'must be an object' },
)

// ---------------------------------------------------------------------------------------------
// Discovery metadata: an open object (any RFC 8414 / OIDC Discovery member), whose `*_supported`
// lists also bound registration.

/** `metadata` members that are lists of supported values. */
export const SUPPORTED_LISTS = [
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

const metadataSchema = z
  .looseObject(
    Object.fromEntries(SUPPORTED_LISTS.map((k) => [k, stringArray().optional()])) as Record<
      (typeof SUPPORTED_LISTS)[number],
      z.ZodOptional<ReturnType<typeof stringArray>>
    >,
    { error: 'must be an object' },
  )
  .superRefine((m, ctx) => {
    const blame = (key: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: [key], message })
    if (m.issuer !== undefined) blame('issuer', 'set the top-level issuer instead')
    if (m.registration_endpoint !== undefined) {
      blame('registration_endpoint', 'is derived from the issuer')
    }
    // RDISC-X-a: never advertise a grant that registration must refuse for want of its response type
    const grants = m.grant_types_supported
    const parts = new Set((m.response_types_supported ?? ['code']).flatMap((r) => r.split(' ')))
    if (grants?.includes('authorization_code') && !parts.has('code')) {
      blame(
        'grant_types_supported',
        "authorization_code needs a response type with 'code' in metadata.response_types_supported",
      )
    }
    if (grants?.includes('implicit') && !parts.has('token') && !parts.has('id_token')) {
      blame(
        'grant_types_supported',
        "implicit needs a response type with 'token' or 'id_token' in metadata.response_types_supported",
      )
    }
    if (m.token_endpoint_auth_signing_alg_values_supported?.includes('none')) {
      blame(
        'token_endpoint_auth_signing_alg_values_supported',
        "must not include 'none' (RFC 8414 §2)",
      )
    }
  })

// ---------------------------------------------------------------------------------------------
// The configuration.

const section = <T extends z.core.$ZodLooseShape>(shape: T) =>
  // biome-ignore lint/suspicious/noExplicitAny: {} is a valid input of every section (all keys have defaults)
  z.strictObject(shape, { error: 'must be an object' }).prefault({} as any)

export const configSchema = z
  .strictObject(
    {
      issuer: setting(issuerSchema.optional(), {
        doc: 'Issuer identifier (RFC 8414 §2). Endpoints live under it: `ISSUER/register`, `ISSUER/register/{client_id}`. https, or http on `localhost` / `127.0.0.1` / `[::1]` for development. Behind a TLS-terminating proxy, set the public https URL. `registrar serve` derives `http://HOST:PORT` only when `host` is a loopback address, and refuses to start without an issuer otherwise.',
        defaultDoc: '`http://HOST:PORT` on loopback',
        env: 'REGISTRAR_ISSUER',
        flag: {
          name: 'issuer',
          arg: 'URL',
          help: 'issuer identifier; endpoints live under it; required unless --host is loopback',
        },
      }),
      port: setting(
        z
          .int({ error: 'must be an integer 0-65535' })
          .min(0, 'must be an integer 0-65535')
          .max(65535, 'must be an integer 0-65535')
          .default(3000),
        {
          doc: 'Port to listen on; `0` picks a free one.',
          env: 'REGISTRAR_PORT',
          flag: { name: 'port', arg: 'N', help: 'port to listen on; 0 picks a free one' },
        },
      ),
      host: setting(
        z
          .string({ error: 'must be a host name or address' })
          .min(1, 'must be a host name or address')
          .default('127.0.0.1'),
        {
          doc: 'Address to listen on (`0.0.0.0` or `::` for all; any non-loopback address needs `issuer`).',
          env: 'REGISTRAR_HOST',
          flag: { name: 'host', arg: 'H', help: 'address to listen on' },
        },
      ),
      store: setting(
        z
          .string({ error: "must be 'memory', 'sqlite:PATH' or 'postgres://…'" })
          .regex(
            /^(memory|sqlite:.+|postgres(ql)?:\/\/.+)$/,
            "must be 'memory', 'sqlite:PATH' or 'postgres://…'",
          )
          .default('sqlite:./data/registrar.db'),
        {
          doc: '`memory`, `sqlite:PATH` or `postgres://…` (see Deployment).',
          env: 'REGISTRAR_STORE',
          flag: { name: 'store', arg: 'URL', help: 'memory | sqlite:PATH | postgres://…' },
        },
      ),
      registration: section({
        mode: setting(oneOf(['open', 'token']).default('token'), {
          doc: '`token`: an initial access token is required (RFC 7591 §3); `open`: anyone may register.',
          env: 'REGISTRAR_REGISTRATION',
          flag: {
            name: 'registration',
            arg: 'MODE',
            help: 'open: anyone may register; token: an initial access token is required',
          },
        }),
        allowedPrivateUseSchemes: setting(
          z.array(privateUseScheme, { error: STRING_ARRAY }).default(() => []),
          {
            doc: 'Dot-less private-use redirect URI schemes allowed for native clients (`["vscode", "cursor"]`); reverse-domain schemes such as `com.example.app:` are always allowed (RFC 8252 §7.1, §8.4).',
          },
        ),
        rotateRegistrationAccessToken: setting(bool().default(false), {
          doc: 'Issue a new registration access token on every RFC 7592 update; the old one dies at once.',
        }),
        clientSecretExpiresIn: setting(nonNegativeInt().default(0), {
          doc: 'Lifetime of issued client secrets in seconds (`client_secret_expires_at`); `0` = never. An update after expiry issues a new secret.',
        }),
        secretEncryptionKey: setting(
          z
            .string({ error: 'must be 32 bytes, base64url (43 characters) or hex (64 characters)' })
            .refine(
              (k) => secretKeyBytes(k) !== undefined,
              'must be 32 bytes, base64url (43 characters) or hex (64 characters)',
            )
            .optional(),
          {
            doc: '32-byte key (64 hex characters, or 43 base64url) that seals secrets the AS needs in plaintext (client_secret_jwt, HMAC algorithms) with AES-256-GCM. Without it `client_secret_jwt` and HMAC algorithms are not offered.',
            env: 'REGISTRAR_SECRET_ENCRYPTION_KEY',
          },
        ),
        extensionFields: setting(
          z.array(extensionField, { error: STRING_ARRAY }).default(() => []),
          {
            doc: 'Extra metadata members stored and echoed verbatim (all other unknown members are dropped, RFC 7591 §2).',
          },
        ),
        scopePolicy: setting(oneOf(['intersect', 'reject']).default('intersect'), {
          doc: 'With `metadata.scopes_supported` set: `intersect` drops unsupported scopes and echoes the rest; `reject` refuses them.',
        }),
        verifyJwksUri: setting(bool().default(false), {
          doc: "Fetch a client's `jwks_uri` at registration and refuse it unless it serves usable public keys.",
        }),
      }),
      softwareStatement: section({
        required: setting(bool().default(false), {
          doc: 'Refuse registrations without a software statement from a trusted issuer.',
        }),
        trustedIssuers: setting(
          z.array(trustedIssuerSchema, { error: 'must be an array' }).default(() => []),
          { doc: 'Issuers whose software statements (RFC 7591 §2.3) are verified; each entry:' },
        ),
        clockSkew: setting(nonNegativeInt().default(60), {
          doc: 'Seconds of tolerance on `exp`, `nbf` and `iat`.',
        }),
        keyRefreshCooldown: setting(nonNegativeInt().default(30), {
          doc: "Seconds after fetching an issuer's (or client's) `jwks_uri` before an unknown `kid` may trigger another fetch.",
        }),
      }),
      policies: section({
        anonymous: setting(z.string({ error: 'must be a policy name' }).optional(), {
          doc: 'Policy for registrations without a token or statement (open mode).',
        }),
        initialAccessToken: setting(z.string({ error: 'must be a policy name' }).optional(), {
          doc: 'Policy for registrations with an initial access token that names none.',
        }),
        metadataDocument: setting(z.string({ error: 'must be a policy name' }).optional(), {
          doc: 'Policy for clients identified by a Client ID Metadata Document URL (registrant class `metadata_document`).',
        }),
        definitions: setting(
          z
            .record(z.string(), registrationPolicySchema, { error: 'must be an object' })
            .default(() => ({})),
          { doc: 'Named registration policies (see Securing open registration); each one:' },
        ),
      }),
      rateLimit: section({
        anonymousRegistrations: setting(nonNegativeInt().default(0), {
          doc: 'Anonymous `POST /register` allowed per client IP per window; `0` = no limit.',
        }),
        windowSeconds: setting(
          z
            .int({ error: 'must be an integer of at least 1' })
            .min(1, 'must be at least 1')
            .default(60),
          { doc: 'Length of the rate-limit window, in seconds.' },
        ),
        store: setting(
          z
            .string({ error: "must be 'memory' or 'redis://…'" })
            .regex(/^(memory|rediss?:\/\/.+)$/, "must be 'memory' or 'redis://…'")
            .default('memory'),
          {
            doc: '`memory`, or `redis://…` to share the counters between instances.',
            env: 'REGISTRAR_RATE_LIMIT_STORE',
            flag: {
              name: 'rate-limit-store',
              arg: 'URL',
              help: 'memory | redis://… (shares the anonymous registration limit between instances)',
            },
          },
        ),
        trustedProxies: setting(
          cidrList().default(() => []),
          {
            doc: 'Proxy addresses (CIDRs) whose `X-Forwarded-For` names the client.',
          },
        ),
        ipv6Prefix: setting(
          z
            .int({ error: 'must be a prefix length from 1 to 128' })
            .min(1, 'must be a prefix length from 1 to 128')
            .max(128, 'must be a prefix length from 1 to 128')
            .default(64),
          {
            doc: 'IPv6 clients are counted per network of this prefix length (an end site has a /64).',
          },
        ),
        maxKeys: setting(
          z.int({ error: 'must be at least 1' }).min(1, 'must be at least 1').default(100_000),
          {
            doc: 'Most client addresses the in-memory limiter keeps (the oldest is forgotten first).',
          },
        ),
      }),
      fetch: section({
        timeoutMs: setting(nonNegativeInt().default(3000), {
          doc: 'Deadline for a whole outbound fetch (sector_identifier_uri, jwks_uri), in milliseconds.',
        }),
        maxBytes: setting(nonNegativeInt().default(256 * 1024), {
          doc: 'Largest response body an outbound fetch accepts.',
        }),
        maxRedirects: setting(nonNegativeInt().default(0), {
          doc: 'Redirects an outbound fetch follows, each re-checked.',
        }),
        allowedAddresses: setting(
          cidrList().default(() => []),
          {
            doc: 'CIDRs outbound fetches, and the client URLs an AS shows or calls, may name although special-use (an internal directory).',
          },
        ),
        caFile: setting(
          z.string({ error: 'must be a file path' }).min(1, 'must be a file path').optional(),
          {
            doc: 'PEM file of extra CA certificates for outbound fetches (issuers behind a private CA).',
          },
        ),
      }),
      metadata: setting(
        metadataSchema.default(() => ({})),
        {
          doc: "Merged into both discovery documents (set the AS's `authorization_endpoint`, `token_endpoint`, `jwks_uri`, …). Its `*_supported` lists also bound registration: e.g. `grant_types_supported`, `token_endpoint_auth_methods_supported`, `scopes_supported`, `id_token_encryption_alg_values_supported`.",
        },
      ),
      cors: section({
        allowedOrigins: setting(
          stringArray().default(() => ['*']),
          {
            doc: 'Origins allowed to call the registration endpoints from a browser (OIDC Registration §3); `*` for any.',
          },
        ),
      }),
      log: section({
        level: setting(
          oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
          {
            doc: 'pino level of the JSON logs on stderr: `fatal` … `trace`, `silent`.',
            env: 'REGISTRAR_LOG_LEVEL',
          },
        ),
      }),
      limits: section({
        maxBodyBytes: setting(nonNegativeInt().default(64 * 1024), {
          doc: 'Largest request body; larger ones get 413.',
        }),
        requestTimeoutMs: setting(nonNegativeInt().default(30_000), {
          doc: '`registrar serve` / `listen()`: the whole request must arrive within this; `0` = no limit.',
        }),
        headersTimeoutMs: setting(
          z.int({ error: 'must be at least 1' }).min(1, 'must be at least 1').default(10_000),
          { doc: 'The request headers must arrive within this (at most `requestTimeoutMs`).' },
        ),
        bodyIdleTimeoutMs: setting(nonNegativeInt().default(5_000), {
          doc: 'A request body that sends nothing for this long is answered 408; `0` = no limit.',
        }),
        maxConnections: setting(nonNegativeInt().default(1_000), {
          doc: 'Simultaneous connections to `registrar serve` / `listen()`; `0` = no limit.',
        }),
      }),
      clientAuthentication: section({
        strictMethod: setting(bool().default(false), {
          doc: 'Enforce `client_secret_basic` and `client_secret_post` exactly as registered; by default either is accepted for the other (both prove the same secret; openid-client 6 posts for a basic client).',
        }),
        strictAudience: setting(bool().default(false), {
          doc: "A client assertion's `aud` must be the issuer as its only value (RFC 10070 §3); by default the token endpoint or the URL of the endpoint called is accepted too.",
        }),
        maxAssertionLifetime: setting(
          z.int({ error: 'must be at least 1' }).min(1, 'must be at least 1').default(600),
          {
            doc: 'Longest a client assertion may still be valid (`exp` − now), in seconds; its `jti` is remembered that long (RFC 7523 §3).',
          },
        ),
        clockSkew: setting(nonNegativeInt().default(15), {
          doc: "Seconds of tolerance on a client assertion's `exp`, `nbf` and `iat`.",
        }),
        tlsClientAuthCaFile: setting(
          z.string({ error: 'must be a file path' }).min(1, 'must be a file path').optional(),
          {
            doc: 'PEM file of the CA certificates `tls_client_auth` client certificates must be issued by (RFC 8705 §2.1); required when `tls_client_auth` is offered.',
          },
        ),
        clientCacheTtlMs: setting(nonNegativeInt().default(5000), {
          doc: 'How long a client looked up by the AS stays cached in process, in ms; `0` = no cache. Changes through this process are seen at once, and on PostgreSQL those of other instances too (LISTEN/NOTIFY); otherwise this is how stale a lookup may be.',
        }),
        // RFC 6749 §2.3.1 (as-side AS-6749-2.3.1-c): failed authentications are limited per client
        // and per source address; see src/as/failure-limit.ts for why per client means per
        // client_id from one address
        failureLimit: section({
          perClient: section({
            max: setting(nonNegativeInt().default(20), {
              doc: 'Failed client authentications naming one `client_id` from one source address (IPv6: its `rateLimit.ipv6Prefix` network) within the window; past it that client is refused from that address (429, `Retry-After`) without its credentials being checked, until the window ends. Without an address from the host, counted per `client_id` alone. `0` = no limit.',
            }),
            windowSeconds: setting(
              z.int({ error: 'must be at least 1' }).min(1, 'must be at least 1').default(60),
              { doc: 'Length of the per-client failure window, in seconds.' },
            ),
          }),
          perAddress: section({
            max: setting(nonNegativeInt().default(100), {
              doc: 'Failed client authentications from one source address, whatever the `client_id` (unknown ones included), within the window; past it every client authentication from that address is refused (429, `Retry-After`) until the window ends. Counted only when the host passes `clientAddress`. `0` = no limit. Counts are shared between instances when `rateLimit.store` is `redis://…`.',
            }),
            windowSeconds: setting(
              z.int({ error: 'must be at least 1' }).min(1, 'must be at least 1').default(60),
              { doc: 'Length of the per-address failure window, in seconds.' },
            ),
          }),
        }),
      }),
      lifecycle: section({
        expireUnusedAfter: setting(nonNegativeInt().default(0), {
          doc: "Seconds an active client may stay unused (no recorded use, registration, update or approval) before the idle-expiry sweep deletes it (RFC 7591 §5); `0` = never. A policy's own `expireUnusedAfter` overrides it for its clients. Pending and disabled clients are never swept.",
        }),
        sweepInterval: setting(
          z
            .int({ error: 'must be an integer from 1 to 2000000' })
            .min(1, 'must be at least 1')
            // a timer longer than 2^31 - 1 ms fires at once, again and again (Node clamps it)
            .max(2_000_000, 'must be at most 2000000 (23 days)')
            .default(3600),
          {
            doc: 'Seconds between idle-expiry sweeps of `registrar serve` (one sweep at a time across instances on PostgreSQL).',
          },
        ),
        sweepBatchSize: setting(
          z.int({ error: 'must be at least 1' }).min(1, 'must be at least 1').default(100),
          { doc: 'Clients deleted per statement by a sweep.' },
        ),
        secretRotationGracePeriod: setting(nonNegativeInt().default(86_400), {
          doc: 'Seconds the secret replaced by a renewal (an RFC 7592 update carrying the current `client_secret` of an expiring secret) keeps authenticating, never past its own expiry; `0` = it stops at once.',
        }),
      }),
      clientIdMetadataDocuments: section({
        enabled: setting(bool().default(false), {
          doc: 'Resolve a `client_id` that is an https URL by fetching its Client ID Metadata Document (draft-ietf-oauth-client-id-metadata-document), and advertise `client_id_metadata_document_supported` in both discovery documents.',
        }),
        maxBytes: setting(
          z
            .int({ error: 'must be at least 1' })
            .min(1, 'must be at least 1')
            .default(16 * 1024),
          {
            doc: "Largest document accepted, read as a stream (claude.ai's document is over 5 KiB).",
          },
        ),
        timeoutMs: setting(
          z.int({ error: 'must be at least 1' }).min(1, 'must be at least 1').default(5000),
          { doc: 'Deadline for a whole document fetch (connect, TLS, headers, body), in ms.' },
        ),
        cacheMinSeconds: setting(nonNegativeInt().default(60), {
          doc: 'Shortest time a fetched document is kept, whatever its `Cache-Control` or `Expires` says (also the lifetime under `no-store`/`no-cache`).',
        }),
        cacheMaxSeconds: setting(nonNegativeInt().default(86_400), {
          doc: 'Longest time a fetched document is kept before it is fetched again.',
        }),
        cacheDefaultSeconds: setting(nonNegativeInt().default(600), {
          doc: 'Lifetime of a document served without `Cache-Control: max-age` or `Expires` (clamped to the bounds).',
        }),
        staleIfErrorSeconds: setting(nonNegativeInt().default(3600), {
          doc: 'How long after expiry a document may still be used while its origin fails transiently (timeout, 5xx, redirect, connection); never after 404/410 or an invalid document.',
        }),
        failureCacheSeconds: setting(nonNegativeInt().default(10), {
          doc: 'How long a failed fetch or an invalid document is remembered before the URL is fetched again (bounds the fetches an attacker can cause); `0` = not remembered.',
        }),
        allowQuery: setting(bool().default(false), {
          doc: 'Accept `client_id` URLs with a query component (the draft says SHOULD NOT: one origin could mint unlimited identities).',
        }),
        acceptTextPlain: setting(bool().default(false), {
          doc: 'Also accept documents served as `text/plain` (raw.githubusercontent.com); by default only `application/json` and `application/*+json`.',
        }),
      }),
      admin: section({
        enabled: setting(bool().default(false), {
          doc: 'Serve the admin API (`ISSUER/admin/api`) and the web console (`ISSUER/admin`), authenticated with admin tokens (`registrar admin-token create`), never with registration credentials.',
        }),
        listen: setting(listenAddress().optional(), {
          doc: '`HOST:PORT` of a listener of their own for `registrar serve` (e.g. `127.0.0.1:9400`); unset: the public listener.',
        }),
        secretKey: setting(
          z
            .string({ error: SECRET_KEY })
            .refine((k) => secretKeyBytes(k) !== undefined, SECRET_KEY)
            .optional(),
          {
            doc: '32-byte key (base64url or hex) sealing console sessions and pagination cursors; unset: a random key per process (sessions end at restart, instances do not share them).',
            env: 'REGISTRAR_ADMIN_SECRET_KEY',
          },
        ),
        sessionLifetime: setting(
          z
            .int({ error: 'must be at least 1' })
            .min(1, 'must be at least 1')
            .default(8 * 3600),
          { doc: 'Seconds a console session lasts after sign-in.' },
        ),
      }),
      metrics: section({
        enabled: setting(bool().default(false), {
          doc: 'Serve `GET /metrics` in the Prometheus text format.',
        }),
        listen: setting(listenAddress().optional(), {
          doc: '`HOST:PORT` of a listener of its own for `registrar serve` (e.g. `127.0.0.1:9464`); unset: the public listener.',
        }),
      }),
      audit: section({
        enabled: setting(bool().default(true), {
          doc: 'Keep the append-only audit trail in the store (`registrar audit`).',
        }),
        retentionDays: setting(nonNegativeInt().default(365), {
          doc: 'Entries older than this many days are purged; `0` keeps them forever.',
        }),
        recordReads: setting(bool().default(false), {
          doc: 'Also record RFC 7592 reads (a store write per read).',
        }),
        authenticationFailureThreshold: setting(
          z.int({ error: 'must be at least 1' }).min(1, 'must be at least 1').default(5),
          {
            doc: 'An entry when one client fails authentication this many times within the window.',
          },
        ),
        authenticationFailureWindow: setting(
          z.int({ error: 'must be at least 1' }).min(1, 'must be at least 1').default(60),
          { doc: 'The window of `authenticationFailureThreshold`, in seconds.' },
        ),
      }),
      postgres: section({
        poolSize: setting(nonNegativeInt().default(10), { doc: 'Connections per instance.' }),
        connectTimeoutMs: setting(nonNegativeInt().default(5000), {
          doc: 'Longest wait for a connection before a 503; `0` = no limit.',
        }),
        statementTimeoutMs: setting(nonNegativeInt().default(5000), {
          doc: '`statement_timeout` of each statement; `0` = no limit.',
        }),
      }),
    },
    { error: 'must be an object' },
  )
  .superRefine((c, ctx) => {
    if (c.limits.requestTimeoutMs > 0 && c.limits.headersTimeoutMs > c.limits.requestTimeoutMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['limits', 'headersTimeoutMs'],
        message: 'must not exceed limits.requestTimeoutMs',
      })
    }
    const cimd = c.clientIdMetadataDocuments
    if (cimd.cacheMinSeconds > cimd.cacheMaxSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['clientIdMetadataDocuments', 'cacheMinSeconds'],
        message: 'must not exceed clientIdMetadataDocuments.cacheMaxSeconds',
      })
    }
    // rules across sections: a name must resolve, and what needs a key must have one
    const definitions = c.policies.definitions
    for (const name of ['anonymous', 'initialAccessToken', 'metadataDocument'] as const) {
      const v = c.policies[name]
      if (v !== undefined && !Object.hasOwn(definitions, v)) {
        ctx.addIssue({
          code: 'custom',
          path: ['policies', name],
          message: 'names no policy in policies.definitions',
        })
      }
    }
    c.softwareStatement.trustedIssuers.forEach((t, i) => {
      if (t.policy !== undefined && !Object.hasOwn(definitions, t.policy)) {
        ctx.addIssue({
          code: 'custom',
          path: ['softwareStatement', 'trustedIssuers', i, 'policy'],
          message: 'names no policy in policies.definitions',
        })
      }
    })
    // RFC 7523 §2.2: secrets the AS needs in plaintext (HMAC) are only kept sealed
    if (c.registration.secretEncryptionKey === undefined) {
      if (c.metadata.token_endpoint_auth_methods_supported?.includes('client_secret_jwt')) {
        ctx.addIssue({
          code: 'custom',
          path: ['metadata', 'token_endpoint_auth_methods_supported'],
          message:
            'client_secret_jwt needs registration.secretEncryptionKey (the secret must be kept in plaintext, sealed)',
        })
      }
      for (const key of SUPPORTED_LISTS) {
        if (c.metadata[key]?.some((a) => isSymmetricAlg(a))) {
          ctx.addIssue({
            code: 'custom',
            path: ['metadata', key],
            message: 'symmetric algorithms need registration.secretEncryptionKey',
          })
        }
      }
    }
  })

/**
 * The configuration as written: a `--config` file, or `createRegistrar({ config })`. Every key is
 * optional; the defaults fill the rest.
 */
export type RegistrarConfigInput = z.input<typeof configSchema>

/** The configuration resolved and validated, before an issuer is known (`issuer` is optional). */
export type RegistrarSettings = z.output<typeof configSchema>

/** The resolved configuration, with its issuer: what a running Registrar is built from. */
export type RegistrarConfig = RegistrarSettings & { issuer: string }

/** A trusted software-statement issuer (RFC 7591 §2.3, §3.1.1). */
export type TrustedIssuer = z.output<typeof trustedIssuerSchema>

/** A declarative registration policy (docs/security.md, "Securing open registration"). */
export type RegistrationPolicy = z.output<typeof registrationPolicySchema>
