import assert from 'node:assert/strict'
import { existsSync, mkdirSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { createAdminToken } from '../../src/admin/admin-token.js'
import type { ClientRecord } from '../../src/core/store.js'
import { createRegistrar, type RegistrarApp } from '../../src/index.js'
import { tempDir } from '../helpers.js'
import { client, metadata } from '../storage/store.contract.js'

// Issue 13 item 5, tested in a real browser: Playwright (playwright-core) driving Debian's
// Chromium signs in, approves a pending client, creates a token, deletes a client and checks each
// result through the admin API; stored XSS from client metadata never runs; the pages make no
// request outside Registrar, keep to their Content-Security-Policy, label every control, meet
// the AA contrast ratio and fit a phone. With UPDATE_SCREENSHOTS=1 the screenshots of the main
// pages are written to docs/images/ for docs/operations.md.

const CHROMIUM = process.env.REGISTRAR_TEST_CHROMIUM ?? '/usr/bin/chromium'
const REQUIRED = process.env.REQUIRE_CHROMIUM === '1'
const missing = !existsSync(CHROMIUM)
const skip =
  missing && !REQUIRED
    ? `Chromium not found at ${CHROMIUM}: apt-get install -y chromium (as .ci/run does, with REQUIRE_CHROMIUM=1), or set REGISTRAR_TEST_CHROMIUM`
    : false
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1'
const ROOT = new URL('../../', import.meta.url).pathname
const XSS = '<img src=x onerror=alert(1)>'
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

describe('console in a real browser (Chromium)', { skip, timeout: 180_000 }, () => {
  let server: Server
  let app: RegistrarApp
  let origin: string
  let browser: Browser
  let context: BrowserContext
  let page: Page
  let adminToken: string
  let shots: ReturnType<typeof tempDir>
  /** Everything the browser asked for, and every dialog and CSP complaint. */
  const requests: string[] = []
  const dialogs: string[] = []
  const consoleErrors: string[] = []

  /** The admin API, as an operator's script would call it. */
  async function api(method: string, path: string, body?: unknown) {
    const res = await fetch(`${origin}/admin/api${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : undefined }
  }

  async function shot(name: string, target: Page = page): Promise<void> {
    const dir = SCREENSHOTS ? join(ROOT, 'docs', 'images') : shots.dir
    mkdirSync(dir, { recursive: true })
    await target.screenshot({ path: join(dir, `${name}.png`), fullPage: true })
  }

  async function seed(id: string, overrides: Partial<ClientRecord>): Promise<void> {
    const issued = overrides.client_id_issued_at
    const record = client(id, { ...overrides, ...(issued !== undefined && { updatedAt: issued }) })
    assert.equal(await app.store.createClient(record), true)
  }

  before(async () => {
    assert.ok(!missing, `REQUIRE_CHROMIUM=1 but ${CHROMIUM} does not exist`)
    shots = tempDir('registrar-shots-')
    // the issuer names the port, so listen first and install the app once it is known
    let listener: ((req: IncomingMessage, res: ServerResponse) => void) | undefined
    server = createServer((req, res) => listener?.(req, res))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    app = await createRegistrar({
      config: {
        issuer: origin,
        registration: { mode: 'open' },
        admin: { enabled: true },
        policies: {
          definitions: { 'mcp-clients': { requireApproval: true }, partners: {} },
        },
      },
      store: 'memory',
      logger: false,
    })
    listener = app.nodeListener
    adminToken = (await createAdminToken(app.store, { description: 'alice' })).token
    const now = Math.floor(Date.now() / 1000)
    const day = 86_400
    await seed('Wm3qL8vXc2', {
      client_id_issued_at: now - 3 * day,
      metadata: metadata({
        client_name: 'Acme Portal',
        redirect_uris: ['https://portal.acme.example/callback'],
        client_uri: 'https://portal.acme.example',
      }),
      policy: 'partners',
      initialAccessTokenId: 'Tk4pZ9aQ1',
    })
    await seed('Qp7sN1kZr4', {
      client_id_issued_at: now - 2 * day,
      metadata: metadata({
        client_name: 'Claude',
        redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
        token_endpoint_auth_method: 'none',
      }),
      policy: 'mcp-clients',
    })
    await seed('Hx2vB6yTe8', {
      client_id_issued_at: now - 2 * 3600,
      status: 'pending',
      metadata: metadata({
        client_name: 'Cursor',
        redirect_uris: ['cursor://anysphere.cursor-mcp/oauth/callback'],
        token_endpoint_auth_method: 'none',
        application_type: 'native',
      }),
      policy: 'mcp-clients',
    })
    await seed('Dn5cR3wMa0', {
      client_id_issued_at: now - 5 * day,
      status: 'disabled',
      metadata: metadata({
        client_name: 'Old integration',
        redirect_uris: ['https://legacy.example/cb'],
      }),
    })
    // registered through the public endpoint: its name is the stored-XSS probe
    const res = await fetch(`${origin}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['https://evil.example/cb'], client_name: XSS }),
    })
    assert.equal(res.status, 201)
    await res.text()

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS })
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    context.on('request', (r) => requests.push(r.url()))
    page = await context.newPage()
    page.on('dialog', (d) => {
      dialogs.push(d.message())
      void d.dismiss()
    })
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text())
    })
  })

  after(async () => {
    await context?.close()
    await browser?.close()
    await app?.close()
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
    shots?.cleanup()
  })

  it('signs in with an admin token, using the keyboard', async () => {
    await page.goto(`${origin}/admin`)
    assert.equal(new URL(page.url()).pathname, '/admin/sign-in')
    await shot('console-sign-in')
    await page.keyboard.press('Tab')
    assert.equal(await page.evaluate('document.activeElement?.textContent'), 'Skip to content')
    await page.getByLabel('Admin token').fill(adminToken)
    await page.getByLabel('Admin token').press('Enter')
    await page.waitForURL(`${origin}/admin/clients`)
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Clients')
    const cookies = await context.cookies()
    const session = cookies.find((c) => c.name === '__Host-registrar-admin')
    assert.ok(session)
    assert.equal(session.httpOnly, true)
    assert.equal(session.secure, true)
    assert.equal(session.sameSite, 'Strict')
    // the page's scripts cannot read it
    assert.equal(await page.evaluate('document.cookie'), '')
  })

  it('lists pending approvals first; approves one and checks it through the admin API', async () => {
    await page.goto(`${origin}/admin/clients`)
    const firstRow = page.locator('tbody tr').first()
    assert.match((await firstRow.textContent()) ?? '', /Cursor\s*awaiting approval/)
    await shot('console-clients')
    await firstRow.getByRole('link', { name: 'Cursor' }).click()
    await page.waitForURL(/\/admin\/clients\/Hx2vB6yTe8$/)
    await shot('console-client')
    await page.getByRole('link', { name: 'Approve' }).click()
    assert.match((await page.textContent('main')) ?? '', /Approve this client\?/)
    await page.getByRole('button', { name: 'Approve' }).click()
    await page.waitForURL(/\?done=approved$/)
    assert.match((await page.getByRole('status').first().textContent()) ?? '', /approved/)
    const shown = await api('GET', '/clients/Hx2vB6yTe8')
    assert.equal(shown.status, 200)
    assert.equal(shown.body.status, 'active')
    const audit = await api('GET', '/audit?client_id=Hx2vB6yTe8')
    assert.equal(audit.body.entries[0].event, 'approved')
    assert.equal(audit.body.entries[0].actor.type, 'admin')
  })

  it('creates an initial access token, shown once with a copy button; it works and is listed', async () => {
    await page.getByRole('link', { name: 'Initial access tokens' }).click()
    await page.getByLabel('Maximum uses').fill('5')
    await page.getByLabel('Expires in (hours)').fill('48')
    await page.getByLabel('Policy').selectOption('partners')
    await page.getByLabel('Description').fill('Acme onboarding')
    await page.getByRole('button', { name: 'Create token' }).click()
    const field = page.getByLabel(/^Token /)
    const token = await field.inputValue()
    assert.match(token, /^[A-Za-z0-9_-]{43}$/)
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin })
    await page.getByRole('button', { name: 'Copy token' }).click()
    await page.getByText(/Copied to the clipboard|press Ctrl\+C/).waitFor()
    await shot('console-token-created')
    const listed = await api('GET', '/initial-access-tokens')
    const record = listed.body.initial_access_tokens.find(
      (t: { description?: string }) => t.description === 'Acme onboarding',
    )
    assert.ok(record)
    assert.equal(record.max_uses, 5)
    assert.equal(record.policy, 'partners')
    assert.equal(record.expires_at - record.created_at, 48 * 3600)
    const registered = await fetch(`${origin}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ redirect_uris: ['https://onboarding.acme.example/cb'] }),
    })
    assert.equal(registered.status, 201)
    await registered.text()
    const after = await api('GET', '/initial-access-tokens')
    assert.equal(
      after.body.initial_access_tokens.find((t: { id: string }) => t.id === record.id).uses,
      1,
    )
    // never shown again
    await page.getByRole('link', { name: 'Done' }).click()
    assert.ok(!(await page.content()).includes(token))
    await shot('console-tokens')
  })

  it('deletes a client after confirmation; the admin API no longer knows it', async () => {
    await page.goto(`${origin}/admin/clients?search=legacy.example`)
    await page.getByRole('link', { name: 'Old integration' }).click()
    await page.getByRole('link', { name: 'Delete' }).click()
    assert.match((await page.textContent('main')) ?? '', /cannot be undone/)
    await page.getByRole('button', { name: 'Delete' }).click()
    await page.waitForURL(/\/admin\/clients\?done=deleted$/)
    assert.equal((await api('GET', '/clients/Dn5cR3wMa0')).status, 404)
  })

  it(`renders a client_name of ${XSS} as text: no dialog, no image`, async () => {
    await page.goto(`${origin}/admin/clients?search=evil.example`)
    const link = page.getByRole('link', { name: XSS })
    assert.equal(await link.count(), 1)
    await link.click()
    assert.equal(await page.getByRole('heading', { level: 1 }).locator('bdi').textContent(), XSS)
    assert.equal(await page.locator('main img').count(), 0)
    await page.goto(`${origin}/admin/audit`)
    assert.equal(await page.locator('main img').count(), 0)
    assert.deepEqual(dialogs, [])
  })

  it('runs a policy dry run', async () => {
    await page.getByRole('link', { name: 'Policy dry run' }).click()
    await page.getByLabel('Registration request (JSON)').fill(
      JSON.stringify(
        {
          redirect_uris: ['http://127.0.0.1:33418/callback'],
          client_name: 'VS Code',
          token_endpoint_auth_method: 'none',
        },
        null,
        2,
      ),
    )
    await page.getByRole('button', { name: 'Evaluate' }).click()
    assert.match((await page.textContent('main')) ?? '', /Result: accepted/)
    await shot('console-dry-run')
    await page.goto(`${origin}/admin/audit`)
    await shot('console-audit')
  })

  it('every control has a label; text meets the AA contrast ratio', async () => {
    for (const path of [
      '/admin/clients',
      '/admin/tokens',
      '/admin/dry-run',
      '/admin/audit',
      '/admin/clients/Wm3qL8vXc2',
    ]) {
      await page.goto(`${origin}${path}`)
      const unlabelled = await page.evaluate(UNLABELLED_CONTROLS)
      assert.deepEqual(unlabelled, [], path)
      const low = await page.evaluate(LOW_CONTRAST_TEXT)
      assert.deepEqual(low, [], path)
    }
  })

  it('fits a phone: no page-wide horizontal scrolling', async () => {
    const phone = await context.newPage()
    await phone.setViewportSize({ width: 390, height: 844 })
    for (const path of [
      '/admin/clients',
      '/admin/clients/Wm3qL8vXc2',
      '/admin/tokens',
      '/admin/dry-run',
    ]) {
      await phone.goto(`${origin}${path}`)
      const overflow = Number(
        await phone.evaluate(
          'document.documentElement.scrollWidth - document.documentElement.clientWidth',
        ),
      )
      assert.ok(overflow <= 0, `${path} overflows by ${overflow}px`)
    }
    await phone.goto(`${origin}/admin/clients`)
    await shot('console-clients-phone', phone)
    await phone.close()
  })

  it('made no request outside Registrar, and no CSP violation or script error', () => {
    assert.ok(requests.length > 10)
    for (const url of requests) assert.ok(url.startsWith(`${origin}/`), url)
    assert.deepEqual(consoleErrors, [])
  })
})

// The checks below run in the page, so they are page scripts (this file has no DOM types).

/** Form controls without a label (WCAG 2.1 SC 1.3.1, 4.1.2). */
const UNLABELLED_CONTROLS = `[...document.querySelectorAll('input, select, textarea')]
  .filter((el) => el.type !== 'hidden' && el.labels.length === 0)
  .map((el) => el.outerHTML)`

/**
 * Elements whose own text has a contrast ratio under 4.5:1 (WCAG 2.1 SC 1.4.3) against the first
 * opaque background behind them.
 */
const LOW_CONTRAST_TEXT = `(() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number)
  const channel = (v) => {
    const s = v / 255
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4
  }
  const lum = (c) => 0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2])
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor)
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3)
    }
    return [255, 255, 255]
  }
  const out = []
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())
    if (!own || el.offsetWidth <= 1) continue
    const style = getComputedStyle(el)
    if (style.visibility === 'hidden' || style.display === 'none') continue
    const fg = lum(rgb(style.color))
    const bg = lum(background(el))
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05)
    if (ratio < 4.5) out.push(el.tagName + ' "' + el.textContent.trim().slice(0, 30) + '" ' + ratio.toFixed(2))
  }
  return out
})()`
