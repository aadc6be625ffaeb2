import { readFileSync } from 'node:fs'
import { buildRegistrar, metadataDocumentFetchFor } from '../app.js'
import { MetadataDocumentResolver } from '../as/metadata-document-resolver.js'
import { withIssuer } from '../config/resolve.js'
import type { RegistrarConfig } from '../config/schema.js'
import { RegistrationError } from '../core/errors.js'
import type { Store } from '../core/store.js'
import { epochSeconds } from '../shared/epoch.js'
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
       registrar policy dry-run --client-id URL [options]

Shows what a registration request would be registered as, without registering it: the software
statement check, the registration policy that applies, every validation, and where each
registered member came from (request, software statement, policy rule, server default).

Options:
  --metadata FILE   the JSON body a client would POST to /register ("-" for stdin)
  --iat TOKEN       evaluate as a registration with this initial access token (checked, not used)
  --client-id URL   fetch the Client ID Metadata Document at URL now (nothing is cached) and show
                    what a client of it would be, under the metadata_document policy; the store
                    tells whether the URL is blocked or approved
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
      'client-id': { type: 'string' },
    })
    if (values.help) {
      process.stdout.write(`${HELP}\n`)
      return 0
    }
    const clientId = values['client-id']
    if (clientId !== undefined) {
      if (values.metadata !== undefined || values.iat !== undefined) {
        throw new UsageError('--client-id takes neither --metadata nor --iat')
      }
      const settings = loadConfig(values)
      const config = withIssuer(settings, settings.issuer ?? 'http://localhost')
      return withStore(config, (store) => dryRunDocument(config, store, clientId), values)
    }
    if (values.metadata === undefined) {
      throw new UsageError('--metadata FILE (or --client-id URL) is required')
    }
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

/**
 * `policy dry-run --client-id URL`: fetches the document, validates it and applies the
 * `metadata_document` policy, printing what a client of it would be and which rule (or the
 * document, or a server default) decided each member. Exit 0 accepted, 1 refused.
 */
async function dryRunDocument(
  config: Readonly<RegistrarConfig>,
  store: Store,
  clientId: string,
): Promise<number> {
  const registrar = buildRegistrar(config, store)
  const resolver = new MetadataDocumentResolver({
    registrar,
    fetch: metadataDocumentFetchFor(config),
    now: epochSeconds,
    cacheTtlMs: 0,
    reports: { refused() {}, fetched() {}, changed() {}, stale() {}, warning() {} },
  })
  let run: Awaited<ReturnType<MetadataDocumentResolver['dryRun']>>
  try {
    run = await resolver.dryRun(clientId)
  } catch (err) {
    if (!(err instanceof RegistrationError)) throw err
    run = {
      client_id: clientId,
      notes: [],
      policies: [],
      requiresApproval: false,
      refusal: { refusal: 'policy', detail: err.error_description ?? err.error },
    }
  }
  const common = {
    client_id: clientId,
    enabled: config.clientIdMetadataDocuments.enabled,
    policies: run.policies,
    ...(run.warning !== undefined && { warning: run.warning }),
  }
  if (run.refusal || !run.accepted) {
    const out = { result: 'refused', ...common, ...run.refusal }
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
    return 1
  }
  const document = run.document ?? {}
  const decidedBy: Record<string, string> = {}
  for (const member of Object.keys(run.accepted)) {
    const note = run.notes.find((n) => n.member === member)
    if (note) decidedBy[member] = `policy rule ${note.rule}: ${note.note}`
    else if (Object.hasOwn(document, member)) decidedBy[member] = 'document'
    else if (
      member === 'token_endpoint_auth_method' &&
      Object.hasOwn(document, 'token_endpoint_auth_methods_supported')
    ) {
      decidedBy[member] = 'document (token_endpoint_auth_methods_supported)'
    } else if (member === 'token_endpoint_auth_method') {
      decidedBy[member] = 'draft -03 §6 default for a document (none)'
    } else decidedBy[member] = 'server default'
  }
  for (const note of run.notes) {
    if (!Object.hasOwn(run.accepted, note.member)) {
      decidedBy[note.member] = `policy rule ${note.rule}: ${note.note}`
    }
  }
  const dropped = Object.keys(document).filter(
    (m) => m !== 'client_id' && !Object.hasOwn(run.accepted ?? {}, m) && !decidedBy[m],
  )
  const out = {
    result: 'accepted',
    ...common,
    status: run.requiresApproval ? 'pending' : 'active',
    cache_lifetime_seconds: run.lifetime,
    bytes: run.bytes,
    accepted_as: run.accepted,
    decided_by: decidedBy,
    ...(dropped.length > 0 && { dropped }),
  }
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
  return 0
}
