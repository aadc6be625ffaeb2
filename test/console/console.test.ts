import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createInitialAccessToken } from '../../src/core/initial-access-token.js'
import { adminApp } from '../admin/support.js'
import { ISSUER } from '../helpers.js'
import { client } from '../storage/store.contract.js'

// Issue 13 item 5: the web console, at the HTTP level (the browser tests drive it for real).

type App = Awaited<ReturnType<typeof adminApp>>

/** A browser-like session on the console: keeps the cookie, sends same-origin forms. */
function browser(app: App) {
  let cookie: string | undefined
  const request = async (
    method: string,
    path: string,
    options: { form?: Record<string, string>; headers?: Record<string, string> } = {},
  ) => {
    const headers: Record<string, string> = {
      'sec-fetch-site': 'same-origin',
      ...(cookie && { cookie }),
      ...options.headers,
    }
    if (options.form) headers['content-type'] = 'application/x-www-form-urlencoded'
    const res = await app.fetch(
      new Request(new URL(path, ISSUER), {
        method,
        headers,
        redirect: 'manual',
        ...(options.form && { body: new URLSearchParams(options.form).toString() }),
      }),
    )
    const set = res.headers.get('set-cookie')
    if (set) {
      const [pair] = set.split(';')
      cookie = pair?.endsWith('=') ? undefined : pair
    }
    return { status: res.status, headers: res.headers, text: await res.text() }
  }
  return {
    get: (path: string, headers?: Record<string, string>) =>
      request('GET', path, headers ? { headers } : {}),
    post: (path: string, form: Record<string, string>, headers?: Record<string, string>) =>
      request('POST', path, { form, ...(headers && { headers }) }),
    cookie: () => cookie,
    setCookie: (c: string | undefined) => {
      cookie = c
    },
    async signIn(token: string) {
      const res = await request('POST', '/admin/sign-in', { form: { token } })
      assert.equal(res.status, 303, res.text)
      return res
    },
  }
}

/** The CSRF token of the forms on a page. */
function csrf(page: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(page)
  assert.ok(m, 'the page has a CSRF field')
  return m[1] as string
}

const XSS = '<img src=x onerror=alert(1)>'

