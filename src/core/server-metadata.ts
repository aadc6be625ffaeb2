import type { RegistrarConfig } from '../config/schema.js'
import type { ClientMetadataRules } from './client-metadata.js'

const ASYMMETRIC = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
]
const HMAC = ['HS256', 'HS384', 'HS512']

/**
 * What registration accepts, from the defaults and the config's `metadata` overrides. Discovery
 * publishes exactly these lists (checklist RDISC-X-a: discovery and registration agree).
 */
export function clientMetadataRules(config: RegistrarConfig): ClientMetadataRules {
  const m = config.metadata
  const hasKey = config.registration.secretEncryptionKey !== undefined
  const list = (key: string, fallback: readonly string[]): readonly string[] =>
    Array.isArray(m[key]) ? (m[key] as string[]) : fallback
  const signing = hasKey ? [...ASYMMETRIC, ...HMAC] : ASYMMETRIC
  return {
    grant_types_supported: list('grant_types_supported', [
      'authorization_code',
      'refresh_token',
      'client_credentials',
    ]),
    response_types_supported: list('response_types_supported', ['code']),
    token_endpoint_auth_methods_supported: list(
      'token_endpoint_auth_methods_supported',
      hasKey
        ? [
            'client_secret_basic',
            'client_secret_post',
            'client_secret_jwt',
            'private_key_jwt',
            'none',
          ]
        : ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    ),
    token_endpoint_auth_signing_alg_values_supported: list(
      'token_endpoint_auth_signing_alg_values_supported',
      signing,
    ),
    subject_types_supported: list('subject_types_supported', ['public']),
    id_token_signing_alg_values_supported: list('id_token_signing_alg_values_supported', signing),
    id_token_encryption_alg_values_supported: list('id_token_encryption_alg_values_supported', []),
    id_token_encryption_enc_values_supported: list('id_token_encryption_enc_values_supported', []),
    userinfo_signing_alg_values_supported: list('userinfo_signing_alg_values_supported', signing),
    userinfo_encryption_alg_values_supported: list('userinfo_encryption_alg_values_supported', []),
    userinfo_encryption_enc_values_supported: list('userinfo_encryption_enc_values_supported', []),
    request_object_signing_alg_values_supported: list(
      'request_object_signing_alg_values_supported',
      signing,
    ),
    request_object_encryption_alg_values_supported: list(
      'request_object_encryption_alg_values_supported',
      [],
    ),
    request_object_encryption_enc_values_supported: list(
      'request_object_encryption_enc_values_supported',
      [],
    ),
    acr_values_supported: Array.isArray(m.acr_values_supported)
      ? (m.acr_values_supported as string[])
      : undefined,
    scopes_supported: Array.isArray(m.scopes_supported)
      ? (m.scopes_supported as string[])
      : undefined,
    scopePolicy: config.registration.scopePolicy,
    allowedPrivateUseSchemes: config.registration.allowedPrivateUseSchemes,
    extensionFields: config.registration.extensionFields,
    allowedFetchAddresses: config.fetch.allowedAddresses,
  }
}

/** Absolute URL of the RFC 7591 registration endpoint under the issuer. */
export function registrationEndpoint(issuer: string): string {
  return `${issuer}/register`
}

/** RFC 7592 §3 registration_client_uri: the client configuration endpoint of one client. */
export function registrationClientUri(issuer: string, clientId: string): string {
  return `${issuer}/register/${encodeURIComponent(clientId)}`
}

/**
 * RFC 8414 §2 / OIDC Discovery §3 metadata: the registration endpoint and every `*_supported` list
 * registration enforces, merged with the config's `metadata` (the real AS's endpoints). Members
 * with zero elements are omitted (RFC 8414 §3.2).
 *
 * @see [RFC 8414 §2](https://www.rfc-editor.org/rfc/rfc8414.html#section-2)
 */
export function authorizationServerMetadata(
  config: RegistrarConfig,
  issuer: string,
): Record<string, unknown> {
  const rules = clientMetadataRules(config)
  const doc: Record<string, unknown> = {
    issuer,
    registration_endpoint: registrationEndpoint(issuer),
    scopes_supported: rules.scopes_supported,
    response_types_supported: rules.response_types_supported,
    grant_types_supported: rules.grant_types_supported,
    token_endpoint_auth_methods_supported: rules.token_endpoint_auth_methods_supported,
    token_endpoint_auth_signing_alg_values_supported:
      rules.token_endpoint_auth_methods_supported.some(
        (m) => m === 'private_key_jwt' || m === 'client_secret_jwt',
      )
        ? rules.token_endpoint_auth_signing_alg_values_supported
        : undefined,
    code_challenge_methods_supported: ['S256'],
    subject_types_supported: rules.subject_types_supported,
    id_token_signing_alg_values_supported: rules.id_token_signing_alg_values_supported,
    id_token_encryption_alg_values_supported: rules.id_token_encryption_alg_values_supported,
    id_token_encryption_enc_values_supported: rules.id_token_encryption_enc_values_supported,
    userinfo_signing_alg_values_supported: rules.userinfo_signing_alg_values_supported,
    userinfo_encryption_alg_values_supported: rules.userinfo_encryption_alg_values_supported,
    userinfo_encryption_enc_values_supported: rules.userinfo_encryption_enc_values_supported,
    request_object_signing_alg_values_supported: rules.request_object_signing_alg_values_supported,
    request_object_encryption_alg_values_supported:
      rules.request_object_encryption_alg_values_supported,
    request_object_encryption_enc_values_supported:
      rules.request_object_encryption_enc_values_supported,
    acr_values_supported: rules.acr_values_supported,
    ...config.metadata,
  }
  doc.issuer = issuer
  doc.registration_endpoint = registrationEndpoint(issuer)
  for (const [k, v] of Object.entries(doc)) {
    if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) delete doc[k]
  }
  return doc
}
