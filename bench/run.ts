// `npm run bench [-- options]`: the registrar against a bare node:http ceiling, over loopback, with
// autocannon. See docs/performance.md, bench/PROFILE.md and --help.
import { type ExecFileSyncOptionsWithStringEncoding, execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { exchange, type LoadRequest, type Registered, registerClients, runLoad } from './load.js'
import { createScratchDatabase, redact } from './postgres.js'
import {
  type Aggregate,
  aggregate,
  type BenchResult,
  type Check,
  renderMarkdown,
  type StoreKind,
  type StoreResult,
  WORKLOAD_LABEL,
  type WorkloadId,
  type WorkloadResult,
} from './report.js'
import {
  BIN,
  fileSystemOf,
  machineInfo,
  type Pinning,
  pinLoadGenerator,
  prepareScripts,
  ROOT,
  type RunningServer,
  StartError,
  startServer,
} from './servers.js'

const HELP = `Usage: npm run bench -- [options]

Benchmarks \`registrar serve\` against a bare node:http "ceiling" server, interleaved
(A B A B A B), and reports medians and the registrar/ceiling ratio.

Workloads:
  W1  POST /register, a typical web client (201)
  W2  GET /register/{id} (RFC 7592 read), round-robin over 1,000 registered clients
  W3  POST /register with an invalid redirect URI (400)
  W4  register --scale-clients clients (default 100,000), then W2 again; memory per client
  W5  POST /token of an AS on Registrar: authenticateClient (client_secret_basic), round-robin
      over 1,000 clients, then 200 (bench/as-server.ts)
  W6  GET /authorize of the same AS: getClient + matchRedirectUri, round-robin over 1,000 clients
  W7  the same GET /authorize for 1,000 Client ID Metadata Document clients whose documents are
      cached (seeded into the store as a fetch leaves them; no origin is contacted)

Options:
  --quick                W1 on memory and SQLite, 1 repetition of 5 s: under a minute
  --stores LIST          memory,sqlite,postgres                         (default all three)
  --workloads LIST       W1,W2,W3,W4,W5,W6,W7                            (default all seven)
  --duration S           seconds per autocannon run                      (default 10; quick 5)
  --warmup S             unmeasured run per server before the first      (default 2; quick 1)
  --reps N               repetitions (medians of N)                      (default 3; quick 1)
  --connections N        autocannon connections                          (default 50)
  --scale-clients N      clients registered in W4                        (default 100000)
  --log-level LEVEL      the registrar's REGISTRAR_LOG_LEVEL; its stderr goes to /dev/null
                                                                         (default info)
  --postgres-url URL     server for the postgres store; a fresh database is created per
                         server and dropped afterwards  (default $REGISTRAR_BENCH_POSTGRES_URL
                         or postgres://postgres@127.0.0.1:5432/postgres)
  --sqlite-dir DIR       where SQLite files go (a real disk: tmpfs makes fsync free)
                                                                         (default the OS temp dir)
  --cpu-prof DIR         run both servers with --cpu-prof, one directory per store+workload
                         (summarise with: tsx bench/profile-summary.ts DIR/memory-W1)
  --against PATH         compare two registrars instead: PATH (another checkout's
                         bin/registrar.js, built) takes the ceiling's place as "before", --bin
                         is "after"; W1-W3 only; ratio = after ÷ before
  --bin PATH             the registrar to measure     (default this checkout's bin/registrar.js;
                         another checkout's, after its \`npm run build\`, for before/after figures)
  --no-pin               do not pin with taskset
  --out DIR              results directory                               (default bench/results)
  -h, --help

stdout: the Markdown table, then "registrar/ceiling W1 ratio: X" as the last line.
stderr: progress.`

const WEB_CLIENT = {
  redirect_uris: ['https://app.example.com/callback', 'https://app.example.com/silent-callback'],
  client_name: 'Example Web App',
  grant_types: ['authorization_code', 'refresh_token'],
  token_endpoint_auth_method: 'client_secret_basic',
}
const W1_BODY = JSON.stringify(WEB_CLIENT)
const W3_BODY = JSON.stringify({
  ...WEB_CLIENT,
  redirect_uris: ['https://app.example.com/callback', 'https://app.example.com/callback#fragment'],
})
const JSON_HEADERS = { 'content-type': 'application/json' }
const READ_CLIENTS = 1000

interface Options {
  quick: boolean
  stores: StoreKind[]
  workloads: WorkloadId[]
  duration: number
  warmup: number
  reps: number
  connections: number
  scaleClients: number
  logLevel: string
  postgresUrl: string
  sqliteDir: string
  cpuProf?: string
  bin: string
  against?: string
  pin: boolean
  out: string
}

function options(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      stores: { type: 'string' },
      workloads: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      reps: { type: 'string' },
      connections: { type: 'string' },
      'scale-clients': { type: 'string' },
      'log-level': { type: 'string' },
      'postgres-url': { type: 'string' },
      'sqlite-dir': { type: 'string' },
      'cpu-prof': { type: 'string' },
      bin: { type: 'string' },
      against: { type: 'string' },
      'no-pin': { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  })
  if (values.help) return undefined
  const quick = values.quick ?? false
  const list = <T extends string>(value: string | undefined, allowed: T[], fallback: T[]): T[] => {
    if (value === undefined) return fallback
    const items = value.split(',').map((s) => s.trim()) as T[]
    for (const item of items) {
      if (!allowed.includes(item)) throw new Error(`'${item}' is not one of ${allowed.join(', ')}`)
    }
    return items
  }
  const number = (value: string | undefined, fallback: number, min: number): number => {
    if (value === undefined) return fallback
    const n = Number(value)
    if (!Number.isFinite(n) || n < min) throw new Error(`'${value}' must be a number ≥ ${min}`)
    return n
  }
  const against = values.against === undefined ? undefined : resolve(values.against)
  const workloads = list<WorkloadId>(
    values.workloads,
    ['W1', 'W2', 'W3', 'W4', 'W5', 'W6', 'W7'],
    quick ? ['W1'] : ['W1', 'W2', 'W3', 'W4', 'W5', 'W6', 'W7'],
  ).filter((w) => !(against && (w === 'W4' || w === 'W5' || w === 'W6' || w === 'W7')))
  return {
    quick,
    stores: list(
      values.stores,
      ['memory', 'sqlite', 'postgres'],
      quick ? ['memory', 'sqlite'] : ['memory', 'sqlite', 'postgres'],
    ),
    workloads,
    duration: number(values.duration, quick ? 5 : 10, 1),
    warmup: number(values.warmup, quick ? 1 : 2, 0),
    reps: Math.floor(number(values.reps, quick ? 1 : 3, 1)),
    connections: Math.floor(number(values.connections, 50, 1)),
    scaleClients: Math.floor(number(values['scale-clients'], 100_000, READ_CLIENTS + 1000)),
    logLevel: values['log-level'] ?? 'info',
    postgresUrl:
      values['postgres-url'] ??
      process.env.REGISTRAR_BENCH_POSTGRES_URL ??
      'postgres://postgres@127.0.0.1:5432/postgres',
    sqliteDir: resolve(values['sqlite-dir'] ?? tmpdir()),
    ...(values['cpu-prof'] !== undefined && { cpuProf: resolve(values['cpu-prof']) }),
    bin: resolve(values.bin ?? BIN),
    ...(against !== undefined && { against }),
    pin: !values['no-pin'],
    out: resolve(values.out ?? join(ROOT, 'bench/results')),
  }
}

