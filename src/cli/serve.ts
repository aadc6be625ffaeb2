import type { IncomingMessage, ServerResponse } from 'node:http'
import { pino } from 'pino'
import { listen, type RunningServer } from '../http/node.js'
import { buildRuntime } from '../runtime.js'
import { openStore } from '../storage/open-store.js'
import { type Command, loadConfig, parse } from './common.js'

export const serve: Command = {
  name: 'serve',
  summary: 'run the registration server',
  help: `Usage: registrar serve [options]

Runs the RFC 7591 / RFC 7592 registration server.

Options:
  --port N               port to listen on; 0 picks a free one        (default 3000)
  --host H               address to listen on                          (default 127.0.0.1)
  --issuer URL           issuer identifier; endpoints live under it    (default http://HOST:PORT)
  --store URL            memory | sqlite:PATH | postgres://…           (default sqlite:./data/registrar.db)
  --registration MODE    open: anyone may register; token: an initial access token is required
                                                                       (default token)
  --rate-limit-store URL memory | redis://… (shares the anonymous registration limit between
                         instances; the limit itself is rateLimit.anonymousRegistrations)
  --config FILE          JSON configuration file (see README "Configuration")
  -h, --help             show this help

Precedence: flags > REGISTRAR_* environment (REGISTRAR_PORT, _HOST, _ISSUER, _STORE,
_REGISTRATION, _CONFIG, _RATE_LIMIT_STORE) > config file > defaults. Prints "listening on http://HOST:PORT" to
stdout once ready (after "admin on URL" / "metrics on URL" for admin.listen / metrics.listen);
logs go to stderr. SIGTERM / SIGINT stop gracefully.`,

  async run(args) {
    const { values } = parse(args, {
      port: { type: 'string' },
      host: { type: 'string' },
      issuer: { type: 'string' },
      store: { type: 'string' },
      registration: { type: 'string' },
      config: { type: 'string' },
      'rate-limit-store': { type: 'string' },
    })
    if (values.help) {
      process.stdout.write(`${this.help}\n`)
      return 0
    }
    const { 'rate-limit-store': rateLimitStore, ...rest } = values
    const flags = { ...rest, ...(rateLimitStore !== undefined && { rateLimitStore }) }
    let config = loadConfig(flags)
    const displayHost = displayHostFor(config.host)
    // an issuer derived from host and port must be valid too: refuse it before binding anything
    // (after listen() a refusal would leave the socket open and the process running)
    if (!config.issuer) loadConfig({ ...flags, issuer: `http://${displayHost}:${config.port}` })
    // asynchronous writes: under load SonicBoom already gathers many lines into one write
    const logger = pino(
      { level: config.log.level, base: undefined },
      pino.destination({ dest: 2, sync: false }),
    )
    const store = await openStore(config.store, { postgres: config.postgres })

    // the listener is installed once the issuer is known, which may depend on the port picked;
    // a request that slips in before that is told to retry rather than left hanging
    let listener: ((req: IncomingMessage, res: ServerResponse) => void) | undefined
    let running: RunningServer
    try {
      running = await listen(
        (req, res) => {
          if (listener) return listener(req, res)
          res.writeHead(503, { 'retry-after': '1', connection: 'close' }).end()
        },
        { port: config.port, host: config.host },
      )
    } catch (err) {
      await store.close()
      throw err
    }
    if (!config.issuer) {
      config = loadConfig({ ...flags, issuer: `http://${displayHost}:${running.port}` })
    }
    // the access log line names each request's registration event (one line per request)
    const runtime = await buildRuntime(config, store, { logger, maintenance: true })
    listener = runtime.nodeListener
    // admin.listen, metrics.listen: listeners of their own, off the public one
    const others: RunningServer[] = []
    try {
      for (const own of runtime.ownListeners) {
        const server = await listen(own.nodeListener, { port: own.port, host: own.host })
        others.push(server)
        const path =
          own.name === 'admin'
            ? `${new URL(config.issuer).pathname.replace(/\/+$/, '')}/admin`
            : '/metrics'
        process.stdout.write(
          `${own.name} on http://${displayHostFor(own.host)}:${server.port}${path}\n`,
        )
      }
    } catch (err) {
      await Promise.all(others.map((o) => o.close()))
      await running.close()
      await runtime.close()
      await store.close()
      throw err
    }

    if (
      config.registration.mode === 'open' &&
      config.rateLimit.anonymousRegistrations === 0 &&
      config.policies.anonymous === undefined
    ) {
      logger.warn(
        'open registration with neither a rate limit nor an anonymous policy: see README "Securing open registration"',
      )
    }
    for (const key of ['authorization_endpoint', 'token_endpoint']) {
      if (config.metadata[key] === undefined) {
        logger.warn(`metadata.${key} is not configured; discovery will not name the AS's ${key}`)
      }
    }
    logger.info(
      {
        issuer: config.issuer,
        store: redactStore(config.store),
        registration: config.registration.mode,
      },
      'started',
    )
    // handlers first, then the announcement: whoever reads "listening on" may signal at once
    const stopped = new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        logger.info({ signal }, 'stopping')
        process.off('SIGTERM', stop)
        process.off('SIGINT', stop)
        Promise.all([running.close(), ...others.map((o) => o.close())])
          .then(() => runtime.close())
          .then(() => store.close())
          .catch((err) => logger.error({ err }, 'error while stopping'))
          .finally(() => {
            logger.flush()
            resolve()
          })
      }
      process.on('SIGTERM', stop)
      process.on('SIGINT', stop)
    })
    process.stdout.write(
      `listening on http://${displayHost}:${running.port} (issuer ${config.issuer})\n`,
    )
    await stopped
    return 0
  },
}

function displayHostFor(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost'
  return host.includes(':') ? `[${host}]` : host
}

/** Store URLs may carry a database password. */
function redactStore(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@')
}
