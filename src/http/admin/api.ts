import {
  type AdminService,
  CLIENT_STATUSES,
  type ClientFilters,
  REGISTRATION_SOURCES,
  type StatusAction,
} from '../../admin/service.js'
import { parseTime } from '../../admin/time.js'
import {
  auditEntryView,
  clientView,
  initialAccessTokenView,
  metadataDocumentView,
} from '../../admin/views.js'
import { RegistrationError } from '../../core/errors.js'
import type { ClientRecord } from '../../core/store.js'
import { checkJsonMediaType, parseJsonObject } from '../json-body.js'
import type { HttpRequest } from '../request.js'
import { type HttpResponse, json, NO_STORE } from '../respond.js'
import { type AdminAuthenticator, requireWrite } from './auth.js'

/** What the admin API needs. */
export interface AdminApiContext {
  service: AdminService
  auth: AdminAuthenticator
  clock: () => number
}

const STATUS_ACTIONS: readonly string[] = ['approve', 'disable', 'enable']

/**
 * The admin API: JSON under `{issuer path}/admin/api`, authenticated with an admin token as a
 * bearer token (never a registration access token or an initial access token). `sub` is the path
 * below `/admin/api`. Reads need any admin token; changes a read-write one (403 otherwise).
 *
 * - `GET /clients?search=&status=&policy=&source=&limit=&cursor=`, `GET /clients/{id}`
 * - `GET /metadata-documents`: the Client ID Metadata Document clients (at most 1,000, by URL)
 * - `POST /clients/{id}/approve|disable|enable`, `DELETE /clients/{id}` (`If-Match: "VERSION"`
 *   optional: only that version is changed, 412 otherwise)
 * - `GET|POST /initial-access-tokens`, `DELETE /initial-access-tokens/{id}`
 * - `GET /audit?client_id=&since=&limit=&cursor=`
 * - `POST /policy/dry-run` with `{"metadata": {…}, "initial_access_token": "…"}`
 */
export async function adminApi(
  request: HttpRequest,
  sub: string,
  context: AdminApiContext,
): Promise<HttpResponse> {
  const principal = await context.auth.bearer(request)
  const { service } = context
  const { method } = request
  const segments = sub.split('/').slice(1)
  const [collection, id, action, ...rest] = segments
  if (rest.length > 0) throw notFound()

  if (collection === 'clients') {
    if (id === undefined) {
      allow(method, ['GET'])
      const params = query(request, ['search', 'status', 'policy', 'source', 'limit', 'cursor'])
      const page = await service.listClients(clientFilters(params), pageOf(params))
      return ok({
        clients: page.items.map(clientView),
        ...(page.nextCursor !== undefined && { next_cursor: page.nextCursor }),
      })
    }
    const clientId = segment(id)
    if (action === undefined) {
      allow(method, ['GET', 'DELETE'])
      if (method === 'GET') {
        query(request, [])
        const client = await service.getClient(clientId)
        return withVersion(ok(clientView(client)), client)
      }
      requireWrite(principal)
      const expectedVersion = ifMatch(request)
      await service.deleteClient(clientId, principal.actor, {
        ...(expectedVersion !== undefined && { expectedVersion }),
      })
      return { status: 204, headers: { ...NO_STORE } }
    }
    if (!STATUS_ACTIONS.includes(action)) throw notFound()
    allow(method, ['POST'])
    requireWrite(principal)
    const expectedVersion = ifMatch(request)
    const changed = await service.changeStatus(action as StatusAction, clientId, principal.actor, {
      ...(expectedVersion !== undefined && { expectedVersion }),
    })
    return withVersion(ok(clientView(changed)), changed)
  }

  if (collection === 'metadata-documents' && id === undefined) {
    allow(method, ['GET'])
    query(request, [])
    const now = context.clock()
    const { policies } = service.config
    const held =
      policies.metadataDocument !== undefined &&
      policies.definitions[policies.metadataDocument]?.requireApproval === true
    const documents = await service.store.listMetadataDocuments({ limit: 1000 })
    return ok({ metadata_documents: documents.map((d) => metadataDocumentView(d, held, now)) })
  }

  if (collection === 'initial-access-tokens' && action === undefined) {
    if (id === undefined) {
      allow(method, ['GET', 'POST'])
      if (method === 'GET') {
        query(request, [])
        const now = context.clock()
        const tokens = await service.listInitialAccessTokens()
        return ok({ initial_access_tokens: tokens.map((t) => initialAccessTokenView(t, now)) })
      }
      requireWrite(principal)
      const body = await jsonBody(request)
      const options = tokenOptions(body)
      const { token, record } = await service.createInitialAccessToken(principal.actor, options)
      // RFC 7591 §3: the token is shown this once; only its hash is stored
      return json(
        201,
        { token, ...initialAccessTokenView(record, context.clock()) },
        { ...NO_STORE },
      )
    }
    allow(method, ['DELETE'])
    requireWrite(principal)
    await service.revokeInitialAccessToken(segment(id), principal.actor)
    return { status: 204, headers: { ...NO_STORE } }
  }

  if (collection === 'audit' && id === undefined) {
    allow(method, ['GET'])
    const params = query(request, ['client_id', 'since', 'limit', 'cursor'])
    const since = params.get('since')
    const filters = {
      ...(params.has('client_id') && { clientId: params.get('client_id') as string }),
      ...(since !== null && { since: timeParam('since', since, context.clock) }),
    }
    const page = await service.audit(filters, pageOf(params))
    return ok({
      entries: page.items.map(auditEntryView),
      ...(page.nextCursor !== undefined && { next_cursor: page.nextCursor }),
    })
  }

  if (collection === 'policy' && id === 'dry-run' && action === undefined) {
    allow(method, ['POST'])
    const body = await jsonBody(request)
    only(body, ['metadata', 'initial_access_token'])
    const metadata = body.metadata
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
      throw invalid(
        'metadata must be the JSON object a client would POST to the registration endpoint',
      )
    }
    const iat = body.initial_access_token
    if (iat !== undefined && typeof iat !== 'string') {
      throw invalid('initial_access_token must be a string')
    }
    return ok(await service.dryRun(metadata as Record<string, unknown>, iat))
  }

  throw notFound()
}

