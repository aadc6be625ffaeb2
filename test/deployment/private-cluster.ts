import { execFile, execFileSync, spawnSync } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/**
 * A throwaway PostgreSQL cluster of our own, which a test may stop and start at will (the machine's
 * shared server must never be stopped). Built as toolchain.md's recipe does: initdb and pg_ctl run
 * as `postgres` (initdb refuses root), the data directory lives under /tmp (owned by postgres,
 * mode 700), TCP only on 127.0.0.1 on a free port, the unix socket inside the data directory.
 */
export class PrivateCluster {
  readonly dir: string
  readonly port: number
  readonly url: string
  readonly #bin: string
  readonly #asPostgres: string[]
  #running = false

  private constructor(bin: string, asPostgres: string[], dir: string, port: number) {
    this.#bin = bin
    this.#asPostgres = asPostgres
    this.dir = dir
    this.port = port
    this.url = `postgresql://app:apppass@127.0.0.1:${port}/app`
  }

  /** Where initdb and pg_ctl are, or why a private cluster cannot be made here. */
  static tools(): { bin: string; asPostgres: string[] } | { missing: string } {
    const bin = findBin()
    if (!bin) {
      return {
        missing:
          'initdb was not found (looked in $REGISTRAR_TEST_PG_BIN and /usr/lib/postgresql/*/bin)',
      }
    }
    if (process.getuid?.() !== 0) return { bin, asPostgres: [] }
    try {
      execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' })
    } catch {
      return { missing: 'running as root, and there is no postgres user to run initdb as' }
    }
    return { bin, asPostgres: ['runuser', '-u', 'postgres', '--'] }
  }

  /** initdb, start, then create role `app` and database `app` (about 2 s). */
  static async create(): Promise<PrivateCluster> {
    const tools = PrivateCluster.tools()
    if ('missing' in tools) throw new Error(tools.missing)
    const dir = mkdtempSync(join(tmpdir(), 'registrar-pg-'))
    const owner = tools.asPostgres.length > 0 ? postgresIds() : undefined
    if (owner) chownSync(dir, owner.uid, owner.gid)
    chmodSync(dir, 0o700)
    const cluster = new PrivateCluster(tools.bin, tools.asPostgres, dir, await freePort())
    registerExitCleanup(cluster)

    const pwfile = join(mkdtempSync(join(tmpdir(), 'registrar-pw-')), 'pw')
    writeFileSync(pwfile, 'devpass\n', { mode: 0o600 })
    if (owner) {
      chownSync(join(pwfile, '..'), owner.uid, owner.gid)
      chownSync(pwfile, owner.uid, owner.gid)
    }
    try {
      await cluster.#pg('initdb', [
        '-D',
        dir,
        '-U',
        'postgres',
        `--pwfile=${pwfile}`,
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C.UTF-8',
      ])
    } finally {
      rmSync(join(pwfile, '..'), { recursive: true, force: true })
    }
    await cluster.start()
    // separate -c flags: CREATE DATABASE cannot run inside the transaction one -c string makes
    await run(psql(tools.bin), [
      '-h',
      dir,
      '-p',
      String(cluster.port),
      '-U',
      'postgres',
      '-v',
      'ON_ERROR_STOP=1',
      '-c',
      "create role app login password 'apppass'",
      '-c',
      'create database app owner app',
    ])
    return cluster
  }

  async start(): Promise<void> {
    await this.#pg('pg_ctl', [
      '-D',
      this.dir,
      '-l',
      join(this.dir, 'server.log'),
      '-o',
      `-c listen_addresses=127.0.0.1 -p ${this.port} -k ${this.dir}`,
      '-w',
      '-t',
      '30',
      'start',
    ])
    this.#running = true
  }

  /** `fast`: sessions are terminated, then the server exits (a planned restart or failover). */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.#pg('pg_ctl', ['-D', this.dir, '-m', mode, '-w', '-t', '30', 'stop'])
    this.#running = false
  }

  /** Stops the server if it runs and deletes the data directory. */
  async destroy(): Promise<void> {
    if (this.#running) await this.stop('immediate').catch(() => {})
    rmSync(this.dir, { recursive: true, force: true })
  }

  /** The server log, for failure messages. */
  log(): string {
    try {
      return readFileSync(join(this.dir, 'server.log'), 'utf8')
    } catch {
      return ''
    }
  }

  stopSync(): void {
    if (!this.#running) return
    const [cmd, ...args] = [
      ...this.#asPostgres,
      join(this.#bin, 'pg_ctl'),
      '-D',
      this.dir,
      '-m',
      'immediate',
      'stop',
    ]
    spawnSync(cmd as string, args, { stdio: 'ignore' })
    this.#running = false
    rmSync(this.dir, { recursive: true, force: true })
  }

  async #pg(tool: 'initdb' | 'pg_ctl', args: string[]): Promise<void> {
    const [cmd, ...rest] = [...this.#asPostgres, join(this.#bin, tool), ...args]
    try {
      await run(cmd as string, rest, { timeout: 60_000 })
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string }
      throw new Error(`${tool} ${args.at(-1)} failed: ${e.stderr || e.stdout || e.message}`)
    }
  }
}

function findBin(): string | undefined {
  const candidates = [process.env.REGISTRAR_TEST_PG_BIN]
  try {
    const versions = readdirSync('/usr/lib/postgresql')
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a))
    candidates.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`))
  } catch {
    // not a Debian-style layout
  }
  return candidates.find(
    (dir): dir is string =>
      dir !== undefined && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')),
  )
}

function psql(bin: string): string {
  return existsSync(join(bin, 'psql')) ? join(bin, 'psql') : 'psql'
}

function postgresIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim())
  return { uid, gid }
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

// If the test process dies before its after() hook, still leave no server running behind it.
const live = new Set<PrivateCluster>()
function registerExitCleanup(cluster: PrivateCluster): void {
  if (live.size === 0) {
    process.once('exit', () => {
      for (const c of live) c.stopSync()
    })
  }
  live.add(cluster)
}
