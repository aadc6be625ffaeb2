import type { RegistrarConfig, RegistrationPolicy } from '../config/schema.js'
import { reservedNameKey } from '../metadata/human-readable.js'
import type { ClientMetadata } from '../metadata/types.js'
import { invalidMetadata, invalidRedirectUri, RegistrationError } from './errors.js'
import type { VerifiedSoftwareStatement } from './software-statement.js'
import type { InitialAccessTokenRecord } from './store.js'

/**
 * Who is registering, which decides the policy (RFC 7591 §5: the whole request — statement,
 * initial access token and metadata — is considered).
 */
export type RegistrantClass =
  | 'anonymous'
  | 'initial_access_token'
  | 'software_statement'
  | 'metadata_document'

export interface Registrant {
  class: RegistrantClass
  initialAccessToken?: InitialAccessTokenRecord
  softwareStatement?: VerifiedSoftwareStatement
}

/** A registration policy with the name it has in `policies.definitions`. */
export interface NamedPolicy {
  name: string
  policy: RegistrationPolicy
}

/**
 * Resolves a policy name. A name that resolves to nothing never means "no policy": the request is
 * refused (policies fail closed; issue 12 item 4), e.g. when an initial access token or a client
 * names a policy that was since removed from the configuration.
 */
export function resolvePolicy(
  config: Readonly<RegistrarConfig>,
  name: string,
  namedBy: string,
): NamedPolicy {
  const policy = Object.hasOwn(config.policies.definitions, name)
    ? config.policies.definitions[name]
    : undefined
  if (!policy) {
    throw new RegistrationError(
      'access_denied',
      `the registration policy '${name}' of ${namedBy} is not defined on this server; the request is refused`,
      { status: 403 },
    )
  }
  return { name, policy }
}

/**
 * The policies that apply to a registrant, the one the client is recorded under first (RFC 7591
 * §5: the whole request is considered). A software statement adds its issuer's policy and never
 * sheds the policy of an initial access token presented with it: both apply, rule by rule the
 * stricter result (issue 12 item 2). A statement whose issuer names no policy falls back to the
 * policy the registrant would have without it (the token's, or the anonymous policy): a statement
 * never loosens what applies.
 */
export function policiesFor(
  config: Readonly<RegistrarConfig>,
  registrant: Registrant,
): NamedPolicy[] {
  const token = registrant.initialAccessToken
  const issuerPolicy = registrant.softwareStatement?.issuer.policy
  const named: [string, string][] = []
  if (token) {
    if (token.policy !== undefined) named.push([token.policy, 'the initial access token'])
    else if (config.policies.initialAccessToken !== undefined) {
      named.push([config.policies.initialAccessToken, 'policies.initialAccessToken'])
    }
  } else if (!registrant.softwareStatement || issuerPolicy === undefined) {
    if (config.policies.anonymous !== undefined) {
      named.push([config.policies.anonymous, 'policies.anonymous'])
    }
  }
  if (issuerPolicy !== undefined && !named.some(([n]) => n === issuerPolicy)) {
    named.push([
      issuerPolicy,
      `the software statement issuer ${registrant.softwareStatement?.issuer.iss}`,
    ])
  }
  return named.map(([name, by]) => resolvePolicy(config, name, by))
}

/**
 * The policy of clients identified by a Client ID Metadata Document URL (registrant class
 * `metadata_document`), if one is configured (`policies.metadataDocument`).
 */
export function metadataDocumentPolicies(config: Readonly<RegistrarConfig>): NamedPolicy[] {
  const name = config.policies.metadataDocument
  return name === undefined ? [] : [resolvePolicy(config, name, 'policies.metadataDocument')]
}

/**
 * The `allowedHosts` / `deniedHosts` rules of the `metadata_document` policies for the host of a
 * `client_id` URL (CIMD-9.9-a): the refusal naming the policy and rule, or undefined when allowed.
 * Decided before any fetch.
 */
export function metadataDocumentHostRefusal(
  hostname: string,
  policies: readonly NamedPolicy[],
): string | undefined {
  for (const { name, policy } of policies) {
    const denied = policy.deniedHosts?.find((p) => hostMatches(hostname, p))
    if (denied !== undefined) {
      return `host ${hostname} is denied by policy '${name}' (rule deniedHosts: ${denied})`
    }
    if (policy.allowedHosts && !policy.allowedHosts.some((p) => hostMatches(hostname, p))) {
      return `host ${hostname} is not allowed by policy '${name}' (rule allowedHosts)`
    }
  }
  return undefined
}

/**
 * The policies that apply again to an RFC 7592 update: the one the client was recorded under,
 * and the policy of the issuer of the software statement that keeps precedence, if any.
 */
