import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { resolveConfig } from '../../src/config/resolve.js'
import { RegistrationError } from '../../src/core/errors.js'
import { Registrar } from '../../src/core/registration.js'
import type { Store } from '../../src/core/store.js'
import { needsSecret } from '../../src/metadata/algorithms.js'
import type { ClientMetadata } from '../../src/metadata/types.js'
import { validateClientMetadata } from '../../src/metadata/validate.js'
import { MemoryStore } from '../../src/storage/memory.js'
import { SqliteStore } from '../../src/storage/sqlite.js'
import { ISSUER, startServer, tempDir } from '../helpers.js'

// RFC 7592 §2.2 (PUT replaces the registration), §2.3 and §5 (a deleted client's token dies with
// it), and the issue's concurrency guarantees: two simultaneous PUTs never leave a mix of both
// bodies, a DELETE racing a PUT never brings the client back, and a rotated registration access
// token is never accepted again. Each backend runs two Registrar instances over one store (for
// SQLite: two connections to one database file), as two server processes would.

interface Counters {
  /** replaceClient / deleteClient calls that lost the compare-and-swap. */
  conflicts: number
}

/**
 * Wraps a store so each call first waits 0-2 event-loop turns: requests that start together then
 * interleave differently on every round, which is what makes the races below happen.
 */
function jittered(store: Store, counters: Counters): Store {
  return new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target)
      if (typeof value !== 'function') return value
      return async (...args: unknown[]) => {
        for (let n = Math.floor(Math.random() * 3); n > 0; n--) {
          await new Promise((resolve) => setImmediate(resolve))
        }
        const result = await value.apply(target, args)
        if ((prop === 'replaceClient' || prop === 'deleteClient') && result === false) {
          counters.conflicts++
        }
        return result
      }
    },
  })
}

interface Backend {
  name: string
  /** Two Registrars over one store; `stores` are the raw (unwrapped) stores, for inspection. */
  open(rotate: boolean): {
    a: Registrar
    b: Registrar
    stores: Store[]
    counters: Counters
    close(): Promise<void>
  }
}

function registrarOver(store: Store, rotate: boolean): Registrar {
  const config = resolveConfig({
    file: {
      issuer: ISSUER,
      registration: { mode: 'open', rotateRegistrationAccessToken: rotate },
    },
  })
  return new Registrar({ config, store })
}

const backends: Backend[] = [
  {
    name: 'memory',
    open(rotate) {
      const store = new MemoryStore()
      const counters = { conflicts: 0 }
      return {
        a: registrarOver(jittered(store, counters), rotate),
        b: registrarOver(jittered(store, counters), rotate),
        stores: [store],
        counters,
        close: () => store.close(),
      }
    },
  },
  {
    name: 'sqlite (two connections, one file)',
    open(rotate) {
      const t = tempDir('registrar-concurrency-')
      const path = join(t.dir, 'registrar.db')
      const one = new SqliteStore(path)
      const two = new SqliteStore(path)
      const counters = { conflicts: 0 }
      return {
        a: registrarOver(jittered(one, counters), rotate),
        b: registrarOver(jittered(two, counters), rotate),
        stores: [one, two],
        counters,
        async close() {
          await one.close()
          await two.close()
          t.cleanup()
        },
      }
    },
  },
]

/**
 * A complete registration body, different from every other `i` in every member, so that a record
 * mixing two bodies cannot equal either. Odd bodies are public clients (no secret), even ones
 * confidential: the stored secret must follow the body that won.
 */
function body(clientId: string, i: number): Record<string, unknown> {
  return {
    client_id: clientId,
    redirect_uris: [`https://app${i}.example.org/cb`, `https://app${i}.example.org/cb2`],
    client_name: `Client ${i}`,
    client_uri: `https://app${i}.example.org/`,
    logo_uri: `https://app${i}.example.org/logo.png`,
    contacts: [`ops${i}@example.org`],
    software_version: `${i}.0.0`,
    grant_types: i % 3 === 0 ? ['authorization_code', 'refresh_token'] : ['authorization_code'],
    token_endpoint_auth_method: i % 2 === 0 ? 'client_secret_basic' : 'none',
  }
}

/** Outcome of a request: 'ok' or the RegistrationError code. */
async function outcome<T>(
  p: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
  try {
    return { ok: true, value: await p }
  } catch (err) {
    if (!(err instanceof RegistrationError)) throw err
    return { ok: false, error: err.error }
  }
}

