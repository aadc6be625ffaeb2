import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createRequestRouter } from '../../src/http/router.js'
import { makeRegistrar } from '../helpers.js'

describe('createRequestRouter() paths, for adapters that share a server with other routes', () => {
  const { registrar } = makeRegistrar({ issuer: 'https://as.example.com/oauth' })
  const router = createRequestRouter(registrar)

  it('lists the paths it serves, from the issuer path (RFC 8414 §3.1 insertion included)', () => {
    assert.deepEqual(router.paths, [
      '/oauth/register',
      '/oauth/register/*',
      '/.well-known/oauth-authorization-server/oauth',
      '/.well-known/openid-configuration/oauth',
      '/oauth/.well-known/openid-configuration',
      '/oauth/.well-known/oauth-authorization-server',
      '/healthz',
      '/oauth/healthz',
    ])
    assert.ok(Object.isFrozen(router.paths))
  })

  it('matches() is true exactly for those paths, whatever the method', () => {
    for (const path of [
      '/oauth/register',
      '/oauth/register/abc',
      '/oauth/register/a%2Fb',
      '/.well-known/oauth-authorization-server/oauth',
      '/oauth/.well-known/openid-configuration',
      '/healthz',
    ]) {
      assert.equal(router.matches(path), true, path)
    }
    for (const path of [
      '/',
      '/oauth',
      '/oauth/',
      '/oauth/registerx',
      '/register',
      '/.well-known/oauth-authorization-server',
      '/oauth/authorize',
    ]) {
      assert.equal(router.matches(path), false, path)
    }
  })
})