const log = (line: string) => process.stderr.write(`${line}\n`)

/** Everything to undo if the run is interrupted. */
const cleanups = new Set<() => Promise<void> | void>()
async function cleanUp(): Promise<void> {
  for (const fn of [...cleanups].reverse()) {
    try {
      await fn()
    } catch (err) {
      log(`cleanup: ${(err as Error).message}`)
    }
  }
  cleanups.clear()
}

class StoreUnavailable extends Error {}

/**
 * A registrar over a fresh store and the "A" side it is compared with, both freshly started: the
 * ceiling, or (with --against) another registrar over its own fresh store.
 */
interface Session {
  registrar: RunningServer
  ceiling: RunningServer
  storeUrl: string
  close(): Promise<void>
}

interface Context {
  opts: Options
  pinning: Pinning
  scripts: { ceiling: string; serverWithGc: string; asServer: string }
  sqliteDir: string
  sessions: number
}

async function openSession(kind: StoreKind, group: string, ctx: Context): Promise<Session> {
  const undo: (() => Promise<void> | void)[] = []
  const close = async () => {
    for (const fn of undo.reverse()) await fn()
    cleanups.delete(close)
  }
  cleanups.add(close)
  try {
    const freshStore = async (): Promise<string> => {
      if (kind === 'sqlite') {
        const path = join(ctx.sqliteDir, `registrar-${++ctx.sessions}.db`)
        undo.push(() => {
          for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true })
        })
        return `sqlite:${path}`
      }
      if (kind === 'postgres') {
        let db: Awaited<ReturnType<typeof createScratchDatabase>>
        try {
          db = await createScratchDatabase(ctx.opts.postgresUrl)
        } catch (err) {
          throw new StoreUnavailable(
            `cannot create a database at ${redact(ctx.opts.postgresUrl)}: ${(err as Error).message}`,
          )
        }
        undo.push(() => db.drop())
        return db.url
      }
      return 'memory'
    }
    const profile = (name: string) => {
      if (!ctx.opts.cpuProf) return []
      const dir = join(ctx.opts.cpuProf, name)
      mkdirSync(dir, { recursive: true })
      return ['--cpu-prof', `--cpu-prof-dir=${dir}`]
    }
    const startRegistrar = async (bin: string, storeUrl: string, profileName: string) => {
      const args = [bin, 'serve', '--port', '0', '--host', '127.0.0.1']
      args.push('--store', storeUrl, '--registration', 'open')
      const options = {
        pinning: ctx.pinning,
        nodeFlags: ['--expose-gc', ...profile(profileName)],
        env: { REGISTRAR_LOG_LEVEL: ctx.opts.logLevel, REGISTRAR_CONFIG: '' },
      }
      let server: RunningServer
      try {
        server = await startServer(ctx.scripts.serverWithGc, args, options)
      } catch (err) {
        if (!(err instanceof StartError)) throw err
        // the access log goes to /dev/null; start once more, listening, to learn why it failed
        try {
          server = await startServer(ctx.scripts.serverWithGc, args, {
            ...options,
            captureStderr: true,
          })
        } catch (again) {
          throw new StoreUnavailable(`registrar serve ${(again as Error).message}`)
        }
      }
      undo.push(() => server.stop())
      return server
    }
    const startAsServer = async (storeUrl: string, profileName: string) => {
      // the built package of the registrar under test
      const dist = join(dirname(dirname(ctx.opts.bin)), 'dist/index.js')
      const args = ['--dist', dist, '--store', storeUrl, '--port', '0', '--host', '127.0.0.1']
      if (group.includes('W7')) args.push('--cimd', String(READ_CLIENTS))
      let server: RunningServer
      try {
        server = await startServer(ctx.scripts.asServer, args, {
          pinning: ctx.pinning,
          nodeFlags: profile(profileName),
          captureStderr: true,
        })
      } catch (err) {
        if (!(err instanceof StartError)) throw err
        throw new StoreUnavailable(`as-server ${(err as Error).message}`)
      }
      undo.push(() => server.stop())
      return server
    }
    const against = ctx.opts.against
    const ceiling = against
      ? await startRegistrar(against, await freshStore(), `${kind}-${group}-before`)
      : await startServer(ctx.scripts.ceiling, ['--port', '0', '--host', '127.0.0.1'], {
          pinning: ctx.pinning,
          nodeFlags: profile(`${kind}-${group}-ceiling`),
        })
    if (!against) undo.push(() => ceiling.stop())
    const storeUrl = await freshStore()
    const registrar = /W5|W6|W7/.test(group)
      ? await startAsServer(storeUrl, `${kind}-${group}`)
      : await startRegistrar(ctx.opts.bin, storeUrl, `${kind}-${group}`)
    return { registrar, ceiling, storeUrl, close }
  } catch (err) {
    await close()
    throw err
  }
}

