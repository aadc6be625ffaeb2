// docs/client-id-metadata-documents.md: every command it shows runs as written (the document URL
// and the config file name replaced by the test's), its configuration blocks are valid, and the
// document it shows is accepted.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { composeRegistrar } from '../../src/app.js'
import { resolveConfig } from '../../src/config/resolve.js'
import { openStore } from '../../src/storage/open-store.js'
import { type DocumentServer, startDocumentServer } from '../cimd/fixtures.js'
import { childEnv, type JsonBody, runCli, tempDir } from '../helpers.js'

const ROOT = new URL('../../', import.meta.url).pathname
const PAGE = readFileSync(join(ROOT, 'docs/client-id-metadata-documents.md'), 'utf8')
const DOC_URL = 'https://app.example.com/oauth/client.json'

function blocks(lang: string): string[] {
  return [...PAGE.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\\n\`\`\``, 'g'))].map(
    (m) => m[1] as string,
  )
}

/** The shell commands of the page, one per line. */
function commands(): string[][] {
  return blocks('sh')
    .flatMap((b) => b.split('\n'))
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => line.split(/\s+/))
}

let docs: DocumentServer
const scratch = tempDir('registrar-docs-cimd-')
let url: string
let configPath: string
let config: Record<string, unknown>

before(async () => {
  docs = await startDocumentServer()
  const [enabling] = blocks('json')
  const document = JSON.parse(
    blocks('json').find((b) => b.includes('"client_id"')) as string,
  ) as JsonBody
  url = docs.json('/oauth/client.json', { ...document, client_id: docs.url('/oauth/client.json') })
  // the page's configuration, with the test's store and (test only) the fixture's address and CA
  config = {
    ...JSON.parse(enabling as string),
    store: `sqlite:${join(scratch.dir, 'registrar.db')}`,
    fetch: { allowedAddresses: ['127.0.0.2'], caFile: docs.caFile },
  }
  configPath = join(scratch.dir, 'cimd.json')
  writeFileSync(configPath, JSON.stringify(config))
})
after(async () => {
  await docs?.stop()
  scratch.cleanup()
})

const substitute = (args: string[]) =>
  args.map((a) => (a === DOC_URL ? url : a === 'cimd.json' ? configPath : a))

describe('docs/client-id-metadata-documents.md', () => {
  it('every JSON configuration block is a valid configuration; the policy one names its policy', () => {
    const configs = blocks('json').filter((b) => !b.includes('"client_id"'))
    assert.equal(configs.length, 2)
    for (const block of configs) {
      const resolved = resolveConfig({
        file: { issuer: 'https://auth.example.com', ...JSON.parse(block) },
      })
      assert.equal(resolved.clientIdMetadataDocuments.enabled, true)
    }
    const policy = resolveConfig({
      file: { issuer: 'https://auth.example.com', ...JSON.parse(configs[1] as string) },
    })
    assert.equal(policy.policies.metadataDocument, 'documents')
  })

  it('the TS fragment uses the MCP SDK option that exists', () => {
    const [fragment] = blocks('ts')
    assert.match(
      fragment as string,
      /clientMetadataUrl: 'https:\/\/app\.example\.com\/oauth\/client\.json'/,
    )
    const sdk = readFileSync(
      join(ROOT, 'node_modules/@modelcontextprotocol/sdk/dist/esm/client/auth.d.ts'),
      'utf8',
    )
    assert.match(sdk, /clientMetadataUrl\?: string/)
  })

  it('the MCP example command starts and advertises both DCR and CIMD', async () => {
    const command = commands().find((c) => c[0] === 'node') as string[]
    assert.ok(command, 'the page shows the MCP example command')
    const [, script, ...args] = substitute(command)
    const proc = spawn(process.execPath, [join(ROOT, script as string), ...args], {
      cwd: scratch.dir,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    proc.stdout.on('data', (d) => {
      out += d
    })
    proc.stderr.on('data', (d) => {
      out += d
    })
    try {
      const issuer = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`did not start:\n${out}`)), 30_000)
        proc.stdout.on('data', () => {
          const m = /^listening on (http:\/\/\S+)$/m.exec(out)
          if (m) {
            clearTimeout(timer)
            resolve(m[1] as string)
          }
        })
        proc.once('exit', (code) => reject(new Error(`exited ${code}:\n${out}`)))
      })
      const discovery = (await (
        await fetch(`${issuer}/.well-known/oauth-authorization-server`)
      ).json()) as JsonBody
      assert.equal(discovery.client_id_metadata_document_supported, true)
      assert.equal(discovery.registration_endpoint, `${issuer}/register`)
    } finally {
      proc.kill('SIGTERM')
    }
  })

  it('every registrar command of the page runs, in order, on a store an AS resolved the document into', async () => {
    // the AS side first: a client of the page's document, so show/list have something to show
    const resolved = resolveConfig({ file: config })
    const store = await openStore(resolved.store)
    const app = composeRegistrar(resolved, store)
    try {
      const client = await app.getClient(url)
      assert.equal(client?.metadata.client_name, 'My MCP client')
      assert.equal(
        app.matchRedirectUri(
          client as NonNullable<typeof client>,
          'http://localhost:41234/callback',
        ),
        'http://localhost:41234/callback',
      )
    } finally {
      await app.close()
      await store.close()
    }
    const registrar = commands().filter((c) => c[0] === 'registrar')
    assert.equal(registrar.length, 7)
    for (const command of registrar) {
      const { code, stdout, stderr } = await runCli(substitute(command.slice(1)))
      assert.equal(code, 0, `${command.join(' ')}\n${stdout}\n${stderr}`)
      if (command[2] === 'dry-run')
        assert.equal((JSON.parse(stdout) as JsonBody).result, 'accepted')
      if (command[2] === 'show')
        assert.equal((JSON.parse(stdout) as JsonBody).source, 'metadata_document')
      if (command[2] === 'list') assert.match(stdout, /METADATA DOCUMENT/)
    }
  })
})
