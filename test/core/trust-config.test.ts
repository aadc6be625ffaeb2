import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError, resolveConfig } from '../../src/config/resolve.js'

function refused(file: Record<string, unknown>, key: string) {
  assert.throws(
    () => resolveConfig({ file: { issuer: 'https://as.example.com', ...file } }),
    (err: unknown) => err instanceof ConfigError && err.key === key,
    `expected a refusal naming ${key}`,
  )
}

describe('trust configuration is refused with the key named', () => {
  it('trusted issuers', () => {
    refused(
      { softwareStatement: { trustedIssuers: [{ iss: 'x', algorithms: ['ES256'] }] } },
      'softwareStatement.trustedIssuers[0]',
    )
    refused(
      {
        softwareStatement: {
          trustedIssuers: [
            { iss: 'x', jwks: { keys: [] }, jwks_uri: 'https://x', algorithms: ['ES256'] },
          ],
        },
      },
      'softwareStatement.trustedIssuers[0]',
    )
    refused(
      {
        softwareStatement: {
          trustedIssuers: [{ iss: 'x', jwks: { keys: [] }, algorithms: ['none'] }],
        },
      },
      'softwareStatement.trustedIssuers[0].algorithms',
    )
    refused(
      {
        softwareStatement: {
          trustedIssuers: [{ iss: 'x', jwks_uri: 'http://x/jwks', algorithms: ['ES256'] }],
        },
      },
      'softwareStatement.trustedIssuers[0].jwks_uri',
    )
    refused(
      {
        softwareStatement: {
          trustedIssuers: [{ iss: 'x', jwks: { keys: [] }, algorithms: ['ES256'], policy: 'nope' }],
        },
      },
      'softwareStatement.trustedIssuers[0].policy',
    )
  })
  it('policies', () => {
    refused({ policies: { anonymous: 'missing', definitions: {} } }, 'policies.anonymous')
    refused(
      { policies: { definitions: { p: { maxClients: -1 } } } },
      'policies.definitions.p.maxClients',
    )
    refused(
      { policies: { definitions: { p: { scopePolicy: 'merge' } } } },
      'policies.definitions.p.scopePolicy',
    )
    refused(
      { policies: { definitions: { p: { redirectUriHosts: 'localhost' } } } },
      'policies.definitions.p.redirectUriHosts',
    )
  })
  it('rate limit and fetch', () => {
    refused({ rateLimit: { store: 'memcached://x' } }, 'rateLimit.store')
    refused({ rateLimit: { windowSeconds: 0 } }, 'rateLimit.windowSeconds')
    refused({ rateLimit: { trustedProxies: ['not-an-ip'] } }, 'rateLimit.trustedProxies[0]')
    refused({ fetch: { allowedAddresses: ['10.0.0.0/33'] } }, 'fetch.allowedAddresses[0]')
  })
  it('REGISTRAR_RATE_LIMIT_STORE overrides the file', () => {
    const c = resolveConfig({
      file: { issuer: 'https://as.example.com' },
      env: { REGISTRAR_RATE_LIMIT_STORE: 'redis://r:6379' },
    })
    assert.equal(c.rateLimit.store, 'redis://r:6379')
  })
})

describe('RDISC-X-a: discovery never advertises a grant registration must refuse', () => {
  it('implicit without a token or id_token response type is refused, naming the key', () => {
    refused({ metadata: { grant_types_supported: ['implicit'] } }, 'metadata.grant_types_supported')
    resolveConfig({
      file: {
        issuer: 'https://as.example.com',
        metadata: { grant_types_supported: ['implicit'], response_types_supported: ['id_token'] },
      },
    })
  })
  it('authorization_code without a code response type is refused', () => {
    refused(
      {
        metadata: {
          grant_types_supported: ['authorization_code'],
          response_types_supported: ['token'],
        },
      },
      'metadata.grant_types_supported',
    )
  })
})