/** Warm-up, then ceiling and registrar alternately, `reps` times. */
async function interleaved(
  s: Session,
  name: string,
  requests: (server: RunningServer) => LoadRequest[],
  ctx: Context,
): Promise<{ ceiling: Aggregate; registrar: Aggregate; ratios: number[] }> {
  const { opts } = ctx
  const [aName, bName] = opts.against ? ['before', 'after'] : ['ceiling', 'registrar']
  const load = (server: RunningServer, seconds: number) => {
    if (!server.alive()) throw new Error(`${server === s.registrar ? bName : aName} exited`)
    return runLoad({
      url: server.url,
      serverPid: server.pid,
      connections: opts.connections,
      seconds,
      requests: requests(server),
    })
  }
  if (opts.warmup > 0) {
    await load(s.ceiling, opts.warmup)
    await load(s.registrar, opts.warmup)
  }
  const ceiling = []
  const registrar = []
  const ratios = []
  for (let rep = 1; rep <= opts.reps; rep++) {
    const a = await load(s.ceiling, opts.duration)
    const b = await load(s.registrar, opts.duration)
    if (!s.registrar.alive()) throw new Error(`${bName} exited (${await s.registrar.exited})`)
    ceiling.push(a)
    registrar.push(b)
    ratios.push(Math.round((b.rps / a.rps) * 1000) / 1000)
    log(
      `  ${name} ${rep}/${opts.reps}: ${aName} ${Math.round(a.rps)} req/s, ${bName} ${Math.round(b.rps)} req/s ` +
        `(${(b.rps / a.rps).toFixed(2)}; p99 ${b.p99} ms; non-2xx ${b.non2xx}; ` +
        `CPU ${pct(b.serverCpu)} ${bName}, ${pct(a.serverCpu)} ${aName}, ${pct(b.loadCpu)} load)`,
    )
  }
  return { ceiling: aggregate(ceiling), registrar: aggregate(registrar), ratios }
}

