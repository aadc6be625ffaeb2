// The result model and its Markdown rendering.
import type { RunStats } from './load.js'
import type { MachineInfo, Pinning } from './servers.js'

export type StoreKind = 'memory' | 'sqlite' | 'postgres'
export type WorkloadId = 'W1' | 'W2' | 'W3' | 'W4' | 'W5' | 'W6' | 'W7'

export const WORKLOAD_LABEL: Record<WorkloadId, string> = {
  W1: 'W1 register',
  W2: 'W2 read @1k',
  W3: 'W3 reject',
  W4: 'W4 read @scale',
  W5: 'W5 authenticate @1k',
  W6: 'W6 lookup @1k',
  W7: 'W7 CIMD lookup @1k',
}

/** Medians over the repetitions of one server's runs (non-2xx and errors: sums). */
export interface Aggregate {
  rps: number
  p50: number
  p99: number
  non2xx: number
  errors: number
  serverCpu?: number
  /** Median of req/s ÷ the server's CPU share: work per CPU-second, robust to a busy machine. */
  rpsPerCpu?: number
  loadCpu: number
  runs: RunStats[]
}

export interface Check {
  name: string
  pass: boolean
  detail?: string
}

export interface WorkloadResult {
  workload: WorkloadId
  status: 'ok' | 'failed'
  reason?: string
  registrar?: Aggregate
  ceiling?: Aggregate
  /** median registrar req/s ÷ median ceiling req/s */
  ratio?: number
  /** rpsPerCpu of the registrar ÷ rpsPerCpu of the ceiling */
  cpuRatio?: number
  /** per repetition, registrar ÷ the ceiling run just before it */
  ratios?: number[]
  target?: string
  checks: Check[]
  /** W4 only */
  scale?: ScaleResult
}

export interface ScaleResult {
  clients: number
  registeredSeconds: number
  registeredPerSecond: number
  /** Δ(heapUsed + external) ÷ clients registered between the two samples, after full GCs. */
  heapBytesPerClient: number
  rssBytesPerClient: number
  before: NodeJS.MemoryUsage
  after: NodeJS.MemoryUsage
  /** W2 req/s at scale ÷ W2 req/s at 1,000 clients, same process. */
  vsW2?: number
  /** The same for requests per CPU-second of the server. */
  vsW2PerCpu?: number
}

export interface StoreResult {
  store: StoreKind
  status: 'ok' | 'unavailable'
  reason?: string
  /** The store URL given to the first server (passwords redacted). */
  url?: string
  fileSystem?: string
  workloads: WorkloadResult[]
}

export interface BenchResult {
  version: 1
  mode: 'full' | 'quick'
  startedAt: string
  finishedAt: string
  git: { commit?: string; dirty?: boolean }
  /** What the registrar is compared with: the ceiling, or (--against) another registrar. */
  baseline:
    | { kind: 'ceiling' }
    | { kind: 'registrar'; bin: string; git: { commit?: string; dirty?: boolean } }
  options: Record<string, unknown>
  machine: MachineInfo & { loadavgAtEnd: number[]; pinning: Pinning }
  stores: StoreResult[]
}

