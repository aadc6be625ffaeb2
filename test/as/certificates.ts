import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '../helpers.js'

/** A certificate made with openssl: PEM, key file path. */
export interface Issued {
  cert: string
  keyFile: string
  certFile: string
}

/**
 * Throwaway certificates for RFC 8705 tests, made with the openssl CLI (on the machine, as for the
 * TLS tests): CAs, client certificates they issue, and self-signed ones.
 */
export function certificateFactory() {
  const { dir, cleanup } = tempDir('registrar-mtls-')
  let n = 0
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' })
  const newKey = () => {
    const keyFile = join(dir, `key-${++n}.pem`)
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile])
    return keyFile
  }
  const extFile = (lines: string[]) => {
    const file = join(dir, `ext-${++n}.cnf`)
    writeFileSync(file, `[ext]\n${lines.join('\n')}\n`)
    return file
  }
  return {
    cleanup,
    /** A self-signed CA certificate (CA:TRUE). */
    ca(subject: string): Issued {
      const keyFile = newKey()
      const certFile = join(dir, `ca-${++n}.pem`)
      openssl([
        'req',
        '-x509',
        '-new',
        '-key',
        keyFile,
        '-out',
        certFile,
        '-days',
        '2',
        '-subj',
        subject,
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign',
      ])
      return { cert: readFileSync(certFile, 'utf8'), keyFile, certFile }
    },
    /** A leaf issued by `ca`, with extension lines (subjectAltName, extendedKeyUsage …). */
    leaf(ca: Issued, subject: string, ext: string[] = [], multivalue = false): Issued {
      const keyFile = newKey()
      const csr = join(dir, `csr-${++n}.pem`)
      openssl([
        'req',
        '-new',
        '-key',
        keyFile,
        '-out',
        csr,
        '-subj',
        subject,
        ...(multivalue ? ['-multivalue-rdn'] : []),
      ])
      const certFile = join(dir, `leaf-${++n}.pem`)
      openssl([
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        ca.certFile,
        '-CAkey',
        ca.keyFile,
        '-CAcreateserial',
        '-out',
        certFile,
        '-days',
        '2',
        ...(ext.length > 0 ? ['-extfile', extFile(ext), '-extensions', 'ext'] : []),
      ])
      return { cert: readFileSync(certFile, 'utf8'), keyFile, certFile }
    },
    /** A self-signed end-entity certificate (RFC 8705 §2.2). */
    selfSigned(subject: string): Issued {
      const keyFile = newKey()
      const certFile = join(dir, `self-${++n}.pem`)
      openssl([
        'req',
        '-x509',
        '-new',
        '-key',
        keyFile,
        '-out',
        certFile,
        '-days',
        '2',
        '-subj',
        subject,
      ])
      return { cert: readFileSync(certFile, 'utf8'), keyFile, certFile }
    },
    /** A PEM bundle file. */
    bundle(...pems: string[]): string {
      const file = join(dir, `bundle-${++n}.pem`)
      writeFileSync(file, pems.join('\n'))
      return file
    },
  }
}