const pct = (n: number | undefined) => (n === undefined ? '?' : `${Math.round(n * 100)}%`)

/** One request to each server, to make sure the load means what it says. */
async function expect(
  server: RunningServer,
  path: string,
  init: { method: string; headers?: Record<string, string>; body?: string },
  check: (status: number, body: Record<string, unknown>) => string | undefined,
): Promise<void> {
  const res = await exchange(`${server.url}${path}`, init)
  const problem = check(res.status, (res.body ?? {}) as Record<string, unknown>)
  if (problem) {
    throw new Error(
      `check failed: ${init.method} ${path} → ${res.status} ${JSON.stringify(res.body)}: ${problem}`,
    )
  }
}

const POST_W1 = { method: 'POST', headers: JSON_HEADERS, body: W1_BODY }
const POST_W3 = { method: 'POST', headers: JSON_HEADERS, body: W3_BODY }

function targetFor(kind: StoreKind, w: WorkloadId): number | undefined {
  if (w === 'W1') return kind === 'memory' ? 0.6 : kind === 'sqlite' ? 0.45 : undefined
  if (w === 'W2' || w === 'W3') return 0.7
  // issue 10: targets on memory; SQLite and PostgreSQL read through the same in-process cache
  if (w === 'W5') return kind === 'memory' ? 0.5 : undefined
  if (w === 'W6') return kind === 'memory' ? 0.7 : undefined
  // issue 11: a cached CIMD client at least as fast as W6's registered client
  if (w === 'W7') return kind === 'memory' ? 0.7 : undefined
  return undefined
}

function result(
  ctx: Context,
  kind: StoreKind,
  w: WorkloadId,
  run: { ceiling: Aggregate; registrar: Aggregate; ratios: number[] },
  extra: Check[] = [],
): WorkloadResult {
  const ratio = Math.round((run.registrar.rps / run.ceiling.rps) * 1000) / 1000
  const a = run.ceiling.rpsPerCpu
  const b = run.registrar.rpsPerCpu
  const cpuRatio = a && b ? Math.round((b / a) * 1000) / 1000 : undefined
  const min = ctx.opts.against ? undefined : targetFor(kind, w)
  const checks: Check[] = []
  if (min !== undefined) {
    checks.push({ name: `ratio ≥ ${min.toFixed(2)}`, pass: ratio >= min, detail: ratio.toFixed(3) })
  }
  if (w !== 'W3') {
    checks.push({
      name: 'zero non-2xx',
      pass: run.registrar.non2xx === 0 && run.registrar.errors === 0,
      detail: `${run.registrar.non2xx} non-2xx, ${run.registrar.errors} errors`,
    })
  }
  checks.push(...extra)
  return {
    workload: w,
    status: 'ok',
    ceiling: run.ceiling,
    registrar: run.registrar,
    ratio,
    ...(cpuRatio !== undefined && { cpuRatio }),
    ratios: run.ratios,
    ...(min !== undefined && { target: `≥ ${min.toFixed(2)}` }),
    checks,
  }
}

