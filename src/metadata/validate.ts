import { invalidMetadata, invalidRedirectUri } from '../core/errors.js'
import { isSymmetricAlg, JOSE_RESPONSE_ALGS, usesSymmetricAlgorithm } from './algorithms.js'
import { hasInvisibleCharacters } from './human-readable.js'
import { publicJwks } from './jwks.js'
import type { ClientMetadata, ClientMetadataRules } from './types.js'
import {
  checkRedirectUriForType,
  type ErrorFactory,
  fetchableUri,
  MAX_URI,
  type RedirectKind,
  redirectUriKind,
  referenceUri,
} from './uri.js'

/** Human-readable members that may carry a `#lang` suffix (RFC 7591 §2.2, OIDR §2.1). */
export const LANGUAGE_TAGGED_FIELDS = [
  'client_name',
  'client_uri',
  'logo_uri',
  'tos_uri',
  'policy_uri',
] as const

/** RFC 7591 §2.1 and OIDR §2: which grant each response type component needs. */
const RESPONSE_TYPE_GRANT: Readonly<Record<string, string>> = {
  code: 'authorization_code',
  token: 'implicit',
  id_token: 'implicit',
}

const DEFAULT_ENC = 'A128CBC-HS256'
const MAX_STRING = 1024
const MAX_ARRAY = 100
const LANG_TAG = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/
// C0 and C1 controls and DEL, everywhere
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/

/** Input is a parsed JSON object; `Record` with unknown values is all we can assume. */
type Input = Record<string, unknown>

/**
 * Validates a registration request's metadata (RFC 7591 §2, §3.1; OIDR §2) and returns what would
 * be registered, with defaults applied (RFC 7591 §3.2.1 asks for them to be echoed). Unknown
 * members are dropped (RFC 7591 §2). Throws {@link RegistrationError} `invalid_redirect_uri` or
 * `invalid_client_metadata` on the first problem found; nothing is substituted for redirect URIs.
 *
 * Key material in `jwks` is checked with jose, so the function is async.
 *
 * @see [RFC 7591 §2](https://www.rfc-editor.org/rfc/rfc7591.html#section-2)
 */
