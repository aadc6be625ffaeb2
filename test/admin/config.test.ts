import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { adminKeys } from '../../src/admin/keys.js'
import { ConfigError, listenAddress, resolveConfig } from '../../src/config/resolve.js'

// Issue 13: the admin.*, metrics.* and audit.* configuration keys.

const ISSUER = 'https://as.example.com'
const KEY = Buffer.alloc(32, 9).toString('base64url')

function bad(file: Record<string, unknown>, key: string) {
  assert.throws(
    () => resolveConfig({ file: { issuer: ISSUER, ...file } }),
    (err: unknown) => err instanceof ConfigError && err.key === key,
  )
}

describe('admin, metrics and audit configuration', () => {
  it('defaults: admin and metrics off, the audit trail on, kept a year, reads not recorded', () => {
    const c = resolveConfig({ file: { issuer: ISSUER } })
    assert.deepEqual(c.admin, { enabled: false, sessionLifetime: 28_800 })
    assert.deepEqual(c.metrics, { enabled: false })
    assert.deepEqual(c.audit, {
      enabled: true,
      retentionDays: 365,
      recordReads: false,
      authenticationFailureThreshold: 5,
      authenticationFailureWindow: 60,
    })
  })

  it('listen addresses are HOST:PORT, IPv6 in brackets', () => {
    assert.deepEqual(listenAddress('k', '127.0.0.1:9464'), { host: '127.0.0.1', port: 9464 })
    assert.deepEqual(listenAddress('k', '[::1]:0'), { host: '::1', port: 0 })
    assert.deepEqual(listenAddress('k', 'metrics.internal:80'), {
      host: 'metrics.internal',
      port: 80,
    })
    for (const v of ['9464', ':9464', '::1:9464', '127.0.0.1:70000', '127.0.0.1:', 9464, '']) {
      assert.throws(() => listenAddress('metrics.listen', v), /HOST:PORT/)
    }
    bad({ metrics: { listen: '9464' } }, 'metrics.listen')
    bad({ admin: { listen: 'x' } }, 'admin.listen')
    const c = resolveConfig({
      file: {
        issuer: ISSUER,
        admin: { listen: '[::1]:9400' },
        metrics: { listen: '0.0.0.0:9464' },
      },
    })
    assert.equal(c.admin.listen, '[::1]:9400')
  })

  it('bad values name their key', () => {
    bad({ admin: { enabled: 'yes' } }, 'admin.enabled')
    bad({ admin: { secretKey: 'short' } }, 'admin.secretKey')
    bad({ admin: { sessionLifetime: 0 } }, 'admin.sessionLifetime')
    bad({ admin: { nope: 1 } }, 'admin.nope')
    bad({ metrics: { enabled: 1 } }, 'metrics.enabled')
    bad({ audit: { retentionDays: -1 } }, 'audit.retentionDays')
    bad({ audit: { recordReads: 'no' } }, 'audit.recordReads')
    bad({ audit: { authenticationFailureThreshold: 0 } }, 'audit.authenticationFailureThreshold')
    bad({ audit: { authenticationFailureWindow: 0 } }, 'audit.authenticationFailureWindow')
  })

  it('REGISTRAR_ADMIN_SECRET_KEY sets admin.secretKey', () => {
    const c = resolveConfig({ file: { issuer: ISSUER }, env: { REGISTRAR_ADMIN_SECRET_KEY: KEY } })
    assert.equal(c.admin.secretKey, KEY)
  })

  it('admin keys: one per purpose, stable for a configured key, random without one', () => {
    const a = adminKeys(KEY)
    const b = adminKeys(KEY)
    assert.deepEqual(a.cursor, b.cursor)
    assert.notDeepEqual(a.cursor, a.session)
    assert.notDeepEqual(a.session, a.csrf)
    assert.equal(a.ephemeral, false)
    const r = adminKeys(undefined)
    assert.equal(r.ephemeral, true)
    assert.notDeepEqual(r.cursor, adminKeys(undefined).cursor)
  })
})
