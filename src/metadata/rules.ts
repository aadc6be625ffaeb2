import type { RegistrarConfig } from '../config/schema.js'
import type { ClientMetadataRules } from './types.js'

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
 * publishes exactly these lists (RDISC-X-a, docs/requirements.md: discovery and registration agree; RFC 8414 §2).
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
