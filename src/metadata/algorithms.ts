import type { ClientMetadata, ClientMetadataRules } from './types.js'

/**
 * The signed and encrypted responses and request objects of OIDR §2, in the order they are
 * checked: each has a signing alg and an encryption alg/enc pair, each against its own
 * `*_supported` list.
 */
export const JOSE_RESPONSE_ALGS = [
  {
    signed: 'id_token_signed_response_alg',
    signing: 'id_token_signing_alg_values_supported',
    encrypted: 'id_token_encrypted_response',
    encryptionAlg: 'id_token_encryption_alg_values_supported',
    encryptionEnc: 'id_token_encryption_enc_values_supported',
  },
  {
    signed: 'userinfo_signed_response_alg',
    signing: 'userinfo_signing_alg_values_supported',
    encrypted: 'userinfo_encrypted_response',
    encryptionAlg: 'userinfo_encryption_alg_values_supported',
    encryptionEnc: 'userinfo_encryption_enc_values_supported',
  },
  {
    signed: 'request_object_signing_alg',
    signing: 'request_object_signing_alg_values_supported',
    encrypted: 'request_object_encryption',
    encryptionAlg: 'request_object_encryption_alg_values_supported',
    encryptionEnc: 'request_object_encryption_enc_values_supported',
  },
] as const satisfies readonly {
  signed: keyof ClientMetadata
  signing: keyof ClientMetadataRules
  encrypted: string
  encryptionAlg: keyof ClientMetadataRules
  encryptionEnc: keyof ClientMetadataRules
}[]

/** Methods for which a client_secret is issued (RFC 7591 §3.2.1). */
const SECRET_METHODS: ReadonlySet<string> = new Set([
  'client_secret_basic',
  'client_secret_post',
  'client_secret_jwt',
])

/**
 * Symmetric JWA algorithms (RFC 7518 §3.2, §4.4, §4.5, §4.7, §4.8): keyed with the client_secret
 * (OIDC Core §10.1, §10.2), so using one needs the secret in plaintext at the AS.
 */
export function isSymmetricAlg(alg: string): boolean {
  return /^HS\d+$/.test(alg) || alg === 'dir' || /^A\d+(GCM)?KW$/.test(alg) || /^PBES2-/.test(alg)
}

/** True when any registered algorithm is keyed with the client_secret (OIDC Core §10.1, §10.2). */
export function usesSymmetricAlgorithm(m: ClientMetadata): boolean {
  return KEYED_MEMBERS.some((f) => {
    const v = m[f]
    return typeof v === 'string' && isSymmetricAlg(v)
  })
}

/**
 * RFC 7518 §3.2: the bits of the strongest HMAC algorithm (HS256/384/512) the metadata registers
 * (its client_secret is the key, which must be at least that long); 0 when there is none.
 */
export function hmacBits(m: ClientMetadata): number {
  let bits = 0
  for (const f of KEYED_MEMBERS) {
    const v = m[f]
    const match = typeof v === 'string' ? /^HS(256|384|512)$/.exec(v) : null
    if (match) bits = Math.max(bits, Number(match[1]))
  }
  return bits
}

/** Every registered member naming an algorithm that could be keyed with the client_secret. */
const KEYED_MEMBERS: readonly string[] = [
  'token_endpoint_auth_signing_alg',
  ...JOSE_RESPONSE_ALGS.flatMap((g) => [g.signed, `${g.encrypted}_alg`]),
]

/**
 * Whether a client_secret is issued (RFC 7591 §3.2.1, OIDC Registration §3.2): for the secret-based token endpoint
 * methods, and when a symmetric algorithm is registered.
 */
export function needsSecret(m: ClientMetadata): boolean {
  return SECRET_METHODS.has(m.token_endpoint_auth_method) || usesSymmetricAlgorithm(m)
}

/**
 * Whether the AS needs the secret in plaintext (an HMAC key), so it must be stored encrypted rather
 * than hashed (RFC 7523 §2.2: an HMAC is checked with the secret itself).
 */
export function needsPlaintextSecret(m: ClientMetadata): boolean {
  return m.token_endpoint_auth_method === 'client_secret_jwt' || usesSymmetricAlgorithm(m)
}