for (const backend of backends) {
  describe(`concurrency on ${backend.name}`, () => {
    it('R7592-2.2-f: simultaneous PUTs with different complete bodies leave exactly one body', async () => {
      const { a, b, stores, counters, close } = backend.open(false)
      try {
        const expected: ClientMetadata[] = []
        for (let round = 0; round < 6; round++) {
          const reg = await a.register({ metadata: body('', 100 + round) })
          const id = reg.client_id
          const bodies = Array.from({ length: 8 }, (_, i) => body(id, round * 8 + i))
          expected.length = 0
          for (const x of bodies) expected.push(await validateClientMetadata(x, a.rules))
          const results = await Promise.all(
            bodies.map((x, i) =>
              outcome((i % 2 ? a : b).updateClient(id, reg.registration_access_token, x)),
            ),
          )
          const won = results.flatMap((r, i) => (r.ok ? [i] : []))
          assert.ok(won.length >= 1, 'at least one PUT succeeds')
          for (const r of results) {
            // a PUT that keeps losing the race may be told to retry; nothing else is acceptable
            if (!r.ok) assert.equal(r.error, 'temporarily_unavailable')
          }
          for (const store of stores) {
            const record = await store.findClient(id)
            assert.ok(record)
            // the whole metadata, not one field, equals exactly one body that was answered 200
            const matches = expected.flatMap((m, i) =>
              JSON.stringify(m) === JSON.stringify(record.metadata) ? [i] : [],
            )
            assert.equal(matches.length, 1, 'stored metadata equals exactly one PUT body')
            assert.ok(won.includes(matches[0] as number), 'and that PUT was answered 200')
            // the credentials follow the same body: a secret exactly when its auth method needs one
            assert.equal(record.clientSecretHash !== undefined, needsSecret(record.metadata))
            assert.equal(
              record.client_secret_expires_at !== undefined,
              needsSecret(record.metadata),
            )
            // no lost update: one version step per PUT answered 200
            assert.equal(record.version, 1 + won.length)
          }
          // both instances read the same registration
          const rat = reg.registration_access_token
          assert.deepEqual(await a.readClient(id, rat), await b.readClient(id, rat))
        }
        assert.ok(counters.conflicts > 0, 'the PUTs really raced (some compare-and-swap lost)')
      } finally {
        await close()
      }
    })

    it('R7592-2.3-b R7592-5-d: a DELETE racing PUTs never brings the client back', async () => {
      const { a, b, stores, counters, close } = backend.open(false)
      try {
        let putsAfterDelete = 0
        for (let round = 0; round < 10; round++) {
          const reg = await a.register({ metadata: body('', round) })
          const id = reg.client_id
          const rat = reg.registration_access_token
          const requests: Promise<unknown>[] = []
          for (let i = 0; i < 6; i++) {
            requests.push(outcome((i % 2 ? a : b).updateClient(id, rat, body(id, i))))
            if (i === round % 6) requests.push(outcome((i % 2 ? b : a).deleteClient(id, rat)))
          }
          const results = (await Promise.all(requests)) as Awaited<ReturnType<typeof outcome>>[]
          const deletes = results.filter((_, i) => i === (round % 6) + 1)
          assert.deepEqual(deletes[0], { ok: true, value: undefined }, 'DELETE answers 204')
          for (const r of results) {
            if (!r.ok) {
              assert.ok(['invalid_token', 'temporarily_unavailable'].includes(r.error), r.error)
              if (r.error === 'invalid_token') putsAfterDelete++
            }
          }
          // after everything settled: gone everywhere, and every operation is 401
          for (const store of stores) assert.equal(await store.findClient(id), undefined)
          for (const r of [a, b]) {
            await assert.rejects(r.readClient(id, rat), { error: 'invalid_token', status: 401 })
            await assert.rejects(r.updateClient(id, rat, body(id, 0)), { error: 'invalid_token' })
            await assert.rejects(r.deleteClient(id, rat), { error: 'invalid_token' })
          }
        }
        assert.ok(putsAfterDelete > 0, 'some PUTs ran after the DELETE and were refused')
        assert.ok(counters.conflicts > 0, 'the requests really raced')
      } finally {
        await close()
      }
    })

    it('R7592-5-a R7592-2.2-h: with rotation, of simultaneous PUTs with one token exactly one succeeds and the old token is dead', async () => {
      const { a, b, stores, close } = backend.open(true)
      try {
        for (let round = 0; round < 6; round++) {
          const reg = await a.register({ metadata: body('', round) })
          const id = reg.client_id
          const old = reg.registration_access_token
          const bodies = Array.from({ length: 6 }, (_, i) => body(id, i))
          const results = await Promise.all(
            bodies.map((x, i) => outcome((i % 2 ? a : b).updateClient(id, old, x))),
          )
          const won = results.flatMap((r, i) => (r.ok ? [i] : []))
          assert.equal(won.length, 1, 'exactly one PUT succeeds')
          for (const r of results) if (!r.ok) assert.equal(r.error, 'invalid_token')
          const winner = results[won[0] as number] as {
            ok: true
            value: { registration_access_token: string }
          }
          const fresh = winner.value.registration_access_token
          assert.notEqual(fresh, old)
          const stored = await validateClientMetadata(
            bodies[won[0] as number] as Record<string, unknown>,
            a.rules,
          )
          for (const store of stores) {
            assert.deepEqual((await store.findClient(id))?.metadata, stored)
          }
          for (const r of [a, b]) {
            await assert.rejects(r.readClient(id, old), { error: 'invalid_token', status: 401 })
            await assert.rejects(r.updateClient(id, old, body(id, 9)), { error: 'invalid_token' })
            await assert.rejects(r.deleteClient(id, old), { error: 'invalid_token' })
            assert.equal((await r.readClient(id, fresh)).client_id, id)
          }
        }
      } finally {
        await close()
      }
    })

    it('R7592-5-d: with rotation, a DELETE and PUTs racing with one token: exactly one of them succeeds', async () => {
      const { a, b, stores, close } = backend.open(true)
      try {
        const winners: string[] = []
        for (let round = 0; round < 16; round++) {
          const reg = await a.register({ metadata: body('', round) })
          const id = reg.client_id
          const old = reg.registration_access_token
          const put1 = outcome(a.updateClient(id, old, body(id, 1)))
          const del = outcome(b.deleteClient(id, old))
          const put2 = outcome(b.updateClient(id, old, body(id, 2)))
          const results = await Promise.all([put1, del, put2])
          const ok = results.flatMap((r, i) => (r.ok ? [i] : []))
          // the token used by the winner is dead for the others (RFC 7592 §5): never two winners
          assert.equal(ok.length, 1, `exactly one request succeeds, got ${JSON.stringify(ok)}`)
          for (const r of results) if (!r.ok) assert.equal(r.error, 'invalid_token')
          const deleted = ok[0] === 1
          winners.push(deleted ? 'delete' : 'put')
          for (const store of stores) {
            assert.equal((await store.findClient(id)) === undefined, deleted)
          }
          await assert.rejects(a.readClient(id, old), { error: 'invalid_token' })
        }
        // both orders happened (each wins about half of the rounds), so both were checked
        assert.deepEqual(new Set(winners), new Set(['put', 'delete']))
      } finally {
        await close()
      }
    })
  })
}

