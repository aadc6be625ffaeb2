import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { loadConfig } from '../../src/cli/common.js'
import { ConfigError, DEFAULTS, resolveConfig, secretKeyBytes } from '../../src/core/config.js'
import { tempDir } from '../helpers.js'

const KEY = Buffer.alloc(32, 1).toString('base64url')

/** Asserts resolveConfig refuses the sources with a ConfigError naming `key`. */
function refused(sources: Parameters<typeof resolveConfig>[0], key: string): void {
  assert.throws(
    () => resolveConfig(sources),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e))
      assert.equal(e.key, key)
      assert.ok(e.message.includes(key), e.message)
      return true
    },
  )
}

describe('resolveConfig: precedence flags > env > file > defaults (design §3)', () => {
  it('defaults apply when nothing is given', () => {
    const c = resolveConfig()
    assert.equal(c.port, 3000)
    assert.equal(c.host, '127.0.0.1')
    assert.equal(c.store, 'sqlite:./data/registrar.db')
    assert.equal(c.registration.mode, 'token')
    assert.equal(c.issuer, '')
    assert.equal(c.limits.maxBodyBytes, 64 * 1024)
  })

  it('the file beats the defaults, env beats the file, flags beat env', () => {
    const file = {
      port: 4000,
      host: '127.0.0.2',
      issuer: 'https://file.example.com',
      store: 'sqlite:/tmp/file.db',
      registration: { mode: 'open' },
    }
    const env = {
      REGISTRAR_PORT: '5000',
      REGISTRAR_HOST: '127.0.0.3',
      REGISTRAR_ISSUER: 'https://env.example.com',
      REGISTRAR_STORE: 'memory',
      REGISTRAR_REGISTRATION: 'token',
    }
    const flags = {
      port: '6000',
      host: '127.0.0.4',
      issuer: 'https://flag.example.com',
      store: 'sqlite:/tmp/flag.db',
      registration: 'open',
    }
    const fromFile = resolveConfig({ file })
    assert.deepEqual(
      [fromFile.port, fromFile.host, fromFile.issuer, fromFile.store, fromFile.registration.mode],
      [4000, '127.0.0.2', 'https://file.example.com', 'sqlite:/tmp/file.db', 'open'],
    )
    const fromEnv = resolveConfig({ file, env })
    assert.deepEqual(
      [fromEnv.port, fromEnv.host, fromEnv.issuer, fromEnv.store, fromEnv.registration.mode],
      [5000, '127.0.0.3', 'https://env.example.com', 'memory', 'token'],
    )
    const fromFlags = resolveConfig({ file, env, flags })
    assert.deepEqual(
      [
        fromFlags.port,
        fromFlags.host,
        fromFlags.issuer,
        fromFlags.store,
        fromFlags.registration.mode,
      ],
      [6000, '127.0.0.4', 'https://flag.example.com', 'sqlite:/tmp/flag.db', 'open'],
    )
  })

  it('a file sets nested keys without losing the other defaults', () => {
    const c = resolveConfig({ file: { registration: { allowedPrivateUseSchemes: ['vscode'] } } })
    assert.deepEqual(c.registration.allowedPrivateUseSchemes, ['vscode'])
    assert.equal(c.registration.mode, 'token')
    assert.equal(c.registration.scopePolicy, 'intersect')
  })

  it('empty environment variables count as unset', () => {
    const c = resolveConfig({
      file: { port: 4000, host: '127.0.0.2', store: 'memory', registration: { mode: 'open' } },
      env: {
        REGISTRAR_PORT: '',
        REGISTRAR_HOST: '',
        REGISTRAR_ISSUER: '',
        REGISTRAR_STORE: '',
        REGISTRAR_REGISTRATION: '',
      },
    })
    assert.deepEqual(
      [c.port, c.host, c.store, c.registration.mode],
      [4000, '127.0.0.2', 'memory', 'open'],
    )
  })

  it('REGISTRAR_LOG_LEVEL and REGISTRAR_SECRET_ENCRYPTION_KEY are read from env', () => {
    const c = resolveConfig({
      env: { REGISTRAR_LOG_LEVEL: 'debug', REGISTRAR_SECRET_ENCRYPTION_KEY: KEY },
    })
    assert.equal(c.log.level, 'debug')
    assert.equal(c.registration.secretEncryptionKey, KEY)
  })

  it('loadConfig reads --config, or REGISTRAR_CONFIG, and flags still win', () => {
    const t = tempDir()
    try {
      const path = join(t.dir, 'c.json')
      writeFileSync(path, JSON.stringify({ issuer: 'https://file.example.com', port: 4100 }))
      assert.equal(loadConfig({ config: path }, {}).issuer, 'https://file.example.com')
      assert.equal(loadConfig({}, { REGISTRAR_CONFIG: path }).port, 4100)
      assert.equal(loadConfig({ config: path, port: '0' }, { REGISTRAR_PORT: '9' }).port, 0)
    } finally {
      t.cleanup()
    }
  })

  it('the result is frozen, and DEFAULTS are never modified', () => {
    const c = resolveConfig({ file: { registration: { allowedPrivateUseSchemes: ['cursor'] } } })
    assert.ok(Object.isFrozen(c))
    assert.ok(Object.isFrozen(c.registration))
    assert.throws(() => {
      ;(c.registration as { mode: string }).mode = 'open'
    }, TypeError)
    assert.deepEqual(DEFAULTS.registration.allowedPrivateUseSchemes, [])
  })

  it('the issuer loses its trailing slash', () => {
    assert.equal(
      resolveConfig({ file: { issuer: 'https://as.example.com/' } }).issuer,
      'https://as.example.com',
    )
    assert.equal(
      resolveConfig({ file: { issuer: 'https://as.example.com/t1/' } }).issuer,
      'https://as.example.com/t1',
    )
  })

  it('private-use schemes are lower-cased and lose a trailing colon', () => {
    const c = resolveConfig({
      file: { registration: { allowedPrivateUseSchemes: ['VSCode:', 'cursor'] } },
    })
    assert.deepEqual(c.registration.allowedPrivateUseSchemes, ['vscode', 'cursor'])
  })
})