export async function validateClientMetadata(
  input: Input,
  rules: ClientMetadataRules,
): Promise<ClientMetadata> {
  const out: Partial<ClientMetadata> & Record<string, unknown> = {}
  const get = (name: string): unknown => {
    const v = Object.hasOwn(input, name) ? input[name] : undefined
    return v === null ? undefined : v
  }

  // --- grant_types / response_types (RFC 7591 §2.1, OIDR §2) -----------------------------------
  let grantTypes = optionalStringArray(get('grant_types'), 'grant_types')
  let responseTypes = optionalStringArray(get('response_types'), 'response_types')
  if (grantTypes && grantTypes.length === 0) throw invalidMetadata('grant_types must not be empty')
  if (grantTypes) {
    const supported = grantTypes.filter((g) => rules.grant_types_supported.includes(g))
    if (supported.length === 0) {
      throw invalidMetadata(
        `none of the requested grant_types is supported; supported: ${rules.grant_types_supported.join(' ')}`,
      )
    }
    // RFC 7591 §3.2.1: the server may register a subset; the response shows what was kept.
    grantTypes = supported
  }
  if (responseTypes) {
    // 'code id_token' and 'id_token code' are one response type (OAuth 2.0 Multiple Response
    // Types §5: order does not matter): register it once
    const requested = [...new Set(responseTypes.map((r) => normaliseResponseType(r)))]
    const kept = requested.filter((r) =>
      rules.response_types_supported.some((s) => normaliseResponseType(s) === r),
    )
    if (requested.length > 0 && kept.length === 0) {
      throw invalidMetadata(
        `none of the requested response_types is supported; supported: ${rules.response_types_supported.join(', ')}`,
      )
    }
    if (kept.length < requested.length && grantTypes) {
      // RFC 7591 §3.2.1, as for grant_types: the unsupported ones are dropped and the rest echoed
      // (stock mod_auth_openidc asks for all six OIDC response types and `implicit`, whatever
      // discovery says). A grant that only the dropped types needed goes with them.
      const stillNeeded = grantsNeededBy(kept)
      const neededByDropped = grantsNeededBy(requested.filter((r) => !kept.includes(r)))
      grantTypes = grantTypes.filter((g) => stillNeeded.has(g) || !neededByDropped.has(g))
      if (grantTypes.length === 0) {
        throw invalidMetadata(
          'none of the requested grant_types fits the supported response_types that were kept',
        )
      }
    }
    responseTypes = kept
  }
  // RFC 7591 §2.1: an omitted member takes the default consistent with the one given.
  if (!grantTypes) grantTypes = responseTypes ? grantsFor(responseTypes) : ['authorization_code']
  if (!responseTypes) {
    if (grantTypes.includes('implicit')) {
      throw invalidMetadata('response_types must be registered with the implicit grant')
    }
    responseTypes = grantTypes.includes('authorization_code') ? ['code'] : []
  }
  checkGrantResponseConsistency(grantTypes, responseTypes)
  for (const g of grantTypes) {
    if (!rules.grant_types_supported.includes(g)) {
      throw invalidMetadata(`grant_type '${g}' is not supported`)
    }
  }
  out.grant_types = grantTypes
  out.response_types = responseTypes

  // --- application_type and redirect_uris (OIDR §2, RFC 8252, RFC 9700 §2.6) ------------------
  const appType = get('application_type')
  if (appType !== undefined && appType !== 'web' && appType !== 'native') {
    throw invalidMetadata("application_type must be 'web' or 'native'")
  }
  const redirectUris = optionalStringArray(
    get('redirect_uris'),
    'redirect_uris',
    invalidRedirectUri,
  )
  const redirectBased =
    grantTypes.includes('authorization_code') ||
    grantTypes.includes('implicit') ||
    responseTypes.some((r) => r !== 'none')
  if (redirectBased && (!redirectUris || redirectUris.length === 0)) {
    throw invalidRedirectUri('redirect_uris is required for the requested grant and response types')
  }
  const kinds = (redirectUris ?? []).map((u) => redirectUriKind(u, rules, invalidRedirectUri))
  const applicationType = registeredApplicationType(appType, kinds)
  out.application_type = applicationType
  if (redirectUris) {
    const usesImplicit = grantTypes.includes('implicit')
    // what no application type could use is named first (plain http, RFC 9700 §2.6)
    const order = redirectUris.map((_, i) => i).sort((a, b) => httpFirst(kinds[a]!, kinds[b]!))
    for (const i of order) {
      checkRedirectUriForType(redirectUris[i]!, kinds[i]!, applicationType, usesImplicit)
    }
    // RFC 7591 §3.2.1: registered values are echoed, `[]` included (a client_credentials client
    // of the MCP SDKs sends `[]` and cannot parse an answer without it)
    out.redirect_uris = redirectUris
  }

  // --- token endpoint authentication (RFC 7591 §2, OIDR §2, RFC 8705) ----------------------------
  const method = optionalString(get('token_endpoint_auth_method'), 'token_endpoint_auth_method')
  const authMethod = method ?? 'client_secret_basic'
  if (!rules.token_endpoint_auth_methods_supported.includes(authMethod)) {
    throw invalidMetadata(
      `token_endpoint_auth_method '${authMethod}' is not supported; supported: ${rules.token_endpoint_auth_methods_supported.join(' ')}`,
    )
  }
  out.token_endpoint_auth_method = authMethod

  const signingAlg = optionalString(
    get('token_endpoint_auth_signing_alg'),
    'token_endpoint_auth_signing_alg',
  )
  if (signingAlg !== undefined) {
    if (signingAlg === 'none') {
      throw invalidMetadata('token_endpoint_auth_signing_alg MUST NOT be none')
    }
    supportedValue(
      signingAlg,
      rules.token_endpoint_auth_signing_alg_values_supported,
      'token_endpoint_auth_signing_alg',
    )
    if (authMethod === 'client_secret_jwt' && !isSymmetricAlg(signingAlg)) {
      throw invalidMetadata('client_secret_jwt needs an HMAC token_endpoint_auth_signing_alg')
    }
    if (authMethod === 'private_key_jwt' && isSymmetricAlg(signingAlg)) {
      throw invalidMetadata('private_key_jwt needs an asymmetric token_endpoint_auth_signing_alg')
    }
    out.token_endpoint_auth_signing_alg = signingAlg
  }

  // --- human-readable and referenced content (RFC 7591 §2, §2.2) --------------------------------
  copyDisplayString(input, out, 'client_name', 256)
  copyDisplayString(input, out, 'software_id', 256)
  copyDisplayString(input, out, 'software_version', 256)
  const native = applicationType === 'native'
  for (const field of ['client_uri', 'logo_uri', 'tos_uri', 'policy_uri'] as const) {
    const v = optionalString(get(field), field)
    if (v !== undefined) out[field] = referenceUri(v, field, rules, native)
  }
  copyLanguageTagged(input, out, rules, native)

  const contacts = optionalStringArray(get('contacts'), 'contacts')
  if (contacts) {
    for (const c of contacts) {
      if (c.length === 0 || c.length > 320)
        throw invalidMetadata('contacts entries must be 1-320 characters')
      displayText(c, 'contacts')
    }
    out.contacts = contacts
  }

  // --- scope (RFC 7591 §2, RFC 6749 §3.3) ------------------------------------------------------
  const scope = get('scope')
  if (scope !== undefined) {
    if (typeof scope !== 'string') throw invalidMetadata('scope must be a space-separated string')
    const registered = registeredScope(scope, rules)
    if (registered !== undefined) out.scope = registered
  }

  // --- keys (RFC 7591 §2, OIDR §2) ---------------------------------------------------------------
  const jwksUri = optionalString(get('jwks_uri'), 'jwks_uri')
  const jwks = get('jwks')
  if (jwksUri !== undefined && jwks !== undefined) {
    throw invalidMetadata('jwks_uri and jwks MUST NOT both be present')
  }
  if (jwksUri !== undefined) out.jwks_uri = fetchableUri(jwksUri, 'jwks_uri', rules)
  if (jwks !== undefined) out.jwks = await publicJwks(jwks)
  if (
    (authMethod === 'private_key_jwt' || authMethod === 'self_signed_tls_client_auth') &&
    !out.jwks &&
    !out.jwks_uri
  ) {
    throw invalidMetadata(`${authMethod} requires jwks or jwks_uri`)
  }

  // --- mutual TLS (RFC 8705 §2.1.2) ------------------------------------------------------------
  const tlsFields = [
    'tls_client_auth_subject_dn',
    'tls_client_auth_san_dns',
    'tls_client_auth_san_uri',
    'tls_client_auth_san_ip',
    'tls_client_auth_san_email',
  ] as const
  const tlsPresent = tlsFields.filter((f) => get(f) !== undefined)
  if (authMethod === 'tls_client_auth') {
    if (tlsPresent.length !== 1) {
      throw invalidMetadata(
        'tls_client_auth requires exactly one of tls_client_auth_subject_dn, _san_dns, _san_uri, _san_ip, _san_email',
      )
    }
    const f = tlsPresent[0]!
    copyString(input, out, f, MAX_STRING)
  }

  // --- OIDC subject and ID Token / UserInfo / request object algorithms (OIDR §2) -----------------
  const subjectType = optionalString(get('subject_type'), 'subject_type')
  out.subject_type = subjectType ?? rules.subject_types_supported[0] ?? 'public'
  supportedValue(out.subject_type, rules.subject_types_supported, 'subject_type')

  const sectorUri = optionalString(get('sector_identifier_uri'), 'sector_identifier_uri')
  if (sectorUri !== undefined) {
    out.sector_identifier_uri = fetchableUri(sectorUri, 'sector_identifier_uri', rules)
  }
  if (out.subject_type === 'pairwise' && !out.sector_identifier_uri && out.redirect_uris) {
    const hosts = new Set(out.redirect_uris.map((u) => safeHost(u)))
    if (hosts.size > 1) {
      throw invalidMetadata(
        'pairwise clients with redirect_uris on several hosts must register a sector_identifier_uri (OIDC Core §8.1)',
      )
    }
  }

  const returnsIdToken = responseTypes.some((r) => r.split(' ').includes('id_token'))
  for (const group of JOSE_RESPONSE_ALGS) {
    const alg = optionalString(get(group.signed), group.signed)
    const supported = rules[group.signing]
    if (group.signed === 'id_token_signed_response_alg') {
      // OIDR §2: the ID Token is always signed; RS256 by default when supported
      const effective = alg ?? (supported.includes('RS256') ? 'RS256' : supported[0])
      if (effective !== undefined) out[group.signed] = effective
      if (effective === 'none' && returnsIdToken) {
        throw invalidMetadata(
          'id_token_signed_response_alg none is only allowed when no response type returns an ID Token',
        )
      }
      if (alg !== undefined) supportedValue(alg, supported, group.signed)
    } else if (alg !== undefined) {
      supportedValue(alg, supported, group.signed)
      out[group.signed] = alg
    }
    encryptionPair(
      get,
      out,
      group.encrypted,
      rules[group.encryptionAlg],
      rules[group.encryptionEnc],
    )
  }

  // symmetric algorithms are keyed with the client_secret (OIDC Core §10.1, §10.2)
  if (authMethod === 'none' && usesSymmetricAlgorithm(out as ClientMetadata)) {
    throw invalidMetadata(
      'symmetric algorithms are keyed with a client_secret, which a public client (none) does not have',
    )
  }

  // --- OIDC authentication defaults (OIDR §2) -----------------------------------------------------
  const maxAge = get('default_max_age')
  if (maxAge !== undefined) {
    if (typeof maxAge !== 'number' || !Number.isSafeInteger(maxAge) || maxAge < 0) {
      throw invalidMetadata('default_max_age must be a non-negative integer number of seconds')
    }
    out.default_max_age = maxAge
  }
  out.require_auth_time = optionalBoolean(get('require_auth_time'), 'require_auth_time') ?? false
  const acr = optionalStringArray(get('default_acr_values'), 'default_acr_values')
  if (acr) {
    for (const v of acr) {
      if (v.length === 0) throw invalidMetadata('default_acr_values entries must not be empty')
      if (rules.acr_values_supported)
        supportedValue(v, rules.acr_values_supported, 'default_acr_values')
    }
    out.default_acr_values = acr
  }
  const initiate = optionalString(get('initiate_login_uri'), 'initiate_login_uri')
  if (initiate !== undefined) {
    // OIDR §2: https; the browser is sent there by a third party (OIDC Core §4)
    out.initiate_login_uri = referenceUri(initiate, 'initiate_login_uri', rules, native, {
      redirectTarget: true,
      fragment: true,
    })
  }
  const requestUris = optionalStringArray(get('request_uris'), 'request_uris')
  if (requestUris) {
    out.request_uris = requestUris.map((u) => fetchableUri(u, 'request_uris', rules, true))
  }

  // --- logout (RP-Initiated Logout §3.1, Front-/Back-Channel Logout §2.2) ----------------------
  const postLogout = optionalStringArray(
    get('post_logout_redirect_uris'),
    'post_logout_redirect_uris',
  )
  if (postLogout) {
    for (const u of postLogout) {
      const kind = redirectUriKind(u, rules, invalidMetadata)
      if (kind === 'http') {
        throw invalidMetadata(`post_logout_redirect_uris entry ${u} must use https`)
      }
      if (applicationType === 'web' && kind !== 'https') {
        throw invalidMetadata(
          `post_logout_redirect_uris entry ${u} is only allowed for native clients`,
        )
      }
    }
    out.post_logout_redirect_uris = postLogout
  }
  // Front-Channel Logout §2.2: loaded by the browser, so a native client's may be on loopback;
  // Back-Channel Logout §2.2: called by the AS itself, never on a local or special-use address.
  // Neither may carry a fragment.
  const front = optionalString(get('frontchannel_logout_uri'), 'frontchannel_logout_uri')
  if (front !== undefined) {
    out.frontchannel_logout_uri = referenceUri(front, 'frontchannel_logout_uri', rules, native, {
      redirectTarget: true,
      loopbackHttp: true,
    })
  }
  const back = optionalString(get('backchannel_logout_uri'), 'backchannel_logout_uri')
  if (back !== undefined) {
    out.backchannel_logout_uri = referenceUri(back, 'backchannel_logout_uri', rules, native)
  }

  // --- booleans (OIDC logout, RFC 8705 §3.4, RFC 9449 §5.2, RFC 9126 §6, RFC 9101 §10.5) ---------
  for (const field of [
    'frontchannel_logout_session_required',
    'backchannel_logout_session_required',
    'tls_client_certificate_bound_access_tokens',
    'dpop_bound_access_tokens',
    'require_pushed_authorization_requests',
    'require_signed_request_object',
  ] as const) {
    const v = optionalBoolean(get(field), field)
    if (v !== undefined) out[field] = v
  }

  // --- configured extension fields (RFC 7591 §2: other unknown members are ignored) ---------------------------------------------------
  for (const field of rules.extensionFields) {
    const v = get(field)
    if (v !== undefined) out[field] = v
  }

  return out as ClientMetadata
}

