import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resolveConfig } from '../src/core/config.js'
import { Registrar } from '../src/core/registration.js'
import type { Store } from '../src/core/store.js'
import { createHandler } from '../src/http/handler.js'
import { MemoryStore } from '../src/storage/memory.js'

export const ISSUER = 'https://as.example.com'

/** A parsed JSON response body, read member by member as each test needs. */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON members
export type JsonBody = any
export const BIN = new URL('../bin/registrar.js', import.meta.url).pathname

/**
 * A Registrar over a store (memory by default) and its web handler: no ports opened. Open
 * registration unless `file.registration.mode` says otherwise.
 */
export function makeRegistrar(
  file: Record<string, unknown> = {},
  options: { store?: Store; clock?: () => number } = {},
) {
  const registration = { mode: 'open', ...(file.registration as object | undefined) }
  const config = resolveConfig({ file: { issuer: ISSUER, ...file, registration } })
  const store = options.store ?? new MemoryStore()
  const registrar = new Registrar({ config, store, ...(options.clock && { clock: options.clock }) })
  const fetch = createHandler(registrar)
  return { config, store, registrar, fetch }
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
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/**
 * Starts `registrar serve --port 0 --host 127.0.0.1 …` as a child process (the real CLI, a real
 * socket) and resolves once it prints its "listening on" line.
 */
export async function startServer(
  args: string[] = [],
  options: { config?: Record<string, unknown>; env?: Record<string, string>; cwd?: string } = {},
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
  const proc = spawn(
    process.execPath,
    [BIN, 'serve', '--port', '0', '--host', '127.0.0.1', ...extra, ...args],
    {
      env: { ...process.env, REGISTRAR_LOG_LEVEL: 'warn', ...options.env },
      cwd: options.cwd ?? process.cwd(),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let out = ''
  let err = ''
  proc.stdout?.on('data', (d) => {
    out += d
  })
  proc.stderr?.on('data', (d) => {
    err += d
  })
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  const port = await new Promise<number>((resolve, reject) => {
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
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    proc,
    stdout: () => out,
    stderr: () => err,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal)
      const code = await exited
      cleanupConfig?.()
      return code
    },
  }
}

/** Runs the CLI to completion. */
export async function runCli(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; input?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...options.env },
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
  const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve))
  return { code, stdout, stderr }
}