async function benchStore(kind: StoreKind, ctx: Context): Promise<StoreResult> {
  const { opts } = ctx
  const store: StoreResult = { store: kind, status: 'ok', workloads: [] }
  if (kind === 'sqlite') store.fileSystem = fileSystemOf(ctx.sqliteDir)
  const groups: WorkloadId[][] = [
    opts.workloads.filter((w) => w === 'W1'),
    opts.workloads.filter((w) => w === 'W3'),
    opts.workloads.filter((w) => w === 'W2' || w === 'W4'),
    opts.workloads.filter((w) => w === 'W5' || w === 'W6' || w === 'W7'),
  ].filter((g) => g.length > 0)
  for (const group of groups) {
    const name = group.join('+')
    log(`${kind} ${name}: starting servers`)
    let s: Session
    try {
      s = await openSession(kind, name, ctx)
    } catch (err) {
      if (!(err instanceof StoreUnavailable)) throw err
      log(`${kind}: unavailable: ${err.message}`)
      return { store: kind, status: 'unavailable', reason: err.message, workloads: [] }
    }
    store.url ??= kind === 'postgres' ? redact(s.storeUrl) : s.storeUrl
    try {
      await runGroup(kind, group, s, ctx, store)
    } catch (err) {
      const reason = (err as Error).message
      log(`${kind} ${name}: failed: ${reason}`)
      for (const w of group) {
        if (!store.workloads.some((r) => r.workload === w)) {
          store.workloads.push({ workload: w, status: 'failed', reason, checks: [] })
        }
      }
    } finally {
      await s.close()
    }
  }
  return store
}

