import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { childEnv, tempDir } from '../helpers.js'
import {
  createTestDatabase,
  postgresTarget,
  type TestDatabase,
} from '../storage/postgres-helper.js'
import { assertion, JWT_BEARER, keyPair } from './assertions.js'
import { basic } from './support.js'

const target = await postgresTarget()
const FIXTURE = new URL('./fixtures/token-server.ts', import.meta.url).pathname
// instances behind one load balancer share the issuer; each is reached here on its own port
const ISSUER = 'http://localhost:8080'

interface Instance {
  url: string
  proc: ChildProcess
  stop(): Promise<void>
}

/** Starts the token-server fixture (createRegistrar + POST /token) as its own process. */
async function startInstance(store: string, configFile: string): Promise<Instance> {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', FIXTURE, '--store', store, '--config', configFile],
    {
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let out = ''
  let err = ''
  proc.stderr?.on('data', (d) => {
    err += d
  })
  const exited = new Promise<void>((resolve) => proc.once('close', () => resolve()))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line:\n${out}\n${err}`)), 20_000)
    proc.stdout?.on('data', (d) => {
      out += d
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m?.[1]) {
        clearTimeout(timer)
        resolve(m[1])
      }
    })
    exited.then(() => reject(new Error(`exited:\n${out}\n${err}`)))
  })
  return {
    url,
    proc,
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM')
      await exited
    },
  }
}

async function token(
  base: string,
  params: Record<string, string>,
  authorization?: string,
): Promise<{ status: number; body: { error?: string; client_id?: string } }> {
  const res = await fetch(`${base}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(authorization && { authorization }),
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...params }),
  })
  return { status: res.status, body: (await res.json()) as { error?: string; client_id?: string } }
}

describe('AS side, two instances on one PostgreSQL database (issue 10 proofs)', {
  skip: target.skip,
}, () => {
  let db: TestDatabase
  let a: Instance
  let b: Instance
  const t = tempDir('registrar-as-two-')

  before(async () => {
    target.assertAvailable()
    db = await createTestDatabase(target.url as string)
    const configFile = join(t.dir, 'config.json')
    writeFileSync(
      configFile,
      JSON.stringify({
        issuer: ISSUER,
        registration: { mode: 'open' },
        // a long TTL: only the change notification can make B drop its copy in time
        clientAuthentication: { clientCacheTtlMs: 600_000 },
      }),
    )
    ;[a, b] = await Promise.all([
      startInstance(db.url, configFile),
      startInstance(db.url, configFile),
    ])
  })
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()])
    await db?.drop()
    t.cleanup()
  })

  it('AS-7592-2.3-a: a client deleted through A is refused by B within one second (B had it cached)', async () => {
    const created = await fetch(`${a.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['https://app.example.org/cb'] }),
    })
    assert.equal(created.status, 201)
    const info = (await created.json()) as {
      client_id: string
      client_secret: string
      registration_access_token: string
    }
    const authorization = basic(info.client_id, info.client_secret)
    for (let i = 0; i < 3; i++) {
      assert.equal((await token(b.url, {}, authorization)).status, 200) // cached in B now
    }
    const deleted = await fetch(`${a.url}/register/${info.client_id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${info.registration_access_token}` },
    })
    assert.equal(deleted.status, 204)
    const t0 = performance.now()
    let last = await token(b.url, {}, authorization)
    while (last.status === 200 && performance.now() - t0 < 1000) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      last = await token(b.url, {}, authorization)
    }
    const elapsed = performance.now() - t0
    assert.deepEqual([last.status, last.body.error], [401, 'invalid_client'])
    assert.ok(elapsed < 1000, `refused after ${Math.round(elapsed)} ms`)
    assert.equal((await token(a.url, {}, authorization)).status, 401)
  })

  it('AS-7523-3-d: a private_key_jwt assertion accepted by A is refused by B as a replay', async () => {
    const k = await keyPair()
    const created = await fetch(`${a.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: ['https://app.example.org/cb'],
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [k.publicJwk] },
      }),
    })
    assert.equal(created.status, 201)
    const { client_id } = (await created.json()) as { client_id: string }
    const jwt = await assertion(client_id, k.privateKey, { claims: { aud: ISSUER } })
    const params = { client_assertion_type: JWT_BEARER, client_assertion: jwt }
    const first = await token(a.url, params)
    assert.deepEqual([first.status, first.body.client_id], [200, client_id])
    const again = await token(b.url, params)
    assert.deepEqual([again.status, again.body.error], [401, 'invalid_client'])
    // and a fresh assertion works on B
    const fresh = await assertion(client_id, k.privateKey, { claims: { aud: ISSUER } })
    assert.equal((await token(b.url, { ...params, client_assertion: fresh })).status, 200)
  })
})