// ----------------------------------------------------------------------------------------------

/**
 * RFC 7591 §3.2.1, RFC 8252 §7: redirect URIs on loopback http or a private-use scheme (with or without claimed https
 * beside them) can only be a native client's (RFC 8252 §7, RFC 9700 §2.6), so such a client is
 * registered as `native` whether `application_type` was omitted or sent as `web` (RFC 7591 §3.2.1
 * lets the server replace a value; the response echoes it). oidc-agent sends `web` with
 * `http://localhost:4242`; VS Code mixes `https://vscode.dev/redirect` with loopback.
 */
function registeredApplicationType(requested: unknown, kinds: RedirectKind[]): 'web' | 'native' {
  if (requested === 'native') return 'native'
  const nativeOnly = kinds.some((k) => k === 'loopback' || k === 'private-use')
  // plain http on another host fits no type: left to checkRedirectUriForType's refusal
  if (nativeOnly && !kinds.includes('http')) return 'native'
  return 'web'
}

function httpFirst(a: RedirectKind, b: RedirectKind): number {
  return (b === 'http' ? 1 : 0) - (a === 'http' ? 1 : 0)
}

function normaliseResponseType(r: string): string {
  const parts = r.split(' ').filter(Boolean)
  if (parts.length === 0) throw invalidMetadata('response_types entries must not be empty')
  return [...new Set(parts)].sort().join(' ')
}

