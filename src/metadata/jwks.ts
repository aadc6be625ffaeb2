import { X509Certificate } from 'node:crypto'
import { calculateJwkThumbprint, importJWK, type JWK } from 'jose'
import { invalidMetadata, RegistrationError } from '../core/errors.js'
import { isPrototypeName } from '../shared/prototype-names.js'

const MAX_KEYS = 32
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']

/**
 * A JWK Set with public asymmetric keys only (RFC 7591 §2, OIDR §2: no private or symmetric
 * material). Each key is imported with jose to prove it is usable, and an `x5c` certificate must
 * carry the same key.
 */
export async function publicJwks(value: unknown): Promise<{ keys: JWK[] }> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidMetadata('jwks must be a JWK Set object')
  }
  const keys = (value as { keys?: unknown }).keys
  if (!Array.isArray(keys) || keys.length === 0) {
    throw invalidMetadata('jwks must have a non-empty keys array')
  }
  if (keys.length > MAX_KEYS) throw invalidMetadata(`jwks must have at most ${MAX_KEYS} keys`)
  const uses = new Set<unknown>()
  for (const key of keys) {
    if (typeof key !== 'object' || key === null || Array.isArray(key)) {
      throw invalidMetadata('jwks keys must be JWK objects')
    }
    const jwk = key as JWK
    if (PRIVATE_JWK_MEMBERS.some((m) => Object.hasOwn(jwk, m))) {
      throw invalidMetadata('jwks MUST NOT contain private or symmetric key material')
    }
    if (jwk.kty !== 'RSA' && jwk.kty !== 'EC' && jwk.kty !== 'OKP') {
      throw invalidMetadata('jwks keys must be RSA, EC or OKP public keys')
    }
    if (jwk.use !== undefined && jwk.use !== 'sig' && jwk.use !== 'enc') {
      throw invalidMetadata("jwks key 'use' must be 'sig' or 'enc'")
    }
    uses.add(jwk.use)
    try {
      await calculateJwkThumbprint(jwk)
      await importJWK(jwk, jwk.alg ?? defaultAlg(jwk))
    } catch (cause) {
      throw new RegistrationError('invalid_client_metadata', 'jwks contains an invalid key', {
        cause,
      })
    }
    if (jwk.x5c !== undefined) checkX5c(jwk)
  }
  // OIDR §2: with signing and encryption keys in one set, every key needs `use`.
  if (uses.has('sig') && uses.has('enc') && uses.has(undefined)) {
    throw invalidMetadata("a jwks with both signing and encryption keys needs 'use' on every key")
  }
  // RFC 7517 §4: members that are not understood are ignored; these three are dropped so that no
  // stored key can turn into a prototype when a consumer copies it with Object.assign or a merge
  return {
    keys: (keys as JWK[]).map((k) =>
      Object.fromEntries(Object.entries(k).filter(([name]) => !isPrototypeName(name))),
    ),
  }
}

/** The algorithm a JWK without `alg` is imported for, by key type, curve and `use`. */
export function defaultAlg(jwk: JWK): string {
  if (jwk.kty === 'RSA') return jwk.use === 'enc' ? 'RSA-OAEP' : 'RS256'
  if (jwk.kty === 'EC') {
    if (jwk.use === 'enc') return 'ECDH-ES'
    return jwk.crv === 'P-384' ? 'ES384' : jwk.crv === 'P-521' ? 'ES512' : 'ES256'
  }
  if (jwk.crv === 'X25519' || jwk.crv === 'X448') return 'ECDH-ES'
  return 'EdDSA'
}

/** An `x5c` chain whose first certificate carries the JWK's own public key (OIDR §2, RFC 7517 §4.7). */
export function checkX5c(jwk: JWK): void {
  const chain = jwk.x5c
  if (!Array.isArray(chain) || chain.length === 0 || chain.some((c) => typeof c !== 'string')) {
    throw invalidMetadata('jwks key x5c must be a non-empty array of base64 certificates')
  }
  let certKey: JWK
  try {
    const cert = new X509Certificate(Buffer.from(chain[0]!, 'base64'))
    certKey = cert.publicKey.export({ format: 'jwk' }) as JWK
  } catch (cause) {
    throw new RegistrationError('invalid_client_metadata', 'jwks key x5c is not a certificate', {
      cause,
    })
  }
  const same =
    jwk.kty === 'RSA'
      ? certKey.n === jwk.n && certKey.e === jwk.e
      : certKey.x === jwk.x && certKey.y === jwk.y && certKey.crv === jwk.crv
  if (!same) throw invalidMetadata('jwks key does not match its x5c certificate (OIDR §2)')
}
