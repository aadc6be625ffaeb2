// Summarises V8 .cpuprofile files (from `npm run bench -- --cpu-prof DIR`, or any
// `node --cpu-prof`): busy time by area, then the top functions by self and by inclusive time.
//
//   tsx bench/profile-summary.ts DIR_OR_FILE... [--top N] [--callers TEXT]
//
// --callers TEXT: also shows, for functions whose name or location contains TEXT, where they
// were called from (immediate caller, by inclusive time).
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

const ROOT = new URL('..', import.meta.url).pathname

const { values, positionals } = parseArgs({
  options: { top: { type: 'string', default: '25' }, callers: { type: 'string' } },
  allowPositionals: true,
})
const top = Number(values.top)
const files = positionals.flatMap((p) =>
  statSync(p).isDirectory()
    ? readdirSync(p)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(p, f))
    : [p],
)
if (files.length === 0) {
  process.stderr.write('usage: tsx bench/profile-summary.ts DIR_OR_FILE... [--top N]\n')
  process.exit(2)
}

function where(frame: CallFrame): string {
  const url = frame.url
    .replace(/^file:\/\//, '')
    .replace(ROOT, '')
    .replace(/^.*\/node_modules\//, 'node_modules/')
  if (!url) return ''
  return `${url}:${frame.lineNumber + 1}`
}

function area(frame: CallFrame): string {
  const name = frame.functionName
  if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') return name
  const url = frame.url
  if (url === '') return '(native / builtins)'
  if (url.startsWith('node:')) {
    const m = /^node:(?:internal\/)?([^/]+)/.exec(url)
    return `node:${m?.[1] ?? url}`
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (pkg) return `npm:${pkg[1]}`
  const local = url.replace(/^file:\/\//, '').replace(ROOT, '')
  return local.replace(/^dist\//, 'registrar:').replace(/\.js$/, '')
}

const self = new Map<string, number>()
const inclusive = new Map<string, number>()
const areas = new Map<string, number>()
const callers = new Map<string, number>()
let total = 0
let idle = 0

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const { samples, timeDeltas } = profile
  for (let i = 0; i < samples.length; i++) {
    // the time until the next sample is spent where this sample was taken
    const us = timeDeltas[i + 1] ?? 0
    const node = byId.get(samples[i] as number)
    if (!node) continue
    total += us
    const frame = node.callFrame
    if (frame.functionName === '(idle)') {
      idle += us
      continue
    }
    const key = `${frame.functionName || '(anonymous)'} ${where(frame)}`
    self.set(key, (self.get(key) ?? 0) + us)
    areas.set(area(frame), (areas.get(area(frame)) ?? 0) + us)
    if (values.callers) {
      // the innermost frame on the stack that matches, and its caller
      for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
        const f = (byId.get(id) as ProfileNode).callFrame
        const k = `${f.functionName || '(anonymous)'} ${where(f)}`
        if (!k.includes(values.callers)) continue
        const up = parent.get(id)
        const c = up === undefined ? undefined : byId.get(up)?.callFrame
        const edge = c ? `${k} ← ${c.functionName || '(anonymous)'} ${where(c)}` : k
        callers.set(edge, (callers.get(edge) ?? 0) + us)
        break
      }
    }
    const seen = new Set<string>()
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const f = (byId.get(id) as ProfileNode).callFrame
      if (f.functionName === '(root)') break
      const k = `${f.functionName || '(anonymous)'} ${where(f)}`
      if (seen.has(k)) continue
      seen.add(k)
      inclusive.set(k, (inclusive.get(k) ?? 0) + us)
    }
  }
}

const busy = total - idle
const pct = (us: number) => `${((us / busy) * 100).toFixed(1).padStart(5)} %`
const ms = (us: number) => `${Math.round(us / 1000)}`.padStart(7)
const table = (title: string, map: Map<string, number>, n: number) => {
  const rows = [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, n)
  return [
    `## ${title}`,
    '',
    '```',
    ...rows.map(([k, us]) => `${pct(us)} ${ms(us)} ms  ${k}`),
    '```',
    '',
  ].join('\n')
}

process.stdout.write(
  [
    `# CPU profile: ${files.length} file(s)`,
    '',
    `Sampled ${(total / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (idle ${(idle / 1e6).toFixed(1)} s). Percentages are of busy time.`,
    '',
    table('Busy time by area (self time)', areas, 30),
    table(`Top ${top} functions by self time`, self, top),
    table(`Top ${top} functions by inclusive time`, inclusive, top),
    ...(values.callers
      ? [table(`Callers of '${values.callers}' (inclusive time)`, callers, top)]
      : []),
  ].join('\n'),
)