/** The grant types a list of response types needs (RFC 7591 §2.1, OIDR §2 table). */
function grantsNeededBy(responseTypes: readonly string[]): Set<string> {
  const grants = new Set<string>()
  for (const r of responseTypes) {
    for (const part of r.split(' ')) {
      const g = RESPONSE_TYPE_GRANT[part]
      if (g) grants.add(g)
    }
  }
  return grants
}

function grantsFor(responseTypes: string[]): string[] {
  const grants = grantsNeededBy(responseTypes)
  if (grants.size === 0) {
    throw invalidMetadata('grant_types is required when response_types has no code or token')
  }
  return [...grants]
}

function checkGrantResponseConsistency(grants: string[], responses: string[]): void {
  const needed = grantsNeededBy(responses)
  for (const g of needed) {
    if (!grants.includes(g)) {
      throw invalidMetadata(
        `the response types ${responses.join(', ')} require the grant type '${g}' to be registered`,
      )
    }
  }
  if (
    grants.includes('authorization_code') &&
    !responses.some((r) => r.split(' ').includes('code'))
  ) {
    throw invalidMetadata(
      "the grant type 'authorization_code' must be registered along with the response type 'code'",
    )
  }
  if (
    grants.includes('implicit') &&
    !responses.some((r) => r.split(' ').some((p) => p === 'token' || p === 'id_token'))
  ) {
    throw invalidMetadata(
      "the grant type 'implicit' must be registered along with the response type 'token' or 'id_token'",
    )
  }
}

