import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { resolveConfig } from '../../src/config/resolve.js'
import { sha256 } from '../../src/core/crypto.js'
import { Registrar } from '../../src/core/registration.js'
import { SqliteStore } from '../../src/storage/sqlite.js'
import { ISSUER, runCli, startServer, tempDir } from '../helpers.js'

// The administration CLI works on the store itself, no server needed: `registrar
// clients list | show | delete` and `registrar token create | list | revoke`.

const KEY = Buffer.alloc(32, 5).toString('base64url')

/** Runs `fn` with a Registrar over the SQLite file, closing the connection afterwards. */
async function withRegistrar<T>(
  path: string,
  fn: (registrar: Registrar) => Promise<T>,
  registration: Record<string, unknown> = {},
): Promise<T> {
  const store = new SqliteStore(path)
  const config = resolveConfig({
    file: {
      issuer: ISSUER,
      registration: {
        mode: 'open',
        secretEncryptionKey: KEY,
        allowedPrivateUseSchemes: ['cursor'],
        ...registration,
      },
    },
  })
  try {
    return await fn(new Registrar({ config, store }))
  } finally {
    await store.close()
  }
}

describe('registrar clients', () => {
  const t = tempDir('registrar-admin-')
  const path = join(t.dir, 'registrar.db')
  const store = ['--store', `sqlite:${path}`]
  /** Every credential issued below, and its hash: none may ever be printed. */
  const credentials: string[] = []
  let web: { client_id: string }
  let native: { client_id: string }
  let hmac: { client_id: string }

  before(async () => {
    await withRegistrar(path, async (registrar) => {
      const issued = [
        await registrar.register({
          metadata: {
            redirect_uris: ['https://app.example.com/cb', 'https://app.example.com/cb2'],
            client_name: 'Example App',
          },
        }),
        await registrar.register({
          metadata: {
            redirect_uris: ['http://127.0.0.1:33418/', 'cursor://anysphere.cursor-mcp/cb'],
            token_endpoint_auth_method: 'none',
            client_name: 'Evil txt.exe',
          },
        }),
        await registrar.register({
          metadata: {
            grant_types: ['client_credentials'],
            token_endpoint_auth_method: 'client_secret_jwt',
          },
        }),
      ]
      web = issued[0]!
      native = issued[1]!
      hmac = issued[2]!
      // registration refuses bidirectional controls since issue 12 item 6; a record stored before
      // that (or written by another path) may still hold one, and the CLI must not be fooled by it
      const stored = (await registrar.store.findClient(native.client_id))!
      const evil = {
        ...stored,
        metadata: { ...stored.metadata, client_name: 'Evil \u202etxt.exe' },
      }
      assert.ok(await registrar.store.replaceClient(evil, stored.version))
      for (const info of issued) {
        credentials.push(info.registration_access_token, sha256(info.registration_access_token))
        if (info.client_secret) credentials.push(info.client_secret, sha256(info.client_secret))
        const record = await registrar.store.findClient(info.client_id)
        if (record?.clientSecretEncrypted) credentials.push(record.clientSecretEncrypted)
      }
    })
  })
  after(() => t.cleanup())

  function assertNoCredentials(output: string): void {
    for (const c of credentials) assert.ok(!output.includes(c), 'a credential was printed')
    assert.doesNotMatch(output, /hash|encrypted|registration_access_token|"client_secret"/i)
  }

  it('list: a table of client_id, name, created, auth method and redirect hosts', async () => {
    const res = await runCli(['clients', 'list', ...store])
    assert.equal(res.code, 0, res.stderr)
    const [header, ...rows] = res.stdout.trimEnd().split('\n')
    assert.match(header ?? '', /^CLIENT_ID\s+NAME\s+CREATED\s+AUTH METHOD\s+REDIRECT HOSTS/)
    assert.equal(rows.length, 3)
    const row = (id: string) => rows.find((r) => r.startsWith(id)) ?? ''
    assert.match(
      row(web.client_id),
      /Example App\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+client_secret_basic\s+app\.example\.com\s/,
    )
    assert.match(row(native.client_id), /\snone\s+127\.0\.0\.1:33418,anysphere\.cursor-mcp\s/)
    assert.match(row(hmac.client_id), /^\S+\s+-\s+.*client_secret_jwt\s+-\s/)
    assertNoCredentials(res.stdout)
  })

  it('list: a bidirectional override in a client name cannot disguise the row', async () => {
    const res = await runCli(['clients', 'list', ...store])
    assert.ok(!res.stdout.includes('\u202e'))
    assert.match(res.stdout, /Evil \?txt\.exe/)
  })

  it('list --json: every client for scripts, values intact, no credentials', async () => {
    const res = await runCli(['clients', 'list', '--json', ...store])
    assert.equal(res.code, 0, res.stderr)
    assert.ok(!res.stdout.includes('\u202e'), 'escaped on the terminal')
    const clients = JSON.parse(res.stdout) as {
      client_id: string
      client_id_issued_at: number
      metadata: Record<string, unknown>
    }[]
    assert.deepEqual(
      clients.map((c) => c.client_id).sort(),
      [web.client_id, native.client_id, hmac.client_id].sort(),
    )
    const evil = clients.find((c) => c.client_id === native.client_id)
    assert.equal(evil?.metadata.client_name, 'Evil \u202etxt.exe', 'the same value once parsed')
    assert.equal(typeof evil?.client_id_issued_at, 'number')
    assertNoCredentials(res.stdout)
  })

  it('show ID: the registration as JSON, never a secret, a token or their hashes', async () => {
    const clients = [web, native, hmac]
    const shows = await Promise.all(
      clients.map((c) => runCli(['clients', 'show', c.client_id, ...store])),
    )
    for (const [i, client] of clients.entries()) {
      const res = shows[i]!
      assert.equal(res.code, 0, res.stderr)
      const shown = JSON.parse(res.stdout)
      assert.equal(shown.client_id, client.client_id)
      assert.equal(shown.status, 'active')
      assert.ok(shown.metadata.token_endpoint_auth_method)
      assertNoCredentials(res.stdout)
    }
  })

  it('show / delete an unknown ID: exit 1 and a message; a missing ID: usage, exit 2', async () => {
    const [show, del, showUsage, deleteUsage, unknown] = await Promise.all([
      runCli(['clients', 'show', 'no-such-client', ...store]),
      runCli(['clients', 'delete', 'no-such-client', ...store]),
      runCli(['clients', 'show', ...store]),
      runCli(['clients', 'delete', ...store]),
      runCli(['clients', 'frobnicate', ...store]),
    ])
    for (const res of [show, del]) {
      assert.equal(res.code, 1)
      assert.match(res.stderr, /no client with client_id no-such-client/)
    }
    for (const usage of [showUsage, deleteUsage]) {
      assert.equal(usage.code, 2)
      assert.match(usage.stderr, /exactly one client_id/)
    }
    assert.equal(unknown.code, 2)
  })

  it('R7592-2.3-b R7592-5-d: delete ID on the store of a running server: the client and its token stop working at once', async () => {
    const server = await startServer(['--registration', 'open', ...store])
    try {
      const created = await fetch(`${server.url}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: ['https://doomed.example.com/cb'] }),
      })
      const reg = (await created.json()) as Record<string, string>
      const get = () =>
        fetch(reg.registration_client_uri as string, {
          headers: { authorization: `Bearer ${reg.registration_access_token}` },
        })
      assert.equal((await get()).status, 200)
      const res = await runCli(['clients', 'delete', reg.client_id as string, ...store])
      assert.equal(res.code, 0, res.stderr)
      assert.equal(res.stdout, `deleted ${reg.client_id}\n`)
      const gone = await get()
      assert.equal(gone.status, 401)
      assert.equal(((await gone.json()) as Record<string, string>).error, 'invalid_token')
      const again = await runCli(['clients', 'delete', reg.client_id as string, ...store])
      assert.equal(again.code, 1)
    } finally {
      await server.stop()
    }
  })

  it('list on an empty store: the header only; --json: []', async () => {
    const empty = tempDir('registrar-admin-empty-')
    try {
      const emptyStore = ['--store', `sqlite:${join(empty.dir, 'r.db')}`]
      const table = await runCli(['clients', 'list', '--create', ...emptyStore])
      assert.equal(table.code, 0)
      assert.equal(table.stdout.trimEnd().split('\n').length, 1)
      const json = await runCli(['clients', 'list', '--json', ...emptyStore])
      assert.deepEqual(JSON.parse(json.stdout), [])
    } finally {
      empty.cleanup()
    }
  })
})

describe('registrar token', () => {
  const t = tempDir('registrar-admin-token-')
  const path = join(t.dir, 'registrar.db')
  const store = ['--store', `sqlite:${path}`]
  after(() => t.cleanup())

  it('create, list (uses / max-uses, never the token), revoke', async () => {
    const limited = await runCli([
      'token',
      'create',
      '--max-uses',
      '2',
      '--expires-in',
      '3600',
      '--description',
      'for ci',
      '--create',
      ...store,
    ])
    assert.equal(limited.code, 0, limited.stderr)
    const token = limited.stdout.trimEnd().split('\n').at(-1) as string
    assert.match(token, /^[A-Za-z0-9_-]{43}$/)
    const id = /created initial access token (\S+)/.exec(limited.stderr)?.[1] as string
    assert.ok(id)
    const unlimited = await runCli([
      'token',
      'create',
      '--max-uses',
      '0',
      '--expires-in',
      '0',
      ...store,
    ])
    assert.match(unlimited.stderr, /max uses: unlimited, expires: never/)
    const other = unlimited.stdout.trimEnd().split('\n').at(-1) as string
    // one registration consumes one use
    await withRegistrar(
      path,
      (registrar) =>
        registrar.register({
          metadata: { redirect_uris: ['https://app.example.com/cb'] },
          initialAccessToken: token,
        }),
      { mode: 'token' },
    )

    const list = await runCli(['token', 'list', ...store])
    assert.equal(list.code, 0, list.stderr)
    const [header, ...rows] = list.stdout.trimEnd().split('\n')
    assert.match(header ?? '', /^ID\s+CREATED\s+EXPIRES\s+USES/)
    const row = rows.find((r) => r.startsWith(id)) ?? ''
    assert.match(row, /^\S+\s+\d{4}-\d\d-\d\dT\S+Z\s+\d{4}-\d\d-\d\dT\S+Z\s+1 \/ 2\s+-\s+for ci$/)
    assert.ok(rows.some((r) => /\snever\s+0 \/ unlimited/.test(r)))
    for (const secret of [token, other, sha256(token), sha256(other)]) {
      assert.ok(!list.stdout.includes(secret), 'a token or its hash was printed')
    }

    const json = await runCli(['token', 'list', '--json', ...store])
    const tokens = JSON.parse(json.stdout) as Record<string, unknown>[]
    const entry = tokens.find((x) => x.id === id)
    assert.equal(entry?.uses, 1)
    assert.equal(entry?.max_uses, 2)
    assert.equal(entry?.description, 'for ci')
    assert.equal(typeof entry?.created_at, 'number')
    assert.equal(entry?.expires_at, (entry?.created_at as number) + 3600)
    for (const secret of [token, other, sha256(token), sha256(other)]) {
      assert.ok(!json.stdout.includes(secret))
    }
    assert.doesNotMatch(json.stdout, /hash/i)

    const revoked = await runCli(['token', 'revoke', id, ...store])
    assert.equal(revoked.code, 0, revoked.stderr)
    assert.equal(revoked.stdout, `revoked ${id}\n`)
    const after = JSON.parse((await runCli(['token', 'list', '--json', ...store])).stdout)
    assert.deepEqual(
      after.map((x: { id: string }) => x.id),
      tokens.filter((x) => x.id !== id).map((x) => x.id),
    )
    // a revoked token registers nothing
    await withRegistrar(
      path,
      (registrar) =>
        assert.rejects(
          registrar.register({
            metadata: { redirect_uris: ['https://app.example.com/cb'] },
            initialAccessToken: token,
          }),
          { error: 'invalid_token', status: 401 },
        ),
      { mode: 'token' },
    )
    const unknown = await runCli(['token', 'revoke', id, ...store])
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /no initial access token with id/)
    assert.equal((await runCli(['token', 'revoke', ...store])).code, 2)
  })
})

describe('issue 12 item 18: admin commands name their store and never create one by mistake', () => {
  const t = tempDir('registrar-admin-store-')
  after(() => t.cleanup())

  it('every admin command names the store it uses on stderr (password masked)', async () => {
    const path = join(t.dir, 'named.db')
    const created = await runCli(['token', 'create', '--create', '--store', `sqlite:${path}`])
    assert.equal(created.code, 0, created.stderr)
    assert.match(created.stderr, new RegExp(`^using store sqlite:${path} \\(--store\\)$`, 'm'))
    for (const args of [
      ['token', 'list'],
      ['token', 'revoke', 'nope'],
      ['clients', 'list'],
      ['clients', 'show', 'nope'],
      ['clients', 'delete', 'nope'],
      ['clients', 'approve', 'nope', '--version', '1'],
    ]) {
      const res = await runCli([...args, '--store', `sqlite:${path}`])
      assert.match(
        res.stderr,
        new RegExp(`^using store sqlite:${path} \\(--store\\)$`, 'm'),
        args.join(' '),
      )
    }
    const fromEnv = await runCli(['clients', 'list'], {
      env: { REGISTRAR_STORE: `sqlite:${path}` },
    })
    assert.match(fromEnv.stderr, /^using store sqlite:\S+named\.db \(REGISTRAR_STORE\)$/m)
    const byDefault = await runCli(['clients', 'list', '--create'], { cwd: t.dir })
    assert.match(byDefault.stderr, /^using store sqlite:\.\/data\/registrar\.db \(the default\)$/m)
    // a PostgreSQL URL's password never reaches the terminal (nothing listens on port 1)
    const pg = await runCli([
      'clients',
      'list',
      '--store',
      'postgres://admin:s3cret@127.0.0.1:1/db',
    ])
    assert.match(
      pg.stderr,
      /^using store postgres:\/\/admin:\*\*\*@127\.0\.0\.1:1\/db \(--store\)$/m,
    )
    assert.ok(!pg.stderr.includes('s3cret'))
  })

  it('a SQLite path that does not exist is refused without --create, and nothing is created', async () => {
    const typo = join(t.dir, 'sub', 'registar.db')
    for (const args of [
      ['token', 'create'],
      ['token', 'list'],
      ['token', 'revoke', 'x'],
      ['clients', 'list'],
      ['clients', 'show', 'x'],
      ['clients', 'delete', 'x'],
      ['clients', 'approve', 'x', '--version', '1'],
      ['policy', 'dry-run', '--metadata', '-', '--iat', 'x'],
    ]) {
      const res = await runCli([...args, '--store', `sqlite:${typo}`], { input: '{}' })
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`)
      assert.match(
        res.stderr,
        /no SQLite database at \S+registar\.db; check the path, or pass --create/,
      )
      assert.equal(res.stdout, '')
      assert.equal(existsSync(typo), false, `${args.join(' ')} created ${typo}`)
      assert.equal(existsSync(join(t.dir, 'sub')), false, `${args.join(' ')} created the directory`)
    }
    const created = await runCli(['clients', 'list', '--create', '--store', `sqlite:${typo}`])
    assert.equal(created.code, 0, created.stderr)
    assert.ok(existsSync(typo))
  })

  it('token create refuses --store memory: the token would vanish with the command', async () => {
    for (const env of [{}, { REGISTRAR_STORE: 'memory' }] as Record<string, string>[]) {
      const args = 'REGISTRAR_STORE' in env ? [] : ['--store', 'memory']
      const res = await runCli(['token', 'create', ...args], { env })
      assert.equal(res.code, 2, res.stderr)
      assert.match(
        res.stderr,
        /store: token create: the memory store is gone when this command exits/,
      )
      assert.equal(res.stdout, '', 'no token printed')
    }
  })

  it('policy dry-run without --iat reads no store at all', async () => {
    const res = await runCli(
      ['policy', 'dry-run', '--metadata', '-', '--store', `sqlite:${join(t.dir, 'none.db')}`],
      {
        input: JSON.stringify({ redirect_uris: ['https://app.example.com/cb'] }),
        env: { REGISTRAR_REGISTRATION: 'open' },
      },
    )
    assert.equal(res.code, 0, res.stderr)
    assert.match(res.stderr, /^using no store \(only --iat needs one\)$/m)
    assert.equal(existsSync(join(t.dir, 'none.db')), false)
  })
})