export function storedPolicies(
  config: Readonly<RegistrarConfig>,
  recorded: string | undefined,
  issuerPolicy: { iss: string; policy?: string } | undefined,
): NamedPolicy[] {
  const out: NamedPolicy[] = []
  if (recorded !== undefined) out.push(resolvePolicy(config, recorded, 'this client'))
  const p = issuerPolicy?.policy
  if (p !== undefined && p !== recorded) {
    out.push(resolvePolicy(config, p, `the software statement issuer ${issuerPolicy?.iss}`))
  }
  return out
}

/**
 * Applies every policy in turn: each rule of each policy holds for the result, so where two
 * policies disagree the stricter wins (two scope ceilings intersect, two host lists must both
 * match, approval if either requires it).
 */
export function applyRegistrationPolicies(
  metadata: ClientMetadata,
  policies: readonly NamedPolicy[],
  options: PolicyOptions,
): { metadata: ClientMetadata; notes: PolicyNote[] } {
  let out = metadata
  const notes: PolicyNote[] = []
  for (const named of policies) {
    const applied = applyRegistrationPolicy(out, named, options)
    out = applied.metadata
    notes.push(...applied.notes)
  }
  return { metadata: out, notes }
}

/** What a policy rule did to one member, for `--dry-run` and audit. */
export interface PolicyNote {
  member: string
  rule: string
  note: string
}

/**
 * Applies a registration policy to validated metadata: allowed redirect-URI schemes and hosts,
 * allowed grant types and auth methods, a scope ceiling (intersect or reject), reserved client
 * names (only for clients vouched for by a software statement). A refusal names the policy and the
 * rule in `error_description`. The client-count ceiling and approval are decided by the caller,
 * which owns the store.
 */
export function applyRegistrationPolicy(
  metadata: ClientMetadata,
  named: NamedPolicy,
  options: PolicyOptions,
): { metadata: ClientMetadata; notes: PolicyNote[] } {
  const { name, policy } = named
  const notes: PolicyNote[] = []
  const by = (rule: string) => `policy '${name}' (rule ${rule})`
  const out: ClientMetadata = { ...metadata }

  const authMethods = authMethodsRule(policy.authMethods)
  if (authMethods && !authMethods.allowed.includes(out.token_endpoint_auth_method)) {
    const requested = out.token_endpoint_auth_method
    // RFC 7591 §3.2.1: the server MAY replace a requested value; the response shows the result
    const substitute =
      authMethods.onMismatch === 'substitute'
        ? authMethods.allowed.find((m) => usableAuthMethod(m, out, options))
        : undefined
    if (substitute === undefined) {
      throw invalidMetadata(
        `token_endpoint_auth_method ${requested} is not allowed by ${by('authMethods')}; allowed: ${authMethods.allowed.join(' ')}`,
      )
    }
    out.token_endpoint_auth_method = substitute
    // an algorithm chosen for the requested method says nothing about the substitute
    delete out.token_endpoint_auth_signing_alg
    notes.push({
      member: 'token_endpoint_auth_method',
      rule: `${name}.authMethods`,
      note: `substituted ${substitute} for ${requested}`,
    })
  }
  if (policy.grantTypes) {
    const refused = out.grant_types.filter((g) => !policy.grantTypes?.includes(g))
    if (refused.length > 0) {
      throw invalidMetadata(
        `grant_types ${refused.join(' ')} not allowed by ${by('grantTypes')}; allowed: ${policy.grantTypes.join(' ')}`,
      )
    }
  }
  for (const uri of out.redirect_uris ?? []) {
    const url = new URL(uri)
    const scheme = url.protocol.slice(0, -1).toLowerCase()
    if (policy.redirectUriSchemes && !policy.redirectUriSchemes.includes(scheme)) {
      throw invalidRedirectUri(
        `redirect URI ${uri}: scheme ${scheme} is not allowed by ${by('redirectUriSchemes')}`,
      )
    }
    if ((scheme === 'http' || scheme === 'https') && policy.redirectUriHosts) {
      if (!policy.redirectUriHosts.some((pattern) => hostMatches(url.hostname, pattern))) {
        throw invalidRedirectUri(
          `redirect URI ${uri}: host ${url.hostname} is not allowed by ${by('redirectUriHosts')}`,
        )
      }
    }
  }
  if (policy.scopes && out.scope !== undefined) {
    const requested = out.scope.split(' ')
    const kept = requested.filter((s) => policy.scopes?.includes(s))
    if (kept.length !== requested.length) {
      const dropped = requested.filter((s) => !kept.includes(s))
      if ((policy.scopePolicy ?? 'intersect') === 'reject') {
        throw invalidMetadata(`scope ${dropped.join(' ')} exceeds ${by('scopes')}`)
      }
      // RFC 7591 §3.2.1: the server may register fewer scopes; the response shows which
      if (kept.length > 0) out.scope = kept.join(' ')
      else delete out.scope
      notes.push({ member: 'scope', rule: `${name}.scopes`, note: `dropped ${dropped.join(' ')}` })
    }
  }
  if (policy.sameHostReferences) {
    // RFC 7591 §5: a page or logo on another host than the redirect URIs is a phishing sign
    const hosts = new Set(
      (out.redirect_uris ?? []).flatMap((u) => {
        const url = new URL(u)
        return url.protocol === 'https:' || url.protocol === 'http:'
          ? [url.hostname.toLowerCase()]
          : []
      }),
    )
    const drop =
      typeof policy.sameHostReferences === 'object' &&
      policy.sameHostReferences.onMismatch === 'drop'
    for (const [member, value] of Object.entries(out)) {
      const base = member.split('#')[0]
      if (!REFERENCE_MEMBERS.has(base as string) || typeof value !== 'string') continue
      if (hosts.has(new URL(value).hostname.toLowerCase())) continue
      if (!drop) {
        throw invalidMetadata(
          `${member} must be on the host of a redirect URI (${by('sameHostReferences')})`,
        )
      }
      // RFC 7591 §3.2.1: the server may drop a member; the response shows what was registered
      delete (out as Record<string, unknown>)[member]
      notes.push({
        member,
        rule: `${name}.sameHostReferences`,
        note: `dropped ${value}: not on the host of a redirect URI`,
      })
    }
  }
  if (policy.reservedClientNames && !options.vouched) {
    const reserved = new Set(policy.reservedClientNames.map(reservedNameKey))
    for (const [member, value] of Object.entries(out)) {
      if (
        (member === 'client_name' || member.startsWith('client_name#')) &&
        typeof value === 'string'
      ) {
        if (reserved.has(reservedNameKey(value))) {
          throw invalidMetadata(
            `${member} '${value}' is reserved for clients vouched for by a software statement (${by('reservedClientNames')})`,
          )
        }
      }
    }
  }
  return { metadata: out, notes }
}