describe('resolveConfig: an invalid config is refused, naming the key (design §3)', () => {
  it('registration.mode', () => {
    refused({ file: { registration: { mode: 'anonymous' } } }, 'registration.mode')
    refused({ env: { REGISTRAR_REGISTRATION: 'closed' } }, 'registration.mode')
    refused({ flags: { registration: 'x' } }, 'registration.mode')
  })

  it('unknown keys, at any depth, so that a typo never passes silently', () => {
    refused({ file: { registraton: { mode: 'open' } } }, 'registraton')
    refused({ file: { registration: { mod: 'open' } } }, 'registration.mod')
    refused({ file: { limits: { maxBody: 1 } } }, 'limits.maxBody')
  })

  it('prototype-polluting keys', () => {
    refused({ file: JSON.parse('{"__proto__": {"port": 1}}') }, '__proto__')
    refused(
      { file: JSON.parse('{"registration": {"constructor": {}}}') },
      'registration.constructor',
    )
  })

  it('a section that must be an object given as something else', () => {
    refused({ file: { registration: 'open' } }, 'registration')
    refused({ file: { registration: 'open' }, flags: { registration: 'open' } }, 'registration')
    refused({ file: { cors: null } }, 'cors')
    refused({ file: { limits: [] } }, 'limits')
    refused({ file: { metadata: 'x' } }, 'metadata')
  })

  it('the config file must hold an object', () => {
    refused({ file: [1] }, '(file)')
    refused({ file: 'x' }, '(file)')
  })

  it('issuer: absolute, https (http only on loopback), no query or fragment', () => {
    refused({ file: { issuer: 'as.example.com' } }, 'issuer')
    refused({ file: { issuer: 'http://as.example.com' } }, 'issuer')
    refused({ file: { issuer: 'https://as.example.com?x=1' } }, 'issuer')
    refused({ file: { issuer: 'https://as.example.com#x' } }, 'issuer')
    refused({ flags: { issuer: 'ftp://as.example.com' } }, 'issuer')
    for (const ok of [
      'http://localhost:3000',
      'http://127.0.0.1:8080',
      'http://[::1]:1',
      'https://a.example/t',
    ]) {
      assert.equal(resolveConfig({ file: { issuer: ok } }).issuer, ok)
    }
  })

  it('port: an integer 0-65535, from any layer', () => {
    refused({ file: { port: 65536 } }, 'port')
    refused({ file: { port: 'eighty' } }, 'port')
    refused({ env: { REGISTRAR_PORT: 'abc' } }, 'port')
    refused({ flags: { port: '-1' } }, 'port')
    refused({ flags: { port: '1.5' } }, 'port')
  })

  it('store and host', () => {
    refused({ file: { store: 'mysql://x' } }, 'store')
    refused({ flags: { store: 'sqlite:' } }, 'store')
    refused({ file: { host: '' } }, 'host')
  })

  it('registration keys', () => {
    refused(
      { file: { registration: { allowedPrivateUseSchemes: 'vscode' } } },
      'registration.allowedPrivateUseSchemes',
    )
    refused(
      { file: { registration: { allowedPrivateUseSchemes: ['https'] } } },
      'registration.allowedPrivateUseSchemes[0]',
    )
    refused(
      { file: { registration: { allowedPrivateUseSchemes: ['ok', 'b@d'] } } },
      'registration.allowedPrivateUseSchemes[1]',
    )
    refused(
      { file: { registration: { rotateRegistrationAccessToken: 'yes' } } },
      'registration.rotateRegistrationAccessToken',
    )
    refused(
      { file: { registration: { clientSecretExpiresIn: -1 } } },
      'registration.clientSecretExpiresIn',
    )
    refused({ file: { registration: { scopePolicy: 'drop' } } }, 'registration.scopePolicy')
    refused(
      { file: { registration: { secretEncryptionKey: 'short' } } },
      'registration.secretEncryptionKey',
    )
    refused(
      { env: { REGISTRAR_SECRET_ENCRYPTION_KEY: `${'x'.repeat(43)}!` } },
      'registration.secretEncryptionKey',
    )
  })

  it('extension fields may not shadow members the server issues (RFC 7591 §3.2.1, RFC 7592 §3)', () => {
    for (const field of [
      'client_id',
      'client_secret',
      'client_id_issued_at',
      'client_secret_expires_at',
      'registration_access_token',
      'registration_client_uri',
      'software_statement',
      '__proto__',
    ]) {
      refused(
        { file: { registration: { extensionFields: [field] } } },
        'registration.extensionFields[0]',
      )
    }
    const c = resolveConfig({ file: { registration: { extensionFields: ['x_tenant'] } } })
    assert.deepEqual(c.registration.extensionFields, ['x_tenant'])
  })

  it('metadata: lists are string arrays; issuer and registration_endpoint are derived', () => {
    refused(
      { file: { metadata: { grant_types_supported: 'authorization_code' } } },
      'metadata.grant_types_supported',
    )
    refused({ file: { metadata: { scopes_supported: [1] } } }, 'metadata.scopes_supported')
    refused({ file: { metadata: { issuer: 'https://x' } } }, 'metadata.issuer')
    refused(
      { file: { metadata: { registration_endpoint: 'https://x/r' } } },
      'metadata.registration_endpoint',
    )
  })

  it('design §4: client_secret_jwt and symmetric algorithms need registration.secretEncryptionKey', () => {
    refused(
      { file: { metadata: { token_endpoint_auth_methods_supported: ['client_secret_jwt'] } } },
      'metadata.token_endpoint_auth_methods_supported',
    )
    refused(
      { file: { metadata: { id_token_signing_alg_values_supported: ['RS256', 'HS256'] } } },
      'metadata.id_token_signing_alg_values_supported',
    )
    refused(
      { file: { metadata: { token_endpoint_auth_signing_alg_values_supported: ['none'] } } },
      'metadata.token_endpoint_auth_signing_alg_values_supported',
    )
    const ok = resolveConfig({
      file: {
        registration: { secretEncryptionKey: KEY },
        metadata: { token_endpoint_auth_methods_supported: ['client_secret_jwt'] },
      },
    })
    assert.deepEqual(ok.metadata.token_endpoint_auth_methods_supported, ['client_secret_jwt'])
  })

  it('software statement issuers', () => {
    const issuer = { iss: 'https://dir.example.com', jwks: { keys: [] }, algorithms: ['ES256'] }
    refused(
      { file: { softwareStatement: { trustedIssuers: [{ ...issuer, iss: '' }] } } },
      'softwareStatement.trustedIssuers[0].iss',
    )
    refused(
      {
        file: {
          softwareStatement: {
            trustedIssuers: [{ ...issuer, jwks_uri: 'https://dir.example.com/jwks' }],
          },
        },
      },
      'softwareStatement.trustedIssuers[0]',
    )
    refused(
      { file: { softwareStatement: { trustedIssuers: [{ ...issuer, algorithms: ['none'] }] } } },
      'softwareStatement.trustedIssuers[0].algorithms',
    )
    refused(
      {
        file: {
          softwareStatement: {
            trustedIssuers: [
              { iss: 'x', jwks_uri: 'http://dir.example.com/jwks', algorithms: ['ES256'] },
            ],
          },
        },
      },
      'softwareStatement.trustedIssuers[0].jwks_uri',
    )
    assert.equal(
      resolveConfig({ file: { softwareStatement: { trustedIssuers: [issuer] } } }).softwareStatement
        .trustedIssuers.length,
      1,
    )
  })

  it('other sections', () => {
    refused({ file: { fetch: { allowedAddresses: ['10.0.0.0/33'] } } }, 'fetch.allowedAddresses[0]')
    refused({ file: { rateLimit: { windowSeconds: 0 } } }, 'rateLimit.windowSeconds')
    refused({ file: { rateLimit: { store: 'memcached://x' } } }, 'rateLimit.store')
    refused({ file: { log: { level: 'verbose' } } }, 'log.level')
    refused({ env: { REGISTRAR_LOG_LEVEL: 'loud' } }, 'log.level')
    refused({ file: { limits: { maxBodyBytes: -1 } } }, 'limits.maxBodyBytes')
    refused({ file: { policies: { anonymous: 'nope' } } }, 'policies.anonymous')
    refused({ file: { cors: { allowedOrigins: '*' } } }, 'cors.allowedOrigins')
  })
})

describe('secretKeyBytes', () => {
  it('accepts 32 bytes as base64url (43 characters) or hex (64 characters), nothing else', () => {
    assert.equal(secretKeyBytes(KEY)?.length, 32)
    assert.equal(secretKeyBytes('ab'.repeat(32))?.length, 32)
    assert.equal(secretKeyBytes('ab'.repeat(31)), undefined)
    assert.equal(secretKeyBytes(Buffer.alloc(16).toString('base64url')), undefined)
    assert.equal(secretKeyBytes(`${KEY}x`), undefined)
  })
})
