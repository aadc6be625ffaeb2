import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { composeRegistrar } from '../src/app.js'
import { resolveConfig } from '../src/config/resolve.js'
import { type OutboundFetch, OutboundFetchError } from '../src/core/outbound-fetch.js'
import type { Store } from '../src/core/store.js'
import type { AccessLogger } from '../src/http/router.js'
import { MemoryStore } from '../src/storage/memory.js'

export const ISSUER = 'https://as.example.com'

/** A parsed JSON response body, read member by member as each test needs. */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON members
export type JsonBody = any
export const BIN = new URL('../bin/registrar.js', import.meta.url).pathname

/** The outbound fetcher of a test that gives none: every client- or issuer-supplied URL is refused. */
const NO_FETCH: OutboundFetch = () =>
  Promise.reject(new OutboundFetchError('outbound fetching is not configured on this server'))

/**
 * A Registrar over a store (memory by default) and its web handler, composed as the server is
 * (`composeRegistrar`): no ports opened, no outbound fetch unless `options.fetch`. Open
 * registration unless `file.registration.mode` says otherwise.
 */
export function makeRegistrar(
  file: Record<string, unknown> = {},
  options: {
    store?: Store
    clock?: () => number
    fetch?: OutboundFetch
    logger?: AccessLogger
  } = {},
) {
  const registration = { mode: 'open', ...(file.registration as object | undefined) }
  const config = resolveConfig({ file: { issuer: ISSUER, ...file, registration } })
  const store = options.store ?? new MemoryStore()
  const app = composeRegistrar(config, store, {
    fetch: options.fetch ?? NO_FETCH,
    ...(options.clock && { clock: options.clock }),
    ...(options.logger && { logger: options.logger }),
  })
  return { config, store, registrar: app.registrar, fetch: app.fetch, app }
}

/** Calls a web handler like a client would: JSON body, optional bearer token. */
export async function call(
  fetch: (r: Request) => Promise<Response>,
  method: string,
  path: string,
  options: {
    body?: unknown
    token?: string
    headers?: Record<string, string>
    raw?: string | Uint8Array
  } = {},
): Promise<{ status: number; headers: Headers; body: JsonBody; text: string }> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.body !== undefined || options.raw !== undefined)
    headers['content-type'] ??= 'application/json'
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  const res = await fetch(
    new Request(new URL(path, ISSUER), {
      method,
      headers,
      ...(options.raw !== undefined
        ? { body: options.raw }
        : options.body !== undefined
          ? { body: JSON.stringify(options.body) }
          : {}),
    }),
  )
  const text = await res.text()
  let body: unknown
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    body = undefined
  }
  return { status: res.status, headers: res.headers, body, text }
}

/** A temporary directory removed by the returned cleanup. */
export function tempDir(prefix = 'registrar-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

export interface ServerProcess {
  url: string
  port: number
  proc: ChildProcess
  stdout: () => string
  stderr: () => string
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/**
 * The environment of a child CLI: the test runner's, minus any REGISTRAR_* setting of the
 * developer's shell (tests state their own), plus `env`.
 */
export function childEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('REGISTRAR_')),
  )
  return { ...inherited, ...env }
}

/**
 * Starts `registrar serve --port 0 --host 127.0.0.1 …` as a child process (the real CLI, a real
 * socket) and resolves once it prints its "listening on" line. `defaultFlags: false` leaves out
 * `--port 0 --host 127.0.0.1`, for tests of where those come from.
 */
