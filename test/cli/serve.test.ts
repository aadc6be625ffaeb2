import assert from 'node:assert/strict'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { redactStoreUrl } from '../../src/storage/open-store.js'
import { SqliteStore } from '../../src/storage/sqlite.js'
import { type JsonBody, runCli, type ServerProcess, startServer, tempDir } from '../helpers.js'

const CB = 'https://client.example.org/cb'

async function register(
  url: string,
  token?: string,
  authorization?: string,
): Promise<{ status: number; headers: Headers; body: JsonBody }> {
  const res = await fetch(`${url}/register`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token !== undefined && { authorization: `Bearer ${token}` }),
      ...(authorization !== undefined && { authorization }),
    },
    body: JSON.stringify({ redirect_uris: [CB] }),
  })
  return { status: res.status, headers: res.headers, body: await res.json() }
}

async function issuerOf(url: string): Promise<string> {
  const res = await fetch(`${url}/.well-known/oauth-authorization-server`)
  return ((await res.json()) as { issuer: string }).issuer
}

/** A port that is taken for as long as the returned server listens. */
async function occupiedPort(): Promise<{ port: number; server: Server }> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  assert.ok(address && typeof address === 'object')
  return { port: address.port, server }
}

function writeConfig(dir: string, name: string, config: unknown): string {
  const path = join(dir, name)
  writeFileSync(path, typeof config === 'string' ? config : JSON.stringify(config))
  return path
}

/** The token printed by `registrar token create` is the last line of stdout (docs/cli.md). */
async function createToken(store: string, ...args: string[]): Promise<string> {
  const res = await runCli(['token', 'create', '--store', store, ...args])
  assert.equal(res.code, 0, res.stderr)
  const token = res.stdout.trimEnd().split('\n').at(-1) ?? ''
  assert.match(token, /^[A-Za-z0-9_-]{43}$/, 'a 256-bit base64url token')
  return token
}

describe('registrar serve: configuration precedence flag > env > config file > default', () => {
  const t = tempDir()
  after(() => t.cleanup())

  it('port: the file beats the default, env beats the file, the flag beats env', async () => {
    const taken = await occupiedPort()
    try {
      const file = writeConfig(t.dir, 'port.json', {
        port: taken.port,
        host: '127.0.0.1',
        store: 'memory',
      })
      // the file's port is used when nothing overrides it: it is taken, so serve fails to listen
      const fromFile = await runCli(['serve', '--config', file])
      assert.equal(fromFile.code, 1)
      assert.match(fromFile.stderr, /EADDRINUSE/)
      // env beats the file
      const env = await startServer(['--config', file], {
        defaultFlags: false,
        env: { REGISTRAR_PORT: '0' },
      })
      assert.notEqual(env.port, taken.port)
      assert.equal(await env.stop(), 0)
      // the flag beats env
      const flag = await startServer(['--config', file, '--port', '0'], {
        defaultFlags: false,
        env: { REGISTRAR_PORT: String(taken.port) },
      })
      assert.notEqual(flag.port, taken.port)
      assert.equal(await flag.stop(), 0)
      // REGISTRAR_CONFIG names the file when --config does not
      const viaEnv = await runCli(['serve'], { env: { REGISTRAR_CONFIG: file } })
      assert.equal(viaEnv.code, 1)
      assert.match(viaEnv.stderr, /EADDRINUSE/)
    } finally {
      taken.server.close()
    }
  })

  it('registration mode: default token; file open; env token beats it; flag open beats env', async () => {
    const open = writeConfig(t.dir, 'open.json', { registration: { mode: 'open' } })
    const cases: [string[], Record<string, string>, number][] = [
      [['--store', 'memory'], {}, 401],
      [['--store', 'memory', '--config', open], {}, 201],
      [['--store', 'memory', '--config', open], { REGISTRAR_REGISTRATION: 'token' }, 401],
      [
        ['--store', 'memory', '--config', open, '--registration', 'open'],
        { REGISTRAR_REGISTRATION: 'token' },
        201,
      ],
      [['--store', 'memory'], { REGISTRAR_REGISTRATION: 'open', REGISTRAR_CONFIG: open }, 201],
    ]
    const servers = await Promise.all(cases.map(([args, env]) => startServer(args, { env })))
    try {
      for (const [i, [args, env, status]] of cases.entries()) {
        const res = await register(servers[i]!.url)
        assert.equal(res.status, status, `${args.join(' ')} ${JSON.stringify(env)}`)
      }
    } finally {
      await Promise.all(servers.map((s) => s.stop()))
    }
  })

  it('issuer: derived from host and port by default; file < env < flag', async () => {
    const file = writeConfig(t.dir, 'issuer.json', {
      issuer: 'https://file.example.com',
      store: 'memory',
    })
    const servers = await Promise.all([
      startServer(['--store', 'memory']),
      startServer(['--config', file]),
      startServer(['--config', file], { env: { REGISTRAR_ISSUER: 'https://env.example.com' } }),
      startServer(['--config', file, '--issuer', 'https://flag.example.com/'], {
        env: { REGISTRAR_ISSUER: 'https://env.example.com' },
      }),
    ])
    try {
      const issuers = await Promise.all(servers.map((s) => issuerOf(s.url)))
      assert.deepEqual(issuers, [
        servers[0]!.url,
        'https://file.example.com',
        'https://env.example.com',
        'https://flag.example.com',
      ])
      assert.match(servers[1]!.stdout(), /issuer https:\/\/file\.example\.com/)
    } finally {
      await Promise.all(servers.map((s) => s.stop()))
    }
  })

  it('store: REGISTRAR_STORE is used, and --store beats it', async () => {
    const envStore = `sqlite:${join(t.dir, 'env.db')}`
    const server = await startServer([], {
      env: { REGISTRAR_STORE: envStore, REGISTRAR_REGISTRATION: 'open' },
    })
    try {
      assert.equal((await register(server.url)).status, 201)
    } finally {
      await server.stop()
    }
    assert.ok(readdirSync(t.dir).includes('env.db'))
    const flagged = await startServer(['--store', 'memory', '--registration', 'open'], {
      env: { REGISTRAR_STORE: `sqlite:${join(t.dir, 'unused.db')}` },
    })
    try {
      assert.equal((await register(flagged.url)).status, 201)
    } finally {
      await flagged.stop()
    }
    assert.ok(!readdirSync(t.dir).includes('unused.db'))
  })
})

