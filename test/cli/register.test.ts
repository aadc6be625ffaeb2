import assert from 'node:assert/strict'
import { chmodSync, copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fakeServer } from '../client/fake-server.js'
import { runCli, type ServerProcess, startServer, tempDir } from '../helpers.js'
import { startOpenProvider } from '../interop/support/oidc-provider.js'

const mode = (path: string) => statSync(path).mode & 0o777
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'))

describe('registrar register / registration (CLI) against Registrar', () => {
  let server: ServerProcess
  let dir: { dir: string; cleanup: () => void }
  let store: string
  before(async () => {
    dir = tempDir()
    store = `sqlite:${join(dir.dir, 'registrar.db')}`
    server = await startServer(['--registration', 'token', '--store', store], {
      config: { registration: { rotateRegistrationAccessToken: true } },
    })
  })
  after(async () => {
    await server.stop()
    dir.cleanup()
  })

  const iat = async () => {
    const out = await runCli(['token', 'create', '--store', store, '--max-uses', '1'])
    assert.equal(out.code, 0, out.stderr)
    return out.stdout.trim().split('\n').at(-1) as string
  }

  it('CL-7591-k CL-7592-b CL-7592-c CL-7592-e: register, show --json, update with a rotated token kept (0600), delete, and a dead registration explained', async () => {
    const creds = join(dir.dir, 'creds.json')
    const metadataFile = join(dir.dir, 'metadata.json')
    writeFileSync(
      metadataFile,
      JSON.stringify({
        client_name: 'From file',
        'client_name#fr': 'Depuis le fichier',
        contacts: ['ops@example.com'],
      }),
    )
    const registered = await runCli([
      'register',
      '--issuer',
      server.url,
      '--iat',
      await iat(),
      '--redirect-uri',
      'https://app.example.com/callback',
      '--redirect-uri',
      'https://app.example.com/other',
      '--metadata',
      metadataFile,
      '--name',
      'From flag',
      '--scope',
      'openid email',
      '--out',
      creds,
    ])
    assert.equal(registered.code, 0, registered.stderr)
    assert.match(registered.stdout, /registered client \S+/)
    assert.equal(mode(creds), 0o600)
    const file = readJson(creds)
    assert.equal(file.issuer, server.url)
    assert.equal(file.registration_endpoint, `${server.url}/register`)
    assert.equal(typeof file.client_secret, 'string')
    assert.equal(file.client_secret_expires_at, 0)
    assert.equal(file.registration_client_uri, `${server.url}/register/${file.client_id}`)
    assert.equal(typeof file.registration_access_token, 'string')
    assert.equal(file.client_information.client_name, 'From flag')
    assert.equal(file.client_information['client_name#fr'], 'Depuis le fichier')
    assert.equal(
      file.client_information.client_secret,
      undefined,
      'secrets are kept once, at the top',
    )
    assert.equal(file.client_information.registration_access_token, undefined)
    assert.equal(registered.stdout.includes(file.client_secret), false, 'no secret on stdout')

    const shown = await runCli(['registration', 'show', '--creds', creds, '--json'])
    assert.equal(shown.code, 0, shown.stderr)
    const information = JSON.parse(shown.stdout)
    assert.equal(information.client_id, file.client_id)
    assert.deepEqual(information.redirect_uris, [
      'https://app.example.com/callback',
      'https://app.example.com/other',
    ])
    assert.equal(information.scope, 'openid email')
    assert.equal(information.client_secret, undefined)
    assert.equal(information.registration_access_token, undefined)

    const updated = await runCli(['registration', 'update', '--creds', creds, '--name', 'Renamed'])
    assert.equal(updated.code, 0, updated.stderr)
    assert.match(updated.stdout, /updated client/)
    assert.match(updated.stdout, /client_name\s+Renamed/)
    const after = readJson(creds)
    assert.equal(mode(creds), 0o600)
    assert.notEqual(after.registration_access_token, file.registration_access_token, 'rotated')
    assert.equal(after.client_secret, file.client_secret)
    assert.equal(after.client_information.client_name, 'Renamed')
    // the update started from the stored metadata: what no flag named is kept
    assert.equal(after.client_information['client_name#fr'], 'Depuis le fichier')
    assert.deepEqual(after.client_information.contacts, ['ops@example.com'])

    // the rotated token from the file works; the old one does not
    const reread = await runCli(['registration', 'show', '--creds', creds])
    assert.equal(reread.code, 0, reread.stderr)
    assert.match(reread.stdout, /client_name\s+Renamed/)
    const stale = await fetch(after.registration_client_uri, {
      headers: { authorization: `Bearer ${file.registration_access_token}` },
    })
    assert.equal(stale.status, 401)

    const refused = await runCli([
      'registration',
      'update',
      '--creds',
      creds,
      '--redirect-uri',
      'http://sketchy.example.com/cb',
    ])
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /invalid_redirect_uri/)
    assert.match(refused.stderr, /hint: check --redirect-uri/)
    assert.equal(readJson(creds).registration_access_token, after.registration_access_token)

    const copy = join(dir.dir, 'stale-creds.json')
    copyFileSync(creds, copy)
    const deleted = await runCli(['registration', 'delete', '--creds', creds])
    assert.equal(deleted.code, 0, deleted.stderr)
    assert.match(deleted.stdout, /deleted client/)
    assert.equal(existsSync(creds), false, 'dead credentials are removed')

    const gone = await runCli(['registration', 'show', '--creds', copy])
    assert.equal(gone.code, 1)
    assert.match(gone.stderr, /invalid_token/)
    assert.match(gone.stderr, /register again/)
  })

  it('CL-7591-c: without an initial access token the error says how to get one', async () => {
    const out = join(dir.dir, 'no-iat.json')
    const result = await runCli([
      'register',
      '--issuer',
      server.url,
      '--redirect-uri',
      'https://app.example.com/cb',
      '--out',
      out,
    ])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /invalid_token/)
    assert.match(result.stderr, /registrar token create/)
    assert.equal(existsSync(out), false)
  })

  it('RFC 7591 §3.2.2: invalid_client_metadata is reported with a hint; REGISTRAR_IAT is read', async () => {
    const result = await runCli(
      [
        'register',
        '--issuer',
        server.url,
        '--redirect-uri',
        'https://app.example.com/cb',
        '--auth-method',
        'telepathy',
        '--out',
        join(dir.dir, 'bad.json'),
      ],
      { env: { REGISTRAR_IAT: await iat() } },
    )
    assert.equal(result.code, 1)
    assert.match(result.stderr, /HTTP 400\): invalid_client_metadata: /)
    assert.match(result.stderr, /hint: check the metadata flags/)
  })

  it('a world-readable credentials file is flagged, then rewritten 0600', async () => {
    const creds = join(dir.dir, 'loose.json')
    const registered = await runCli([
      'register',
      '--issuer',
      server.url,
      '--iat',
      await iat(),
      '--redirect-uri',
      'https://app.example.com/cb',
      '--out',
      creds,
    ])
    assert.equal(registered.code, 0, registered.stderr)
    chmodSync(creds, 0o644)
    const shown = await runCli(['registration', 'show', '--creds', creds])
    assert.equal(shown.code, 0, shown.stderr)
    assert.match(shown.stderr, /readable by other users/)
    assert.equal(mode(creds), 0o600)
  })

  it('usage errors exit 2 and explain', async () => {
    const existing = join(dir.dir, 'exists.json')
    writeFileSync(existing, '{}')
    const cases: [string[], RegExp][] = [
      [
        ['register', '--redirect-uri', 'https://a/cb', '--out', 'x.json'],
        /--issuer or --registration-endpoint/,
      ],
      [
        ['register', '--issuer', server.url, '--redirect-uri', 'https://a/cb'],
        /--out FILE is required/,
      ],
      [
        ['register', '--issuer', server.url, '--out', join(dir.dir, 'n.json')],
        /--redirect-uri is required/,
      ],
      [
        [
          'register',
          '--issuer',
          'http://as.example.com',
          '--redirect-uri',
          'https://a/cb',
          '--out',
          join(dir.dir, 'n.json'),
        ],
        /http is allowed only for localhost/,
      ],
      [
        ['register', '--issuer', server.url, '--redirect-uri', 'https://a/cb', '--out', existing],
        /exists.*--force/,
      ],
      [
        [
          'register',
          '--issuer',
          server.url,
          '--redirect-uri',
          'https://a/cb',
          '--metadata',
          `${existing}.missing`,
          '--out',
          join(dir.dir, 'n.json'),
        ],
        /cannot read/,
      ],
      [
        [
          'register',
          '--issuer',
          server.url,
          '--redirect-uri',
          'https://a/cb',
          '--out',
          join(dir.dir, 'no-such-dir', 'c.json'),
        ],
        /cannot write in/,
      ],
      [['register', '--bogus'], /Unknown option/],
      [['registration', 'show'], /--creds FILE is required/],
      [['registration', 'show', '--creds', existing], /not a credentials file/],
      [['registration', 'rename', '--creds', existing], /unknown registration command/],
    ]
    for (const [args, message] of cases) {
      const result = await runCli(args)
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`)
      assert.match(result.stderr, message, args.join(' '))
    }
  })

  it('--help documents both commands', async () => {
    const reg = await runCli(['register', '--help'])
    assert.equal(reg.code, 0)
    assert.match(reg.stdout, /Usage: registrar register --issuer URL --redirect-uri URI/)
    assert.match(reg.stdout, /--software-statement FILE/)
    const mgmt = await runCli(['registration', '--help'])
    assert.equal(mgmt.code, 0)
    assert.match(mgmt.stdout, /registrar registration show \[--json\]/)
    const top = await runCli(['--help'])
    assert.match(top.stdout, /register\s+register a client/)
    assert.match(top.stdout, /registration\s+show, update or delete/)
  })
})

describe('registrar register (CLI) against other servers', () => {
  it("CL-7591-a CL-7591-i: --software-statement is sent verbatim (the file's newline trimmed) with the IAT, to --registration-endpoint", async () => {
    const t = tempDir()
    const server = await fakeServer(() => ({
      status: 201,
      body: {
        client_id: 'c9',
        token_endpoint_auth_method: 'none',
        redirect_uris: ['http://127.0.0.1/cb'],
      },
    }))
    try {
      const statement = 'eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2QuZXhhbXBsZSJ9.c2ln'
      writeFileSync(join(t.dir, 'ss.jwt'), `${statement}\n`)
      const result = await runCli([
        'register',
        '--registration-endpoint',
        `${server.url}/connect/register`,
        '--redirect-uri',
        'http://127.0.0.1/cb',
        '--auth-method',
        'none',
        '--software-statement',
        join(t.dir, 'ss.jwt'),
        '--iat',
        'iat-xyz',
        '--out',
        join(t.dir, 'c.json'),
      ])
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stderr, /note: the server issued no registration_client_uri/)
      const [req] = server.seen
      assert.equal(req?.url, '/connect/register')
      assert.equal(req?.headers.authorization, 'Bearer iat-xyz')
      assert.equal(req?.json?.software_statement, statement)
      const show = await runCli(['registration', 'show', '--creds', join(t.dir, 'c.json')])
      assert.equal(show.code, 1)
      assert.match(show.stderr, /does not offer RFC 7592 management/)
    } finally {
      await server.close()
      t.cleanup()
    }
  })

  it('R7592-2.1-b CL-7592-c: register, show, update and delete at oidc-provider (token rotated on update)', async () => {
    const t = tempDir()
    const op = await startOpenProvider()
    try {
      const creds = join(t.dir, 'creds.json')
      const registered = await runCli([
        'register',
        '--issuer',
        op.issuer,
        '--redirect-uri',
        'https://app.example.com/cb',
        '--name',
        'CLI at oidc-provider',
        '--out',
        creds,
      ])
      assert.equal(registered.code, 0, registered.stderr)
      const before = readJson(creds)
      assert.equal(before.registration_endpoint, `${op.issuer}/reg`)

      const shown = await runCli(['registration', 'show', '--creds', creds, '--json'])
      assert.equal(shown.code, 0, shown.stderr)
      assert.equal(JSON.parse(shown.stdout).client_name, 'CLI at oidc-provider')

      const updated = await runCli([
        'registration',
        'update',
        '--creds',
        creds,
        '--name',
        'Renamed',
        '--json',
      ])
      assert.equal(updated.code, 0, updated.stderr)
      assert.equal(JSON.parse(updated.stdout).client_name, 'Renamed')
      const after = readJson(creds)
      assert.notEqual(after.registration_access_token, before.registration_access_token)
      assert.equal(mode(creds), 0o600)

      const reread = await runCli(['registration', 'show', '--creds', creds, '--json'])
      assert.equal(reread.code, 0, reread.stderr)
      assert.equal(JSON.parse(reread.stdout).client_name, 'Renamed')

      const deleted = await runCli(['registration', 'delete', '--creds', creds, '--keep-creds'])
      assert.equal(deleted.code, 0, deleted.stderr)
      const gone = await runCli(['registration', 'show', '--creds', creds])
      assert.equal(gone.code, 1)
      assert.match(gone.stderr, /invalid_token/)
      assert.match(gone.stderr, /register again/)
    } finally {
      await op.close()
      t.cleanup()
    }
  })
})