async function runGroup(
  kind: StoreKind,
  group: WorkloadId[],
  s: Session,
  ctx: Context,
  store: StoreResult,
): Promise<void> {
  const { opts } = ctx
  const label = (w: WorkloadId) => `${kind} ${WORKLOAD_LABEL[w]}`
  if (group[0] === 'W1') {
    await expect(s.registrar, '/register', POST_W1, (status, b) =>
      status === 201 && b.client_id && b.client_secret && b.registration_access_token
        ? undefined
        : 'expected 201 with client_id, client_secret, registration_access_token',
    )
    await expect(s.ceiling, '/register', POST_W1, (status, b) =>
      status === 201 && b.client_id ? undefined : 'expected 201 with a client_id',
    )
    const run = await interleaved(
      s,
      label('W1'),
      () => [{ method: 'POST', path: '/register', headers: JSON_HEADERS, body: W1_BODY }],
      ctx,
    )
    store.workloads.push(result(ctx, kind, 'W1', run))
    return
  }
  if (group[0] === 'W3') {
    await expect(s.registrar, '/register', POST_W3, (status, b) =>
      status === 400 && b.error === 'invalid_redirect_uri'
        ? undefined
        : 'expected 400 invalid_redirect_uri',
    )
    await expect(s.ceiling, '/register', POST_W3, (status) =>
      status === (opts.against ? 400 : 201) ? undefined : 'expected 201 (ceiling) or 400 (before)',
    )
    const run = await interleaved(
      s,
      label('W3'),
      () => [{ method: 'POST', path: '/register', headers: JSON_HEADERS, body: W3_BODY }],
      ctx,
    )
    const answers = run.registrar.runs.reduce((n, r) => n + r.requests, 0)
    const rejected = run.registrar.runs.reduce((n, r) => n + (r.statusCodes['400'] ?? 0), 0)
    store.workloads.push(
      result(ctx, kind, 'W3', run, [
        {
          name: 'every answer is 400',
          pass: rejected === answers && run.registrar.errors === 0,
          detail: `${rejected} of ${answers}`,
        },
      ]),
    )
    return
  }

  if (group[0] === 'W5' || group[0] === 'W6' || group[0] === 'W7') {
    await runAsSide(kind, group, s, ctx, store)
    return
  }

  // W2 (and W4 on the same server)
  log(`${kind}: registering ${READ_CLIENTS} clients`)
  const seed = await registerClients(s.registrar.url, W1_BODY, READ_CLIENTS, {
    concurrency: opts.connections,
  })
  // with --against the "before" registrar has clients of its own; the ceiling takes any id
  const seedA = opts.against
    ? await registerClients(s.ceiling.url, W1_BODY, READ_CLIENTS, { concurrency: opts.connections })
    : seed
  const reads = (clients: Registered[], clientsA: Registered[]) => (server: RunningServer) => {
    const list = server === s.registrar ? clients : clientsA
    let k = 0
    return [
      {
        method: 'GET' as const,
        setupRequest: (req: LoadRequest) => {
          const c = list[k++ % list.length] as Registered
          return {
            ...req,
            path: `/register/${c.client_id}`,
            headers: { authorization: `Bearer ${c.registration_access_token}` },
          }
        },
      },
    ]
  }
  const first = seed.kept[0] as Registered
  const readCheck = async (server: RunningServer, c: Registered) => {
    const init = {
      method: 'GET',
      headers: { authorization: `Bearer ${c.registration_access_token}` },
    }
    await expect(server, `/register/${c.client_id}`, init, (status, b) =>
      status === 200 && b.client_id === c.client_id ? undefined : 'expected 200 with the client',
    )
  }
  await readCheck(s.registrar, first)
  await readCheck(s.ceiling, seedA.kept[0] as Registered)
  let w2: WorkloadResult | undefined
  if (group.includes('W2')) {
    w2 = result(
      ctx,
      kind,
      'W2',
      await interleaved(s, label('W2'), reads(seed.kept, seedA.kept), ctx),
    )
    store.workloads.push(w2)
  }
  if (!group.includes('W4')) return

  const more = opts.scaleClients - READ_CLIENTS
  const step = Math.floor(more / READ_CLIENTS)
  const before = await s.registrar.memory()
  log(`${kind}: registering ${more} more clients (${opts.scaleClients} in all)`)
  const load = await registerClients(s.registrar.url, W1_BODY, more, {
    concurrency: opts.connections,
    keep: (i) => i % step === 0 && i / step < READ_CLIENTS,
  })
  const after = await s.registrar.memory()
  const heap = (m: NodeJS.MemoryUsage) => m.heapUsed + m.external
  const scale = {
    clients: opts.scaleClients,
    registeredSeconds: Math.round(load.seconds * 10) / 10,
    registeredPerSecond: Math.round(more / load.seconds),
    heapBytesPerClient: Math.round((heap(after) - heap(before)) / more),
    rssBytesPerClient: Math.round((after.rss - before.rss) / more),
    before,
    after,
  }
  log(
    `${kind}: ${more} clients in ${scale.registeredSeconds} s; ${scale.heapBytesPerClient} B heap+external, ` +
      `${scale.rssBytesPerClient} B RSS per client`,
  )
  await readCheck(s.registrar, load.kept[0] as Registered)
  const run = await interleaved(s, label('W4'), reads(load.kept, load.kept), ctx)
  const vsW2 = w2?.registrar
    ? Math.round((run.registrar.rps / w2.registrar.rps) * 1000) / 1000
    : undefined
  const perCpu = (a?: number, b?: number) =>
    a && b ? Math.round((a / b) * 1000) / 1000 : undefined
  const vsW2PerCpu = perCpu(run.registrar.rpsPerCpu, w2?.registrar?.rpsPerCpu)
  const extra: Check[] = []
  if (vsW2 !== undefined) {
    extra.push({ name: 'within 10 % of W2 at 1k', pass: vsW2 >= 0.9, detail: vsW2.toFixed(3) })
  }
  if (kind === 'memory') {
    extra.push({
      name: '≤ 2 KiB per client',
      pass: scale.heapBytesPerClient <= 2048,
      detail: `${scale.heapBytesPerClient} B`,
    })
  }
  const w4 = result(ctx, kind, 'W4', run, extra)
  w4.scale = {
    ...scale,
    ...(vsW2 !== undefined && { vsW2 }),
    ...(vsW2PerCpu !== undefined && { vsW2PerCpu }),
  }
  if (vsW2 !== undefined) w4.target = '≥ 0.90 × W2'
  store.workloads.push(w4)
}

