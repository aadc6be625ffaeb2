import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { describe, it } from 'node:test'
import { composeRegistrar } from '../../src/app.js'
import { resolveConfig } from '../../src/config/resolve.js'
import { type OutboundFetch, OutboundFetchError } from '../../src/core/outbound-fetch.js'
import { MemoryStore } from '../../src/storage/memory.js'
import { call, ISSUER, runCli, startServer, tempDir } from '../helpers.js'

// Issue 13 item 3: GET /metrics in the Prometheus text format, off unless metrics.enabled.

async function metricsApp(file: Record<string, unknown> = {}, outboundFetch?: OutboundFetch) {
  const config = resolveConfig({
    file: {
      issuer: ISSUER,
      ...file,
      registration: { mode: 'open', ...(file.registration as object | undefined) },
      metrics: { enabled: true, ...(file.metrics as object | undefined) },
    },
  })
  const runtime = composeRegistrar(config, new MemoryStore(), {
    ...(outboundFetch && { fetch: outboundFetch }),
  })
  const scrape = async () => {
    const res = await call(runtime.fetch, 'GET', '/metrics')
    assert.equal(res.status, 200)
    return res.text
  }
  return { runtime, scrape, fetch: runtime.fetch }
}

/** The value of one sample, by its exact name and labels as exposed. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1))
  }
  return undefined
}

const web = { redirect_uris: ['https://app.example/cb'] }

describe('metrics', () => {
  it('GET /metrics: Prometheus text format 0.0.4, not cached; other methods 405', async () => {
    const { fetch } = await metricsApp()
    const res = await call(fetch, 'GET', '/metrics')
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
    assert.equal(res.headers.get('cache-control'), 'no-store')
    assert.match(res.text, /^# HELP registrar_registrations_total /m)
    assert.match(res.text, /^# TYPE registrar_store_operation_duration_seconds histogram$/m)
    assert.match(res.text, /^process_cpu_user_seconds_total /m)
    const post = await call(fetch, 'POST', '/metrics')
    assert.equal(post.status, 405)
    assert.equal(post.headers.get('allow'), 'GET, HEAD')
  })

  it('registrations by outcome and error code; RFC 7592 requests; clients by status and source', async () => {
    const { fetch, scrape } = await metricsApp()
    const a = await call(fetch, 'POST', '/register', { body: web })
    await call(fetch, 'POST', '/register', { body: web })
    await call(fetch, 'POST', '/register', { body: { redirect_uris: ['http://x.example/cb'] } })
    await call(fetch, 'POST', '/register', { raw: '{' })
    await call(fetch, 'GET', `/register/${a.body.client_id}`, {
      token: a.body.registration_access_token,
    })
    await call(fetch, 'GET', `/register/${a.body.client_id}`, { token: 'wrong' })
    const text = await scrape()
    assert.equal(sample(text, 'registrar_registrations_total{outcome="created",error=""}'), 2)
    assert.equal(
      sample(text, 'registrar_registrations_total{outcome="refused",error="invalid_redirect_uri"}'),
      1,
    )
    assert.equal(
      sample(
        text,
        'registrar_client_management_requests_total{operation="read",outcome="ok",error=""}',
      ),
      1,
    )
    assert.equal(
      sample(
        text,
        'registrar_client_management_requests_total{operation="read",outcome="refused",error="invalid_token"}',
      ),
      1,
    )
    assert.equal(sample(text, 'registrar_clients{status="active",source="anonymous"}'), 2)
    // labels come from small fixed sets: never a client_id
    assert.ok(!text.includes(a.body.client_id))
  })

  it('policy decisions by policy, rule and decision', async () => {
    const { fetch, scrape } = await metricsApp({
      policies: {
        anonymous: 'public',
        definitions: {
          public: { redirectUriHosts: ['app.example'], scopes: ['openid'], maxClients: 1 },
        },
      },
    })
    await call(fetch, 'POST', '/register', { body: { ...web, scope: 'openid email' } })
    await call(fetch, 'POST', '/register', { body: { redirect_uris: ['https://evil.example/cb'] } })
    await call(fetch, 'POST', '/register', { body: web })
    const text = await scrape()
    const d = (rule: string, decision: string) =>
      sample(
        text,
        `registrar_policy_decisions_total{policy="public",rule="${rule}",decision="${decision}"}`,
      )
    assert.equal(d('scopes', 'adjusted'), 1)
    assert.equal(d('', 'accepted'), 1)
    assert.equal(d('redirectUriHosts', 'refused'), 1)
    assert.equal(d('maxClients', 'refused'), 1)
  })

  it('rate-limit refusals', async () => {
    const { runtime, scrape } = await metricsApp({ rateLimit: { anonymousRegistrations: 1 } })
    const register = () =>
      runtime.handle(
        new Request(`${ISSUER}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(web),
        }),
        { ip: '192.0.2.1' },
      )
    assert.equal((await register()).status, 201)
    assert.equal((await register()).status, 429)
    assert.equal((await register()).status, 429)
    assert.equal(
      sample(await scrape(), 'registrar_rate_limited_total{limit="anonymous_registration"}'),
      2,
    )
    await runtime.close()
  })

  it('client authentications by method and outcome, from the AS side events (by name)', async () => {
    const { runtime, scrape } = await metricsApp()
    const as = new EventEmitter()
    runtime.operations.observeClientAuthentication(as)
    as.emit('client.authenticated', { client_id: 'c', method: 'client_secret_basic' })
    as.emit('client.authenticated', { client_id: 'c', method: 'client_secret_basic' })
    as.emit('client.authentication_failed', { method: 'private_key_jwt', reason: 'jti_replayed' })
    as.emit('client.authentication_failed', { method: 'Weird Method!', reason: 42 })
    const text = await scrape()
    assert.equal(
      sample(
        text,
        'registrar_client_authentications_total{method="client_secret_basic",outcome="success",reason=""}',
      ),
      2,
    )
    assert.equal(
      sample(
        text,
        'registrar_client_authentications_total{method="private_key_jwt",outcome="failure",reason="jti_replayed"}',
      ),
      1,
    )
    assert.equal(
      sample(
        text,
        'registrar_client_authentications_total{method="unknown",outcome="failure",reason="unknown"}',
      ),
      1,
    )
  })

  it('AS-BP-06: audit entries of unauthenticated traffic past the per-window budget (100) are counted as dropped', async () => {
    const { runtime, scrape } = await metricsApp({ audit: { enabled: true } })
    const as = new EventEmitter()
    runtime.operations.observeClientAuthentication(as)
    for (let i = 0; i < 105; i++) {
      as.emit('client.authentication_limit_reached', {
        scope: 'client',
        client_id: `c-${i}`,
        address: `192.0.2.${i}`,
        max: 20,
        window_seconds: 60,
      })
    }
    const text = await scrape()
    assert.equal(
      sample(text, 'registrar_audit_entries_dropped_total{event="authentication_limit_reached"}'),
      5,
    )
  })

  it('outbound fetches by outcome', async () => {
    let fail = false
    const fake: OutboundFetch = async () => {
      if (fail) throw new OutboundFetchError('did not answer within 3000 ms')
      return new Response(JSON.stringify(['https://app.example/cb']), { status: 200 })
    }
    const { fetch, scrape } = await metricsApp({}, fake)
    const body = { ...web, sector_identifier_uri: 'https://app.example/sector.json' }
    assert.equal((await call(fetch, 'POST', '/register', { body })).status, 201)
    fail = true
    assert.equal((await call(fetch, 'POST', '/register', { body })).status, 400)
    const text = await scrape()
    assert.equal(sample(text, 'registrar_outbound_fetches_total{outcome="response_2xx"}'), 1)
    assert.equal(sample(text, 'registrar_outbound_fetches_total{outcome="timeout"}'), 1)
  })

  it('store latency by operation and outcome', async () => {
    const { fetch, scrape } = await metricsApp()
    await call(fetch, 'POST', '/register', { body: web })
    await call(fetch, 'GET', '/healthz')
    const text = await scrape()
    assert.equal(
      sample(
        text,
        'registrar_store_operation_duration_seconds_count{operation="createClient",outcome="ok"}',
      ),
      1,
    )
    assert.equal(
      sample(
        text,
        'registrar_store_operation_duration_seconds_count{operation="ping",outcome="ok"}',
      ),
      1,
    )
    assert.ok(
      (sample(
        text,
        'registrar_store_operation_duration_seconds_bucket{le="5",operation="createClient",outcome="ok"}',
      ) ?? 0) >= 1,
    )
  })

  it('the gauge of clients survives a store that is down (no gauge that scrape)', async () => {
    const config = resolveConfig({
      file: { issuer: ISSUER, registration: { mode: 'open' }, metrics: { enabled: true } },
    })
    const store = new MemoryStore()
    const runtime = composeRegistrar(config, store)
    await store.close()
    const res = await call(runtime.fetch, 'GET', '/metrics')
    assert.equal(res.status, 200)
    assert.doesNotMatch(res.text, /^registrar_clients\{/m)
  })

  it('under an issuer path, /metrics follows it', async () => {
    const { fetch } = await metricsApp({ issuer: `${ISSUER}/tenant` })
    assert.equal((await call(fetch, 'GET', '/tenant/metrics')).status, 200)
    assert.equal((await call(fetch, 'GET', '/metrics')).status, 404)
  })
})

describe('registrar serve: metrics.listen and admin.listen', () => {
  it('serves /metrics and the admin surface on listeners of their own, off the public one', async () => {
    const t = tempDir('registrar-listen-')
    const store = `sqlite:${t.dir}/r.db`
    const created = await runCli(['admin-token', 'create', '--store', store, '--create'])
    const token = created.stdout.trim().split('\n').at(-1) as string
    const server = await startServer(['--store', store, '--registration', 'open'], {
      config: {
        metrics: { enabled: true, listen: '127.0.0.1:0' },
        admin: { enabled: true, listen: '127.0.0.1:0' },
      },
    })
    try {
      const metricsUrl = /^metrics on (http:\/\/\S+)$/m.exec(server.stdout())?.[1]
      const adminUrl = /^admin on (http:\/\/\S+)$/m.exec(server.stdout())?.[1]
      assert.ok(metricsUrl && adminUrl, server.stdout())
      const scraped = await fetch(metricsUrl)
      assert.equal(scraped.status, 200)
      assert.match(await scraped.text(), /registrar_registrations_total/)
      const api = await fetch(`${adminUrl}/api/clients`, {
        headers: { authorization: `Bearer ${token}` },
      })
      assert.equal(api.status, 200)
      await api.text()
      // the public listener serves neither
      for (const path of ['/metrics', '/admin/api/clients', '/admin/sign-in']) {
        const res = await fetch(`${server.url}${path}`, {
          headers: { authorization: `Bearer ${token}` },
        })
        assert.equal(res.status, 404, path)
        await res.text()
      }
      // and the metrics listener serves nothing else
      const other = await fetch(new URL('/register', metricsUrl), { method: 'POST' })
      assert.equal(other.status, 404)
      await other.text()
    } finally {
      assert.equal(await server.stop(), 0)
      t.cleanup()
    }
  })
})
