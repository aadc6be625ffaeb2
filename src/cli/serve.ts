import type { IncomingMessage, ServerResponse } from 'node:http'
import type { pino as Pino } from 'pino'
import { connectionLimits, listen, type RunningServer } from '../adapters/node.js'
import { composeRegistrar, openClientAuthenticationFailureLimit, openRateLimiter } from '../app.js'
import { importOptional } from '../config/optional-dependency.js'
import { precedenceHelp, serveFlagsHelp } from '../config/reference.js'
import { ConfigError, SOURCES, withIssuer } from '../config/resolve.js'
import type { RegistrarConfig } from '../config/schema.js'
import { inCidrs, isIpLiteral } from '../net/network-address.js'
import { openStore, redactStoreUrl } from '../storage/open-store.js'
import { type Command, loadConfig, parse } from './common.js'

export const serve: Command = {
  name: 'serve',
  summary: 'run the registration server',
  help: `Usage: registrar serve [options]

Runs the RFC 7591 / RFC 7592 registration server.

Options:
${serveFlagsHelp()}
  --config FILE          JSON configuration file (see docs/configuration.md)
  -h, --help             show this help

${precedenceHelp()}
Prints "listening on http://HOST:PORT" to stdout once ready (after "admin on URL" / "metrics on
URL" for admin.listen / metrics.listen); logs go to stderr. SIGTERM / SIGINT stop gracefully.`,

  async run(args) {
    const { values } = parse(args, {
      ...Object.fromEntries(SERVE_FLAGS.map((name) => [name, { type: 'string' } as const])),
      config: { type: 'string' },
    })
    if (values.help) {
      process.stdout.write(`${this.help}\n`)
      return 0
    }
    const settings = loadConfig(values)
    const displayHost = displayHostFor(settings.host)
    if (settings.issuer === undefined) {
      // issue 12 item 17: a derived http://HOST:PORT issuer is only right for clients on this
      // machine; listening beyond it, the registration_client_uri must name the public URL
      if (!isLocalListenHost(settings.host)) {
        throw new ConfigError(
          'issuer',
          `--host ${settings.host} listens beyond this machine, so the issuer cannot be derived: set --issuer (or REGISTRAR_ISSUER, or "issuer" in the config file) to the URL clients reach this server at`,
        )
      }
      // the derived issuer must be valid too: refuse it before binding anything (after listen()
      // a refusal would leave the socket open and the process running)
      withIssuer(settings, `http://${displayHost}:${settings.port}`)
    }
    const config: Readonly<RegistrarConfig> | undefined =
      settings.issuer === undefined ? undefined : withIssuer(settings, settings.issuer)
    // asynchronous writes: under load SonicBoom already gathers many lines into one write
    const { pino } = await importOptional<{ pino: typeof Pino }>(
      'pino',
      'log.level',
      'registrar serve (its JSON log)',
    )
    const logger = pino(
      { level: settings.log.level, base: undefined },
      pino.destination({ dest: 2, sync: false }),
    )
    const store = await openStore(settings.store, { postgres: settings.postgres })

    // the listener is installed once the issuer is known, which may depend on the port picked;
    // a request that slips in before that is told to retry rather than left hanging
    let listener: ((req: IncomingMessage, res: ServerResponse) => void) | undefined
    let running: RunningServer
    try {
      running = await listen(
        (req, res) => {
          if (listener) return listener(req, res)
          res
            .writeHead(503, {
              'retry-after': '1',
              connection: 'close',
              'x-content-type-options': 'nosniff',
            })
            .end()
        },
        { port: settings.port, host: settings.host, ...connectionLimits(settings) },
      )
    } catch (err) {
      await store.close()
      throw err
    }
    const resolved = config ?? withIssuer(settings, `http://${displayHost}:${running.port}`)
    // the access log line names each request's registration event (one line per request)
    const rateLimiter = await openRateLimiter(resolved, logger)
    const failureLimit = await openClientAuthenticationFailureLimit(resolved, logger)
    const app = composeRegistrar(resolved, store, {
      logger,
      maintenance: true,
      ...(rateLimiter && { rateLimiter }),
      failureLimit,
    })
    listener = app.nodeListener
    // admin.listen, metrics.listen: listeners of their own, off the public one
    const others: RunningServer[] = []
    try {
      for (const own of app.ownListeners) {
        const server = await listen(own.nodeListener, {
          port: own.port,
          host: own.host,
          ...connectionLimits(settings),
        })
        others.push(server)
        const path =
          own.name === 'admin'
            ? `${new URL(resolved.issuer).pathname.replace(/\/+$/, '')}/admin`
            : '/metrics'
        process.stdout.write(
          `${own.name} on http://${displayHostFor(own.host)}:${server.port}${path}\n`,
        )
      }
    } catch (err) {
      await Promise.all(others.map((o) => o.close()))
      await running.close()
      await app.close()
      await store.close()
      throw err
    }

    if (
      settings.registration.mode === 'open' &&
      settings.rateLimit.anonymousRegistrations === 0 &&
      settings.policies.anonymous === undefined
    ) {
      logger.warn(
        'open registration with neither a rate limit nor an anonymous policy: see docs/security.md, "Securing open registration"',
      )
    }
    for (const key of ['authorization_endpoint', 'token_endpoint']) {
      if (settings.metadata[key] === undefined) {
        logger.warn(`metadata.${key} is not configured; discovery will not name the AS's ${key}`)
      }
    }
    if (settings.metadata.jwks_uri === undefined) {
      // OIDC Discovery §3 makes jwks_uri REQUIRED; OpenID Connect clients refuse a document without
      logger.warn(
        "metadata.jwks_uri is not configured: /.well-known/openid-configuration is served without jwks_uri (REQUIRED by OpenID Connect Discovery 1.0 §3), and OpenID Connect clients will refuse it; set it to the AS's JWK Set URL",
      )
    }
    logger.info(
      {
        issuer: resolved.issuer,
        store: redactStoreUrl(settings.store),
        registration: settings.registration.mode,
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
          .then(() => app.close())
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
      `listening on http://${displayHost}:${running.port} (issuer ${resolved.issuer})\n`,
    )
    await stopped
    return 0
  },
}

/** The `serve` flags that set a configuration key (`--config` names the file). */
const SERVE_FLAGS = SOURCES.flatMap((s) => (s.flag ? [s.flag.name] : []))

/** A listen address reachable from this machine only: `localhost`, 127.0.0.0/8 or ::1. */
export function isLocalListenHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1')
  if (bare.toLowerCase() === 'localhost') return true
  return isIpLiteral(bare) && inCidrs(bare, ['127.0.0.0/8', '::1/128'])
}

function displayHostFor(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost'
  return host.includes(':') ? `[${host}]` : host
}