describe('issue 12 item 19: token create is single-use and expires in 24 hours unless told', () => {
  const t = tempDir('registrar-admin-defaults-')
  const path = join(t.dir, 'registrar.db')
  const store = ['--store', `sqlite:${path}`, '--create']
  after(() => t.cleanup())

  async function created(...args: string[]) {
    const res = await runCli(['token', 'create', ...store, ...args])
    assert.equal(res.code, 0, res.stderr)
    const id = /created initial access token (\S+)/.exec(res.stderr)?.[1] as string
    const list = await runCli(['token', 'list', '--json', ...store])
    const record = (JSON.parse(list.stdout) as Record<string, number | null | string>[]).find(
      (x) => x.id === id,
    )
    return { res, record, token: res.stdout.trimEnd().split('\n').at(-1) as string }
  }

  it('no flags: max uses 1, expires 86400 s after creation, and a second registration is refused', async () => {
    const { res, record, token } = await created()
    assert.equal(record?.max_uses, 1)
    assert.equal((record?.expires_at as number) - (record?.created_at as number), 86400)
    assert.match(res.stderr, /max uses: 1, expires: \d{4}-\d\d-\d\dT/)
    const register = (registrar: Registrar) =>
      registrar.register({
        metadata: { redirect_uris: ['https://app.example.com/cb'] },
        initialAccessToken: token,
      })
    await withRegistrar(path, register, { mode: 'token' })
    await withRegistrar(
      path,
      (registrar) => assert.rejects(register(registrar), { error: 'invalid_token', status: 401 }),
      { mode: 'token' },
    )
  })

  it('--max-uses 0 is unlimited and --expires-in 0 never expires; each alone keeps the other default', async () => {
    const unlimited = await created('--max-uses', '0')
    assert.equal(unlimited.record?.max_uses, null)
    assert.equal(
      (unlimited.record?.expires_at as number) - (unlimited.record?.created_at as number),
      86400,
    )
    const lasting = await created('--expires-in', '0')
    assert.equal(lasting.record?.max_uses, 1)
    assert.equal(lasting.record?.expires_at, null)
  })

  it('negative or fractional values are usage errors', async () => {
    for (const args of [['--max-uses=-1'], ['--expires-in', '1.5'], ['--max-uses', 'x']]) {
      const res = await runCli(['token', 'create', ...store, ...args])
      assert.equal(res.code, 2, args.join(' '))
      assert.match(res.stderr, /must be a non-negative integer \(0 for no limit\)/)
    }
  })

  it('--help says so', async () => {
    const help = await runCli(['token', 'create', '--help'])
    assert.match(
      help.stdout,
      /By default a token admits one\s+registration and expires in 24 hours/,
    )
    assert.match(help.stdout, /--max-uses 0 for unlimited uses, --expires-in 0\s+for no expiry/)
  })
})
