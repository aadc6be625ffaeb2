import { readFileSync } from 'node:fs'
import { buildRegistrar } from '../app.js'
import { withIssuer } from '../config/resolve.js'
import { RegistrationError } from '../core/errors.js'
import type { Store } from '../core/store.js'
import { MemoryStore } from '../storage/memory.js'
import {
  type Command,
  loadConfig,
  parse,
  STORE_HELP,
  STORE_OPTION,
  subcommandHelp,
  UsageError,
  withStore,
} from './common.js'

const HELP = `Usage: registrar policy dry-run --metadata FILE [options]

Shows what a registration request would be registered as, without registering it: the software
statement check, the registration policy that applies, every validation, and where each
registered member came from (request, software statement, policy rule, server default).

Options:
  --metadata FILE   the JSON body a client would POST to /register ("-" for stdin)
  --iat TOKEN       evaluate as a registration with this initial access token (checked, not used)
  -h, --help        show this help

Only an --iat needs the store (named on stderr then); the configuration file gives the
policies, trusted issuers, …:
${STORE_HELP}

Exit codes: 0 the request would be accepted, 1 it would be refused (the error is printed), 2 usage.`

export const policy: Command = {
  name: 'policy',
  summary: 'dry-run a registration request against the configured policies',
  help: HELP,
  async run(args) {
    const [sub, ...rest] = args
    const helpExit = subcommandHelp(sub, HELP)
    if (helpExit !== undefined) return helpExit
    if (sub !== 'dry-run') throw new UsageError(`unknown policy command '${sub}'`)
    const { values } = parse(rest, {
      ...STORE_OPTION,
      metadata: { type: 'string' },
      iat: { type: 'string' },
    })
    if (values.help) {
      process.stdout.write(`${HELP}\n`)
      return 0
    }
    if (values.metadata === undefined) throw new UsageError('--metadata FILE is required')
    let body: unknown
    try {
      body = JSON.parse(readFileSync(values.metadata === '-' ? 0 : values.metadata, 'utf8'))
    } catch (err) {
      throw new UsageError(`--metadata: ${(err as Error).message}`)
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new UsageError('--metadata must hold a JSON object')
    }
    const settings = loadConfig(values)
    // a dry run needs an issuer only to build URLs; never serves
    const config = withIssuer(settings, settings.issuer ?? 'http://localhost')
    const evaluate = async (store: Store): Promise<number> => {
      // the domain alone: no rate limiter (and so no Redis connection), no router
      const registrar = buildRegistrar(config, store)
      try {
        const evaluation = await registrar.evaluate({
          metadata: body as Record<string, unknown>,
          ...(values.iat !== undefined && { initialAccessToken: values.iat }),
        })
        const out = {
          result: 'accepted',
          registrant: evaluation.registrant.class,
          ...(evaluation.registrant.softwareStatement && {
            software_statement_issuer: evaluation.registrant.softwareStatement.issuer.iss,
          }),
          policy: evaluation.policy ?? null,
          // every policy that applied (a token's and a statement issuer's), recorded one first
          policies: evaluation.policies.map((p) => p.name),
          status: evaluation.status,
          registered_as: evaluation.metadata,
          decided_by: evaluation.decisions,
        }
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
        return 0
      } catch (err) {
        if (!(err instanceof RegistrationError)) throw err
        process.stdout.write(
          `${JSON.stringify({ result: 'refused', status: err.status, ...err.toJSON() }, null, 2)}\n`,
        )
        return 1
      }
    }
    if (values.iat !== undefined) return withStore(config, evaluate, values)
    process.stderr.write('using no store (only --iat needs one)\n')
    const memory = new MemoryStore()
    try {
      return await evaluate(memory)
    } finally {
      await memory.close()
    }
  },
}
