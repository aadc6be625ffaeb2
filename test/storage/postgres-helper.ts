import { randomBytes } from 'node:crypto'
import pg from 'pg'

/**
 * How the PostgreSQL tests find their server. They run when REGISTRAR_TEST_POSTGRES_URL names a
 * reachable server whose role may CREATE DATABASE; each run works in a database of its own, dropped
 * at the end. Without it they skip, unless REQUIRE_POSTGRES=1 (as in CI), where they fail.
 */
export const HOW_TO_RUN =
  'set REGISTRAR_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres (a role allowed to ' +
  'CREATE DATABASE) to run them, as .ci/run does together with REQUIRE_POSTGRES=1'

export const POSTGRES_REQUIRED = process.env.REQUIRE_POSTGRES === '1'

export interface PostgresTarget {
  /** Admin connection string (creates and drops the per-run databases); set when reachable. */
  url?: string
  /** `describe(name, { skip })`: a reason to skip, or false to run. */
  skip: string | false
  /** Throws, in a `before` hook, when PostgreSQL is required but absent; the tests then fail. */
  assertAvailable(): void
}

let probed: Promise<PostgresTarget> | undefined

/** Probes REGISTRAR_TEST_POSTGRES_URL once per process. */
export function postgresTarget(): Promise<PostgresTarget> {
  probed ??= probe()
  return probed
}

async function probe(): Promise<PostgresTarget> {
  const url = process.env.REGISTRAR_TEST_POSTGRES_URL
  let problem: string | undefined
  if (!url) problem = 'REGISTRAR_TEST_POSTGRES_URL is not set'
  else {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.query('SELECT 1')
    } catch (err) {
      problem = `PostgreSQL at ${redact(url)} is unreachable (${(err as Error).message || (err as { code?: string }).code})`
    } finally {
      await client.end().catch(() => {})
    }
  }
  if (problem === undefined) return { url, skip: false, assertAvailable() {} }
  const message = `PostgreSQL tests: ${problem}; ${HOW_TO_RUN}`
  if (POSTGRES_REQUIRED) {
    return {
      skip: false,
      assertAvailable() {
        throw new Error(`REQUIRE_POSTGRES=1 but ${message}`)
      },
    }
  }
  return { skip: message, assertAvailable() {} }
}

/** A database created for this test run, and how to drop it. */
export interface TestDatabase {
  url: string
  name: string
  drop(): Promise<void>
}

/** Creates `registrar_test_<random>` on the admin server; `drop()` also ends leftover sessions. */
export async function createTestDatabase(adminUrl: string): Promise<TestDatabase> {
  const name = `registrar_test_${randomBytes(6).toString('hex')}`
  await admin(adminUrl, `CREATE DATABASE ${name}`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    name,
    // WITH (FORCE): servers killed with SIGKILL may leave sessions the server has not reaped yet
    drop: async () => {
      await admin(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    },
  }
}

/** Runs one statement on a short-lived connection to the admin database. */
export async function admin(adminUrl: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 })
  client.on('error', () => {})
  await client.connect()
  try {
    return await client.query(sql)
  } finally {
    await client.end().catch(() => {})
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@')
}