const FORM_HEADERS = { 'content-type': 'application/x-www-form-urlencoded' }
const TOKEN_BODY = 'grant_type=client_credentials'
const REDIRECT_URI = WEB_CLIENT.redirect_uris[0] as string

/**
 * W5 and W6 on the AS server (bench/as-server.ts) over 1,000 clients registered through it: token
 * requests with client_secret_basic, and authorization-endpoint lookups. The ceiling answers the
 * same requests with 200 after parsing the form (W5) or at once (W6).
 */
async function runAsSide(
  kind: StoreKind,
  group: WorkloadId[],
  s: Session,
  ctx: Context,
  store: StoreResult,
): Promise<void> {
  const { opts } = ctx
  log(`${kind}: registering ${READ_CLIENTS} clients`)
  const seed = await registerClients(s.registrar.url, W1_BODY, READ_CLIENTS, {
    concurrency: opts.connections,
  })
  const basic = seed.kept.map(
    (c) =>
      `Basic ${Buffer.from(`${c.client_id}:${encodeURIComponent(c.client_secret as string)}`).toString('base64')}`,
  )
  const authorize = seed.kept.map(
    (c) => `/authorize?client_id=${c.client_id}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`,
  )
  const first = seed.kept[0] as Registered
  for (const server of [s.registrar, s.ceiling]) {
    await expect(
      server,
      '/token',
      {
        method: 'POST',
        headers: { ...FORM_HEADERS, authorization: basic[0] as string },
        body: TOKEN_BODY,
      },
      (status) => (status === 200 ? undefined : 'expected 200'),
    )
    await expect(server, authorize[0] as string, { method: 'GET' }, (status) =>
      status === 200 ? undefined : 'expected 200',
    )
  }
  await expect(
    s.registrar,
    '/token',
    {
      method: 'POST',
      headers: { ...FORM_HEADERS, authorization: basic[1] as string },
      body: TOKEN_BODY,
    },
    (status, b) =>
      status === 200 && b.client_id === seed.kept[1]?.client_id ? undefined : 'expected the client',
  )
  await expect(
    s.registrar,
    `/authorize?client_id=${first.client_id}&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`,
    { method: 'GET' },
    (status) => (status === 400 ? undefined : 'expected 400 for a foreign redirect URI'),
  )
  const label = (w: WorkloadId) => `${kind} ${WORKLOAD_LABEL[w]}`
  if (group.includes('W5')) {
    let k = 0
    const requests = () => [
      {
        method: 'POST' as const,
        path: '/token',
        body: TOKEN_BODY,
        setupRequest: (req: LoadRequest) => ({
          ...req,
          headers: { ...FORM_HEADERS, authorization: basic[k++ % basic.length] as string },
        }),
      },
    ]
    store.workloads.push(result(ctx, kind, 'W5', await interleaved(s, label('W5'), requests, ctx)))
  }
  if (group.includes('W6')) {
    let k = 0
    const requests = () => [
      {
        method: 'GET' as const,
        setupRequest: (req: LoadRequest) => ({ ...req, path: authorize[k++ % authorize.length] }),
      },
    ]
    store.workloads.push(result(ctx, kind, 'W6', await interleaved(s, label('W6'), requests, ctx)))
  }
  if (group.includes('W7')) {
    // the URLs bench/as-server.ts seeds with --cimd N
    const documents = Array.from(
      { length: READ_CLIENTS },
      (_, i) =>
        `/authorize?client_id=${encodeURIComponent(`https://cimd.bench.example/clients/${i}.json`)}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`,
    )
    await expect(s.registrar, documents[0] as string, { method: 'GET' }, (status) =>
      status === 200 ? undefined : 'expected 200 for a cached metadata document client',
    )
    let k = 0
    const requests = () => [
      {
        method: 'GET' as const,
        setupRequest: (req: LoadRequest) => ({ ...req, path: documents[k++ % documents.length] }),
      },
    ]
    store.workloads.push(result(ctx, kind, 'W7', await interleaved(s, label('W7'), requests, ctx)))
  }
}

