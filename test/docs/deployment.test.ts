import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { resolveConfig } from '../../src/config/resolve.js'
import { childEnv, tempDir } from '../helpers.js'
import { fenced, ROOT, section } from './markdown.js'

// docs/deployment.md: the systemd unit verifies and its ExecStart serves behind a loopback proxy
// (trustedProxies: each X-Forwarded-For address has its own budget); the proxy configurations
// point at the address the configuration listens on; every JSON configuration is valid.

const PAGE = 'docs/deployment.md'
const proxy = section(PAGE, 'Behind a TLS reverse proxy')
const config = JSON.parse(fenced(proxy, 'json')[0] as string) as {
  issuer: string
  host: string
  port: number
  store: string
  rateLimit: { anonymousRegistrations: number; trustedProxies: string[] }
}
const unit = fenced(section(PAGE, 'A systemd unit'), 'ini')[0] as string
const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0

function verify(text: string): { status: number | null; output: string } {
  const dir = tempDir('registrar-unit-')
  try {
    const path = join(dir.dir, 'registrar.service')
    writeFileSync(path, `${text}\n`)
    const r = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' })
    return { status: r.status, output: r.stdout + r.stderr }
  } finally {
    dir.cleanup()
  }
}

describe('docs/deployment.md', () => {
  it('every JSON configuration of the page is valid', () => {
    const blocks = fenced(section(PAGE, 'Deployment'), 'json')
    assert.ok(blocks.length >= 3)
    for (const json of blocks)
      resolveConfig({ file: { issuer: config.issuer, ...JSON.parse(json) } })
  })

  it('nginx and Caddy proxy to the address the configuration listens on, passing X-Forwarded-For', () => {
    const upstream = `${config.host}:${config.port}`
    const nginx = fenced(proxy, 'nginx')[0] as string
    assert.match(nginx, new RegExp(`proxy_pass http://${upstream.replaceAll('.', '\\.')};`))
    assert.match(nginx, /proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;/)
    assert.match(nginx, new RegExp(`server_name ${new URL(config.issuer).hostname};`))
    const caddy = fenced(proxy, 'caddy')[0] as string
    assert.match(caddy, new RegExp(`^${new URL(config.issuer).hostname} \\{`))
    assert.match(caddy, new RegExp(`reverse_proxy ${upstream.replaceAll('.', '\\.')}`))
    assert.ok(config.rateLimit.trustedProxies.includes('127.0.0.1/32'))
  })

  it(
    'the systemd unit passes systemd-analyze verify (and a misspelt one does not)',
    hasSystemdAnalyze ? {} : { skip: 'systemd-analyze is not installed' },
    () => {
      const ok = verify(unit)
      assert.equal(ok.status, 0, ok.output)
      const bad = verify(unit.replace('KillSignal=SIGTERM', 'KillSignal=SIGNOPE'))
      assert.notEqual(bad.status === 0 && bad.output === '', true, 'a bad unit is reported')
    },
  )

  it("the unit's ExecStart serves the configuration; behind the loopback proxy each client has its own budget; SIGTERM stops it", async () => {
    const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1] as string
    const env = Object.fromEntries(
      [...unit.matchAll(/^Environment=(\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]),
    ) as Record<string, string>
    const dir = tempDir('registrar-systemd-')
    try {
      const configPath = join(dir.dir, 'registrar.json')
      writeFileSync(
        configPath,
        JSON.stringify({
          ...config,
          port: 0,
          store: config.store.replace('/var/lib/registrar', dir.dir),
        }),
      )
      const argv = exec
        .replace('/opt/registrar/node_modules/registrar', ROOT.replace(/\/$/, ''))
        .replace('/etc/registrar/registrar.json', configPath)
        .split(' ')
      assert.equal(argv[0], '/usr/bin/node')
      const proc = spawn(process.execPath, argv.slice(1), {
        cwd: dir.dir,
        env: childEnv({ ...env, REGISTRAR_LOG_LEVEL: 'warn' }),
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let out = ''
      proc.stdout.on('data', (d) => {
        out += d
      })
      proc.stderr.on('data', (d) => {
        out += d
      })
      const exited = new Promise<number | null>((resolve) => proc.once('close', resolve))
      try {
        const port = await new Promise<number>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`did not start:\n${out}`)), 30_000)
          proc.stdout.on('data', () => {
            const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)
            if (m) {
              clearTimeout(timer)
              resolve(Number(m[1]))
            }
          })
        })
        const base = `http://127.0.0.1:${port}`
        const metadata = (await (
          await fetch(`${base}/.well-known/oauth-authorization-server`)
        ).json()) as Record<string, string>
        assert.equal(metadata.registration_endpoint, `${config.issuer}/register`)
        // token mode: a registration without a token is refused and counts against the address
        const attempt = (forwardedFor: string) =>
          fetch(`${base}/register`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
            body: JSON.stringify({ redirect_uris: ['https://app.example.com/cb'] }),
          }).then((r) => r.status)
        const limit = config.rateLimit.anonymousRegistrations
        for (let i = 0; i < limit; i++) assert.equal(await attempt('203.0.113.7'), 401)
        assert.equal(await attempt('203.0.113.7'), 429, 'the client behind the proxy is limited')
        assert.equal(await attempt('203.0.113.8'), 401, 'another client has its own budget')
        proc.kill('SIGTERM') // KillSignal=SIGTERM
        assert.equal(await exited, 0, out)
      } finally {
        proc.kill('SIGKILL')
      }
    } finally {
      dir.cleanup()
    }
  })
})
