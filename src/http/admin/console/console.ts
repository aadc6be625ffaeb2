import type { AdminService, ClientFilters, StatusAction } from '../../../admin/service.js'
import { parseTime } from '../../../admin/time.js'
import type { RegistrarConfig } from '../../../config/schema.js'
import { RegistrationError } from '../../../core/errors.js'
import type { HttpRequest } from '../../request.js'
import type { HttpResponse } from '../../respond.js'
import { type AdminAuthenticator, type ConsoleSession, requireWrite } from '../auth.js'
import { ASSETS } from './assets.js'
import type { Html } from './html.js'
import {
  auditPage,
  clientPage,
  clientsPage,
  confirmPage,
  dryRunPage,
  errorPage,
  type PageContext,
  revokePage,
  signInPage,
  tokenCreatedPage,
  tokensPage,
} from './pages.js'

/** What the console needs. */
export interface ConsoleContext {
  service: AdminService
  auth: AdminAuthenticator
  config: Readonly<RegistrarConfig>
  /** The console's path (`{issuer path}/admin`). */
  base: string
  clock: () => number
  /** Told about unexpected errors (answered 500 without details). */
  onError?: (err: unknown) => void
}

/**
 * Every console response is a document of ours alone: scripts and styles only from this origin
 * (no inline script or style, so injected markup could not run even if escaping failed), no
 * framing, no referrer (cursors and client ids are in URLs), never cached.
 */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'none'; " +
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
})

const ACTIONS: readonly string[] = ['approve', 'disable', 'enable', 'delete']
const DONE: Record<string, string> = {
  approve: 'approved',
  disable: 'disabled',
  enable: 'enabled',
  delete: 'deleted',
}

/**
 * The web console (issue 13 item 5), server-rendered: `sub` is the path below the console's base.
 * Sign-in exchanges an admin token for a session cookie; every form that changes something carries
 * the session's CSRF token and must come from this origin. A read-only token sees everything and
 * can change nothing.
 */
export async function adminConsole(
  request: HttpRequest,
  sub: string,
  context: ConsoleContext,
): Promise<HttpResponse> {
  const { base } = context
  if (sub.startsWith('/assets/')) return asset(request, sub.slice('/assets/'.length))
  const session = await context.auth.session(request)
  const ctx: PageContext = {
    base,
    ...(session && { token: session.token, csrf: context.auth.csrfToken(session) }),
  }
  try {
    return await route(request, sub, context, session, ctx)
  } catch (err) {
    if (err instanceof RegistrationError) {
      return page(err.status, errorPage(ctx, err.status, err.error_description ?? err.error))
    }
    context.onError?.(err)
    return page(500, errorPage(ctx, 500, 'An unexpected error occurred; it was logged.'))
  }
}

