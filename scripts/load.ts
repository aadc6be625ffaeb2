// Registrations per second, per store, against the real server (`registrar serve` in its own
// process), next to a bare node:http server on the same machine in the same run as a ceiling.
//
//   npm run build && node --import tsx scripts/load.ts [--duration 10] [--connections 50]
//       [--only baseline,sqlite,postgres] [--postgres postgres://…]
//
// PostgreSQL uses --postgres or REGISTRAR_TEST_POSTGRES_URL (a role that may CREATE DATABASE); the
// run works in a database of its own and drops it. Registration is open, so every request is a
// full RFC 7591 registration: validation, a client_id, a hashed secret and token, one insert.
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import pg from 'pg'

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    only: { type: 'string', default: 'baseline,sqlite,postgres' },
    postgres: { type: 'string' },
  },
})
const duration = Number(values.duration)
const connections = Number(values.connections)
const only = new Set(values.only.split(','))
const adminUrl = values.postgres ?? process.env.REGISTRAR_TEST_POSTGRES_URL
const BIN = new URL('../bin/registrar.js', import.meta.url).pathname
if (!existsSync(new URL('../dist/cli/main.js', import.meta.url))) {
  console.error('dist/ is missing: run npm run build first')
  process.exit(2)
}

const BODY = JSON.stringify({
  redirect_uris: ['https://app.example.org/callback'],
  client_name: 'Load Test Client',
  contacts: ['ops@example.org'],
})

// Answers like a registration endpoint would (reads the body, 201 with a similar JSON) and does
// nothing else: the ceiling of node:http plus the load generator on this machine.
const BASELINE = `
const http = require('node:http')
const crypto = require('node:crypto')
const server = http.createServer({ keepAliveTimeout: 5000 }, (req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString())
    res.writeHead(201, { 'content-type': 'application/json', 'cache-control': 'no-store' })
    res.end(JSON.stringify({ client_id: crypto.randomBytes(16).toString('base64url'), ...body }))
  })
})
server.listen(0, '127.0.0.1', () => console.log('listening on http://127.0.0.1:' + server.address().port))
`

interface Row {
  target: string
  'req/s': number
  'p50 ms': number
  'p99 ms': number
  '201': number
  other: number
  errors: number
}

async function started(proc: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = ''
    proc.stdout?.on('data', (d) => {
      out += d
      const m = /listening on (http:\/\/[^\s]+)/.exec(out)
      if (m) resolve(m[1] as string)
    })
    proc.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)))
  })
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return
  const exited = new Promise((resolve) => proc.once('exit', resolve))
  proc.kill('SIGTERM')
  await exited
}

async function load(target: string, url: string): Promise<Row> {
  // a short warm-up (JIT, connection pools, SQLite page cache) that is not measured
  await autocannon({
    url: `${url}/register`,
    method: 'POST',
    body: BODY,
    connections,
    duration: 2,
    headers: { 'content-type': 'application/json' },
  })
  const r = await autocannon({
    url: `${url}/register`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: BODY,
    connections,
    duration,
  })
  return {
    target,
    'req/s': Math.round(r.requests.average),
    'p50 ms': r.latency.p50,
    'p99 ms': r.latency.p99,
    '201': r['2xx'],
    other: r.non2xx,
    errors: r.errors + r.timeouts,
  }
}

async function server(target: string, store: string): Promise<Row> {
  const proc = spawn(
    process.execPath,
    [BIN, 'serve', '--port', '0', '--store', store, '--registration', 'open'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  )
  try {
    return await load(target, await started(proc))
  } finally {
    await stop(proc)
  }
}

async function admin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

const rows: Row[] = []
if (only.has('baseline')) {
  const proc = spawn(process.execPath, ['-e', BASELINE], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    rows.push(await load('bare node:http', await started(proc)))
  } finally {
    await stop(proc)
  }
}
if (only.has('sqlite')) {
  const dir = mkdtempSync(join(tmpdir(), 'registrar-load-'))
  try {
    rows.push(await server('registrar, SQLite', `sqlite:${join(dir, 'registrar.db')}`))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
if (only.has('postgres')) {
  if (!adminUrl)
    console.error('PostgreSQL skipped: pass --postgres URL or set REGISTRAR_TEST_POSTGRES_URL')
  else {
    const name = `registrar_load_${randomBytes(4).toString('hex')}`
    await admin(adminUrl, `CREATE DATABASE ${name}`)
    const url = new URL(adminUrl)
    url.pathname = `/${name}`
    try {
      rows.push(await server('registrar, PostgreSQL', url.toString()))
    } finally {
      await admin(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    }
  }
}
console.log(`POST /register, ${connections} connections, ${duration} s each (after a 2 s warm-up)`)
console.table(rows)
