import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import pg from 'pg'
import { freePort } from '../adapters/support.js'
import { childEnv, runCli, type ServerProcess, startServer, tempDir } from '../helpers.js'
import { fenced, page, pages, ROOT, section } from './markdown.js'

/**
 * Every command of every page runs. A `sh` block of README.md or docs/*.md is either run here, in
 * one of the SESSIONS below (in a scratch directory where `bin` is this checkout's, against a
 * real server when the page says one is running), or preceded by `<!-- run by: PATH -->` naming
 * the test or script that runs it. Placeholders in capitals (CLIENT_ID, TOKEN_ID, …) are replaced by
 * real ids, fixed ports by free ones; nothing else of a command is changed unless listed.
 */

interface ShBlock {
  path: string
  heading: string
  body: string
  runBy: string | undefined
}

/** The sh blocks of a page, each with its nearest heading and its `run by` marker. */
function shBlocks(path: string): ShBlock[] {
  const blocks: ShBlock[] = []
  let heading = ''
  let fence: string[] | undefined
  let other = false // inside a fenced block of another language
  let runBy: string | undefined
  let previous: string[] = []
  for (const line of page(path).split('\n')) {
    if (other) {
      if (line === '```') other = false
      continue
    }
    if (fence) {
      if (line === '```') {
        blocks.push({ path, heading, body: fence.join('\n'), runBy })
        fence = undefined
      } else fence.push(line)
      continue
    }
    if (line === '```sh') {
      runBy = previous
        .map((l) => /^<!-- run by: (\S+)/.exec(l)?.[1])
        .find((m): m is string => m !== undefined)
      fence = []
      continue
    }
    if (line.startsWith('```')) {
      other = true
      continue
    }
    const h = /^#+ (.*)$/.exec(line)
    if (h) heading = h[1] as string
    if (line.trim() !== '') previous = [...previous.slice(-1), line]
  }
  return blocks
}

interface Scratch {
  dir: string
  run(script: string, env?: Record<string, string>): Promise<{ code: number | null; out: string }>
}

const cleanups: (() => Promise<void> | void)[] = []
after(async () => {
  for (const c of cleanups.reverse()) await c()
})

/** A scratch directory with `bin` and `node_modules` of this checkout and `registrar` on PATH. */
function scratch(): Scratch {
  const t = tempDir('registrar-docs-')
  cleanups.push(t.cleanup)
  symlinkSync(join(ROOT, 'bin'), join(t.dir, 'bin'))
  symlinkSync(join(ROOT, 'node_modules'), join(t.dir, 'node_modules'))
  mkdirSync(join(t.dir, '.path'))
  writeFileSync(
    join(t.dir, '.path', 'registrar'),
    `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin', 'registrar.js')}" "$@"\n`,
    { mode: 0o755 },
  )
  return {
    dir: t.dir,
    run: (script, env = {}) =>
      new Promise((resolve) => {
        // background servers a block starts are stopped with the script
        const wrapped = `trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n${script}`
        const p = spawn('bash', ['-euo', 'pipefail', '-c', wrapped], {
          cwd: t.dir,
          env: childEnv({
            PATH: `${join(t.dir, '.path')}:${process.env.PATH}`,
            REGISTRAR_LOG_LEVEL: 'warn',
            ...env,
          }),
        })
        let out = ''
        p.stdout.on('data', (d) => {
          out += d
        })
        p.stderr.on('data', (d) => {
          out += d
        })
        p.once('close', (code) => resolve({ code, out }))
      }),
  }
}

/** A foreground `registrar serve` line runs in the background until it listens. */
function backgroundServe(script: string): string {
  return script.replace(
    /^((?:node bin\/registrar\.js|registrar) serve\b.*)$/gm,
    (line) =>
      `${line.replace(/\s+#.*$/, '')} > serve.log 2>&1 &\n` +
      `for _ in $(seq 1 150); do grep -q 'listening on' serve.log 2>/dev/null && break; sleep 0.2; done\n` +
      `grep -q 'listening on' serve.log || { cat serve.log; exit 1; }`,
  )
}