describe('registrar serve: an invalid config is refused at start, naming the key', () => {
  const t = tempDir()
  after(() => t.cleanup())

  const cases: [string, () => { args: string[]; env?: Record<string, string> }, RegExp][] = [
    [
      'registration.mode in the file',
      () => ({
        args: [
          '--config',
          writeConfig(t.dir, 'mode.json', { registration: { mode: 'sometimes' } }),
        ],
      }),
      /registration\.mode/,
    ],
    [
      'an unknown key',
      () => ({
        args: ['--config', writeConfig(t.dir, 'typo.json', { registraton: { mode: 'open' } })],
      }),
      /registraton: is not a known configuration key/,
    ],
    [
      'a bad issuer flag',
      () => ({ args: ['--issuer', 'http://as.example.com'] }),
      /issuer: must use https/,
    ],
    [
      'a host whose derived issuer would be plain http off loopback',
      () => ({ args: ['--host', '127.0.0.2', '--port', '0'] }),
      /issuer: must use https/,
    ],
    // issue 12 item 17: remote clients would be handed http://localhost:PORT URIs
    [
      '--host 0.0.0.0 without an issuer',
      () => ({ args: ['--host', '0.0.0.0', '--port', '0'] }),
      /issuer: --host 0\.0\.0\.0 listens beyond this machine, so the issuer cannot be derived: set --issuer/,
    ],
    [
      '--host :: without an issuer',
      () => ({ args: ['--host', '::', '--port', '0'] }),
      /issuer: --host :: listens beyond this machine.*set --issuer/,
    ],
    [
      'REGISTRAR_HOST naming a LAN address without an issuer',
      () => ({ args: ['--port', '0'], env: { REGISTRAR_HOST: '192.0.2.10' } }),
      /issuer: --host 192\.0\.2\.10 listens beyond this machine.*set --issuer/,
    ],
    ['a bad REGISTRAR_PORT', () => ({ args: [], env: { REGISTRAR_PORT: 'eighty' } }), /port/],
    ['a bad --registration', () => ({ args: ['--registration', 'closed'] }), /registration\.mode/],
    [
      'a config file that is not JSON',
      () => ({ args: ['--config', writeConfig(t.dir, 'broken.json', '{"issuer":')] }),
      /config:.*not valid JSON/,
    ],
    [
      'a missing config file',
      () => ({ args: ['--config', join(t.dir, 'missing.json')] }),
      /config: cannot read/,
    ],
    [
      'a scalar where a section belongs',
      () => ({ args: ['--config', writeConfig(t.dir, 'scalar.json', { registration: 'open' })] }),
      /registration: must be an object/,
    ],
    [
      'client_secret_jwt without a key',
      () => ({
        args: [
          '--config',
          writeConfig(t.dir, 'jwt.json', {
            metadata: { token_endpoint_auth_methods_supported: ['client_secret_jwt'] },
          }),
        ],
      }),
      /metadata\.token_endpoint_auth_methods_supported/,
    ],
  ]
  for (const [name, make, re] of cases) {
    it(`${name}: exit code 2, the key named on stderr, nothing served`, async () => {
      const { args, env } = make()
      // no --port flag, so that REGISTRAR_PORT counts; a config wrongly accepted would be killed
      const res = await runCli(['serve', '--store', 'memory', ...args], {
        timeoutMs: 5000,
        ...(env && { env }),
      })
      assert.equal(res.code, 2, res.stderr)
      assert.match(res.stderr, re)
      assert.match(res.stderr, /invalid configuration/)
      assert.doesNotMatch(res.stdout, /listening on/)
    })
  }

  it('issue 12 item 17: --host 0.0.0.0 with an issuer serves, and the URIs name that issuer', async () => {
    const server = await startServer(
      [
        '--port',
        '0',
        '--host',
        '0.0.0.0',
        '--issuer',
        'https://as.example.com',
        '--store',
        'memory',
      ],
      { defaultFlags: false },
    )
    try {
      assert.equal(await issuerOf(server.url), 'https://as.example.com')
    } finally {
      await server.stop()
    }
  })

  it('an unknown flag is a usage error (exit 2) with the command help', async () => {
    const res = await runCli(['serve', '--prot', '0'])
    assert.equal(res.code, 2)
    assert.match(res.stderr, /Usage: registrar serve/)
  })
})

