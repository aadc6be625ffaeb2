import type { RegistrarConfig } from '../config/schema.js'
import { clientMetadataRules } from '../metadata/rules.js'

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
  // CIMD-7-a, CIMD-BP-23: both discovery documents, exactly when the feature is on
  if (config.clientIdMetadataDocuments.enabled) doc.client_id_metadata_document_supported = true
  else delete doc.client_id_metadata_document_supported
  for (const [k, v] of Object.entries(doc)) {
    if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) delete doc[k]
  }
  return doc
}