describe('console: sign-in and sessions', () => {
  it('sends the unsigned-in to the sign-in page', async () => {
    const app = await adminApp()
    const b = browser(app)
    for (const path of [
      '/admin',
      '/admin/clients',
      '/admin/tokens',
      '/admin/audit',
      '/admin/dry-run',
    ]) {
      const res = await b.get(path)
      assert.equal(res.status, 303, path)
      assert.equal(res.headers.get('location'), '/admin/sign-in')
    }
    const page = await b.get('/admin/sign-in')
    assert.equal(page.status, 200)
    assert.match(page.text, /<label for="token">Admin token<\/label>/)
    assert.match(page.text, /<input id="token" name="token" type="password"/)
  })

  it('a valid admin token opens a session cookie: __Host-, HttpOnly, Secure, SameSite=Strict', async () => {
    const app = await adminApp()
    const b = browser(app)
    const res = await b.signIn(app.rw)
    assert.equal(res.headers.get('location'), '/admin/clients')
    const set = res.headers.get('set-cookie') ?? ''
    assert.match(
      set,
      /^__Host-registrar-admin=[^;]+; Path=\/; Max-Age=28800; HttpOnly; Secure; SameSite=Strict$/,
    )
    // the cookie is sealed: it shows neither the token nor its id
    assert.ok(!set.includes(app.rw) && !set.includes(app.rwId))
    const clients = await b.get('/admin/clients')
    assert.equal(clients.status, 200)
    assert.match(clients.text, /<h1>Clients<\/h1>/)
  })

  it('wrong tokens, registration access tokens and initial access tokens do not sign in', async () => {
    const app = await adminApp()
    const reg = await app.registrar.register({
      metadata: { redirect_uris: ['https://a.example/cb'] },
    })
    const { token: iat } = await createInitialAccessToken(app.store)
    const b = browser(app)
    for (const token of ['', 'nope', reg.registration_access_token, iat, `${app.rw} x`]) {
      const res = await b.post('/admin/sign-in', { token })
      assert.equal(res.status, 401, token)
      assert.match(res.text, /not a valid admin token/)
      assert.equal(res.headers.get('set-cookie'), null)
    }
  })

  it('a sign-in form posted from another site is refused (login CSRF)', async () => {
    const app = await adminApp()
    const b = browser(app)
    for (const headers of [{ 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }]) {
      const res = await b.post('/admin/sign-in', { token: app.rw }, headers)
      assert.equal(res.status, 403)
      assert.equal(res.headers.get('set-cookie'), null)
    }
    const evil = await app.fetch(
      new Request(`${ISSUER}/admin/sign-in`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          origin: 'https://evil.example',
          host: 'as.example.com',
        },
        body: `token=${app.rw}`,
      }),
    )
    assert.equal(evil.status, 403)
  })

  it('a tampered cookie, a revoked token or signing out ends the session', async () => {
    const app = await adminApp()
    const b = browser(app)
    await b.signIn(app.rw)
    const good = b.cookie() as string
    b.setCookie(`${good.slice(0, -2)}${good.endsWith('A') ? 'B' : 'A'}${good.slice(-1)}`)
    assert.equal((await b.get('/admin/clients')).status, 303)
    b.setCookie(good)
    assert.equal((await b.get('/admin/clients')).status, 200)
    const page = await b.get('/admin/clients')
    const out = await b.post('/admin/sign-out', { csrf: csrf(page.text) })
    assert.equal(out.status, 303)
    assert.match(
      out.headers.get('set-cookie') ?? '',
      /^__Host-registrar-admin=; Path=\/; Max-Age=0/,
    )
    b.setCookie(good)
    await app.store.revokeAdminToken(app.rwId)
    assert.equal((await b.get('/admin/clients')).status, 303)
  })
})