async function route(
  request: HttpRequest,
  sub: string,
  context: ConsoleContext,
  session: ConsoleSession | undefined,
  ctx: PageContext,
): Promise<HttpResponse> {
  const { base, service, auth } = context
  const { method } = request
  const params = new URLSearchParams(request.query ?? '')

  if (sub === '' || sub === '/') {
    allow(method, ['GET', 'HEAD'])
    return redirect(`${base}/${session ? 'clients' : 'sign-in'}`)
  }

  if (sub === '/sign-in') {
    allow(method, ['GET', 'HEAD', 'POST'])
    if (method !== 'POST') {
      return session ? redirect(`${base}/clients`) : page(200, signInPage({ base }))
    }
    // login CSRF: a sign-in form posted from another site is refused
    if (!sameOrigin(request))
      return page(403, errorPage({ base }, 403, 'Cross-site request refused.'))
    const form = await readForm(request)
    const signedIn = await auth.signIn(form.get('token')?.trim() ?? '', request)
    if (!signedIn) {
      return page(401, signInPage({ base }, 'That is not a valid admin token.'))
    }
    return redirect(`${base}/clients`, { 'set-cookie': signedIn.setCookie })
  }

  if (!session) {
    if (method === 'GET' || method === 'HEAD') return redirect(`${base}/sign-in`)
    return page(401, signInPage({ base }, 'Your session has ended; sign in again.'))
  }

  if (method === 'POST') {
    const form = await readForm(request)
    if (!sameOrigin(request) || !auth.checkCsrf(session, form.get('csrf'))) {
      return page(
        403,
        errorPage(
          ctx,
          403,
          'This form is not from this console (or is stale); reload the page and retry.',
        ),
      )
    }
    return post(sub, form, context, session, ctx)
  }
  allow(method, ['GET', 'HEAD', 'POST'])

  if (sub === '/clients') {
    const filters = clientFilters(params)
    const cursor = params.get('cursor') || undefined
    const [page_, pending] = await Promise.all([
      service.listClients(filters, cursor === undefined ? {} : { cursor }),
      service.countAwaitingApproval(),
    ])
    return page(
      200,
      clientsPage(ctx, {
        filters,
        policies: Object.keys(context.config.policies.definitions),
        clients: page_.items,
        ...(page_.nextCursor !== undefined && { nextCursor: page_.nextCursor }),
        paged: cursor !== undefined,
        pending,
        ...done(params),
      }),
    )
  }

  const clientMatch = /^\/clients\/([^/]+)(?:\/([a-z]+))?$/.exec(sub)
  if (clientMatch) {
    const client = await service.getClient(decode(clientMatch[1] as string))
    const action = clientMatch[2]
    if (action === undefined) {
      const audit = await service.audit({ clientId: client.client_id }, { limit: 20 })
      return page(
        200,
        clientPage(ctx, {
          client,
          audit: audit.items,
          moreAudit: audit.nextCursor !== undefined,
          ...done(params),
        }),
      )
    }
    if (!ACTIONS.includes(action)) throw notFound()
    requireWrite(session)
    const version = params.has('version') ? versionOf(params.get('version')) : client.version
    return page(200, confirmPage(ctx, client, action as StatusAction | 'delete', version))
  }

  if (sub === '/tokens') {
    return page(200, await tokens(context, ctx, params))
  }

  const revokeMatch = /^\/tokens\/([^/]+)\/revoke$/.exec(sub)
  if (revokeMatch) {
    requireWrite(session)
    const id = decode(revokeMatch[1] as string)
    const token = (await service.listInitialAccessTokens()).find((t) => t.id === id)
    if (!token) throw notFound()
    return page(200, revokePage(ctx, token))
  }

  if (sub === '/audit') {
    const clientId = params.get('client_id') || undefined
    const since = params.get('since') || undefined
    const cursor = params.get('cursor') || undefined
    let sinceTime: number | undefined
    if (since !== undefined) {
      sinceTime = parseTime(since, context.clock() * 1000)
      if (sinceTime === undefined) {
        throw new RegistrationError(
          'invalid_request',
          'Since must be a date (2026-05-01), a date-time, or a duration such as 24h or 7d.',
        )
      }
    }
    const result = await service.audit(
      {
        ...(clientId !== undefined && { clientId }),
        ...(sinceTime !== undefined && { since: sinceTime }),
      },
      cursor === undefined ? {} : { cursor },
    )
    return page(
      200,
      auditPage(ctx, {
        entries: result.items,
        ...(clientId !== undefined && { clientId }),
        ...(since !== undefined && { since }),
        ...(result.nextCursor !== undefined && { nextCursor: result.nextCursor }),
        paged: cursor !== undefined,
      }),
    )
  }

  if (sub === '/dry-run') return page(200, dryRunPage(ctx, {}))

  throw notFound()
}

/** The POST forms of a signed-in session (CSRF and origin already checked). */
async function post(
  sub: string,
  form: URLSearchParams,
  context: ConsoleContext,
  session: ConsoleSession,
  ctx: PageContext,
): Promise<HttpResponse> {
  const { base, service, auth } = context

  if (sub === '/sign-out') return redirect(`${base}/sign-in`, { 'set-cookie': auth.signOut() })

  if (sub === '/dry-run') {
    const text = form.get('metadata') ?? ''
    const iat = form.get('initial_access_token') || undefined
    let metadata: unknown
    try {
      metadata = JSON.parse(text)
    } catch (err) {
      return page(
        400,
        dryRunPage(ctx, { metadata: text, error: `Not JSON: ${(err as Error).message}` }),
      )
    }
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
      return page(
        400,
        dryRunPage(ctx, { metadata: text, error: 'The request must be a JSON object.' }),
      )
    }
    const result = await service.dryRun(metadata as Record<string, unknown>, iat)
    return page(200, dryRunPage(ctx, { metadata: text, result }))
  }

  requireWrite(session)

  const clientMatch = /^\/clients\/([^/]+)\/([a-z]+)$/.exec(sub)
  if (clientMatch && ACTIONS.includes(clientMatch[2] as string)) {
    const id = decode(clientMatch[1] as string)
    const action = clientMatch[2] as StatusAction | 'delete'
    const expectedVersion = versionOf(form.get('version'))
    if (action === 'delete') {
      await service.deleteClient(id, session.actor, { expectedVersion })
      return redirect(`${base}/clients?done=deleted`)
    }
    await service.changeStatus(action, id, session.actor, { expectedVersion })
    return redirect(`${base}/clients/${encodeURIComponent(id)}?done=${DONE[action]}`)
  }

  if (sub === '/tokens') {
    const number = (name: string, label: string): number | undefined => {
      const v = form.get(name)?.trim()
      if (!v) return undefined
      if (!/^\d{1,9}$/.test(v) || Number(v) < 1) {
        throw new FormError(`${label} must be a whole number of at least 1.`)
      }
      return Number(v)
    }
    try {
      const maxUses = number('max_uses', 'Maximum uses')
      const hours = number('expires_in_hours', 'Expires in')
      const policy = form.get('policy') || undefined
      const description = form.get('description')?.trim() || undefined
      if (description !== undefined && description.length > 200) {
        throw new FormError('The description is longer than 200 characters.')
      }
      const { token, record } = await service.createInitialAccessToken(session.actor, {
        ...(maxUses !== undefined && { maxUses }),
        ...(hours !== undefined && { expiresIn: hours * 3600 }),
        ...(policy !== undefined && { policy }),
        ...(description !== undefined && { description }),
      })
      // shown in this response only: never in a URL, never cached
      return page(201, tokenCreatedPage(ctx, token, record))
    } catch (err) {
      const message =
        err instanceof FormError
          ? err.message
          : err instanceof RegistrationError && err.status === 400
            ? (err.error_description ?? err.error)
            : undefined
      if (message === undefined) throw err
      return page(400, await tokens(context, ctx, new URLSearchParams(), message))
    }
  }

  const revokeMatch = /^\/tokens\/([^/]+)\/revoke$/.exec(sub)
  if (revokeMatch) {
    await service.revokeInitialAccessToken(decode(revokeMatch[1] as string), session.actor)
    return redirect(`${base}/tokens?done=revoked`)
  }

  throw notFound()
}

