import { createConnection, createServer, type Server, type Socket } from 'node:net'

/**
 * A TCP relay in front of PostgreSQL, to stage network failures the store must survive:
 * - `forward`: a working network;
 * - `blackhole`: connections are accepted but nothing answers (a dead host behind a live LB);
 * - `freeze`: open connections stop delivering data both ways (a partition mid-query);
 * - `stop()`: the port is closed and every connection reset (the database went away).
 */
export class TcpProxy {
  mode: 'forward' | 'blackhole' | 'freeze' = 'forward'
  port = 0
  readonly #target: { host: string; port: number }
  readonly #sockets = new Set<Socket>()
  #server: Server | undefined

  constructor(target: { host: string; port: number }) {
    this.#target = target
  }

  /** Listens on `port` (0 first, then the same port again to bring the "database" back). */
  async start(port = this.port): Promise<number> {
    const server = createServer((client) => this.#relay(client))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => resolve())
    })
    this.#server = server
    this.port = (server.address() as { port: number }).port
    return this.port
  }

  async stop(): Promise<void> {
    const server = this.#server
    this.#server = undefined
    for (const s of this.#sockets) s.destroy()
    this.#sockets.clear()
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  #relay(client: Socket): void {
    this.#track(client)
    if (this.mode === 'blackhole') {
      client.resume() // read and drop
      return
    }
    const upstream = createConnection(this.#target)
    this.#track(upstream)
    client.on('data', (d) => {
      if (this.mode === 'forward') upstream.write(d)
    })
    upstream.on('data', (d) => {
      if (this.mode === 'forward') client.write(d)
    })
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => this.#sockets.delete(socket))
  }
}
