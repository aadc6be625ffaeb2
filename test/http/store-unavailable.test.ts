import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { composeRegistrar } from '../../src/app.js'
import { resolveConfig } from '../../src/config/resolve.js'
import { MemoryStore } from '../../src/storage/memory.js'
import { storeUnavailable } from '../../src/storage/unavailable.js'

describe('a store that cannot answer', () => {
  it('gives 503 temporarily_unavailable with Retry-After, and the cause goes to the log only', async () => {
    const store = new MemoryStore()
    store.createClient = async () => {
      throw storeUnavailable(
        Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' }),
      )
    }
    const warnings: Record<string, unknown>[] = []
    const logger = {
      info() {},
      error() {},
      warn: (o: object) => warnings.push(o as Record<string, unknown>),
    }
    const config = resolveConfig({
      file: { issuer: 'https://as.example.com', registration: { mode: 'open' } },
    })
    const { fetch } = composeRegistrar(config, store, { logger })
    const res = await fetch(
      new Request('https://as.example.com/register', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: ['https://a.example/cb'] }),
      }),
    )
    assert.equal(res.status, 503)
    assert.equal(res.headers.get('retry-after'), '2')
    const text = await res.text()
    assert.deepEqual(JSON.parse(text), {
      error: 'temporarily_unavailable',
      error_description: 'the client store is unavailable',
    })
    assert.doesNotMatch(text, /10\.0\.0\.5|ECONNREFUSED/)
    assert.equal(warnings.length, 1)
    assert.match(String(warnings[0]?.cause), /ECONNREFUSED: connect ECONNREFUSED 10.0.0.5:5432/)
  })
})