function optionalString(v: unknown, field: string, max = MAX_STRING): string | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'string') throw invalidMetadata(`${field} must be a string`)
  if (v.length > max) throw invalidMetadata(`${field} must be at most ${max} characters`)
  if (CONTROL.test(v)) throw invalidMetadata(`${field} must not contain control characters`)
  if (!v.isWellFormed()) throw invalidMetadata(`${field} must be well-formed Unicode`)
  return v
}

function optionalBoolean(v: unknown, field: string): boolean | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'boolean') throw invalidMetadata(`${field} must be a boolean`)
  return v
}

function optionalStringArray(
  v: unknown,
  field: string,
  fail: ErrorFactory = invalidMetadata,
): string[] | undefined {
  if (v === undefined) return undefined
  if (!Array.isArray(v)) throw fail(`${field} must be an array of strings`)
  if (v.length > MAX_ARRAY) throw fail(`${field} must have at most ${MAX_ARRAY} entries`)
  const seen = new Set<string>()
  for (const item of v) {
    if (typeof item !== 'string') throw fail(`${field} must be an array of strings`)
    if (item.length > MAX_URI) throw fail(`${field} entries must be at most ${MAX_URI} characters`)
    if (CONTROL.test(item) || !item.isWellFormed()) {
      throw fail(`${field} entries must not contain control characters`)
    }
    seen.add(item)
  }
  return [...seen]
}

