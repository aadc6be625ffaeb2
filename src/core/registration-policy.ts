import type { ClientMetadata } from './client-metadata.js'
import type { RegistrarConfig, RegistrationPolicy } from './config.js'
import { invalidMetadata, invalidRedirectUri, RegistrationError } from './errors.js'
import type { VerifiedSoftwareStatement } from './software-statement.js'
import type { InitialAccessTokenRecord } from './store.js'

/**
 * Who is registering, which decides the policy (RFC 7591 §5: the whole request — statement,
 * initial access token and metadata — is considered).
 */
export type RegistrantClass = 'anonymous' | 'initial_access_token' | 'software_statement'

export interface Registrant {
  class: RegistrantClass
  initialAccessToken?: InitialAccessTokenRecord
  softwareStatement?: VerifiedSoftwareStatement
}

/** The policy that applies to a registrant, by name, or none. */
export function policyFor(
  config: Readonly<RegistrarConfig>,
  registrant: Registrant,
): { name: string; policy: RegistrationPolicy } | undefined {
  const name =
    registrant.class === 'software_statement'
      ? registrant.softwareStatement?.issuer.policy
      : registrant.class === 'initial_access_token'
        ? (registrant.initialAccessToken?.policy ?? config.policies.initialAccessToken)
        : config.policies.anonymous
  if (name === undefined) return undefined
  const policy = config.policies.definitions[name]
  return policy ? { name, policy } : undefined
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
  named: { name: string; policy: RegistrationPolicy },
  options: { vouched: boolean },
): { metadata: ClientMetadata; notes: PolicyNote[] } {
  const { name, policy } = named
  const notes: PolicyNote[] = []
  const by = (rule: string) => `policy '${name}' (rule ${rule})`
  const out: ClientMetadata = { ...metadata }

  if (policy.authMethods && !policy.authMethods.includes(out.token_endpoint_auth_method)) {
    throw invalidMetadata(
      `token_endpoint_auth_method ${out.token_endpoint_auth_method} is not allowed by ${by('authMethods')}; allowed: ${policy.authMethods.join(' ')}`,
    )
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
    for (const [member, value] of Object.entries(out)) {
      const base = member.split('#')[0]
      if (!REFERENCE_MEMBERS.has(base as string) || typeof value !== 'string') continue
      if (!hosts.has(new URL(value).hostname.toLowerCase())) {
        throw invalidMetadata(
          `${member} must be on the host of a redirect URI (${by('sameHostReferences')})`,
        )
      }
    }
  }
  if (policy.reservedClientNames && !options.vouched) {
    const reserved = new Set(policy.reservedClientNames.map(nameKey))
    for (const [member, value] of Object.entries(out)) {
      if (
        (member === 'client_name' || member.startsWith('client_name#')) &&
        typeof value === 'string'
      ) {
        if (reserved.has(nameKey(value))) {
          throw invalidMetadata(
            `${member} '${value}' is reserved for clients vouched for by a software statement (${by('reservedClientNames')})`,
          )
        }
      }
    }
  }
  return { metadata: out, notes }
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
 * Look-alike folding for reserved names: compatibility-normalised, case-folded, with spaces,
 * punctuation and invisible characters removed ("Acme Bank", "ACME-bank", "Ａｃｍｅ Bank" collide).
 */
function nameKey(name: string): string {
  return name
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s\p{P}\p{S}\p{Cf}]/gu, '')
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
