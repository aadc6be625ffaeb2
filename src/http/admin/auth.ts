import { createHmac } from 'node:crypto'
import { verifyAdminToken } from '../../admin/admin-token.js'
import type { AdminKeys } from '../../admin/keys.js'
import { constantEquals, openSecret, sealSecret } from '../../core/crypto.js'
import { RegistrationError } from '../../core/errors.js'
import type { AdminTokenRecord, AuditActor, Store } from '../../core/store.js'
import { epochSeconds } from '../../shared/epoch.js'
import { bearer } from '../bearer.js'
import type { HttpRequest } from '../request.js'

/** Who is calling the admin API or using the console: an admin token, and how audit names it. */
export interface AdminPrincipal {
  token: AdminTokenRecord
  actor: AuditActor
}

/** A console session: the principal and the sealed cookie value it was read from. */
export interface ConsoleSession extends AdminPrincipal {
  /** The cookie value; the CSRF token is derived from it. */
  value: string
}

/**
 * The session cookie. `__Host-`: only set by this host, over a secure origin, for the whole host
 * (RFC 6265bis §4.1.3.2), so a sibling subdomain cannot plant one. Browsers treat
 * http://localhost and http://127.0.0.1 as secure origins, so it also works on a plain-http
 * loopback issuer; anywhere else the console needs https.
 */
export const SESSION_COOKIE = '__Host-registrar-admin'

const SESSION_AAD = 'registrar admin session'

/**
 * Authentication of the admin surface, on admin tokens only (their own table: a registration
 * access token or an initial access token is never one). The API takes the token as a bearer
 * token (RFC 6750 §2.1); the console exchanges it once for a session cookie sealed with
 * AES-256-GCM, which is re-checked against the store on every request so that revoking the token
 * ends its sessions at once.
 */
export class AdminAuthenticator {
  readonly #store: Store
  readonly #keys: AdminKeys
  readonly #lifetime: number
  readonly #now: () => number

  constructor(options: {
    store: Store
    keys: AdminKeys
    /** Seconds a session lasts. */
    sessionLifetime: number
    clock?: () => number
  }) {
    this.#store = options.store
    this.#keys = options.keys
    this.#lifetime = options.sessionLifetime
    this.#now = options.clock ?? epochSeconds
  }

  /** The admin token of an API request's `Authorization: Bearer`; 401 `invalid_token` otherwise. */
  async bearer(request: HttpRequest): Promise<AdminPrincipal> {
    const token = bearer(request.header('authorization'))
    if (token === undefined) {
      throw new RegistrationError('invalid_token', 'an admin token is required', {
        status: 401,
        tokenMissing: true,
      })
    }
    const record = await verifyAdminToken(this.#store, token, this.#now())
    if (!record) throw new RegistrationError('invalid_token', 'the admin token is invalid')
    return principal(record, request)
  }

  /** The console session of a request, if it carries a valid one. */
  async session(request: HttpRequest): Promise<ConsoleSession | undefined> {
    const value = cookie(request.header('cookie'), SESSION_COOKIE)
    if (value === undefined) return undefined
    let payload: { i?: unknown; h?: unknown; e?: unknown }
    try {
      payload = JSON.parse(openSecret(value, this.#keys.session, SESSION_AAD))
    } catch {
      return undefined
    }
    const now = this.#now()
    if (typeof payload.e !== 'number' || payload.e <= now || typeof payload.h !== 'string') {
      return undefined
    }
    const record = await this.#store.findAdminToken(payload.h)
    if (!record || record.id !== payload.i) return undefined
    if (record.expiresAt !== null && record.expiresAt <= now) return undefined
    return { ...principal(record, request), value }
  }

  /**
   * Signs in with an admin token: the `Set-Cookie` value of a new session, or undefined for a
   * token that is not a valid admin token.
   */
  async signIn(
    token: string,
    request: HttpRequest,
  ): Promise<{ principal: AdminPrincipal; setCookie: string } | undefined> {
    if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) return undefined
    const now = this.#now()
    const record = await verifyAdminToken(this.#store, token, now)
    if (!record) return undefined
    // the session ends with the token, if that comes first
    const expires = Math.min(now + this.#lifetime, record.expiresAt ?? Number.POSITIVE_INFINITY)
    const value = sealSecret(
      JSON.stringify({ i: record.id, h: record.tokenHash, e: expires }),
      this.#keys.session,
      SESSION_AAD,
    )
    return {
      principal: principal(record, request),
      setCookie: `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${expires - now}; HttpOnly; Secure; SameSite=Strict`,
    }
  }

  /** The `Set-Cookie` value that ends a session. */
  signOut(): string {
    return `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict`
  }

  /** The CSRF token of a session, for the forms it renders (synchronizer token bound to it). */
  csrfToken(session: ConsoleSession): string {
    return createHmac('sha256', this.#keys.csrf).update(session.value).digest('base64url')
  }

  /** Whether a form's CSRF token is the session's. */
  checkCsrf(session: ConsoleSession, presented: string | null | undefined): boolean {
    return typeof presented === 'string' && constantEquals(presented, this.csrfToken(session))
  }
}

/** 403 for a change attempted with a read-only token (RFC 6750 §3.1 `insufficient_scope`). */
export function requireWrite(principal: AdminPrincipal): void {
  if (principal.token.readOnly) {
    throw new RegistrationError(
      'insufficient_scope',
      'this admin token is read-only: it cannot change anything',
      { status: 403 },
    )
  }
}

function principal(record: AdminTokenRecord, request: HttpRequest): AdminPrincipal {
  return {
    token: record,
    actor: {
      type: 'admin',
      id: record.id,
      ...(request.ip !== undefined && { address: request.ip }),
    },
  }
}

/** A cookie's value from a `Cookie` header (RFC 6265 §5.4), or undefined. */
function cookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=')
    if (eq !== -1 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim()
  }
  return undefined
}
