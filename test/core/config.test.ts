import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { loadConfig } from '../../src/cli/common.js'
import {
  ConfigError,
  DEFAULTS,
  resolveConfig,
  resolveSettings,
  SOURCES,
  withIssuer,
} from '../../src/config/resolve.js'
import { secretKeyBytes } from '../../src/config/schema.js'
import { tempDir } from '../helpers.js'

const KEY = Buffer.alloc(32, 1).toString('base64url')

/** Asserts resolveSettings refuses the sources with a ConfigError naming `key`. */
function refused(sources: Parameters<typeof resolveSettings>[0], key: string): void {
  assert.throws(
    () => resolveSettings(sources),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e))
      assert.equal(e.key, key)
      assert.ok(e.message.includes(key), e.message)
      return true
    },
  )
}

describe('resolveConfig: precedence flags > env > file > defaults', () => {
  it('defaults apply when nothing is given', () => {
    const c = resolveSettings()
    assert.equal(c.port, 3000)
    assert.equal(c.host, '127.0.0.1')
    assert.equal(c.store, 'sqlite:./data/registrar.db')
    assert.equal(c.registration.mode, 'token')
    assert.equal(c.issuer, undefined)
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
    const fromFile = resolveSettings({ file })
    assert.deepEqual(
      [fromFile.port, fromFile.host, fromFile.issuer, fromFile.store, fromFile.registration.mode],
      [4000, '127.0.0.2', 'https://file.example.com', 'sqlite:/tmp/file.db', 'open'],
    )
    const fromEnv = resolveSettings({ file, env })
    assert.deepEqual(
      [fromEnv.port, fromEnv.host, fromEnv.issuer, fromEnv.store, fromEnv.registration.mode],
      [5000, '127.0.0.3', 'https://env.example.com', 'memory', 'token'],
    )
    const fromFlags = resolveSettings({ file, env, flags })
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
    const c = resolveSettings({ file: { registration: { allowedPrivateUseSchemes: ['vscode'] } } })
    assert.deepEqual(c.registration.allowedPrivateUseSchemes, ['vscode'])
    assert.equal(c.registration.mode, 'token')
    assert.equal(c.registration.scopePolicy, 'intersect')
  })

  it('empty environment variables count as unset', () => {
    const c = resolveSettings({
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
    const c = resolveSettings({
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
    const c = resolveSettings({ file: { registration: { allowedPrivateUseSchemes: ['cursor'] } } })
    assert.ok(Object.isFrozen(c))
    assert.ok(Object.isFrozen(c.registration))
    assert.throws(() => {
      ;(c.registration as { mode: string }).mode = 'open'
    }, TypeError)
    assert.deepEqual(DEFAULTS.registration.allowedPrivateUseSchemes, [])
  })

  it('the issuer loses its trailing slash', () => {
    assert.equal(
      resolveSettings({ file: { issuer: 'https://as.example.com/' } }).issuer,
      'https://as.example.com',
    )
    assert.equal(
      resolveSettings({ file: { issuer: 'https://as.example.com/t1/' } }).issuer,
      'https://as.example.com/t1',
    )
  })

  it('private-use schemes are lower-cased and lose a trailing colon', () => {
    const c = resolveSettings({
      file: { registration: { allowedPrivateUseSchemes: ['VSCode:', 'cursor'] } },
    })
    assert.deepEqual(c.registration.allowedPrivateUseSchemes, ['vscode', 'cursor'])
  })
})

describe('resolveConfig: an invalid config is refused, naming the key', () => {
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
      assert.equal(resolveSettings({ file: { issuer: ok } }).issuer, ok)
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
    const c = resolveSettings({ file: { registration: { extensionFields: ['x_tenant'] } } })
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

  it('RFC 7523 §2.2: client_secret_jwt and symmetric algorithms need registration.secretEncryptionKey', () => {
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
    const ok = resolveSettings({
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
      resolveSettings({ file: { softwareStatement: { trustedIssuers: [issuer] } } })
        .softwareStatement.trustedIssuers.length,
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

describe('issue 12 item 16: unknown keys are refused at every depth', () => {
  // Before the schema, a policy definition and a trusted issuer were copied as given: a typo in a
  // rule's name left the rule unset, and the restriction silently gone.
  const mcp = { redirectUriSchemes: ['http', 'vscode'], maxClients: 10 }

  it('a misspelt rule in policies.definitions.* is refused, not dropped with its restriction', () => {
    const good = resolveSettings({ file: { policies: { definitions: { mcp } } } })
    assert.deepEqual(good.policies.definitions.mcp?.redirectUriSchemes, ['http', 'vscode'])
    refused(
      {
        file: {
          policies: {
            definitions: { mcp: { redirectUriScheme: ['http', 'vscode'], maxClients: 10 } },
          },
        },
      },
      'policies.definitions.mcp.redirectUriScheme',
    )
    refused(
      { file: { policies: { definitions: { mcp: { ...mcp, requireAproval: true } } } } },
      'policies.definitions.mcp.requireAproval',
    )
  })

  it('a misspelt member of softwareStatement.trustedIssuers[] is refused', () => {
    const issuer = { iss: 'https://dir.example.com', jwks: { keys: [] }, algorithms: ['ES256'] }
    const good = resolveSettings({
      file: { softwareStatement: { trustedIssuers: [{ ...issuer, softwareIds: ['app-1'] }] } },
    })
    assert.deepEqual(good.softwareStatement.trustedIssuers[0]?.softwareIds, ['app-1'])
    refused(
      {
        file: {
          softwareStatement: { trustedIssuers: [issuer, { ...issuer, softwareId: ['app-1'] }] },
        },
      },
      'softwareStatement.trustedIssuers[1].softwareId',
    )
    refused(
      { file: { softwareStatement: { trustedIssuers: [{ ...issuer, max_age: 300 }] } } },
      'softwareStatement.trustedIssuers[0].max_age',
    )
  })

  it('names that reach a prototype are refused in open maps too', () => {
    refused(
      { file: JSON.parse('{"policies": {"definitions": {"__proto__": {"maxClients": 1}}}}') },
      'policies.definitions.__proto__',
    )
    refused({ file: JSON.parse('{"metadata": {"__proto__": {"x": 1}}}') }, 'metadata.__proto__')
  })

  it('"$schema" is allowed at the top of a file only (editor completion)', () => {
    const c = resolveSettings({ file: { $schema: './node_modules/registrar/config.schema.json' } })
    assert.equal('$schema' in c, false)
    refused({ file: { registration: { $schema: 'x' } } }, 'registration.$schema')
  })

  it('metadata stays an open map: any discovery member is kept', () => {
    const c = resolveSettings({
      file: { metadata: { service_documentation: 'https://d.example' } },
    })
    assert.equal(c.metadata.service_documentation, 'https://d.example')
  })
})

describe('issue 12 item 16: fetch.caFile, documented and used, is accepted (it was refused)', () => {
  it('resolves, and an empty path is refused naming the key', () => {
    const c = resolveConfig({
      file: { issuer: 'https://as.example.com', fetch: { caFile: '/etc/registrar/ca.pem' } },
    })
    assert.equal(c.fetch.caFile, '/etc/registrar/ca.pem')
    refused({ file: { fetch: { caFile: '' } } }, 'fetch.caFile')
    refused({ file: { fetch: { caFile: 7 } } }, 'fetch.caFile')
  })
})

describe('issue 12 item 16: the issuer is required to run, optional to resolve', () => {
  it('resolveConfig refuses a configuration without an issuer, naming it', () => {
    assert.throws(
      () => resolveConfig({ file: { port: 4000 } }),
      (e: unknown) => e instanceof ConfigError && e.key === 'issuer',
    )
  })

  it('withIssuer completes settings with a checked issuer, frozen', () => {
    const settings = resolveSettings({ file: { port: 4000 } })
    const config = withIssuer(settings, 'http://127.0.0.1:4000/')
    assert.equal(config.issuer, 'http://127.0.0.1:4000')
    assert.equal(config.port, 4000)
    assert.ok(Object.isFrozen(config))
    assert.equal(settings.issuer, undefined, 'the settings are left as they were')
    assert.throws(
      () => withIssuer(settings, 'http://0.0.0.0:4000'),
      (e: unknown) => e instanceof ConfigError && e.key === 'issuer',
    )
  })

  it('DEFAULTS are deep-frozen and have no issuer', () => {
    assert.equal(DEFAULTS.issuer, undefined)
    assert.ok(Object.isFrozen(DEFAULTS.registration.allowedPrivateUseSchemes))
    assert.ok(Object.isFrozen(DEFAULTS.policies.definitions))
  })

  it('the resolved configuration is deep-frozen, down to policy definitions and issuers', () => {
    const c = resolveSettings({
      file: {
        policies: { definitions: { p: { scopes: ['a'] } } },
        softwareStatement: {
          trustedIssuers: [{ iss: 'x', jwks: { keys: [] }, algorithms: ['ES256'] }],
        },
      },
    })
    assert.ok(Object.isFrozen(c.policies.definitions.p?.scopes))
    assert.ok(Object.isFrozen(c.softwareStatement.trustedIssuers[0]?.algorithms))
  })
})

describe('issue 12 item 16: one table maps the environment and the flags', () => {
  it('every REGISTRAR_* variable and flag of the table sets its key, flags above the env', () => {
    // a valid value per key, as text (env and flags are text)
    const samples: Record<string, [string, string]> = {
      issuer: ['https://env.example.com', 'https://flag.example.com'],
      port: ['4001', '4002'],
      host: ['127.0.0.5', '127.0.0.6'],
      store: ['memory', 'sqlite:/tmp/flag.db'],
      'registration.mode': ['open', 'token'],
      'registration.secretEncryptionKey': [KEY, KEY],
      'rateLimit.store': ['redis://env:6379', 'redis://flag:6379'],
      'log.level': ['debug', 'trace'],
      'admin.secretKey': [KEY, KEY],
    }
    assert.deepEqual(
      SOURCES.map((s) => s.key).sort(),
      Object.keys(samples).sort(),
      'a new env/flag key needs a sample here',
    )
    for (const source of SOURCES) {
      const [fromEnv, fromFlag] = samples[source.key] as [string, string]
      const read = (c: object) =>
        source.key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], c)
      const env = source.env ? { [source.env]: fromEnv } : {}
      if (source.env) {
        const expected = source.key === 'port' ? Number(fromEnv) : fromEnv
        assert.equal(read(resolveSettings({ env })), expected, source.env)
      }
      if (source.flag) {
        const expected = source.key === 'port' ? Number(fromFlag) : fromFlag
        const flags = { [source.flag.name]: fromFlag }
        assert.equal(read(resolveSettings({ env, flags })), expected, `--${source.flag.name}`)
      }
    }
  })

  it('a bad value from the environment is refused naming the key it sets', () => {
    refused({ env: { REGISTRAR_RATE_LIMIT_STORE: 'memcached://x' } }, 'rateLimit.store')
    refused({ flags: { 'rate-limit-store': 'x' } }, 'rateLimit.store')
    refused({ env: { REGISTRAR_HOST: '' }, flags: { port: 'x' } }, 'port')
  })

  it("the caller's file object is not modified by the layers above it", () => {
    const file = { registration: { mode: 'open' as const } }
    resolveSettings({ file, flags: { registration: 'token' } })
    assert.deepEqual(file, { registration: { mode: 'open' } })
  })
})
