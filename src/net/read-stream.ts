import type { Readable } from 'node:stream'

/** Thrown by {@link readStream} once a stream passes its limit; the caller decides what it means. */
export class StreamTooLargeError extends Error {
  readonly limit: number
  constructor(limit: number) {
    super(`the stream is larger than ${limit} bytes`)
    this.limit = limit
    this.name = 'StreamTooLargeError'
  }
}

/** Thrown by {@link readStream} when no byte arrived for `idleMs`. */
export class StreamIdleError extends Error {
  readonly idleMs: number
  constructor(idleMs: number) {
    super(`no data for ${idleMs} ms`)
    this.idleMs = idleMs
    this.name = 'StreamIdleError'
  }
}

/**
 * Reads a Node readable (an incoming request body, an outbound fetch's response) to its end, at
 * most `limit` bytes (and, with `idleMs`, with no pause longer than that). Past the limit it stops listening and rejects with
 * {@link StreamTooLargeError}, leaving the stream to the caller (to destroy it, or to close the
 * connection after answering); a stream error rejects as it is. The one bounded reader for Node
 * streams: the `node:http` adapters and the SSRF-safe fetcher.
 */
export function readStream(
  stream: Readable,
  limit: number,
  options: { idleMs?: number } = {},
): Promise<Buffer> {
  const idleMs = options.idleMs ?? 0
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let idle: NodeJS.Timeout | undefined
    // a sender that stops mid-body is cut after idleMs, not at the request timeout (slowloris)
    const arm = () => {
      if (idleMs <= 0) return
      clearTimeout(idle)
      idle = setTimeout(() => {
        cleanup()
        reject(new StreamIdleError(idleMs))
      }, idleMs)
      idle.unref()
    }
    const onData = (chunk: Buffer) => {
      arm()
      size += chunk.length
      if (size > limit) {
        cleanup()
        reject(new StreamTooLargeError(limit))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks))
    }
    const onError = (err: Error) => {
      cleanup()
      reject(err)
    }
    const cleanup = () => {
      clearTimeout(idle)
      stream.off('data', onData)
      stream.off('end', onEnd)
      stream.off('error', onError)
    }
    stream.on('data', onData)
    stream.on('end', onEnd)
    stream.on('error', onError)
    arm()
  })
}