function replaceAll(text: string, substitutions: Record<string, string>): string {
  let out = text
  for (const [from, to] of Object.entries(substitutions)) {
    assert.ok(out.includes(from), `the documented command still contains ${from}`)
    out = out.replaceAll(from, to)
  }
  return out
}

/** The blocks under `heading` of `path`, joined as one script. */
function blocksOf(path: string, heading: string): string[] {
  const found = shBlocks(path).filter((b) => b.heading === heading)
  assert.ok(found.length > 0, `${path} "${heading}" has sh blocks`)
  return found.map((b) => b.body)
}

async function registerPending(server: ServerProcess, dir: string): Promise<string> {
  const iat = (await runCli(['token', 'create'], { cwd: dir })).stdout.trim().split('\n').at(-1)
  const res = await fetch(`${server.url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${iat}` },
    body: JSON.stringify({ redirect_uris: ['https://app.example.com/cb'], client_name: 'Docs' }),
  })
  assert.equal(res.status, 201, await res.clone().text())
  return ((await res.json()) as { client_id: string }).client_id
}

/** Which (page, heading) the sessions below run; the coverage test checks every other block. */
const RUN_HERE: [string, string][] = [
  ['docs/getting-started.md', 'Managing a registration (RFC 7592)'],
  ['docs/getting-started.md', 'Registering from the command line'],
  ['docs/operations.md', 'Administration from the command line'],
  ['docs/operations.md', 'Audit trail'],
  ['docs/operations.md', 'Admin console'],
  ['docs/operations.md', 'Admin API'],
  ['docs/operations.md', 'SQLite'],
  ['docs/operations.md', 'Upgrading and migrations'],
  ['docs/operations.md', 'PostgreSQL'],
  ['docs/deployment.md', 'PostgreSQL and many instances'],
  ['docs/security.md', 'Securing open registration'],
]

