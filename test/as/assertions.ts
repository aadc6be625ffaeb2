import { randomUUID } from 'node:crypto'
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import { ISSUER } from './support.js'

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

export type SigningKey = Parameters<SignJWT['sign']>[0]

/** An asymmetric key pair and its public JWK (with kid and use). */
export async function keyPair(alg = 'ES256', kid = 'k1') {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true })
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg }
  return { publicKey, privateKey, publicJwk, kid, alg }
}

export const nowSeconds = () => Math.floor(Date.now() / 1000)

/**
 * A client assertion (RFC 7523 §3): iss = sub = clientId, aud = the issuer, exp one minute ahead,
 * a fresh jti; `claims` overrides (a value of `undefined` removes the claim), `header` too.
 */
export async function assertion(
  clientId: string,
  key: SigningKey,
  options: { claims?: Record<string, unknown>; header?: Record<string, unknown> } = {},
): Promise<string> {
  const now = nowSeconds()
  const claims: Record<string, unknown> = {
    iss: clientId,
    sub: clientId,
    aud: ISSUER,
    iat: now,
    exp: now + 60,
    jti: randomUUID(),
    ...options.claims,
  }
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k]
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', ...options.header } as never)
    .sign(key)
}

/** An unsecured JWT (`alg: none`, RFC 7519 §6), which no server may accept. */
export function unsecured(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
  return `${part({ alg: 'none' })}.${part(claims)}.`
}