/** What a policy needs to know besides the metadata. */
export interface PolicyOptions {
  /** The client is vouched for by a software statement (reservedClientNames do not apply). */
  vouched: boolean
  /** token_endpoint_auth_methods_supported: what an `authMethods` substitution may pick. */
  authMethodsSupported?: readonly string[]
}

/** The two spellings of the authMethods rule: a list, or a list with what to do on a mismatch. */
function authMethodsRule(
  rule: RegistrationPolicy['authMethods'],
): { allowed: readonly string[]; onMismatch: 'refuse' | 'substitute' } | undefined {
  if (rule === undefined) return undefined
  if (Array.isArray(rule)) return { allowed: rule, onMismatch: 'refuse' }
  return { allowed: rule.allowed, onMismatch: rule.onMismatch ?? 'refuse' }
}

/** Whether a substituted method can serve this client: supported, with keys where it needs them. */
function usableAuthMethod(method: string, m: ClientMetadata, options: PolicyOptions): boolean {
  if (options.authMethodsSupported && !options.authMethodsSupported.includes(method)) return false
  if (method === 'private_key_jwt') return m.jwks !== undefined || m.jwks_uri !== undefined
  // mutual TLS needs certificate metadata the client did not send (RFC 8705 §2.1.2)
  return method !== 'tls_client_auth' && method !== 'self_signed_tls_client_auth'
}

/** Members that point users at the client's pages (RFC 7591 §2, §5). */
const REFERENCE_MEMBERS = new Set(['client_uri', 'logo_uri', 'tos_uri', 'policy_uri'])

/** `example.com` matches itself; `*.example.com` matches subdomains (not the apex). */
function hostMatches(hostname: string, pattern: string): boolean {
  const host = hostname.toLowerCase()
  const p = pattern.toLowerCase()
  if (p.startsWith('*.')) return host.endsWith(p.slice(1)) && host.length > p.length - 1
  return host === p
}

/**
 * The rule a refusal of {@link applyRegistrationPolicy} (or {@link policyFull}) names, for the
 * metrics of policy decisions: every such refusal says `policy 'NAME' (rule RULE)`.
 */
export function refusingRule(err: unknown): string | undefined {
  if (!(err instanceof RegistrationError)) return undefined
  return /\(rule ([A-Za-z]+)\)/.exec(err.error_description ?? '')?.[1]
}

/** 403 when a policy's client ceiling is reached. */
export function policyFull(name: string, max: number): RegistrationError {
  return new RegistrationError(
    'access_denied',
    `policy '${name}' (rule maxClients) allows at most ${max} clients, and that many are registered`,
    { status: 403 },
  )
}
