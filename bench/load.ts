// Driving load: timed autocannon runs, and registering many clients fast (W2's 1,000, W4's
// 100,000) over a pool of keep-alive connections.
import { Agent, request } from 'node:http'
import autocannon from 'autocannon'
import { cpuSeconds } from './servers.js'

/** One timed autocannon run against one server. */
export interface RunStats {
  /** Mean requests per second over the run (autocannon's per-second samples). */
  rps: number
  /** Latency percentiles, ms. */
  p50: number
  p90: number
  p99: number
  requests: number
  non2xx: number
  /** Connection errors and timeouts. */
  errors: number
  timeouts: number
  statusCodes: Record<string, number>
  seconds: number
  /** Share of one CPU the server used during the run (Linux only). */
  serverCpu?: number
  /** Share of one CPU this process (the load generator) used during the run. */
  loadCpu: number
}

/** A request autocannon sends: fixed, or rebuilt before each send. */
export type LoadRequest = autocannon.Request

export async function runLoad(options: {
  url: string
  serverPid: number
  connections: number
  seconds: number
  requests: LoadRequest[]
}): Promise<RunStats> {
  const cpu0 = process.cpuUsage()
  const server0 = cpuSeconds(options.serverPid)
  const t0 = performance.now()
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    requests: options.requests,
    timeout: 10,
  })
  const wall = (performance.now() - t0) / 1000
  const server1 = cpuSeconds(options.serverPid)
  const cpu = process.cpuUsage(cpu0)
  const statusCodes: Record<string, number> = {}
  const stats = (result as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats
  for (const [code, { count }] of Object.entries(stats ?? {})) statusCodes[code] = count
  return {
    rps: round(result.requests.average, 1),
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    seconds: result.duration,
    ...(server0 !== undefined &&
      server1 !== undefined && { serverCpu: round((server1 - server0) / wall, 3) }),
    loadCpu: round((cpu.user + cpu.system) / 1e6 / wall, 3),
  }
}

function round(n: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(n * f) / f
}

/** One HTTP exchange on a keep-alive agent; the body is parsed as JSON when it is JSON. */
export function exchange(
  url: string,
  options: { method: string; headers?: Record<string, string>; body?: string; agent?: Agent },
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method, headers: options.headers, agent: options.agent },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => {
          text += d
        })
        res.on('end', () => {
          let body: unknown = text
          try {
            body = JSON.parse(text)
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body })
        })
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

/** A registered client's credentials, kept for RFC 7592 reads and token requests. */
export interface Registered {
  client_id: string
  registration_access_token: string
  client_secret?: string
  redirect_uris?: string[]
}

/**
 * Registers `count` clients with `concurrency` requests in flight and returns the credentials of
 * those for which `keep(i)` is true. Throws on the first answer that is not 201.
 */
export async function registerClients(
  url: string,
  body: string,
  count: number,
  options: { concurrency: number; keep?: (i: number) => boolean },
): Promise<{ kept: Registered[]; seconds: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency })
  const kept: Registered[] = []
  let next = 0
  const t0 = performance.now()
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const res = await exchange(`${url}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        agent,
      })
      if (res.status !== 201) {
        throw new Error(`registration ${i} answered ${res.status}: ${JSON.stringify(res.body)}`)
      }
      if (options.keep?.(i) ?? true) {
        const info = res.body as Registered
        kept.push({
          client_id: info.client_id,
          registration_access_token: info.registration_access_token,
          ...(info.client_secret !== undefined && { client_secret: info.client_secret }),
          ...(info.redirect_uris !== undefined && { redirect_uris: info.redirect_uris }),
        })
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker))
  } finally {
    agent.destroy()
  }
  return { kept, seconds: (performance.now() - t0) / 1000 }
}
