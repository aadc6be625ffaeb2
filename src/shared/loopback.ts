/**
 * The loopback hosts, as `URL.hostname` spells them, on which `http` is accepted: native clients'
 * redirect URIs (RFC 8252 §7.3), a development issuer, and the client library's development
 * servers. `localhost` is included (docs/design-decisions.md, the AS side). One list for the server, the configuration and
 * `registrar/client` (runtime-neutral: no Node imports in `src/shared/`).
 */
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]'])

/** Whether a `URL.hostname` is one of {@link LOOPBACK_HOSTS} (case-insensitive). */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname.toLowerCase())
}
