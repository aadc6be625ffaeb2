import { createHash, X509Certificate } from 'node:crypto'
import type { ClientMetadata } from '../metadata/types.js'
import type { ClientKeys } from './client-key-set.js'
import {
  certificateSubject,
  parseDistinguishedName,
  sameDistinguishedName,
} from './distinguished-name.js'

/** RFC 5280 §4.2.1.12 id-kp-clientAuth. */
const CLIENT_AUTH_EKU = '1.3.6.1.5.5.7.3.2'
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

/** The certificate a host passed in, as an `X509Certificate`; undefined when it is none. */
export function toCertificate(
  value: string | Uint8Array | X509Certificate | undefined,
): X509Certificate | undefined {
  if (value === undefined) return undefined
  if (value instanceof X509Certificate) return value
  try {
    return new X509Certificate(typeof value === 'string' ? value : Buffer.from(value))
  } catch {
    return undefined
  }
}

/** The CA certificates of a PEM bundle (the `tlsClientAuthCaFile`). */
export function parseTrustAnchors(pem: string | Buffer): X509Certificate[] {
  const blocks = String(pem).match(PEM_CERTIFICATE) ?? []
  return blocks.map((block) => new X509Certificate(block))
}

function validAt(cert: X509Certificate, nowMs: number, skewMs: number): boolean {
  return Date.parse(cert.validFrom) - skewMs <= nowMs && nowMs <= Date.parse(cert.validTo) + skewMs
}

/**
 * RFC 8705 §2.1 (PKI method): the certificate is valid now (within the clock skew), is no CA
 * certificate, may be used for
 * client authentication (when it has an extended key usage at all), and is signed by one of the
 * configured trust anchors, itself a CA valid now. Intermediate CAs are trusted by listing them
 * among the anchors: hosts hand over the leaf certificate only.
 */
export function chainsToTrustAnchor(
  cert: X509Certificate,
  anchors: readonly X509Certificate[],
  nowMs: number,
  skewMs: number,
): boolean {
  if (cert.ca || !validAt(cert, nowMs, skewMs)) return false
  const eku = cert.keyUsage
  if (eku !== undefined && !eku.includes(CLIENT_AUTH_EKU)) return false
  return anchors.some(
    (anchor) =>
      anchor.ca &&
      validAt(anchor, nowMs, skewMs) &&
      cert.checkIssued(anchor) &&
      cert.verify(anchor.publicKey),
  )
}

/**
 * RFC 8705 §2.1.2: the certificate matches the one subject value the client registered —
 * `tls_client_auth_subject_dn` compared as a distinguished name, or an exact match of a subject
 * alternative name entry of that type (DNS names without wildcards, IP addresses as addresses).
 */
export function matchesRegisteredSubject(
  cert: X509Certificate,
  metadata: Readonly<ClientMetadata>,
): boolean {
  const {
    tls_client_auth_subject_dn: dn,
    tls_client_auth_san_dns: dns,
    tls_client_auth_san_uri: uri,
    tls_client_auth_san_ip: ip,
    tls_client_auth_san_email: email,
  } = metadata
  if (typeof dn === 'string') {
    return sameDistinguishedName(parseDistinguishedName(dn), certificateSubject(cert.subject))
  }
  if (typeof dns === 'string') {
    return cert.checkHost(dns, { subject: 'never', wildcards: false }) !== undefined
  }
  if (typeof ip === 'string') {
    try {
      return cert.checkIP(ip) !== undefined
    } catch {
      return false // not an IP address
    }
  }
  if (typeof email === 'string') {
    return cert.checkEmail(email, { subject: 'never' }) !== undefined
  }
  if (typeof uri === 'string') {
    return subjectAltNames(cert).some((n) => n.type === 'URI' && n.value === uri)
  }
  return false
}

/**
 * The entries of `X509Certificate.subjectAltName`: `TYPE:value` joined by `, `, a value quoted as a
 * JSON string when it holds a comma, quote or other special character (Node >= 17.3).
 */
export function subjectAltNames(cert: X509Certificate): { type: string; value: string }[] {
  const text = cert.subjectAltName ?? ''
  const out: { type: string; value: string }[] = []
  let i = 0
  while (i < text.length) {
    const colon = text.indexOf(':', i)
    if (colon < 0) break
    const type = text.slice(i, colon)
    let value: string
    let end: number
    if (text[colon + 1] === '"') {
      end = colon + 2
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1
      try {
        value = JSON.parse(text.slice(colon + 1, end + 1)) as string
      } catch {
        return out
      }
      end += 1
    } else {
      end = text.indexOf(', ', colon)
      if (end < 0) end = text.length
      value = text.slice(colon + 1, end)
    }
    out.push({ type, value })
    i = end + 2
  }
  return out
}

/** RFC 8705 §2.2: the certificate's `x5t#S256`, SHA-256 of its DER, base64url. */
export function certificateThumbprint(cert: X509Certificate): string {
  return createHash('sha256').update(cert.raw).digest('base64url')
}

/**
 * RFC 8705 §2.2 (self-signed method): no chain validation; the certificate must be one the client
 * registered in its `jwks` or `jwks_uri`, matched by SHA-256 thumbprint against each key's
 * `x5t#S256` or the first certificate of its `x5c`. An unknown certificate makes a jwks_uri be
 * fetched again once (within its cool-down), in case the client rotated its keys.
 */
export async function matchesRegisteredCertificate(
  cert: X509Certificate,
  keys: ClientKeys,
): Promise<boolean> {
  const thumbprint = certificateThumbprint(cert)
  const matches = async () => {
    const jwks = await keys.jwks()
    return (jwks?.keys ?? []).some((jwk) => {
      if (jwk['x5t#S256'] === thumbprint) return true
      const first = Array.isArray(jwk.x5c) ? jwk.x5c[0] : undefined
      return (
        typeof first === 'string' &&
        createHash('sha256').update(Buffer.from(first, 'base64')).digest('base64url') === thumbprint
      )
    })
  }
  if (await matches()) return true
  return (await keys.refresh()) && (await matches())
}