describe('concurrency across two server processes on one SQLite file', () => {
  it('R7592-5-a R7592-2.3-b: rotation and deletion hold across processes', async () => {
    const t = tempDir('registrar-two-servers-')
    const store = `sqlite:${join(t.dir, 'registrar.db')}`
    const config = { registration: { mode: 'open', rotateRegistrationAccessToken: true } }
    // start one after the other: the first creates the schema
    const one = await startServer(['--store', store], { config })
    const two = await startServer(['--store', store], { config })
    try {
      const send = (
        server: typeof one,
        method: string,
        path: string,
        token: string,
        json?: unknown,
      ) =>
        fetch(new URL(path, server.url), {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(json !== undefined && { 'content-type': 'application/json' }),
          },
          ...(json !== undefined && { body: JSON.stringify(json) }),
        })
      for (let round = 0; round < 4; round++) {
        const created = await fetch(new URL('/register', one.url), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body('', round)),
        })
        assert.equal(created.status, 201)
        const reg = (await created.json()) as Record<string, string>
        const id = reg.client_id as string
        const path = new URL(reg.registration_client_uri as string).pathname
        const old = reg.registration_access_token as string
        // several PUTs with the same token, split over both processes
        const responses = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            send(i % 2 ? one : two, 'PUT', path, old, body(id, i)),
          ),
        )
        const statuses = responses.map((r) => r.status)
        assert.equal(statuses.filter((s) => s === 200).length, 1, `statuses ${statuses}`)
        assert.equal(statuses.filter((s) => s === 401).length, 5, `statuses ${statuses}`)
        const fresh = (await responses[statuses.indexOf(200)]?.json()) as Record<string, string>
        for (const server of [one, two]) {
          assert.equal((await send(server, 'GET', path, old)).status, 401)
          assert.equal(
            (await send(server, 'GET', path, fresh.registration_access_token as string)).status,
            200,
          )
        }
        // then a DELETE on one process races a PUT on the other, with the current token
        const current = fresh.registration_access_token as string
        const [del, put] = await Promise.all([
          send(one, 'DELETE', path, current),
          send(two, 'PUT', path, current, body(id, 7)),
        ])
        assert.equal([del.status, put.status].filter((s) => s === 204 || s === 200).length, 1)
        if (del.status === 204) {
          for (const server of [one, two]) {
            assert.equal((await send(server, 'GET', path, current)).status, 401)
          }
        }
      }
    } finally {
      await one.stop()
      await two.stop()
      t.cleanup()
    }
  })
})
