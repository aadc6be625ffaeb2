// Starting, pinning and stopping the two servers under test, and the facts about the machine that
// go into every result.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import ts from 'typescript'

export const ROOT = new URL('..', import.meta.url).pathname.replace(/\/$/, '')
export const BIN = join(ROOT, 'bin/registrar.js')

/** Where the load generator and the servers run. */
export interface Pinning {
  used: boolean
  /** CPU of the harness process, which drives autocannon. */
  loadCpu?: number
  /** CPU of each server under test (ceiling and registrar, never both running a load at once). */
  serverCpu?: number
  reason?: string
}

/**
 * With 2+ cores and `taskset`, pins this process (all its threads, and so autocannon) to the first
 * allowed CPU and reserves the second for the servers.
 */
export function pinLoadGenerator(enabled: boolean): Pinning {
  if (!enabled) return { used: false, reason: 'disabled with --no-pin' }
  const cores = availableParallelism()
  if (cores < 2) return { used: false, reason: `only ${cores} core` }
  let allowed: number[]
  try {
    const out = execFileSync('taskset', ['-cp', String(process.pid)], { encoding: 'utf8' })
    allowed = parseCpuList(out.slice(out.lastIndexOf(':') + 1))
  } catch {
    return { used: false, reason: 'taskset not found' }
  }
  const [loadCpu, serverCpu] = allowed
  if (loadCpu === undefined || serverCpu === undefined) {
    return { used: false, reason: `this process may run on CPU ${allowed.join(',')} only` }
  }
  execFileSync('taskset', ['-a', '-cp', String(loadCpu), String(process.pid)], { stdio: 'ignore' })
  return { used: true, loadCpu, serverCpu }
}

function parseCpuList(list: string): number[] {
  return list
    .trim()
    .split(',')
    .flatMap((part) => {
      const [a, b] = part.split('-').map(Number)
      if (a === undefined || Number.isNaN(a)) return []
      if (b === undefined) return [a]
      return Array.from({ length: b - a + 1 }, (_, i) => a + i)
    })
}

export interface MachineInfo {
  cpuModel: string
  cores: number
  memoryGiB: number
  node: string
  kernel: string
  loadavg: number[]
}

export function machineInfo(): MachineInfo {
  let cpuModel = cpus()[0]?.model ?? 'unknown'
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))
    if (m?.[1]) cpuModel = m[1]
  } catch {
    // not Linux: os.cpus() is all there is
  }
  return {
    cpuModel,
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: release(),
    loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
  }
}

/** The file system type of the mount holding `path` (tmpfs would make fsync free). */
export function fileSystemOf(path: string): string {
  try {
    let best = { mount: '', type: 'unknown' }
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [, mount, type] = line.split(' ')
      if (!mount || !type) continue
      const inside = path === mount || path.startsWith(mount.endsWith('/') ? mount : `${mount}/`)
      if (inside && mount.length >= best.mount.length) best = { mount, type }
    }
    return best.type
  } catch {
    return 'unknown'
  }
}

/**
 * The two server scripts are TypeScript; they are transpiled once into a temporary directory and
 * run by plain `node`, so no loader (tsx) sits inside a process under measurement.
 */
export function prepareScripts(): {
  ceiling: string
  serverWithGc: string
  asServer: string
  cleanup: () => void
} {
  const dir = mkdtempSync(join(tmpdir(), 'registrar-bench-js-'))
  const out = (name: string) => {
    const source = readFileSync(join(ROOT, 'bench', `${name}.ts`), 'utf8')
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      fileName: `${name}.ts`,
    })
    const path = join(dir, `${name}.mjs`)
    writeFileSync(path, outputText)
    return path
  }
  return {
    ceiling: out('ceiling'),
    serverWithGc: out('server-with-gc'),
    asServer: out('as-server'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  }
}

/** A server started by {@link startServer}. */
export interface RunningServer {
  url: string
  pid: number
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<string>
  /** Whether the process is still running. */
  alive(): boolean
  /** process.memoryUsage() after full GCs (registrar started through server-with-gc only). */
  memory(): Promise<NodeJS.MemoryUsage>
  /** SIGTERM, then SIGKILL after 15 s. */
  stop(): Promise<void>
}

/** The server exited (or never printed its listening line): what it said on stderr. */
export class StartError extends Error {}

/**
 * Starts `node [nodeFlags] script [args]` on the servers' CPU and resolves once it prints
 * `listening on http://HOST:PORT`. stdout is read for that line only; stderr (the access log) goes
 * to /dev/null unless `captureStderr`.
 */
export async function startServer(
  script: string,
  args: string[],
  options: {
    pinning: Pinning
    nodeFlags?: string[]
    env?: Record<string, string>
    captureStderr?: boolean
    timeoutMs?: number
  },
): Promise<RunningServer> {
  const nodeArgs = [...(options.nodeFlags ?? []), script, ...args]
  const [command, commandArgs] = options.pinning.used
    ? ['taskset', ['-c', String(options.pinning.serverCpu), process.execPath, ...nodeArgs]]
    : [process.execPath, nodeArgs]
  const proc: ChildProcess = spawn(command as string, commandArgs as string[], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', options.captureStderr ? 'pipe' : 'ignore', 'ipc'],
  })
  let stdout = ''
  let stderr = ''
  proc.stdout?.setEncoding('utf8')
  proc.stderr?.setEncoding('utf8')
  proc.stderr?.on('data', (d: string) => {
    if (stderr.length < 64 * 1024) stderr += d
  })
  const exited = new Promise<string>((resolve) =>
    proc.once('exit', (code, signal) => resolve(signal ?? `exit code ${code}`)),
  )
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL')
      reject(new StartError(`did not print its listening line within ${options.timeoutMs}ms`))
    }, options.timeoutMs ?? 30_000)
    const onData = (d: string) => {
      stdout += d
      const m = /listening on (http:\/\/[^\s]+)/.exec(stdout)
      if (m?.[1]) {
        clearTimeout(timer)
        proc.stdout?.off('data', onData)
        proc.stdout?.resume() // keep draining, discard
        resolve(m[1].replace(/\/$/, ''))
      }
    }
    proc.stdout?.on('data', onData)
    exited.then((how) => {
      clearTimeout(timer)
      reject(new StartError(`${how}${stderr ? `: ${lastLines(stderr)}` : ''}`))
    })
  })
  const pid = proc.pid as number
  const alive = () => proc.exitCode === null && proc.signalCode === null
  return {
    url,
    pid,
    exited,
    alive,
    memory: () =>
      new Promise((resolve, reject) => {
        const onMessage = (m: { memory?: NodeJS.MemoryUsage; error?: string }) => {
          proc.off('message', onMessage)
          if (m.memory) resolve(m.memory)
          else reject(new Error(m.error ?? 'no memory figures'))
        }
        proc.on('message', onMessage)
        proc.send('memory')
      }),
    async stop() {
      if (!alive()) return
      proc.kill('SIGTERM')
      const kill = setTimeout(() => proc.kill('SIGKILL'), 15_000)
      await exited
      clearTimeout(kill)
    },
  }
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ')
}

/** CPU time (user + system) a process has used so far, in seconds; undefined off Linux. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // fields after the parenthesised command name: state is field 3, utime 14, stime 15
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
  } catch {
    return undefined
  }
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
})()