export function aggregate(runs: RunStats[]): Aggregate {
  const cpu = runs.map((r) => r.serverCpu).filter((c): c is number => c !== undefined)
  const perCpu = runs.flatMap((r) => (r.serverCpu ? [r.rps / r.serverCpu] : []))
  return {
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    non2xx: runs.reduce((s, r) => s + r.non2xx, 0),
    errors: runs.reduce((s, r) => s + r.errors, 0),
    ...(cpu.length > 0 && { serverCpu: median(cpu) }),
    ...(perCpu.length > 0 && { rpsPerCpu: Math.round(median(perCpu)) }),
    loadCpu: median(runs.map((r) => r.loadCpu)),
    runs,
  }
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN
  const s = [...values].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

const int = (n: number) => Math.round(n).toLocaleString('en-US')
const pct = (n: number | undefined) => (n === undefined ? '–' : `${Math.round(n * 100)} %`)

export function renderMarkdown(result: BenchResult): string {
  const m = result.machine
  const pin = m.pinning.used
    ? `load generator on CPU ${m.pinning.loadCpu}, servers on CPU ${m.pinning.serverCpu} (taskset)`
    : `not pinned (${m.pinning.reason})`
  const o = result.options
  const b = result.baseline
  const before = b.kind === 'ceiling' ? 'ceiling' : 'before'
  const short = (g: { commit?: string; dirty?: boolean }) =>
    `${g.commit?.slice(0, 12) ?? 'unknown'}${g.dirty ? ' (with uncommitted changes)' : ''}`
  const lines = [
    `# Registrar benchmark (${result.mode}), ${result.startedAt}`,
    '',
    `- Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}`,
    `- Load average at start ${m.loadavg.join(' ')}, at end ${m.loadavgAtEnd.join(' ')}`,
    `- Pinning: ${pin}`,
    `- autocannon: ${o.connections} connections, ${o.duration} s per run after a ${o.warmup} s warm-up; ` +
      `${before} and registrar interleaved (A B × ${o.reps}), medians; access log at '${o.logLevel}' to /dev/null`,
    b.kind === 'ceiling'
      ? `- Commit ${short(result.git)}`
      : `- After: ${o.bin} at ${short(result.git)}; before: ${b.bin} at ${short(b.git)}. Ratio = after ÷ before`,
    '',
    `| store | workload | req/s | p50 ms | p99 ms | non-2xx | ${before} req/s | ratio | target | CPU registrar / ${before} | ratio per CPU-s |`,
    '|---|---|--:|--:|--:|--:|--:|--:|---|---|--:|',
  ]
  const scale: string[] = []
  for (const s of result.stores) {
    if (s.status === 'unavailable') {
      lines.push(`| ${s.store} | – | unavailable: ${cell(s.reason ?? '')} | | | | | | | | |`)
      continue
    }
    for (const w of s.workloads) {
      const label = WORKLOAD_LABEL[w.workload]
      if (w.status === 'failed' || !w.registrar || !w.ceiling) {
        lines.push(`| ${s.store} | ${label} | failed: ${cell(w.reason ?? '')} | | | | | | | | |`)
        continue
      }
      const r = w.registrar
      const errors = r.errors > 0 ? ` (+${r.errors} errors)` : ''
      const verdict = w.checks.length === 0 ? '' : w.checks.every((c) => c.pass) ? ' ✓' : ' ✗'
      lines.push(
        `| ${s.store} | ${label} | ${int(r.rps)} | ${r.p50} | ${r.p99} | ${int(r.non2xx)}${errors} | ` +
          `${int(w.ceiling.rps)} | ${w.ratio?.toFixed(2)} | ${w.target ?? ''}${verdict} | ` +
          `${pct(r.serverCpu)} / ${pct(w.ceiling.serverCpu)} | ${w.cpuRatio?.toFixed(2) ?? '–'} |`,
      )
      if (w.scale) {
        const sc = w.scale
        scale.push(
          `| ${s.store} | ${int(sc.clients)} | ${sc.registeredSeconds.toFixed(1)} s (${int(sc.registeredPerSecond)}/s) | ` +
            `${int(sc.heapBytesPerClient)} B | ${int(sc.rssBytesPerClient)} B | ${sc.vsW2?.toFixed(2) ?? '–'} | ` +
            `${sc.vsW2PerCpu?.toFixed(2) ?? '–'} |`,
        )
      }
    }
  }
  if (scale.length > 0) {
    lines.push(
      '',
      '| store | clients | registered in | heap + external per client | RSS per client | W2 at scale ÷ W2 at 1k | the same per CPU-s |',
      '|---|--:|--:|--:|--:|--:|--:|',
      ...scale,
    )
  }
  const failed = result.stores.flatMap((s) =>
    s.workloads.flatMap((w) =>
      w.checks
        .filter((c) => !c.pass)
        .map((c) => `${s.store} ${w.workload}: ${c.name}${c.detail ? ` (${c.detail})` : ''}`),
    ),
  )
  if (b.kind === 'registrar') {
    lines.push(
      '',
      'Ratio: median "after" req/s ÷ median "before" req/s, the two registrars interleaved in the same run, ' +
        'each over its own fresh store. Ratio per CPU-s: the same for requests per CPU-second of each server.',
    )
  } else
    lines.push(
      '',
      'Ratio: median registrar req/s ÷ median ceiling req/s (a bare `node:http` server that parses the ' +
        'same JSON body and answers 201 with a random 256-bit id, 200 to a form POST (W5) or to a GET), ' +
        'measured in the same run. W5, W6 and W7 run an AS token and authorization endpoint on the built ' +
        'package (bench/as-server.ts): authenticateClient (client_secret_basic), getClient + matchRedirectUri. ' +
        'Ratio per CPU-s: the same ratio for requests per CPU-second of the server process ' +
        '(from /proc), which a busy machine disturbs less. W3 answers are 400 by design; its non-2xx ' +
        'count is every request. Memory per client: ' +
        'Δ(heapUsed + external) of the server process after full GCs, before and after registering ' +
        'the scale clients, ÷ their number (the SQLite page cache and PostgreSQL live outside the V8 heap; see RSS).',
    )
  const unsaturated = result.stores.flatMap((s) =>
    s.workloads.flatMap((w) =>
      w.ceiling?.serverCpu !== undefined && w.ceiling.serverCpu < 0.9
        ? [`${s.store} ${w.workload} (${pct(w.ceiling.serverCpu)})`]
        : [],
    ),
  )
  if (unsaturated.length > 0) {
    lines.push(
      '',
      `The ${before} ran below 90 % CPU in ${unsaturated.join(', ')}: something else (the load ` +
        'generator, or other processes on the machine) set the pace, so the plain ratio there ' +
        'overstates the registrar; prefer the ratio per CPU-s.',
    )
  }
  if (failed.length > 0) lines.push('', 'Targets missed:', '', ...failed.map((f) => `- ${f}`))
  return `${lines.join('\n')}\n`
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}
