import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { type ServerProcess, startServer } from '../helpers.js'
import { serviceSuite } from '../service-suite.js'
import { HOW_TO_RUN, POSTGRES_REQUIRED } from '../storage/postgres-helper.js'
import { PrivateCluster } from './private-cluster.js'
import { type Answer, registrationRequest, request } from './support.js'

const tools = PrivateCluster.tools()
const skip =
  'missing' in tools && !POSTGRES_REQUIRED
    ? `PostgreSQL outage test: ${tools.missing}; it needs the PostgreSQL server binaries (initdb, pg_ctl) to run a private cluster it can stop. ${HOW_TO_RUN}`
    : false

/** How long a request may take while the database is down: "quickly", not a hang. */
const QUICK_MS = 2000

function assertUnavailable(r: Answer, what: string): void {
  assert.equal(r.status, 503, `${what}: ${JSON.stringify(r.body)}`)
  assert.ok(r.ms < QUICK_MS, `${what} took ${Math.round(r.ms)} ms`)
}

serviceSuite('PostgreSQL outage (a private cluster, stopped and started)', skip, () => {
  let cluster: PrivateCluster
  let server: ServerProcess

  before(async () => {
    if ('missing' in tools) throw new Error(`REQUIRE_POSTGRES=1 but ${tools.missing}`)
    cluster = await PrivateCluster.create()
    server = await startServer(['--store', cluster.url, '--registration', 'open'], {
      config: { postgres: { poolSize: 4, connectTimeoutMs: 1000, statementTimeoutMs: 1000 } },
    })
  })
  after(async () => {
    await server?.stop()
    await cluster?.destroy()
  })

  // fast: a planned shutdown (sessions are told); immediate: a crash (connections just drop)
  for (const mode of ['fast', 'immediate'] as const) {
    it(`stopped (${mode}): 503 JSON at once, /healthz says so; started: recovers without a restart`, () =>
      outage(mode))
  }

  async function outage(mode: 'fast' | 'immediate'): Promise<void> {
    const first = await request(server.url, 'POST', '/register', { body: registrationRequest(1) })
    assert.equal(first.status, 201, JSON.stringify(first.body))
    const { client_id, registration_access_token: rat } = first.body
    assert.equal((await request(server.url, 'GET', '/healthz')).status, 200)

    await cluster.stop(mode)

    // several at once too: none may queue behind another and hang
    const during = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        request(server.url, 'POST', '/register', { body: registrationRequest(10 + i) }),
      ),
    )
    for (const r of during) {
      assertUnavailable(r, 'POST /register')
      assert.deepEqual(r.body, {
        error: 'temporarily_unavailable',
        error_description: 'the client store is unavailable',
      })
    }
    const read = await request(server.url, 'GET', `/register/${client_id}`, { token: rat })
    assertUnavailable(read, 'GET /register/{id}')
    assert.equal(read.body.error, 'temporarily_unavailable')
    const health = await request(server.url, 'GET', '/healthz')
    assertUnavailable(health, 'GET /healthz')
    assert.equal(health.body.status, 'unavailable')
    // still the same process, alive
    assert.equal(server.proc.exitCode, null)
    assert.equal(server.proc.signalCode, null)

    await cluster.start()

    const back = await request(server.url, 'POST', '/register', { body: registrationRequest(2) })
    assert.equal(back.status, 201, `${JSON.stringify(back.body)}\n${server.stderr()}`)
    assert.equal((await request(server.url, 'GET', '/healthz')).status, 200)
    const again = await request(server.url, 'GET', `/register/${client_id}`, { token: rat })
    assert.equal(again.status, 200)
    assert.equal(again.body.client_name, registrationRequest(1).client_name)
    assert.doesNotMatch(server.stderr(), /uncaught|unhandled/i)
  }
})
