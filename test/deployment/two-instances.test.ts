import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { openStore } from '../../src/storage/open-store.js'
import { runCli, type ServerProcess, startServer } from '../helpers.js'
import { serviceSuite } from '../service-suite.js'
import {
  createTestDatabase,
  postgresTarget,
  type TestDatabase,
} from '../storage/postgres-helper.js'
import { registrationRequest, request } from './support.js'

const target = await postgresTarget()

// Instances behind one load balancer share the issuer; each is reached here on its own port.
const ISSUER = 'http://localhost:8080'

async function createToken(store: string, maxUses: number): Promise<{ token: string; id: string }> {
  const out = await runCli(['token', 'create', '--max-uses', String(maxUses), '--store', store])
  assert.equal(out.code, 0, out.stderr)
  const id = /created initial access token (\S+)/.exec(out.stderr)?.[1]
  assert.ok(id, out.stderr)
  return { token: out.stdout.trim().split('\n').at(-1) as string, id }
}

serviceSuite('two instances, one PostgreSQL database', target.skip, () => {
  let db: TestDatabase
  let a: ServerProcess
  let b: ServerProcess

  before(async () => {
    target.assertAvailable()
    db = await createTestDatabase(target.url as string)
    // started together on an empty database: both run the migrations, the advisory lock orders them
    const args = ['--store', db.url, '--registration', 'token', '--issuer', ISSUER]
    ;[a, b] = await Promise.all([startServer(args), startServer(args)])
  })
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()])
    await db?.drop()
  })

  it('a client registered through A is read, updated and deleted through B', async () => {
    const { token } = await createToken(db.url, 1)
    const created = await request(a.url, 'POST', '/register', {
      body: registrationRequest(1),
      token,
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const { client_id, registration_access_token: rat } = created.body
    assert.equal(created.body.registration_client_uri, `${ISSUER}/register/${client_id}`)
    const path = `/register/${client_id}`

    const read = await request(b.url, 'GET', path, { token: rat })
    assert.equal(read.status, 200)
    // reads return no secret (it is stored hashed), so nothing about it either
    const { client_secret: _s, client_secret_expires_at: _e, ...expected } = created.body
    assert.deepEqual(read.body, expected)

    const update = {
      client_id,
      redirect_uris: ['https://renamed.example.org/callback'],
      client_name: 'renamed through B',
    }
    const updated = await request(b.url, 'PUT', path, { body: update, token: rat })
    assert.equal(updated.status, 200, JSON.stringify(updated.body))
    assert.equal(updated.body.client_name, 'renamed through B')

    const readByA = await request(a.url, 'GET', path, { token: rat })
    assert.equal(readByA.status, 200)
    assert.equal(readByA.body.client_name, 'renamed through B')
    assert.deepEqual(readByA.body.redirect_uris, update.redirect_uris)
    assert.equal(readByA.body['client_name#ja-Jpan-JP'], undefined) // the update replaced it all

    const deleted = await request(b.url, 'DELETE', path, { token: rat })
    assert.equal(deleted.status, 204)
    assert.equal((await request(a.url, 'GET', path, { token: rat })).status, 401)
    assert.equal((await request(b.url, 'GET', path, { token: rat })).status, 401)
  })

  it('an initial access token with --max-uses 5, 50 concurrent registrations over both: exactly 5 clients', async () => {
    const { token, id } = await createToken(db.url, 5)
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        request(i % 2 === 0 ? a.url : b.url, 'POST', '/register', {
          body: registrationRequest(100 + i),
          token,
        }),
      ),
    )
    const statuses = answers.map((r) => r.status)
    assert.equal(statuses.filter((s) => s === 201).length, 5, statuses.join(' '))
    assert.equal(statuses.filter((s) => s === 401).length, 45, statuses.join(' '))
    for (const r of answers.filter((r) => r.status === 401)) {
      assert.equal(r.body.error, 'invalid_token')
    }

    const store = await openStore(db.url)
    try {
      const tokenRecord = (await store.listInitialAccessTokens()).find((t) => t.id === id)
      assert.equal(tokenRecord?.uses, 5)
      const registered = (await store.listClients()).filter((c) => c.initialAccessTokenId === id)
      assert.deepEqual(
        registered.map((c) => c.client_id).sort(),
        answers
          .filter((r) => r.status === 201)
          .map((r) => r.body.client_id)
          .sort(),
      )
    } finally {
      await store.close()
    }
  })
})