describe('registrar --help on every command', () => {
  const cases: [string[], RegExp][] = [
    [['--help'], /^Usage: registrar <command>/],
    [['-h'], /^Usage: registrar <command>/],
    [['help'], /^Usage: registrar <command>/],
    [['serve', '--help'], /^Usage: registrar serve/],
    [['serve', '-h'], /^Usage: registrar serve/],
    [['token', '--help'], /^Usage: registrar token/],
    [['token', 'create', '--help'], /^Usage: registrar token/],
    [['token', 'list', '--help'], /^Usage: registrar token/],
    [['token', 'revoke', '--help'], /^Usage: registrar token/],
    [['clients', '--help'], /^Usage: registrar clients/],
    [['clients', 'list', '--help'], /^Usage: registrar clients/],
    [['clients', 'show', '--help'], /^Usage: registrar clients/],
    [['clients', 'delete', '--help'], /^Usage: registrar clients/],
  ]
  it('exits 0 and prints usage on stdout', async () => {
    const results = await Promise.all(cases.map(([args]) => runCli(args)))
    for (const [i, [args, re]] of cases.entries()) {
      const r = results[i]!
      assert.equal(r.code, 0, args.join(' '))
      assert.match(r.stdout, re, args.join(' '))
    }
    assert.match(results[0]!.stdout, /serve/)
    assert.match(results[0]!.stdout, /token/)
    assert.match(results[0]!.stdout, /clients/)
    assert.match(results[3]!.stdout, /--registration/)
    assert.match(results[5]!.stdout, /--max-uses/)
  })

  it('no command or an unknown one: usage and exit 2', async () => {
    const [none, unknown, version] = await Promise.all([
      runCli([]),
      runCli(['frobnicate']),
      runCli(['--version']),
    ])
    assert.equal(none.code, 2)
    assert.match(none.stdout, /Usage: registrar/)
    assert.equal(unknown.code, 2)
    assert.match(unknown.stderr, /unknown command 'frobnicate'/)
    assert.equal(version.code, 0)
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
    assert.equal(version.stdout.trim(), pkg.version)
  })
})