describe('documented commands', () => {
  it('every sh block of every page is run here or names the test that runs it', () => {
    let count = 0
    for (const path of pages()) {
      for (const b of shBlocks(path)) {
        count++
        if (RUN_HERE.some(([p, h]) => p === path && h === b.heading)) continue
        assert.ok(
          b.runBy,
          `${path} "${b.heading}": a sh block neither run here nor marked <!-- run by: … -->`,
        )
        assert.ok(existsSync(join(ROOT, b.runBy)), `${path} "${b.heading}": ${b.runBy} exists`)
      }
    }
    assert.ok(count >= 20, `${count} sh blocks`)
  })

  it('getting started: RFC 7592 read, update, delete; then register and manage from the CLI', async () => {
    const s = scratch()
    const server = await startServer([], { cwd: s.dir })
    cleanups.push(async () => void (await server.stop()))
    const port = String(server.port)
    const script = [
      ...blocksOf('docs/getting-started.md', 'Managing a registration (RFC 7592)'),
      ...blocksOf('docs/getting-started.md', 'Registering from the command line'),
    ]
      .join('\n')
      .replaceAll('127.0.0.1:3000', `127.0.0.1:${port}`)
    const { code, out } = await s.run(script)
    assert.equal(code, 0, out)
    assert.match(out, /"client_name":"Renamed App"/)
    assert.match(out, /^204$/m, 'the delete')
    assert.match(out, /"error":"invalid_token"[\s\S]*^401$/m, 'after the delete')
    assert.match(out, /^registered client \S+$/m)
    assert.ok(!existsSync(join(s.dir, 'creds.json')), 'registration delete removes creds.json')
  })

  it('operations: the administration and audit commands, on a client held for approval', async () => {
    const s = scratch()
    const config = {
      policies: {
        initialAccessToken: 'review',
        definitions: { review: { requireApproval: true } },
      },
    }
    const server = await startServer([], { cwd: s.dir, config })
    cleanups.push(async () => void (await server.stop()))
    const clientId = await registerPending(server, s.dir)
    const admin = await runCli(['admin-token', 'create', '--description', 'setup'], { cwd: s.dir })
    const adminTokenId = /admin token (\S+) /.exec(admin.stderr + admin.stdout)?.[1]
    assert.ok(adminTokenId, admin.stderr)
    const tokens = JSON.parse((await runCli(['token', 'list', '--json'], { cwd: s.dir })).stdout)
    const script = replaceAll(
      [
        ...blocksOf('docs/operations.md', 'Administration from the command line'),
        ...blocksOf('docs/operations.md', 'Audit trail'),
      ].join('\n'),
      // ADMIN_TOKEN_ID first: TOKEN_ID is part of it
      { ADMIN_TOKEN_ID: adminTokenId, CLIENT_ID: clientId, TOKEN_ID: tokens[0].id },
    )
    const { code, out } = await s.run(script)
    assert.equal(code, 0, out)
    assert.match(out, new RegExp(`${clientId}[^\\n]*pending`), 'clients list shows it pending')
    const listed = await runCli(['clients', 'list', '--json'], { cwd: s.dir })
    assert.ok(!listed.stdout.includes(clientId), 'deleted')
  })

  it('operations: the admin console set-up and the admin API requests', async () => {
    const s = scratch()
    const [adminPort, metricsPort] = [await freePort(), await freePort()]
    const ports = {
      '127.0.0.1:9400': `127.0.0.1:${adminPort}`,
      '127.0.0.1:9464': `127.0.0.1:${metricsPort}`,
    }
    const json = fenced(section('docs/operations.md', 'Admin console'), 'json')[0] as string
    writeFileSync(join(s.dir, 'admin.json'), replaceAll(json, ports))
    // the page follows getting started: the database of `npm start` exists
    await runCli(['token', 'list', '--create'], { cwd: s.dir })
    const script = backgroundServe(
      [
        ...blocksOf('docs/operations.md', 'Admin console'),
        ...blocksOf('docs/operations.md', 'Admin API'),
      ].join('\n'),
    ).replace(/serve --config admin\.json/, 'serve --config admin.json --port 0')
    const { code, out } = await s.run(
      replaceAll(script, { '127.0.0.1:9400': ports['127.0.0.1:9400'] }),
    )
    assert.equal(code, 0, out)
    assert.match(out, /\{"clients":\[/, 'the admin API answered with the token')
  })

  it('operations: SQLite backups (VACUUM INTO, the backup API), restore, and the migrations applied', async () => {
    const s = scratch()
    let server = await startServer([], { cwd: s.dir })
    const before = await registerPending(server, s.dir)
    const [vacuum, api, restore] = blocksOf('docs/operations.md', 'SQLite') as [
      string,
      string,
      string,
    ]
    for (const b of [vacuum, api]) {
      const { code, out } = await s.run(b)
      assert.equal(code, 0, out)
    }
    const later = await registerPending(server, s.dir)
    await server.stop() // "stop the server"
    const restored = await s.run(restore)
    assert.equal(restored.code, 0, restored.out)
    server = await startServer([], { cwd: s.dir })
    cleanups.push(async () => void (await server.stop()))
    const listed = (await runCli(['clients', 'list', '--json'], { cwd: s.dir })).stdout
    assert.ok(listed.includes(before), 'the client of before the backup is back')
    assert.ok(!listed.includes(later), 'the client registered after the backup is gone')
    const migrations = await s.run(blocksOf('docs/operations.md', 'Upgrading and migrations')[0]!)
    assert.equal(migrations.code, 0, migrations.out)
    assert.match(migrations.out, /^001-init$/m)
  })

  it('security: the policy dry run with the ready MCP configuration', async () => {
    const s = scratch()
    const mcp = fenced(section('docs/security.md', 'A ready config for an MCP server'), 'json')[0]
    writeFileSync(join(s.dir, 'registrar.json'), mcp as string)
    const { code, out } = await s.run(
      blocksOf('docs/security.md', 'Securing open registration')[0]!,
    )
    assert.equal(code, 0, out)
    assert.match(out, /mcp:tools/)
    assert.doesNotMatch(out, /"scope": "mcp:tools admin"/, 'the scope ceiling drops admin')
  })

  const pgUrl = process.env.REGISTRAR_TEST_POSTGRES_URL
  const needsPg = pgUrl
    ? {}
    : process.env.REQUIRE_POSTGRES === '1'
      ? {}
      : { skip: 'REGISTRAR_TEST_POSTGRES_URL is not set' }

  /** A fresh database (and role) on the test server, dropped after the tests. */
  async function database(): Promise<{ name: string; url: (user?: string) => string }> {
    assert.ok(pgUrl, 'REQUIRE_POSTGRES=1 needs REGISTRAR_TEST_POSTGRES_URL')
    const name = `registrar_docs_${process.pid}_${Math.floor(Math.random() * 1e6)}`
    const admin = new pg.Client({ connectionString: pgUrl })
    await admin.connect()
    cleanups.push(async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {})
      await admin.query(`DROP ROLE IF EXISTS ${name}`).catch(() => {})
      await admin.end()
    })
    const url = (user?: string) => {
      const u = new URL(pgUrl)
      u.pathname = `/${name}`
      if (user) {
        u.username = user
        u.password = 'change-me'
      }
      return u.toString()
    }
    return { name, url }
  }

  it('operations: PostgreSQL pg_dump and pg_restore', needsPg, async () => {
    const s = scratch()
    const db = await database()
    const admin = new pg.Client({ connectionString: pgUrl })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${db.name}`)
    await admin.end()
    const store = db.url()
    const created = await runCli(['token', 'create', '--store', store], { cwd: s.dir })
    assert.equal(created.code, 0, created.stderr)
    const { code, out } = await s.run(blocksOf('docs/operations.md', 'PostgreSQL')[0]!, {
      REGISTRAR_STORE: store,
    })
    assert.equal(code, 0, out)
    const tokens = await runCli(['token', 'list', '--json', '--store', store], { cwd: s.dir })
    assert.equal(JSON.parse(tokens.stdout).length, 1, 'the restored database has the token')
  })

  it(
    'deployment: a role and a database, then an instance and an admin command on them',
    needsPg,
    async () => {
      const s = scratch()
      const db = await database()
      const u = new URL(pgUrl as string)
      writeFileSync(join(s.dir, 'registrar.json'), '{}')
      const [create, instances] = blocksOf('docs/deployment.md', 'PostgreSQL and many instances')
      const script = replaceAll(`${create}\n${backgroundServe(instances as string)}`, {
        'create role registrar': `create role ${db.name}`,
        'create database registrar owner registrar': `create database ${db.name} owner ${db.name}`,
        'postgres://registrar:change-me@db.internal:5432/registrar?sslmode=verify-full': db.url(
          db.name,
        ),
        '--host 0.0.0.0 --port 3000': '--host 127.0.0.1 --port 0', // tests listen on loopback only
        '/etc/registrar.json': join(s.dir, 'registrar.json'),
      })
      const { code, out } = await s.run(script, {
        PGHOST: u.hostname,
        PGPORT: u.port || '5432',
        PGUSER: decodeURIComponent(u.username),
        PGDATABASE: u.pathname.slice(1) || 'postgres',
      })
      assert.equal(code, 0, out)
      assert.match(out, /^[A-Za-z0-9_-]{43}$/m, 'registrar token create printed a token')
    },
  )
})

it('performance: the bench answers --help (the full runs take minutes of every core)', async () => {
  const block = fenced(section('docs/performance.md', 'Performance'), 'sh')[0] as string
  assert.match(block, /^npm run bench -- --help +# all options$/m)
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'bench', 'run.ts'), '--help'],
    {
      cwd: ROOT,
      env: childEnv(),
    },
  )
  let out = ''
  proc.stdout.on('data', (d) => {
    out += d
  })
  proc.stderr.on('data', (d) => {
    out += d
  })
  const code = await new Promise((resolve) => proc.once('close', resolve))
  assert.equal(code, 0, out)
  for (const option of ['--quick', '--stores', '--workloads', '--against', '--cpu-prof']) {
    assert.ok(out.includes(option), `--help names ${option}`)
  }
})
