import type { ClientFilters, DryRunResult, StatusAction } from '../../../admin/service.js'
import { isoSeconds } from '../../../admin/time.js'
import {
  type AdminTokenRecord,
  type AuditEntry,
  type ClientRecord,
  type InitialAccessTokenRecord,
  initialAccessTokenUsable,
  registrationSource,
} from '../../../core/store.js'
import { type Html, html, untrusted } from './html.js'

/** What every console page needs to render its frame and forms. */
export interface PageContext {
  /** The console's path, e.g. `/admin`. */
  base: string
  /** The signed-in admin token, if any. */
  token?: AdminTokenRecord
  /** The session's CSRF token, for POST forms. */
  csrf?: string
}

type Section = 'clients' | 'tokens' | 'audit' | 'dry-run' | 'sign-in'

const SECTIONS: [Section, string][] = [
  ['clients', 'Clients'],
  ['tokens', 'Initial access tokens'],
  ['audit', 'Audit trail'],
  ['dry-run', 'Policy dry run'],
]

/** The page frame: header, navigation, main landmark; the only script and stylesheet are ours. */
export function layout(ctx: PageContext, section: Section, title: string, body: Html): Html {
  const nav =
    ctx.token === undefined
      ? ''
      : html`<nav aria-label="Console">
          <ul>
            ${SECTIONS.map(
              ([key, label]) =>
                html`<li><a href="${ctx.base}/${key}"${section === key ? html` aria-current="page"` : ''}>${label}</a></li>`,
            )}
          </ul>
        </nav>
        <span class="who">Signed in with ${ctx.token.readOnly ? 'read-only' : 'read-write'} token
          <span class="mono">${ctx.token.id}</span></span>
        <form method="post" action="${ctx.base}/sign-out">
          ${csrfField(ctx)}
          <button type="submit">Sign out</button>
        </form>`
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · Registrar admin</title>
<link rel="icon" href="${ctx.base}/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${ctx.base}/assets/console.css">
<script src="${ctx.base}/assets/console.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header><div class="bar"><span class="brand">Registrar admin</span>${nav}</div></header>
<main id="main" tabindex="-1">
${body}
</main>
</body>
</html>
`
}

function csrfField(ctx: PageContext): Html | '' {
  return ctx.csrf === undefined ? '' : html`<input type="hidden" name="csrf" value="${ctx.csrf}">`
}

/** A flash message after a redirect; only these fixed texts, never reflected input. */
export const DONE_MESSAGES: Readonly<Record<string, string>> = {
  approved: 'The client was approved: it can be used now.',
  disabled: 'The client was disabled: it can no longer be used.',
  enabled: 'The client was enabled: it can be used again.',
  deleted: 'The client was deleted, with its secret and registration access token.',
  revoked: 'The initial access token was revoked; registrations made with it stay.',
}

function flash(done: string | undefined): Html | '' {
  const message = done === undefined ? undefined : DONE_MESSAGES[done]
  return message === undefined ? '' : html`<p class="notice" role="status">${message}</p>`
}

export function signInPage(ctx: PageContext, error?: string): Html {
  return layout(
    ctx,
    'sign-in',
    'Sign in',
    html`<h1>Sign in</h1>
<div class="stack">
  <p>Sign in with an admin token, made on the server with
    <code>registrar admin-token create</code>.</p>
  ${error === undefined ? '' : html`<p class="notice error" role="alert">${error}</p>`}
  <form method="post" action="${ctx.base}/sign-in" class="stack">
    <div class="field">
      <label for="token">Admin token</label>
      <input id="token" name="token" type="password" autocomplete="off" spellcheck="false"
        required aria-describedby="token-hint">
      <span class="hint" id="token-hint">The token is not stored in the browser; a session cookie
        is, until you sign out or it expires.</span>
    </div>
    <div><button type="submit">Sign in</button></div>
  </form>
</div>`,
  )
}

function badge(status: ClientRecord['status']): Html {
  const text = status === 'pending' ? 'awaiting approval' : status
  return html`<span class="badge ${status}">${text}</span>`
}

function when(seconds: number | null | undefined, none = '—'): Html {
  if (seconds === null || seconds === undefined) return html`${none}`
  if (seconds === 0) return html`never`
  const iso = isoSeconds(seconds)
  return html`<time datetime="${iso}">${iso.replace('T', ' ').replace('Z', ' UTC')}</time>`
}

function clientName(c: ClientRecord): Html {
  const name = c.metadata.client_name
  return typeof name === 'string' && name !== ''
    ? untrusted(name)
    : html`<span class="muted">(no name)</span>`
}

function redirectHosts(c: ClientRecord): string {
  const hosts = new Set<string>()
  for (const uri of c.metadata.redirect_uris ?? []) {
    try {
      const u = new URL(uri)
      hosts.add(u.host || u.protocol)
    } catch {
      hosts.add(uri)
    }
  }
  return [...hosts].join(', ')
}

function clientHref(ctx: PageContext, id: string, action?: string): string {
  return `${ctx.base}/clients/${encodeURIComponent(id)}${action === undefined ? '' : `/${action}`}`
}

function options(
  values: readonly string[],
  selected: string | undefined,
  labels?: Record<string, string>,
): Html[] {
  return values.map(
    (v) =>
      html`<option value="${v}"${v === selected ? html` selected` : ''}>${labels?.[v] ?? v}</option>`,
  )
}

export function clientsPage(
  ctx: PageContext,
  data: {
    filters: ClientFilters
    policies: string[]
    clients: ClientRecord[]
    nextCursor?: string
    paged: boolean
    pending: number
    done?: string
  },
): Html {
  const f = data.filters
  const query = (extra: Record<string, string>) =>
    new URLSearchParams({
      ...(f.search !== undefined && { search: f.search }),
      ...(f.status !== undefined && { status: f.status }),
      ...(f.policy !== undefined && { policy: f.policy }),
      ...(f.source !== undefined && { source: f.source }),
      ...extra,
    }).toString()
  const rows = data.clients.map(
    (c) => html`<tr${c.status === 'pending' ? html` class="pending"` : ''}>
      <td><a href="${clientHref(ctx, c.client_id)}">${clientName(c)}</a></td>
      <td>${badge(c.status)}</td>
      <td class="id mono">${c.client_id}</td>
      <td>${registrationSource(c).replaceAll('_', ' ')}</td>
      <td>${c.policy === undefined ? '—' : untrusted(c.policy)}</td>
      <td>${when(c.client_id_issued_at)}</td>
      <td>${untrusted(redirectHosts(c))}</td>
    </tr>`,
  )
  return layout(
    ctx,
    'clients',
    'Clients',
    html`<h1>Clients</h1>
${flash(data.done)}
${
  data.pending > 0
    ? html`<p class="notice warn">${data.pending} ${data.pending === 1 ? 'client awaits' : 'clients await'} approval; they are listed first.
      <a href="${ctx.base}/clients?status=pending">Show only those</a>.</p>`
    : ''
}
<form class="filters" method="get" action="${ctx.base}/clients" role="search" aria-label="Filter clients">
  <div class="field grow">
    <label for="search">Search</label>
    <input id="search" name="search" type="search" value="${f.search ?? ''}" maxlength="200"
      aria-describedby="search-hint">
    <span class="hint" id="search-hint">Client ID, name or redirect URI host</span>
  </div>
  <div class="field">
    <label for="status">Status</label>
    <select id="status" name="status">
      <option value="">Any</option>
      ${options(['pending', 'active', 'disabled'], f.status, { pending: 'Awaiting approval', active: 'Active', disabled: 'Disabled' })}
    </select>
  </div>
  <div class="field">
    <label for="source">Source</label>
    <select id="source" name="source">
      <option value="">Any</option>
      ${options(['anonymous', 'initial_access_token', 'software_statement'], f.source, {
        anonymous: 'Anonymous',
        initial_access_token: 'Initial access token',
        software_statement: 'Software statement',
      })}
    </select>
  </div>
  <div class="field">
    <label for="policy">Policy</label>
    <select id="policy" name="policy">
      <option value="">Any</option>
      ${options(data.policies, f.policy)}
    </select>
  </div>
  <div class="actions"><button type="submit">Filter</button>
    <a class="button secondary" href="${ctx.base}/clients">Clear</a></div>
</form>
<div class="table-wrap">
<table>
  <caption>${data.clients.length === 0 ? 'No client matches.' : `Clients${data.paged ? ' (continued)' : ''}: awaiting approval first, then the newest.`}</caption>
  <thead><tr>
    <th scope="col">Name</th><th scope="col">Status</th><th scope="col">Client ID</th>
    <th scope="col">Source</th><th scope="col">Policy</th><th scope="col">Registered</th>
    <th scope="col">Redirect hosts</th>
  </tr></thead>
  <tbody>${rows}</tbody>
</table>
</div>
<nav class="pager" aria-label="Pages">
  ${data.paged ? html`<a href="${ctx.base}/clients?${query({})}">First page</a>` : ''}
  ${data.nextCursor === undefined ? '' : html`<a rel="next" href="${ctx.base}/clients?${query({ cursor: data.nextCursor })}">Next page</a>`}
</nav>`,
  )
}

/** Which actions apply to a client in its status (the service enforces the same). */
function actionsFor(c: ClientRecord): StatusAction[] {
  if (c.status === 'pending') return ['approve', 'disable']
  if (c.status === 'active') return ['disable']
  return ['enable']
}

const ACTION_LABELS: Record<StatusAction | 'delete', string> = {
  approve: 'Approve',
  disable: 'Disable',
  enable: 'Enable',
  delete: 'Delete',
}

function value(v: unknown): Html {
  if (typeof v === 'string') return untrusted(v)
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) {
    return html`<ul class="plain">${v.map((x) => html`<li>${untrusted(x)}</li>`)}</ul>`
  }
  return html`<pre>${untrusted(JSON.stringify(v, null, 2))}</pre>`
}

function auditTable(ctx: PageContext, entries: AuditEntry[], withClient: boolean): Html {
  if (entries.length === 0) return html`<p class="muted">No audit entry.</p>`
  const rows = entries.map((e) => {
    const changes = Object.entries(e.changes ?? {})
    const actor = `${e.actor.type.replaceAll('_', ' ')}${e.actor.id !== undefined ? ` ${e.actor.id}` : ''}`
    return html`<tr>
      <td>${when(e.at)}</td>
      <td>${e.event.replaceAll('_', ' ')}</td>
      ${withClient ? html`<td class="id mono">${e.client_id === undefined ? '—' : html`<a href="${clientHref(ctx, e.client_id)}">${e.client_id}</a>`}</td>` : ''}
      <td>${untrusted(actor)}${e.actor.address === undefined ? '' : html`<br><span class="muted mono">${untrusted(e.actor.address)}</span>`}</td>
      <td>${
        changes.length === 0 && e.details === undefined
          ? '—'
          : html`<details><summary>${changes.length > 0 ? `${changes.length} member${changes.length === 1 ? '' : 's'}` : 'details'}</summary>
          ${changes.map(
            ([member, c]) => html`<p><strong>${untrusted(member)}</strong>:
              ${'before' in c ? value(c.before) : html`<span class="muted">(absent)</span>`} →
              ${'after' in c ? value(c.after) : html`<span class="muted">(absent)</span>`}</p>`,
          )}
          ${e.details === undefined ? '' : value(e.details)}
        </details>`
      }</td>
    </tr>`
  })
  return html`<div class="table-wrap"><table>
    <thead><tr><th scope="col">Time</th><th scope="col">Event</th>${withClient ? html`<th scope="col">Client ID</th>` : ''}<th scope="col">Actor</th><th scope="col">Changes</th></tr></thead>
    <tbody>${rows}</tbody>
  </table></div>`
}

export function clientPage(
  ctx: PageContext,
  data: { client: ClientRecord; audit: AuditEntry[]; moreAudit: boolean; done?: string },
): Html {
  const c = data.client
  const used = c.lastUsedAt
  const writable = ctx.token !== undefined && !ctx.token.readOnly
  const members = Object.entries(c.metadata).sort(([a], [b]) => (a < b ? -1 : 1))
  return layout(
    ctx,
    'clients',
    typeof c.metadata.client_name === 'string' ? c.metadata.client_name : c.client_id,
    html`<p><a href="${ctx.base}/clients">← All clients</a></p>
<h1>${clientName(c)} ${badge(c.status)}</h1>
${flash(data.done)}
<dl class="facts">
  <dt>Client ID</dt><dd class="mono">${c.client_id}</dd>
  <dt>Status</dt><dd>${c.status === 'pending' ? 'awaiting approval' : c.status}</dd>
  <dt>Source</dt><dd>${registrationSource(c).replaceAll('_', ' ')}${
    c.initialAccessTokenId === undefined
      ? ''
      : html` (token <span class="mono">${c.initialAccessTokenId}</span>)`
  }</dd>
  <dt>Policy</dt><dd>${c.policy === undefined ? '—' : untrusted(c.policy)}</dd>
  <dt>Registered</dt><dd>${when(c.client_id_issued_at)}</dd>
  <dt>Updated</dt><dd>${when(c.updatedAt)}</dd>
  <dt>Last used</dt><dd>${used === undefined ? html`<span class="muted">not recorded</span>` : when(used)}</dd>
  <dt>Secret expires</dt><dd>${c.client_secret_expires_at === undefined ? 'no secret' : when(c.client_secret_expires_at)}</dd>
  <dt>Version</dt><dd>${c.version}</dd>
</dl>
${
  writable
    ? html`<div class="actions">
  ${actionsFor(c).map(
    (a) =>
      html`<a class="button${a === 'disable' ? ' secondary' : ''}" href="${clientHref(ctx, c.client_id, a)}?version=${c.version}">${ACTION_LABELS[a]}</a>`,
  )}
  <a class="button danger" href="${clientHref(ctx, c.client_id, 'delete')}?version=${c.version}">Delete</a>
</div>`
    : html`<p class="muted">Read-only token: no changes can be made.</p>`
}
<h2>Metadata</h2>
<div class="table-wrap"><table>
  <caption>As registered (defaults applied). Chosen by the registrant: shown as text only.</caption>
  <thead><tr><th scope="col">Member</th><th scope="col">Value</th></tr></thead>
  <tbody>${members.map(([k, v]) => html`<tr><th scope="row" class="mono">${untrusted(k)}</th><td>${value(v)}</td></tr>`)}</tbody>
</table></div>
${
  c.software_statement === undefined
    ? ''
    : html`<details><summary>Software statement</summary><pre class="mono">${untrusted(c.software_statement)}</pre></details>`
}
<h2>Audit trail</h2>
${auditTable(ctx, data.audit, false)}
${data.moreAudit ? html`<p><a href="${ctx.base}/audit?client_id=${encodeURIComponent(c.client_id)}">Full audit trail of this client</a></p>` : ''}`,
  )
}

const CONFIRM_TEXT: Record<StatusAction | 'delete', string> = {
  approve: 'Approve this client? It can be used at once.',
  disable: 'Disable this client? It can no longer be used until it is enabled again.',
  enable: 'Enable this client? It can be used again at once.',
  delete:
    'Delete this client? Its secret and registration access token stop working at once; it must register again. This cannot be undone.',
}

export function confirmPage(
  ctx: PageContext,
  client: ClientRecord,
  action: StatusAction | 'delete',
  version: number,
): Html {
  const label = ACTION_LABELS[action]
  return layout(
    ctx,
    'clients',
    `${label} client`,
    html`<h1>${label} ${clientName(client)}</h1>
<div class="stack">
  <p>${CONFIRM_TEXT[action]}</p>
  <p class="muted">Client ID <span class="mono">${client.client_id}</span>, version ${version}.
    If the client changes before you confirm, nothing is done and you are told.</p>
  <form method="post" action="${clientHref(ctx, client.client_id, action)}">
    ${csrfField(ctx)}
    <input type="hidden" name="version" value="${version}">
    <div class="actions">
      <button type="submit" class="${action === 'delete' ? 'danger' : ''}">${label}</button>
      <a class="button secondary" href="${clientHref(ctx, client.client_id)}">Cancel</a>
    </div>
  </form>
</div>`,
  )
}

export function tokensPage(
  ctx: PageContext,
  data: {
    tokens: InitialAccessTokenRecord[]
    policies: string[]
    now: number
    done?: string
    error?: string
  },
): Html {
  const writable = ctx.token !== undefined && !ctx.token.readOnly
  const rows = data.tokens.map(
    (t) => html`<tr>
      <td class="mono">${t.id}</td>
      <td>${t.description === undefined ? '—' : untrusted(t.description)}</td>
      <td>${t.policy === undefined ? '—' : untrusted(t.policy)}</td>
      <td>${t.uses} / ${t.maxUses ?? 'unlimited'}</td>
      <td>${when(t.createdAt)}</td>
      <td>${t.expiresAt === null ? 'never' : when(t.expiresAt)}</td>
      <td>${initialAccessTokenUsable(t, data.now) ? 'yes' : 'no'}</td>
      ${writable ? html`<td><a href="${ctx.base}/tokens/${encodeURIComponent(t.id)}/revoke">Revoke<span class="visually-hidden"> token ${t.id}</span></a></td>` : ''}
    </tr>`,
  )
  return layout(
    ctx,
    'tokens',
    'Initial access tokens',
    html`<h1>Initial access tokens</h1>
${flash(data.done)}
<p>An initial access token (RFC 7591 §3) lets a client register. It is shown once, when it is
  created; only its hash is stored.</p>
${
  writable
    ? html`<h2>Create a token</h2>
${data.error === undefined ? '' : html`<p class="notice error" role="alert">${data.error}</p>`}
<form method="post" action="${ctx.base}/tokens" class="filters">
  ${csrfField(ctx)}
  <div class="field"><label for="max_uses">Maximum uses</label>
    <input id="max_uses" name="max_uses" type="number" min="1" step="1" inputmode="numeric" aria-describedby="max-hint">
    <span class="hint" id="max-hint">Empty: unlimited</span></div>
  <div class="field"><label for="expires_in">Expires in (hours)</label>
    <input id="expires_in" name="expires_in_hours" type="number" min="1" step="1" inputmode="numeric" aria-describedby="exp-hint">
    <span class="hint" id="exp-hint">Empty: never</span></div>
  <div class="field"><label for="token_policy">Policy</label>
    <select id="token_policy" name="policy"><option value="">Server default</option>${options(data.policies, undefined)}</select></div>
  <div class="field grow"><label for="description">Description</label>
    <input id="description" name="description" type="text" maxlength="200"></div>
  <div class="actions"><button type="submit">Create token</button></div>
</form>`
    : ''
}
<h2>Tokens</h2>
<div class="table-wrap"><table>
  <caption>${data.tokens.length === 0 ? 'No token.' : 'Never the tokens themselves: they were shown once.'}</caption>
  <thead><tr><th scope="col">ID</th><th scope="col">Description</th><th scope="col">Policy</th>
    <th scope="col">Uses</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Usable</th>
    ${writable ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : ''}</tr></thead>
  <tbody>${rows}</tbody>
</table></div>`,
  )
}

export function tokenCreatedPage(
  ctx: PageContext,
  token: string,
  record: InitialAccessTokenRecord,
): Html {
  return layout(
    ctx,
    'tokens',
    'Token created',
    html`<h1>Initial access token created</h1>
<div class="stack">
  <p class="notice warn" role="status">Copy the token now: it is shown only this once and cannot be
    retrieved later.</p>
  <div class="field">
    <label for="new-token">Token <span class="mono">${record.id}</span></label>
    <input id="new-token" class="token" type="text" readonly value="${token}" spellcheck="false">
  </div>
  <div class="actions">
    <button type="button" data-copy="new-token" aria-describedby="copy-status">Copy token</button>
    <a class="button secondary" href="${ctx.base}/tokens">Done</a>
  </div>
  <p id="copy-status" role="status" aria-live="polite"></p>
  <p class="muted">Uses: ${record.maxUses ?? 'unlimited'}. Expires: ${record.expiresAt === null ? 'never' : when(record.expiresAt)}.
    Policy: ${record.policy === undefined ? 'server default' : untrusted(record.policy)}.</p>
</div>`,
  )
}

export function revokePage(ctx: PageContext, token: InitialAccessTokenRecord): Html {
  return layout(
    ctx,
    'tokens',
    'Revoke token',
    html`<h1>Revoke token <span class="mono">${token.id}</span></h1>
<div class="stack">
  <p>Revoke this initial access token? It can no longer be used to register. Clients already
    registered with it stay.</p>
  <form method="post" action="${ctx.base}/tokens/${encodeURIComponent(token.id)}/revoke">
    ${csrfField(ctx)}
    <div class="actions"><button type="submit" class="danger">Revoke</button>
      <a class="button secondary" href="${ctx.base}/tokens">Cancel</a></div>
  </form>
</div>`,
  )
}

export function auditPage(
  ctx: PageContext,
  data: {
    entries: AuditEntry[]
    clientId?: string
    since?: string
    nextCursor?: string
    paged: boolean
  },
): Html {
  const q = (extra: Record<string, string>) =>
    new URLSearchParams({
      ...(data.clientId !== undefined && { client_id: data.clientId }),
      ...(data.since !== undefined && { since: data.since }),
      ...extra,
    }).toString()
  return layout(
    ctx,
    'audit',
    'Audit trail',
    html`<h1>Audit trail</h1>
<form class="filters" method="get" action="${ctx.base}/audit" role="search" aria-label="Filter the audit trail">
  <div class="field grow"><label for="client_id">Client ID</label>
    <input id="client_id" name="client_id" type="text" value="${data.clientId ?? ''}" spellcheck="false"></div>
  <div class="field"><label for="since">Since</label>
    <input id="since" name="since" type="text" value="${data.since ?? ''}" aria-describedby="since-hint">
    <span class="hint" id="since-hint">2026-05-01, 24h, 7d</span></div>
  <div class="actions"><button type="submit">Filter</button>
    <a class="button secondary" href="${ctx.base}/audit">Clear</a></div>
</form>
${auditTable(ctx, data.entries, true)}
<nav class="pager" aria-label="Pages">
  ${data.paged ? html`<a href="${ctx.base}/audit?${q({})}">Newest</a>` : ''}
  ${data.nextCursor === undefined ? '' : html`<a rel="next" href="${ctx.base}/audit?${q({ cursor: data.nextCursor })}">Older entries</a>`}
</nav>`,
  )
}

export function dryRunPage(
  ctx: PageContext,
  data: { metadata?: string; iat?: string; result?: DryRunResult; error?: string },
): Html {
  const r = data.result
  return layout(
    ctx,
    'dry-run',
    'Policy dry run',
    html`<h1>Policy dry run</h1>
<p>What a registration request would be registered as, and why, without registering it: the
  software statement, the policy that applies, every check. Nothing is stored.</p>
<form method="post" action="${ctx.base}/dry-run" class="stack">
  ${csrfField(ctx)}
  <div class="field"><label for="metadata">Registration request (JSON)</label>
    <textarea id="metadata" name="metadata" required spellcheck="false" aria-describedby="metadata-hint">${data.metadata ?? '{\n  "redirect_uris": ["https://app.example.com/callback"],\n  "client_name": "Example"\n}'}</textarea>
    <span class="hint" id="metadata-hint">The body a client would POST to the registration endpoint.</span></div>
  <div class="field"><label for="iat">Initial access token (optional)</label>
    <input id="iat" name="initial_access_token" type="password" autocomplete="off" value="" aria-describedby="iat-hint">
    <span class="hint" id="iat-hint">Checked, not used.</span></div>
  <div><button type="submit">Evaluate</button></div>
</form>
${data.error === undefined ? '' : html`<p class="notice error" role="alert">${data.error}</p>`}
${
  r === undefined
    ? ''
    : r.result === 'refused'
      ? html`<h2>Result: refused</h2>
<p class="notice error" role="status">HTTP ${r.status} <code>${r.error}</code>${r.error_description === undefined ? '' : html`: ${untrusted(r.error_description)}`}</p>`
      : html`<h2>Result: accepted</h2>
<p class="notice" role="status">Registrant: ${r.registrant.replaceAll('_', ' ')}${r.software_statement_issuer === undefined ? '' : html` (statement of ${untrusted(r.software_statement_issuer)})`}.
  Policy: ${r.policy === null ? 'none' : untrusted(r.policy)}. Status: ${r.status === 'pending' ? 'awaiting approval' : r.status}.</p>
<div class="table-wrap"><table>
  <caption>Registered as, and where each member comes from</caption>
  <thead><tr><th scope="col">Member</th><th scope="col">Value</th><th scope="col">Decided by</th></tr></thead>
  <tbody>${Object.entries(r.registered_as).map(
    ([k, v]) =>
      html`<tr><th scope="row" class="mono">${untrusted(k)}</th><td>${value(v)}</td><td>${untrusted(r.decided_by[k] ?? '')}</td></tr>`,
  )}</tbody>
</table></div>`
}`,
  )
}

export function errorPage(ctx: PageContext, status: number, message: string): Html {
  return layout(
    ctx,
    'clients',
    status === 404 ? 'Not found' : 'Error',
    html`<h1>${status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : 'Something went wrong'}</h1>
<p class="notice error" role="alert">${message}</p>
<p><a href="${ctx.base}/clients">Back to the clients</a></p>`,
  )
}
