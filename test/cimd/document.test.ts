// Unit tests of src/core/client-id-metadata-document.ts: the pure parts (spec/cimd.md IDs).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  cacheLifetime,
  checkClientIdUrl,
  documentChanges,
  MetadataDocumentError,
} from '../../src/core/client-id-metadata-document.js'
import { metadata } from '../storage/store.contract.js'

const bounds = { minSeconds: 60, maxSeconds: 86_400, defaultSeconds: 600 }
const headers = (h: Record<string, string>) => new Headers(h)

describe('checkClientIdUrl (CIMD-3-*, CIMD-BP-01)', () => {
  it('CIMD-3-c, D-1: a path of / is accepted with a warning; a real path without', () => {
    assert.match(
      checkClientIdUrl('https://c.example/', { allowQuery: false }).warning ?? '',
      /NOT RECOMMENDED/,
    )
    assert.equal(checkClientIdUrl('https://c.example/x', { allowQuery: false }).warning, undefined)
  })

  it('CIMD-3-f, D-2: a query only with allowQuery; CIMD-3-g: a port is part of the identity', () => {
    assert.throws(() => checkClientIdUrl('https://c.example/x?a=1', { allowQuery: false }), /query/)
    assert.equal(
      checkClientIdUrl('https://c.example/x?a=1', { allowQuery: true }).url.search,
      '?a=1',
    )
    assert.equal(
      checkClientIdUrl('https://c.example:443/x', { allowQuery: false }).url.pathname,
      '/x',
    )
  })

  it('CIMD-BP-01: longer than 2 KiB is refused', () => {
    assert.throws(
      () => checkClientIdUrl(`https://c.example/${'a'.repeat(2100)}`, { allowQuery: false }),
      (err: unknown) =>
        err instanceof MetadataDocumentError && err.refusal === 'invalid_client_id_url',
    )
  })
})

describe('cacheLifetime (CIMD-5.2-b, §11 D-8)', () => {
  it('max-age within bounds, clamped below and above', () => {
    assert.equal(cacheLifetime(headers({ 'cache-control': 'public, max-age=3600' }), bounds), 3600)
    assert.equal(cacheLifetime(headers({ 'cache-control': 'max-age=0' }), bounds), 60)
    assert.equal(cacheLifetime(headers({ 'cache-control': 'max-age=9999999' }), bounds), 86_400)
  })

  it('no-store, no-cache and private give the minimum; nothing gives the default', () => {
    for (const cc of ['no-store', 'no-cache', 'private, max-age=3600']) {
      assert.equal(cacheLifetime(headers({ 'cache-control': cc }), bounds), 60, cc)
    }
    assert.equal(cacheLifetime(headers({}), bounds), 600)
  })

  it('Expires against Date; an invalid Expires is already expired', () => {
    const date = 'Tue, 01 Dec 2026 00:00:00 GMT'
    assert.equal(
      cacheLifetime(headers({ date, expires: 'Tue, 01 Dec 2026 02:00:00 GMT' }), bounds),
      7200,
    )
    assert.equal(cacheLifetime(headers({ date, expires: '0' }), bounds), 60)
  })
})

describe('documentChanges (CIMD-BP-22)', () => {
  it('classifies redirect, authentication, key, display and other changes', () => {
    const before = metadata({ redirect_uris: ['https://a.example/cb'], client_name: 'A' })
    assert.deepEqual(documentChanges(before, before), [])
    assert.deepEqual(
      documentChanges(before, {
        ...before,
        redirect_uris: ['https://a.example/cb', 'https://b.example/cb'],
      }),
      ['redirect_uris'],
    )
    assert.deepEqual(documentChanges(before, { ...before, client_name: 'B' }), ['display'])
    assert.deepEqual(
      documentChanges(before, {
        ...before,
        token_endpoint_auth_method: 'private_key_jwt',
        jwks_uri: 'https://a.example/jwks',
      }),
      ['authentication', 'keys'],
    )
    assert.deepEqual(documentChanges(before, { ...before, scope: 'read' }), ['other'])
  })
})