export async function startServer(
  args: string[] = [],
  options: {
    config?: Record<string, unknown>
    env?: Record<string, string>
    cwd?: string
    defaultFlags?: boolean
  } = {},
): Promise<ServerProcess> {
  const extra: string[] = []
  let cleanupConfig: (() => void) | undefined
  if (options.config) {
    const t = tempDir('registrar-config-')
    const path = join(t.dir, 'config.json')
    writeFileSync(path, JSON.stringify(options.config))
    extra.push('--config', path)
    cleanupConfig = t.cleanup
  }
  const flags = options.defaultFlags === false ? [] : ['--port', '0', '--host', '127.0.0.1']
  const proc = spawn(process.execPath, [BIN, 'serve', ...flags, ...extra, ...args], {
    env: childEnv({ REGISTRAR_LOG_LEVEL: 'warn', ...options.env }),
    cwd: options.cwd ?? process.cwd(),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  proc.stdout?.on('data', (d) => {
    out += d
  })
  proc.stderr?.on('data', (d) => {
    err += d
  })
  // 'close', not 'exit': by then stdout and stderr have been read to the end
  const exited = new Promise<number | null>((resolve) =>
    proc.once('close', (code) => resolve(code)),
  )
  let port: number
  try {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`server did not start:\n${out}\n${err}`)),
        15_000,
      )
      const check = () => {
        const m = /listening on http:\/\/[^:]+:(\d+)/.exec(out)
        if (m) {
          clearTimeout(timer)
          resolve(Number(m[1]))
        }
      }
      proc.stdout?.on('data', check)
      exited.then((code) => {
        clearTimeout(timer)
        reject(new Error(`server exited with ${code}:\n${out}\n${err}`))
      })
    })
  } catch (e) {
    proc.kill('SIGKILL')
    cleanupConfig?.()
    throw e
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal)
      const code = await exited
      cleanupConfig?.()
      return code
    },
  }
}

/** Runs the CLI to completion; past `timeoutMs` it is killed and the code is null. */
export async function runCli(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; input?: string; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [BIN, ...args], {
    env: childEnv(options.env),
    cwd: options.cwd ?? process.cwd(),
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  proc.stdout.on('data', (d) => {
    stdout += d
  })
  proc.stderr.on('data', (d) => {
    stderr += d
  })
  proc.stdin.end(options.input ?? '')
  const timer = setTimeout(() => proc.kill('SIGKILL'), options.timeoutMs ?? 20_000)
  const code = await new Promise<number | null>((resolve) => proc.once('close', resolve))
  clearTimeout(timer)
  return { code, stdout, stderr }
}

/** A child process started by {@link spawnUntilListening}. */
export interface ListeningProcess {
  proc: ChildProcess
  /** The URL its listening line named. */
  url: string
  /** stdout and stderr so far, interleaved. */
  output: () => string
  exited: Promise<number | null>
}

/**
 * Spawns `node ARGS` and resolves once its stdout has a `listening on URL` line (the examples' and
 * the documented programs' contract); rejects with the output when it exits first or stays silent
 * past `timeoutMs` (generous by default: tsx compiles, oidc-provider and the MCP SDK are large
 * imports, and the machine is shared).
 */
export async function spawnUntilListening(
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; label: string; timeoutMs?: number },
): Promise<ListeningProcess> {
  const proc = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  proc.stdout?.on('data', (d) => {
    out += d
  })
  proc.stderr?.on('data', (d) => {
    out += d
  })
  const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${options.label} did not start:\n${out}`)),
      options.timeoutMs ?? 30_000,
    )
    proc.stdout?.on('data', () => {
      const match = /^listening on (http:\/\/\S+)$/m.exec(out)
      if (match) {
        clearTimeout(timer)
        resolve(match[1] as string)
      }
    })
    exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`${options.label} exited with ${code}:\n${out}`))
    })
  })
  return { proc, url, output: () => out, exited }
}

/**
 * Takes `name` with `store.runExclusive` and holds it until the returned function is called (which
 * resolves once the holder has let go): another process's sweep then finds the lock taken.
 */
export async function holdExclusive(store: Store, name: string): Promise<() => Promise<void>> {
  let release = () => {}
  const held = new Promise<void>((resolve) => {
    release = resolve
  })
  let locked = () => {}
  const holding = new Promise<void>((resolve) => {
    locked = resolve
  })
  const holder = store.runExclusive(name, async () => {
    locked()
    await held
  })
  await holding
  return async () => {
    release()
    await holder
  }
}

/**
 * Type-checks `files` (relative to `dir`, a directory two levels below the repository, e.g.
 * `.tmp/NAME`) with the project's strict tsconfig and tsc; resolves to tsc's exit code and output.
 */
export async function typeCheck(
  dir: string,
  files: string[],
): Promise<{ code: number | null; output: string }> {
  const root = new URL('../', import.meta.url).pathname
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../tsconfig.json',
      compilerOptions: { noEmit: true, rootDir: '.' },
      include: files,
    }),
  )
  const tsc = spawn(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  tsc.stdout.on('data', (d) => {
    output += d
  })
  tsc.stderr.on('data', (d) => {
    output += d
  })
  const code = await new Promise<number | null>((resolve) => tsc.once('exit', resolve))
  return { code, output }
}