function ok(body: unknown): HttpResponse {
  return json(200, body, { ...NO_STORE })
}

/** RFC 9110 §8.8.3: a client's ETag is its version, for `If-Match` on the changes. */
function withVersion(response: HttpResponse, client: ClientRecord): HttpResponse {
  response.headers.etag = `"${client.version}"`
  return response
}

/** `If-Match: "N"` (RFC 9110 §13.1.1): the version to change, or undefined for any (`*`, absent). */
function ifMatch(request: HttpRequest): number | undefined {
  const value = request.header('if-match')?.trim()
  if (value === undefined || value === '*') return undefined
  const m = /^"(\d{1,15})"$/.exec(value)
  if (!m) throw invalid('If-Match must be the ETag of the client ("VERSION") or *')
  return Number(m[1])
}

function allow(method: string, methods: string[]): void {
  if (methods.includes(method)) return
  throw new RegistrationError('invalid_request', `method ${method} is not allowed here`, {
    status: 405,
    headers: { allow: methods.join(', ') },
  })
}

/** The query parameters; one not in `known`, or given twice, is a 400 naming it. */
function query(request: HttpRequest, known: string[]): URLSearchParams {
  const params = new URLSearchParams(request.query ?? '')
  for (const name of new Set(params.keys())) {
    if (!known.includes(name)) throw invalid(`unknown query parameter ${name}`)
    if (params.getAll(name).length > 1) throw invalid(`query parameter ${name} is repeated`)
  }
  return params
}

function clientFilters(params: URLSearchParams): ClientFilters {
  const status = params.get('status')
  const source = params.get('source')
  const policy = params.get('policy')
  const search = params.get('search')
  if (status !== null && !(CLIENT_STATUSES as string[]).includes(status)) {
    throw invalid(`status must be one of ${CLIENT_STATUSES.join(', ')}`)
  }
  if (source !== null && !(REGISTRATION_SOURCES as string[]).includes(source)) {
    throw invalid(`source must be one of ${REGISTRATION_SOURCES.join(', ')}`)
  }
  if (search !== null && search.length > 200) throw invalid('search is longer than 200 characters')
  return {
    ...(search !== null && { search }),
    ...(status !== null && { status: status as ClientFilters['status'] & string }),
    ...(policy !== null && { policy }),
    ...(source !== null && { source: source as ClientFilters['source'] & string }),
  }
}

function pageOf(params: URLSearchParams): { limit?: number; cursor?: string } {
  const limit = params.get('limit')
  const cursor = params.get('cursor')
  if (limit !== null && !/^\d{1,4}$/.test(limit)) throw invalid('limit must be an integer')
  return {
    ...(limit !== null && { limit: Number(limit) }),
    ...(cursor !== null && { cursor }),
  }
}

function timeParam(name: string, value: string, clock: () => number): number {
  const t = parseTime(value, clock() * 1000)
  if (t === undefined) {
    throw invalid(
      `${name} must be epoch seconds, an ISO 8601 date or date-time, or a duration such as 24h`,
    )
  }
  return t
}

function tokenOptions(body: Record<string, unknown>): {
  maxUses?: number
  expiresIn?: number
  policy?: string
  description?: string
} {
  only(body, ['max_uses', 'expires_in', 'policy', 'description'])
  const positive = (name: string, v: unknown) => {
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
      throw invalid(`${name} must be a positive integer`)
    }
    return v
  }
  const maxUses = positive('max_uses', body.max_uses)
  const expiresIn = positive('expires_in', body.expires_in)
  const { policy, description } = body
  if (policy !== undefined && policy !== null && typeof policy !== 'string') {
    throw invalid('policy must be a string')
  }
  if (description !== undefined && description !== null) {
    if (typeof description !== 'string' || description.length > 200) {
      throw invalid('description must be a string of at most 200 characters')
    }
  }
  return {
    ...(maxUses !== undefined && { maxUses }),
    ...(expiresIn !== undefined && { expiresIn }),
    ...(typeof policy === 'string' && { policy }),
    ...(typeof description === 'string' && { description }),
  }
}

async function jsonBody(request: HttpRequest): Promise<Record<string, unknown>> {
  checkJsonMediaType(request.header('content-type'))
  return parseJsonObject(await request.body())
}

function only(body: Record<string, unknown>, members: string[]): void {
  for (const member of Object.keys(body)) {
    if (!members.includes(member)) throw invalid(`unknown member ${member}`)
  }
}

/** A path segment, percent-decoded; a malformed one names nothing (404). */
function segment(raw: string): string {
  try {
    const decoded = decodeURIComponent(raw)
    if (decoded.length > 0 && decoded.length <= 255) return decoded
  } catch {
    // fall through
  }
  throw notFound()
}

function invalid(description: string): RegistrationError {
  return new RegistrationError('invalid_request', description)
}

function notFound(): RegistrationError {
  return new RegistrationError('invalid_request', 'no such admin endpoint', { status: 404 })
}