async function tokens(
  context: ConsoleContext,
  ctx: PageContext,
  params: URLSearchParams,
  error?: string,
): Promise<Html> {
  return tokensPage(ctx, {
    tokens: await context.service.listInitialAccessTokens(),
    policies: Object.keys(context.config.policies.definitions),
    now: context.clock(),
    ...done(params),
    ...(error !== undefined && { error }),
  })
}

/** A form input the operator can fix: shown on the form, answered 400. */
class FormError extends Error {}

function clientFilters(params: URLSearchParams): ClientFilters {
  const get = (name: string) => params.get(name) || undefined
  const search = get('search')
  const status = get('status')
  const policy = get('policy')
  const source = get('source')
  return {
    ...(search !== undefined && { search: search.slice(0, 200) }),
    ...(status !== undefined && { status: status as ClientFilters['status'] & string }),
    ...(policy !== undefined && { policy }),
    ...(source !== undefined && { source: source as ClientFilters['source'] & string }),
  }
}

function done(params: URLSearchParams): { done?: string } {
  const d = params.get('done')
  return d === null ? {} : { done: d }
}

function versionOf(value: string | null): number {
  if (value === null || !/^\d{1,15}$/.test(value)) {
    throw new RegistrationError(
      'invalid_request',
      'The form names no valid client version; reload the page.',
    )
  }
  return Number(value)
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    throw notFound()
  }
}

/**
 * Whether a form comes from this origin: `Sec-Fetch-Site` when the browser sends it (every current
 * one does), else the `Origin` against the `Host`.
 */
function sameOrigin(request: HttpRequest): boolean {
  const site = request.header('sec-fetch-site')
  if (site !== undefined) return site === 'same-origin'
  const origin = request.header('origin')
  if (origin === undefined) return true
  try {
    return new URL(origin).host === request.header('host')
  } catch {
    return false
  }
}

async function readForm(request: HttpRequest): Promise<URLSearchParams> {
  const type = request.header('content-type')?.split(';')[0]?.trim().toLowerCase()
  if (type !== 'application/x-www-form-urlencoded') {
    throw new RegistrationError(
      'invalid_request',
      'Forms must be sent as application/x-www-form-urlencoded.',
    )
  }
  const body = await request.body()
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body)
  } catch {
    throw new RegistrationError('invalid_request', 'The form is not UTF-8.')
  }
  return new URLSearchParams(text)
}

function allow(method: string, methods: string[]): void {
  if (!methods.includes(method)) {
    throw new RegistrationError('invalid_request', `Method ${method} is not allowed here.`, {
      status: 405,
      headers: { allow: methods.join(', ') },
    })
  }
}

function notFound(): RegistrationError {
  return new RegistrationError('invalid_request', 'There is nothing here.', { status: 404 })
}

function page(status: number, body: Html): HttpResponse {
  return {
    status,
    headers: { ...CONSOLE_HEADERS, 'content-type': 'text/html; charset=utf-8' },
    body: body.toString(),
  }
}

/** RFC 9110 §15.4.4: after a form, the browser GETs the result (no resubmission on reload). */
function redirect(location: string, headers: Record<string, string> = {}): HttpResponse {
  return { status: 303, headers: { ...CONSOLE_HEADERS, location, ...headers } }
}

function asset(request: HttpRequest, name: string): HttpResponse {
  const a = ASSETS[name]
  if (a === undefined || !Object.hasOwn(ASSETS, name)) {
    return {
      status: 404,
      headers: { ...CONSOLE_HEADERS, 'content-type': 'text/plain' },
      body: 'not found',
    }
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return { status: 405, headers: { ...CONSOLE_HEADERS, allow: 'GET, HEAD' } }
  }
  const headers = {
    ...CONSOLE_HEADERS,
    'content-type': a.contentType,
    etag: a.etag,
    'cache-control': 'no-cache',
  }
  if (request.header('if-none-match') === a.etag) return { status: 304, headers }
  return { status: 200, headers, body: a.body }
}
