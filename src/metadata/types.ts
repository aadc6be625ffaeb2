import type { JWK } from 'jose'

/**
 * Client metadata as registered: RFC 7591 §2, OpenID Connect Dynamic Client Registration 1.0 §2,
 * RP-Initiated / Front- / Back-Channel Logout, and the RFC 8705 / 9449 / 9126 / 9101 extensions.
 * Wire names are kept verbatim. Language-tagged members (`client_name#ja-Jpan-JP`, RFC 7591 §2.2)
 * and configured extension fields sit beside them.
 *
 * @see [RFC 7591 §2](https://www.rfc-editor.org/rfc/rfc7591.html#section-2)
 * @see [OIDC Registration §2](https://openid.net/specs/openid-connect-registration-1_0.html#ClientMetadata)
 */
export interface ClientMetadata {
  redirect_uris?: string[]
  token_endpoint_auth_method: string
  grant_types: string[]
  response_types: string[]
  client_name?: string
  client_uri?: string
  logo_uri?: string
  scope?: string
  contacts?: string[]
  tos_uri?: string
  policy_uri?: string
  jwks_uri?: string
  jwks?: { keys: JWK[] }
  software_id?: string
  software_version?: string
  // OIDC Registration §2
  application_type: 'web' | 'native'
  sector_identifier_uri?: string
  subject_type?: string
  id_token_signed_response_alg?: string
  id_token_encrypted_response_alg?: string
  id_token_encrypted_response_enc?: string
  userinfo_signed_response_alg?: string
  userinfo_encrypted_response_alg?: string
  userinfo_encrypted_response_enc?: string
  request_object_signing_alg?: string
  request_object_encryption_alg?: string
  request_object_encryption_enc?: string
  token_endpoint_auth_signing_alg?: string
  default_max_age?: number
  require_auth_time?: boolean
  default_acr_values?: string[]
  initiate_login_uri?: string
  request_uris?: string[]
  // RP-Initiated Logout §3.1, Front-Channel Logout §2.2, Back-Channel Logout §2.2
  post_logout_redirect_uris?: string[]
  frontchannel_logout_uri?: string
  frontchannel_logout_session_required?: boolean
  backchannel_logout_uri?: string
  backchannel_logout_session_required?: boolean
  // RFC 8705 §2.1.2, §3.4; RFC 9449 §5.2; RFC 9126 §6; RFC 9101 §10.5
  tls_client_auth_subject_dn?: string
  tls_client_auth_san_dns?: string
  tls_client_auth_san_uri?: string
  tls_client_auth_san_ip?: string
  tls_client_auth_san_email?: string
  tls_client_certificate_bound_access_tokens?: boolean
  dpop_bound_access_tokens?: boolean
  require_pushed_authorization_requests?: boolean
  require_signed_request_object?: boolean
  /** `field#lang` members (RFC 7591 §2.2) and configured extension fields. */
  [member: string]: unknown
}

/**
 * What this server accepts at registration. The same lists are advertised by discovery, so a
 * client never sees a `*_supported` value that registration refuses (RDISC-X-a; RFC 8414 §2).
 */
export interface ClientMetadataRules {
  grant_types_supported: readonly string[]
  response_types_supported: readonly string[]
  token_endpoint_auth_methods_supported: readonly string[]
  token_endpoint_auth_signing_alg_values_supported: readonly string[]
  subject_types_supported: readonly string[]
  id_token_signing_alg_values_supported: readonly string[]
  id_token_encryption_alg_values_supported: readonly string[]
  id_token_encryption_enc_values_supported: readonly string[]
  userinfo_signing_alg_values_supported: readonly string[]
  userinfo_encryption_alg_values_supported: readonly string[]
  userinfo_encryption_enc_values_supported: readonly string[]
  request_object_signing_alg_values_supported: readonly string[]
  request_object_encryption_alg_values_supported: readonly string[]
  request_object_encryption_enc_values_supported: readonly string[]
  acr_values_supported?: readonly string[]
  /** When set, `scope` is checked against it (see `scopePolicy`). */
  scopes_supported?: readonly string[]
  /** `intersect`: unsupported scopes are dropped and the result echoed; `reject`: 400. */
  scopePolicy: 'intersect' | 'reject'
  /** Private-use URI schemes without a period that native clients may use (RFC 8252 §8.4). */
  allowedPrivateUseSchemes: readonly string[]
  /** Extra top-level members to keep verbatim (RFC 7591 §2: unknown members are ignored unless configured here). */
  extensionFields: readonly string[]
  /** CIDRs that client-supplied fetchable URLs may name despite being special-use. */
  allowedFetchAddresses: readonly string[]
}