/** The commit of the checkout that `bin` belongs to. */
function git(bin: string): { commit?: string; dirty?: boolean } {
  const cwd = dirname(dirname(bin))
  try {
    const quiet: ExecFileSyncOptionsWithStringEncoding = {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], quiet).trim()
    const dirty =
      execFileSync(
        'git',
        ['status', '--porcelain', '--', 'src', 'bin', 'package.json'],
        quiet,
      ).trim() !== ''
    return { commit, dirty }
  } catch {
    return {}
  }
}

async function main(): Promise<number> {
  let opts: Options | undefined
  try {
    opts = options(process.argv.slice(2))
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n\n${HELP}\n`)
    return 2
  }
  if (!opts) {
    process.stdout.write(`${HELP}\n`)
    return 0
  }
  const startedAt = new Date()
  const machine = machineInfo()
  const pinning = pinLoadGenerator(opts.pin)
  log(
    `bench: ${machine.cpuModel}, ${machine.cores} cores, load ${machine.loadavg.join(' ')}; ` +
      (pinning.used
        ? `load generator on CPU ${pinning.loadCpu}, servers on CPU ${pinning.serverCpu}`
        : `not pinned: ${pinning.reason}`),
  )
  const scripts = prepareScripts()
  cleanups.add(scripts.cleanup)
  mkdirSync(opts.sqliteDir, { recursive: true })
  const sqliteDir = mkdtempSync(join(opts.sqliteDir, 'registrar-bench-'))
  cleanups.add(() => rmSync(sqliteDir, { recursive: true, force: true }))
  const ctx: Context = { opts, pinning, scripts, sqliteDir, sessions: 0 }

  const stores: StoreResult[] = []
  for (const kind of opts.stores) stores.push(await benchStore(kind, ctx))
  await cleanUp()

  const { cpuProf: _cpuProf, out: _out, ...shown } = opts
  const result: BenchResult = {
    version: 1,
    mode: opts.quick ? 'quick' : 'full',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    git: git(opts.bin),
    baseline: opts.against
      ? { kind: 'registrar', bin: opts.against, git: git(opts.against) }
      : { kind: 'ceiling' },
    options: { ...shown, postgresUrl: redact(opts.postgresUrl) },
    machine: { ...machine, loadavgAtEnd: machineInfo().loadavg, pinning },
    stores,
  }
  const markdown = renderMarkdown(result)
  mkdirSync(opts.out, { recursive: true })
  const stamp = startedAt
    .toISOString()
    .replace(/:/g, '-')
    .replace(/\.\d+Z$/, 'Z')
  const suffix = opts.quick ? '-quick' : ''
  const jsonPath = join(opts.out, `${stamp}${suffix}.json`)
  writeFileSync(jsonPath, `${JSON.stringify(result, null, 2)}\n`)
  writeFileSync(join(opts.out, `latest${suffix}.md`), markdown)
  log(`bench: wrote ${jsonPath} in ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s`)

  const w1 =
    stores.find((s) => s.store === 'memory')?.workloads.find((w) => w.workload === 'W1') ??
    stores.flatMap((s) => s.workloads).find((w) => w.workload === 'W1')
  process.stdout.write(`${markdown}\n`)
  process.stdout.write(
    `registrar/${opts.against ? 'before' : 'ceiling'} W1 ratio: ${w1?.ratio !== undefined ? w1.ratio.toFixed(2) : 'n/a'}\n`,
  )
  return 0
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`bench: ${signal}, cleaning up`)
    cleanUp().finally(() => process.exit(130))
  })
}

main().then(
  (code) => {
    process.exitCode = code
  },
  async (err) => {
    log(`bench: ${(err as Error).stack ?? err}`)
    await cleanUp()
    process.exitCode = 1
  },
)
