// What both examples share: the command line, the Registrar configuration (the same JSON file as
// `registrar serve --config`), the listening socket and the listening line tests parse.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { parseArgs } from 'node:util'
import { pino } from 'pino'

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])

/** Parses `[--port N] [--store URL] [--config FILE] [--auto-login]`; exits 2 on bad usage. */
export function commandLine(usage) {
  try {
    const { values } = parseArgs({
      options: {
        port: { type: 'string' },
        store: { type: 'string' },
        config: { type: 'string' },
        'auto-login': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    })
    if (values.help) {
      process.stdout.write(`${usage}\n`)
      process.exit(0)
    }
    const file = values.config === undefined ? {} : JSON.parse(readFileSync(values.config, 'utf8'))
    if (typeof file !== 'object' || file === null || Array.isArray(file)) {
      throw new Error(`${values.config} must hold a JSON object`)
    }
    const port = values.port ?? file.port ?? 3000
    if (!/^\d+$/.test(String(port)) || Number(port) > 65535) throw new Error('--port takes 0-65535')
    return {
      port: Number(port),
      host: file.host ?? '127.0.0.1',
      store: values.store ?? file.store ?? 'memory',
      autoLogin: values['auto-login'],
      file,
    }
  } catch (err) {
    process.stderr.write(`${err.message}\n\n${usage}\n`)
    process.exit(2)
  }
}

/**
 * Listens on host:port (0 picks a free port) and resolves the issuer, `http://HOST:PORT`, before
 * any request is served: the application is built once the port is known.
 */
export async function listen({ host, port }) {
  let handler
  const server = createServer((req, res) => {
    if (handler) return handler(req, res)
    res.writeHead(503, { 'retry-after': '1', connection: 'close' }).end()
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, resolve)
  })
  const address = server.address()
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    server,
    issuer: `http://${host === 'localhost' ? 'localhost' : shown}:${address.port}`,
    serve(fn) {
      handler = fn
    },
  }
}

/** `--auto-login` signs a demo user in without a page: only for an issuer on this machine. */
export function checkAutoLogin(autoLogin, issuer) {
  const host = new URL(issuer).hostname.replace(/^\[|\]$/g, '')
  if (autoLogin && !LOOPBACK.has(host)) {
    process.stderr.write(`--auto-login is refused: the issuer ${issuer} is not on loopback\n`)
    process.exit(2)
  }
}

/** The access log goes to stderr; stdout carries the listening line only. */
export function logger(file) {
  return pino({ level: file.log?.level ?? 'info', base: undefined }, pino.destination(2))
}

/** Prints the listening line and stops cleanly on SIGINT / SIGTERM. */
export function ready(running, close) {
  process.stdout.write(`listening on ${running.issuer}\n`)
  const stop = async () => {
    running.server.closeAllConnections()
    running.server.close()
    await close()
    process.exit(0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

/** The Registrar configuration: the file, with this example's issuer and defaults. */
export function registrarConfig(file, issuer, defaults = {}) {
  const { port: _port, host: _host, store: _store, ...rest } = file
  return {
    ...rest,
    issuer,
    registration: { mode: 'open', ...rest.registration },
    metadata: { ...defaults.metadata, ...rest.metadata },
  }
}

export function escapeHtml(value) {
  return String(value).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  )
}
