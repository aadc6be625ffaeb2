// A fresh PostgreSQL database per registrar server, dropped afterwards. Uses the `pg` driver when
// it is installed (it is the PostgreSQL store's driver) and the `psql` client otherwise.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'

const run = promisify(execFile)

type Admin = (sql: string) => Promise<void>

async function admin(url: string): Promise<Admin> {
  try {
    const specifier = 'pg' // a variable: `pg` is optional here and has no types on this branch
    const pg = (await import(specifier)) as {
      default: {
        Client: new (o: {
          connectionString: string
        }) => {
          connect(): Promise<void>
          query(sql: string): Promise<unknown>
          end(): Promise<void>
        }
      }
    }
    return async (sql) => {
      const client = new pg.default.Client({ connectionString: url })
      await client.connect()
      try {
        await client.query(sql)
      } finally {
        await client.end()
      }
    }
  } catch {
    return async (sql) => {
      try {
        await run('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
          timeout: 30_000,
        })
      } catch (err) {
        const e = err as { stderr?: string; message: string }
        throw new Error((e.stderr?.trim() || e.message).split('\n')[0])
      }
    }
  }
}

/** A database made for one server; `url` is what the registrar is given. */
export interface ScratchDatabase {
  url: string
  drop(): Promise<void>
}

/** Creates `registrar_bench_<random>` on the server of `baseUrl` (connecting to its database). */
export async function createScratchDatabase(baseUrl: string): Promise<ScratchDatabase> {
  const exec = await admin(baseUrl)
  const name = `registrar_bench_${randomBytes(6).toString('hex')}`
  await exec(`CREATE DATABASE ${name}`)
  const url = new URL(baseUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: () => exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  }
}

/** The URL without its password, for reports. */
export function redact(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return url
  }
}