describe('console: safety', () => {
  it('every page: strict CSP, no framing, no referrer, not cached; no inline script, style or handler', async () => {
    const app = await adminApp()
    await app.store.createClient(client('x1', { status: 'pending' }))
    const b = browser(app)
    const pages = [await b.get('/admin/sign-in')]
    await b.signIn(app.rw)
    for (const path of [
      '/admin/clients',
      '/admin/clients/x1',
      '/admin/clients/x1/approve',
      '/admin/tokens',
      '/admin/audit',
      '/admin/dry-run',
      '/admin/clients/none',
    ]) {
      pages.push(await b.get(path))
    }
    for (const page of pages) {
      const csp = page.headers.get('content-security-policy') ?? ''
      assert.equal(
        csp,
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      )
      assert.equal(page.headers.get('x-frame-options'), 'DENY')
      assert.equal(page.headers.get('referrer-policy'), 'no-referrer')
      assert.equal(page.headers.get('cache-control'), 'no-store')
      assert.equal(page.headers.get('x-content-type-options'), 'nosniff')
      assert.doesNotMatch(page.text, /<script(?![^>]*\bsrc="\/admin\/assets\/console\.js")/)
      assert.doesNotMatch(page.text, /<style|\sstyle=|\son[a-z]+=/i)
      // everything is served by Registrar: no absolute URL to load
      assert.doesNotMatch(page.text, /(src|href)="(https?:)?\/\//)
      assert.match(page.text, /<html lang="en">/)
      assert.match(
        page.text,
        /<meta name="viewport" content="width=device-width, initial-scale=1">/,
      )
    }
  })

  it('client metadata renders as text: <img src=x onerror=alert(1)> is escaped everywhere', async () => {
    const app = await adminApp()
    const reg = await app.registrar.register({
      metadata: {
        redirect_uris: ['https://app.example/cb'],
        client_name: XSS,
        client_uri: 'https://app.example/"><script>alert(2)</script>',
        'client_name#fr': '</td><script>alert(3)</script>',
      },
    })
    const b = browser(app)
    await b.signIn(app.rw)
    for (const path of [
      '/admin/clients',
      `/admin/clients/${reg.client_id}`,
      `/admin/clients/${reg.client_id}/disable`,
      `/admin/clients?search=${encodeURIComponent(XSS)}`,
      `/admin/audit`,
    ]) {
      const page = await b.get(path)
      assert.equal(page.status, 200, path)
      assert.ok(!page.text.includes('<img'), path)
      assert.ok(!page.text.includes('<script>alert'), path)
    }
    const detail = await b.get(`/admin/clients/${reg.client_id}`)
    assert.ok(detail.text.includes('&lt;img src=x onerror=alert(1)&gt;'))
    const search = await b.get(`/admin/clients?search=${encodeURIComponent('"><img src=x>')}`)
    assert.ok(search.text.includes('value="&quot;&gt;&lt;img src=x&gt;"'))
  })

  it('forms without the session CSRF token, or from another origin, are refused', async () => {
    const app = await adminApp()
    await app.store.createClient(client('p', { status: 'pending' }))
    const b = browser(app)
    await b.signIn(app.rw)
    const page = await b.get('/admin/clients/p/approve')
    const token = csrf(page.text)
    for (const [form, headers] of [
      [{ version: '1' }, undefined],
      [{ version: '1', csrf: 'forged' }, undefined],
      [{ version: '1', csrf: token }, { 'sec-fetch-site': 'cross-site' }],
      [{ version: '1', csrf: token }, { 'sec-fetch-site': 'same-site' }],
    ] as const) {
      const res = await b.post('/admin/clients/p/approve', form, headers)
      assert.equal(res.status, 403, JSON.stringify(form))
    }
    assert.equal((await app.store.findClient('p'))?.status, 'pending')
    // another session's token does not pass either
    const other = browser(app)
    await other.signIn(app.rw)
    const otherToken = csrf((await other.get('/admin/clients')).text)
    assert.notEqual(otherToken, token)
    assert.equal(
      (await b.post('/admin/clients/p/approve', { version: '1', csrf: otherToken })).status,
      403,
    )
    const ok = await b.post('/admin/clients/p/approve', { version: '1', csrf: token })
    assert.equal(ok.status, 303)
  })

  it('a read-only session sees no action and cannot act', async () => {
    const app = await adminApp()
    await app.store.createClient(client('p', { status: 'pending' }))
    const b = browser(app)
    await b.signIn(app.ro)
    const page = await b.get('/admin/clients/p')
    assert.equal(page.status, 200)
    assert.match(page.text, /Read-only token/)
    assert.doesNotMatch(page.text, /href="\/admin\/clients\/p\/approve/)
    assert.equal((await b.get('/admin/clients/p/approve')).status, 403)
    const res = await b.post('/admin/clients/p/approve', { version: '1', csrf: csrf(page.text) })
    assert.equal(res.status, 403)
    assert.match(res.text, /read-only/)
    assert.equal((await app.store.findClient('p'))?.status, 'pending')
    const tokens = await b.get('/admin/tokens')
    assert.doesNotMatch(tokens.text, /Create a token/)
  })
})

describe('console: pages', () => {
  it('clients: awaiting approval first, filters, pagination', async () => {
    const app = await adminApp({ policies: { definitions: { mcp: {}, partners: {} } } })
    for (let i = 0; i < 55; i++) {
      await app.store.createClient(
        client(`c-${String(i).padStart(2, '0')}`, {
          client_id_issued_at: 1000 + i,
          status: i === 3 ? 'pending' : 'active',
          policy: i % 2 ? 'mcp' : 'partners',
        }),
      )
    }
    const b = browser(app)
    await b.signIn(app.rw)
    const first = await b.get('/admin/clients')
    assert.match(first.text, /1 client awaits approval/)
    const ids = [...first.text.matchAll(/<td class="id mono">([^<]+)<\/td>/g)].map((m) => m[1])
    assert.equal(ids.length, 50)
    assert.equal(ids[0], 'c-03')
    assert.equal(ids[1], 'c-54')
    const next = /<a rel="next" href="([^"]+)"/.exec(first.text)?.[1]
    assert.ok(next)
    const second = await b.get(next.replaceAll('&amp;', '&'))
    const more = [...second.text.matchAll(/<td class="id mono">([^<]+)<\/td>/g)].map((m) => m[1])
    assert.equal(more.length, 5)
    assert.doesNotMatch(second.text, /rel="next"/)
    const filtered = await b.get(
      '/admin/clients?status=active&policy=mcp&source=anonymous&search=c-1',
    )
    const f = [...filtered.text.matchAll(/<td class="id mono">([^<]+)<\/td>/g)].map((m) => m[1])
    assert.deepEqual(f, ['c-19', 'c-17', 'c-15', 'c-13', 'c-11'])
    assert.match(filtered.text, /<option value="mcp" selected>mcp<\/option>/)
    const bad = await b.get('/admin/clients?status=gone')
    assert.equal(bad.status, 400)
    const cursor = await b.get('/admin/clients?cursor=forged')
    assert.equal(cursor.status, 400)
    assert.match(cursor.text, /cursor is invalid/)
  })

  it('approve with confirmation: the version shown is the version changed; a stale one is refused', async () => {
    const app = await adminApp()
    await app.store.createClient(client('p', { status: 'pending', version: 2 }))
    const b = browser(app)
    await b.signIn(app.rw)
    const detail = await b.get('/admin/clients/p')
    assert.match(detail.text, /href="\/admin\/clients\/p\/approve\?version=2"/)
    const confirm = await b.get('/admin/clients/p/approve?version=2')
    assert.match(confirm.text, /Approve this client\?/)
    assert.match(confirm.text, /name="version" value="2"/)
    // meanwhile, the client changes
    await app.store.replaceClient(client('p', { status: 'pending', version: 3 }), 2)
    const stale = await b.post('/admin/clients/p/approve', {
      version: '2',
      csrf: csrf(confirm.text),
    })
    assert.equal(stale.status, 412)
    assert.match(stale.text, /changed since version 2/)
    const done = await b.post('/admin/clients/p/approve', {
      version: '3',
      csrf: csrf(confirm.text),
    })
    assert.equal(done.status, 303)
    assert.equal(done.headers.get('location'), '/admin/clients/p?done=approved')
    const after = await b.get('/admin/clients/p?done=approved')
    assert.match(after.text, /role="status">The client was approved/)
    assert.match(after.text, /<span class="badge active">active<\/span>/)
    assert.match(after.text, /approved/)
    // flash messages come from a fixed list, never from the URL
    const reflected = await b.get(`/admin/clients/p?done=${encodeURIComponent(XSS)}`)
    assert.ok(!reflected.text.includes('onerror'))
  })

  it('delete with confirmation; the client page then is 404', async () => {
    const app = await adminApp()
    const reg = await app.registrar.register({
      metadata: { redirect_uris: ['https://a.example/cb'] },
    })
    const b = browser(app)
    await b.signIn(app.rw)
    const confirm = await b.get(`/admin/clients/${reg.client_id}/delete`)
    assert.match(confirm.text, /This cannot be undone/)
    const res = await b.post(`/admin/clients/${reg.client_id}/delete`, {
      version: '1',
      csrf: csrf(confirm.text),
    })
    assert.equal(res.status, 303)
    assert.equal(res.headers.get('location'), '/admin/clients?done=deleted')
    assert.equal((await b.get(`/admin/clients/${reg.client_id}`)).status, 404)
    assert.equal(await app.store.findClient(reg.client_id), undefined)
  })

  it('initial access tokens: created and shown once with a copy button, listed without it, revoked', async () => {
    const app = await adminApp({ policies: { definitions: { partners: {} } } })
    const b = browser(app)
    await b.signIn(app.rw)
    const list = await b.get('/admin/tokens')
    const created = await b.post('/admin/tokens', {
      csrf: csrf(list.text),
      max_uses: '3',
      expires_in_hours: '24',
      policy: 'partners',
      description: 'For <Acme>',
    })
    assert.equal(created.status, 201)
    const token = /id="new-token" class="token" type="text" readonly value="([^"]+)"/.exec(
      created.text,
    )?.[1]
    assert.ok(token)
    assert.match(created.text, /<button type="button" data-copy="new-token"/)
    assert.match(created.text, /shown only this once/)
    const [record] = await app.store.listInitialAccessTokens()
    assert.equal(record?.maxUses, 3)
    assert.equal(record?.policy, 'partners')
    assert.equal(record?.description, 'For <Acme>')
    assert.equal((record?.expiresAt ?? 0) - (record?.createdAt ?? 0), 86_400)
    const again = await b.get('/admin/tokens')
    assert.ok(!again.text.includes(token))
    assert.ok(again.text.includes('For &lt;Acme&gt;'))
    const bads: Record<string, string>[] = [
      { max_uses: '0' },
      { max_uses: 'many' },
      { policy: 'nope' },
    ]
    for (const bad of bads) {
      const res = await b.post('/admin/tokens', { csrf: csrf(list.text), ...bad })
      assert.equal(res.status, 400, JSON.stringify(bad))
      assert.match(res.text, /role="alert"/)
    }
    const confirm = await b.get(`/admin/tokens/${record?.id}/revoke`)
    const revoked = await b.post(`/admin/tokens/${record?.id}/revoke`, { csrf: csrf(confirm.text) })
    assert.equal(revoked.status, 303)
    assert.equal((await app.store.listInitialAccessTokens()).length, 0)
  })

  it('policy dry run: accepted with decisions; refused; not JSON', async () => {
    const app = await adminApp({
      policies: {
        anonymous: 'public',
        definitions: { public: { redirectUriHosts: ['app.example'] } },
      },
    })
    const b = browser(app)
    await b.signIn(app.ro)
    const form = await b.get('/admin/dry-run')
    const token = csrf(form.text)
    const ok = await b.post('/admin/dry-run', {
      csrf: token,
      metadata: JSON.stringify({ redirect_uris: ['https://app.example/cb'], client_name: XSS }),
    })
    assert.equal(ok.status, 200)
    assert.match(ok.text, /Result: accepted/)
    assert.match(ok.text, /Policy: <bdi>public<\/bdi>/)
    assert.ok(!ok.text.includes('<img'))
    const refused = await b.post('/admin/dry-run', {
      csrf: token,
      metadata: JSON.stringify({ redirect_uris: ['https://evil.example/cb'] }),
    })
    assert.match(refused.text, /Result: refused/)
    assert.match(refused.text, /invalid_redirect_uri/)
    const bad = await b.post('/admin/dry-run', { csrf: token, metadata: '{nope' })
    assert.equal(bad.status, 400)
    assert.match(bad.text, /Not JSON/)
    assert.equal(await app.store.countClients(), 0)
  })

  it('audit page: entries with actor and changes; filters; a bad since is 400', async () => {
    const app = await adminApp()
    const reg = await app.registrar.register({
      metadata: { redirect_uris: ['https://a.example/cb'], client_name: 'Audited' },
    })
    await app.runtime.operations.audit?.flush()
    const b = browser(app)
    await b.signIn(app.rw)
    const page = await b.get(`/admin/audit?client_id=${reg.client_id}&since=1h`)
    assert.equal(page.status, 200)
    assert.match(page.text, /<td>registered<\/td>/)
    assert.match(page.text, /Audited/)
    assert.equal((await b.get('/admin/audit?since=soon')).status, 400)
  })

  it('assets: served by Registrar with a validator', async () => {
    const app = await adminApp()
    const b = browser(app)
    const css = await b.get('/admin/assets/console.css')
    assert.equal(css.status, 200)
    assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8')
    const etag = css.headers.get('etag') as string
    assert.equal((await b.get('/admin/assets/console.css', { 'if-none-match': etag })).status, 304)
    const js = await b.get('/admin/assets/console.js')
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8')
    assert.equal((await b.get('/admin/assets/nope.js')).status, 404)
    assert.equal((await b.get('/admin/assets/__proto__')).status, 404)
  })
})