describe('registrar serve: graceful SIGTERM / SIGINT', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal}: stops accepting, finishes the in-flight request, closes the store, exits 0`, async () => {
      const t = tempDir()
      const storePath = join(t.dir, 'graceful.db')
      const server = await startServer(['--registration', 'open', '--store', `sqlite:${storePath}`])
      try {
        const body = JSON.stringify({ redirect_uris: [CB], client_name: `in flight ${signal}` })
        let resolveResponse!: (v: { status: number; text: string }) => void
        const response = new Promise<{ status: number; text: string }>((r) => {
          resolveResponse = r
        })
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port: server.port,
            method: 'POST',
            path: '/register',
            agent: false,
            headers: {
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(body),
            },
          },
          (res) => {
            let text = ''
            res.on('data', (d) => {
              text += d
            })
            res.on('end', () => resolveResponse({ status: res.statusCode ?? 0, text }))
          },
        )
        // half the body now: the request is in flight when the signal arrives
        req.write(body.slice(0, 20))
        await sleep(150)
        server.proc.kill(signal)
        // no new connections once stopping (polled: a loaded machine may take a moment)
        const deadline = Date.now() + 5000
        let refused = false
        while (!refused && Date.now() < deadline) {
          refused = await fetch(`${server.url}/healthz`, { headers: { connection: 'close' } }).then(
            async (r) => {
              await r.arrayBuffer()
              await sleep(50)
              return false
            },
            () => true,
          )
        }
        assert.ok(refused, 'stopped accepting')
        assert.equal(server.proc.exitCode, null, 'still running while a request is in flight')
        req.end(body.slice(20))
        const res = await response
        assert.equal(res.status, 201, res.text)
        const clientId = JSON.parse(res.text).client_id as string
        assert.equal(await server.exited, 0)
        // the in-flight registration is durable and the store was closed cleanly
        const store = new SqliteStore(storePath)
        try {
          assert.equal(
            (await store.findClient(clientId))?.metadata.client_name,
            `in flight ${signal}`,
          )
        } finally {
          await store.close()
        }
      } finally {
        await server.stop()
        t.cleanup()
      }
    })
  }

  it('an idle server exits 0 at once on SIGTERM', async () => {
    const server = await startServer(['--store', 'memory'])
    await fetch(`${server.url}/healthz`) // leaves a keep-alive connection behind
    const started = Date.now()
    assert.equal(await server.stop('SIGTERM'), 0)
    assert.ok(Date.now() - started < 3000, 'idle keep-alive connections do not hold the exit')
  })
})

describe('registrar token create with a running server on the same SQLite file (issue 4)', () => {
  const t = tempDir()
  const store = `sqlite:${join(t.dir, 'tokens.db')}`
  let server: ServerProcess
  before(async () => {
    server = await startServer(['--store', store])
  })
  after(async () => {
    await server.stop()
    t.cleanup()
  })

  it('R7591-3.2.2-a ROIDR-3-c: token mode without an IAT is 401 with a bare Bearer challenge', async () => {
    const res = await register(server.url)
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="registrar"')
    assert.equal(res.body.error, 'invalid_token')
    assert.equal(res.headers.get('cache-control'), 'no-store')
  })

  it('R7591-3.2.2-a: a bad IAT is 401 with error="invalid_token" (RFC 6750 §3.1)', async () => {
    for (const auth of ['Bearer not-a-real-token', 'Bearer a b', 'Bearer ']) {
      const res = await register(server.url, undefined, auth)
      assert.equal(res.status, 401, auth)
      assert.match(
        res.headers.get('www-authenticate') ?? '',
        /^Bearer realm="registrar", error="invalid_token"(, error_description="[^"\\]*")?$/,
        auth,
      )
      assert.equal(res.body.error, 'invalid_token')
      assert.equal('client_id' in res.body, false)
    }
  })

  it('a token created while the server runs is honoured at once', async () => {
    const token = await createToken(store)
    const res = await register(server.url, token)
    assert.equal(res.status, 201, JSON.stringify(res.body))
    // issue 12 item 19: single-use by default
    assert.equal((await register(server.url, token)).status, 401)
    const unlimited = await createToken(store, '--max-uses', '0')
    for (let i = 0; i < 3; i++) assert.equal((await register(server.url, unlimited)).status, 201)
  })

  it('--max-uses 2: the third registration is 401, and concurrent ones never exceed the limit', async () => {
    const token = await createToken(store, '--max-uses', '2')
    assert.equal((await register(server.url, token)).status, 201)
    assert.equal((await register(server.url, token)).status, 201)
    const third = await register(server.url, token)
    assert.equal(third.status, 401)
    assert.match(third.headers.get('www-authenticate') ?? '', /error="invalid_token"/)

    const racing = await createToken(store, '--max-uses', '2')
    const results = await Promise.all(Array.from({ length: 8 }, () => register(server.url, racing)))
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 201, 401, 401, 401, 401, 401, 401])
    const listed = await runCli(['token', 'list', '--json', '--store', store])
    const uses = (JSON.parse(listed.stdout) as { uses: number; max_uses: number }[]).filter(
      (x) => x.max_uses === 2,
    )
    assert.deepEqual(
      uses.map((x) => x.uses),
      [2, 2],
    )
  })

  it('--expires-in is honoured', async () => {
    const token = await createToken(store, '--expires-in', '1', '--description', 'expiry check')
    const listed = await runCli(['token', 'list', '--json', '--store', store])
    const record = (
      JSON.parse(listed.stdout) as {
        created_at: number
        expires_at: number | null
        description?: string
      }[]
    ).find((x) => x.description === 'expiry check')!
    assert.equal(record.expires_at! - record.created_at, 1)
    // wait until the expiry second has begun
    while (Date.now() / 1000 < record.expires_at!) await sleep(50)
    const res = await register(server.url, token)
    assert.equal(res.status, 401)
    const lasting = await createToken(store, '--expires-in', '3600')
    assert.equal((await register(server.url, lasting)).status, 201)
  })

  it('the token is shown once and stored only as a hash', async () => {
    const token = await createToken(store, '--description', 'hash check')
    const listed = await runCli(['token', 'list', '--json', '--store', store])
    assert.ok(!listed.stdout.includes(token))
    assert.ok(!listed.stdout.includes('tokenHash'))
    const files = readdirSync(t.dir).filter((f) => f.startsWith('tokens.db'))
    for (const f of files) {
      assert.ok(!readFileSync(join(t.dir, f)).includes(token), `${f} holds the plaintext token`)
    }
  })

  it('bad option values are usage errors (exit 2)', async () => {
    for (const args of [
      ['--max-uses', '-1'],
      ['--max-uses', 'x'],
      ['--expires-in', '-5'],
      ['--bogus'],
    ]) {
      const res = await runCli(['token', 'create', '--store', store, ...args])
      assert.equal(res.code, 2, args.join(' '))
      assert.equal(res.stdout, '', 'no token printed')
    }
  })
})

describe('registrar serve: start-up warnings (issue 12 item 15)', () => {
  it('warns when OIDC discovery is served without jwks_uri, and not once it is configured', async () => {
    const without = await startServer(['--store', 'memory'])
    try {
      await new Promise((r) => setTimeout(r, 100))
      assert.match(without.stderr(), /metadata\.jwks_uri is not configured/)
    } finally {
      await without.stop()
    }
    const withKeys = await startServer(['--store', 'memory'], {
      config: { metadata: { jwks_uri: 'https://as.example.com/jwks' } },
    })
    try {
      const doc = (await (
        await fetch(`${withKeys.url}/.well-known/openid-configuration`)
      ).json()) as Record<string, unknown>
      assert.equal(doc.jwks_uri, 'https://as.example.com/jwks')
      assert.doesNotMatch(withKeys.stderr(), /jwks_uri is not configured/)
    } finally {
      await withKeys.stop()
    }
  })
})

describe('store URLs in logs (issue 12 item 10)', () => {
  it('the PostgreSQL password in the user information and in password / sslpassword parameters is redacted', () => {
    assert.equal(
      redactStoreUrl(
        'postgres://app:hunter2@db.internal:5432/app?sslmode=require&sslpassword=k3y&password=p4ss',
      ),
      'postgres://app:***@db.internal:5432/app?sslmode=require&sslpassword=***&password=***',
    )
    assert.equal(
      redactStoreUrl('postgresql://db.internal/app?PASSWORD=x#frag'),
      'postgresql://db.internal/app?PASSWORD=***#frag',
    )
    assert.equal(redactStoreUrl('sqlite:./data/registrar.db'), 'sqlite:./data/registrar.db')
  })

  const pg = process.env.REGISTRAR_TEST_POSTGRES_URL
  it('registrar serve logs the store without them', {
    skip: !pg && 'set REGISTRAR_TEST_POSTGRES_URL',
  }, async () => {
    const url = new URL(pg as string)
    url.searchParams.set('password', url.password || 'not-needed-with-trust')
    const server = await startServer(['--store', url.href], {
      env: { REGISTRAR_LOG_LEVEL: 'info' },
    })
    try {
      await new Promise((r) => setTimeout(r, 200))
      const started = server
        .stderr()
        .split('\n')
        .find((l) => l.includes('"started"'))
      assert.ok(started, server.stderr())
      assert.match(started, /password=\*\*\*/)
      assert.doesNotMatch(started, /not-needed-with-trust/)
    } finally {
      await server.stop()
    }
  })
})
