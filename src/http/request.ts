/**
 * The parts of an HTTP request the endpoints use. The web adapter builds it from a `Request`, the
 * `node:http` adapter straight from an `IncomingMessage` (no `Request` object on the hot path).
 */
export interface HttpRequest {
  method: string
  /** Path component, percent-encoded as received, no query. */
  path: string
  /** The query component without its `?` (the admin API's filters); absent when there is none. */
  query?: string
  /** Header value by lower-case name. */
  header(name: string): string | undefined
  /** The body; rejects with a 413 RegistrationError past the size limit. */
  body(): Promise<Uint8Array>
  /** Remote client address as the transport sees it. */
  ip?: string
}

/** What the transport knows of the client that the web `Request` does not carry. */
export interface RegistrantContext {
  /** Client IP address, for the anonymous-registration rate limit. */
  ip?: string
}