function copyString(input: Input, out: Record<string, unknown>, field: string, max: number): void {
  const raw = Object.hasOwn(input, field) ? input[field] : undefined
  const v = optionalString(raw === null ? undefined : raw, field, max)
  if (v !== undefined) out[field] = v
}

/** {@link copyString} for a member people read (client_name, software_id, …): see displayText. */
function copyDisplayString(
  input: Input,
  out: Record<string, unknown>,
  field: string,
  max: number,
): void {
  copyString(input, out, field, max)
  if (typeof out[field] === 'string') displayText(out[field], field)
}

/**
 * Issue 12 item 6: text shown to people must show what it holds. Refused rather than cleaned, so
 * that what is stored is what was sent (R7591-2-f05).
 */
function displayText(value: string, field: string): void {
  if (hasInvisibleCharacters(value)) {
    throw invalidMetadata(
      `${field} must not contain invisible or bidirectional control characters (such as U+200B or U+202E)`,
    )
  }
}

function supportedValue(value: string, supported: readonly string[], field: string): void {
  if (!supported.includes(value)) {
    throw invalidMetadata(
      supported.length === 0
        ? `${field} is not supported by this server`
        : `${field} '${value}' is not supported; supported: ${supported.join(' ')}`,
    )
  }
}

function encryptionPair(
  get: (name: string) => unknown,
  out: Record<string, unknown>,
  prefix: string,
  algs: readonly string[],
  encs: readonly string[],
): void {
  const algField = `${prefix}_alg`
  const encField = `${prefix}_enc`
  const alg = optionalString(get(algField), algField)
  const enc = optionalString(get(encField), encField)
  if (enc !== undefined && alg === undefined) {
    throw invalidMetadata(`${encField} requires ${algField}`)
  }
  if (alg === undefined) return
  supportedValue(alg, algs, algField)
  const effectiveEnc = enc ?? DEFAULT_ENC
  supportedValue(effectiveEnc, encs, encField)
  out[algField] = alg
  out[encField] = effectiveEnc
}

function registeredScope(scope: string, rules: ClientMetadataRules): string | undefined {
  const tokens = [...new Set(scope.split(' ').filter((t) => t.length > 0))]
  if (tokens.length === 0) return undefined // RFC 7591 §2 (scope): an empty scope is treated as omitted
  for (const t of tokens) {
    if (!SCOPE_TOKEN.test(t))
      throw invalidMetadata(`scope token '${t}' has characters RFC 6749 §3.3 forbids`)
    if (t.length > 256) throw invalidMetadata('scope tokens must be at most 256 characters')
  }
  const supported = rules.scopes_supported
  if (!supported) return tokens.join(' ')
  const kept = tokens.filter((t) => supported.includes(t))
  if (kept.length !== tokens.length && rules.scopePolicy === 'reject') {
    const bad = tokens.filter((t) => !supported.includes(t))
    throw invalidMetadata(`scope ${bad.join(' ')} is not supported`)
  }
  return kept.length > 0 ? kept.join(' ') : undefined
}

function copyLanguageTagged(
  input: Input,
  out: Record<string, unknown>,
  rules: ClientMetadataRules,
  native: boolean,
): void {
  for (const key of Object.keys(input)) {
    const hash = key.indexOf('#')
    if (hash <= 0) continue
    const base = key.slice(0, hash)
    const tag = key.slice(hash + 1)
    // RFC 7591 §2.2: only human-readable members carry tags; malformed tags are ignored like any
    // other unknown member (R7591-2-a).
    if (!(LANGUAGE_TAGGED_FIELDS as readonly string[]).includes(base) || !LANG_TAG.test(tag))
      continue
    const raw = input[key]
    if (raw === null || raw === undefined) continue
    const v = optionalString(raw, key, base === 'client_name' ? 256 : MAX_URI)
    if (v === undefined) continue
    if (base === 'client_name') displayText(v, key)
    out[key] = base === 'client_name' ? v : referenceUri(v, key, rules, native)
  }
}

function safeHost(uri: string): string {
  try {
    return new URL(uri).host
  } catch {
    return uri
  }
}
