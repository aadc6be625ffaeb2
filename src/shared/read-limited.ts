/** How {@link readLimited} reports a body past its limit, or a stream that failed mid-way. */
export interface ReadLimitedErrors {
  tooLarge: () => Error
  /** Default: the stream's own error. */
  failed?: (cause: unknown) => Error
  /**
   * Do not wait for the cancellation past the limit: the stream is one branch of a tee (a cloned
   * `Request`), whose cancellation settles only once the other branch is read too.
   */
  detachCancel?: boolean
}

/**
 * Reads a web `ReadableStream` (a `Request` or `Response` body) to its end, at most `limit`
 * bytes: past it the stream is cancelled, so an oversized body is not read on, and `tooLarge()` is
 * thrown. The one bounded reader for web streams (the web adapter, `registrar/client`).
 */
export async function readLimited(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
  errors: ReadLimitedErrors,
): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0)
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = body.getReader()
  for (;;) {
    const { done, value } = await reader.read().catch((cause: unknown) => {
      throw errors.failed ? errors.failed(cause) : cause
    })
    if (done) break
    size += value.byteLength
    if (size > limit) {
      if (errors.detachCancel) reader.cancel().catch(() => {})
      else await reader.cancel()
      throw errors.tooLarge()
    }
    chunks.push(value)
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return bytes
}
